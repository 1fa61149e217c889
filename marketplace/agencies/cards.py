"""What an agency's card on a public page shows (templates/agencies/_card.html), read as plain rows.

The list, the front page's 推荐机构 and the search page showed each card from a whole `Agency` with its
categories, service areas and every offer mapped as ORM objects (~250 objects for a page of 20 cards: most of
the page's time at any market size). A card needs its name, region, category names and a summary of its live
offers: three small queries here, the category names from the catalogue's outline (a per-process copy), the
offers summed up by the database with the same rule as `Offer.low_fen`. The API keeps the full objects.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app, request
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import BigInteger, String, case, cast, func, select

from marketplace.agencies.models import Agency, AgencyStatus, Offer, OfferSummary, PriceMode, agency_category
from marketplace.catalogue.models import ServiceItem
from marketplace.catalogue.outline import OutlineCategory, outline
from marketplace.extensions import db
from marketplace.regions.services import display_label

NO_OFFERS = OfferSummary(0, None, None)


@dataclass(frozen=True, slots=True)
class Card:
    """The attributes of an `Agency` that its card reads, under the same names."""

    id: int
    name: str
    region_code: str | None
    categories: tuple[OutlineCategory, ...]  # in the catalogue's order, as `Agency.categories`
    offer_summary: OfferSummary


# Offer.low_fen in SQL: a discount offer's price is the item's lowest guide price times the percentage (integer
# division, as in Python; a bigint so that a large guide price cannot overflow).
_LOW = case(
    (Offer.price_mode == PriceMode.FIXED, Offer.price_fen),
    (Offer.price_mode == PriceMode.RANGE, Offer.price_min_fen),
    else_=cast(ServiceItem.guide_min_fen, BigInteger) * Offer.discount_pct // 100,
)


def cards(ids: list[int], active_only: bool = False) -> dict[int, Card]:
    """{agency id: its card} for the agencies of `ids` that exist (and are active, if asked): one statement, the
    category ids as a string aggregated by the database and the offers summed beside them."""
    if not ids:
        return {}
    offers = (
        select(
            Offer.agency_id,
            func.count().label("n"),
            func.min(_LOW).label("low"),
            func.min(Offer.promised_days).label("days"),
        )
        .join(ServiceItem, ServiceItem.id == Offer.service_item_id)
        .where(Offer.agency_id.in_(ids), Offer.active.is_(True))
        .group_by(Offer.agency_id)
        .subquery()
    )
    categories = (
        select(func.aggregate_strings(cast(agency_category.c.category_id, String), ","))
        .where(agency_category.c.agency_id == Agency.id)
        .scalar_subquery()
    )
    stmt = (
        select(
            Agency.id,
            Agency.name,
            Agency.region_code,
            categories.label("categories"),
            offers.c.n,
            offers.c.low,
            offers.c.days,
        )
        .outerjoin(offers, offers.c.agency_id == Agency.id)
        .where(Agency.id.in_(ids))
    )
    if active_only:
        stmt = stmt.where(Agency.status == AgencyStatus.ACTIVE)
    place = {c.id: (i, c) for i, c in enumerate(outline())}
    found = {}
    for r in db.session.execute(stmt):
        member = sorted(place[int(c)] for c in (r.categories or "").split(",") if c and int(c) in place)
        found[r.id] = Card(
            r.id,
            r.name,
            r.region_code,
            tuple(c for _, c in member),
            OfferSummary(r.n, r.low, r.days) if r.n else NO_OFFERS,
        )
    return found


# --- the card's HTML, kept per process -----------------------------------------------------------------------

# The figures a card shows (stats/figures.py `stats_for`); templates/agencies/_card_body.html reads no others.
FIGURES = (
    "credit_grade",
    "credit_blacklisted",
    "newcomer",
    "avg_rating",
    "ratings_count",
    "completed_orders",
    "good_rate",
    "on_time_rate",
    "overdue_orders",
)
KEPT_CARDS = 4096  # per process and app: ~1.5 KB each


class _Kept:
    """The last `size` cards made, by everything they were made from (least recently used dropped first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.made: OrderedDict[tuple, Markup] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> Markup | None:
        with self.lock:
            found = self.made.get(key)
            if found is not None:
                self.made.move_to_end(key)
            return found

    def put(self, key: tuple, html: Markup) -> None:
        with self.lock:
            self.made[key] = html
            while len(self.made) > self.size:
                self.made.popitem(last=False)


def agency_card(a, st: dict | None, title: Markup | str | None, check: Markup | str) -> Markup:
    """`{{ agency_card(…) }}` in templates/agencies/_card.html: the card's link and body. A page of 20 cards spent
    ~5 ms making them through the template (a dozen translations and filters each) on every request; the HTML
    depends only on the card's row, its figures, its title and qualification check, the language and the
    region's name, so it is kept per process under exactly those. Nothing can go stale: a change of any of them
    is a different key (a `Card` is a frozen value read on each request)."""
    body = current_app.jinja_env.get_template("agencies/_card_body.html").module.card_body
    figures = None if st is None else {name: st.get(name) for name in FIGURES}
    if not isinstance(a, Card):  # an ORM object (not a value): made each time
        return body(a, figures, title, check)
    key = (
        str(get_locale()),
        request.script_root,
        a,
        display_label(a.region_code),
        None if figures is None else tuple(figures.values()),
        None if title is None else str(title),
        str(check),
    )
    kept = current_app.extensions.get("mp_agency_cards")
    if kept is None:
        kept = current_app.extensions.setdefault("mp_agency_cards", _Kept(KEPT_CARDS))
    html = kept.get(key)
    if html is None:
        html = Markup(body(a, figures, title, check))
        kept.put(key, html)
    return html
