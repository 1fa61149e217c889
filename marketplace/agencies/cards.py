"""What an agency's card on a public page shows (templates/agencies/_card.html), read as plain rows.

The list, the front page's 推荐机构 and the search page showed each card from a whole `Agency` with its
categories, service areas and every offer mapped as ORM objects (~250 objects for a page of 20 cards: most of
the page's time at any market size). A card needs its name, region, category names and a summary of its live
offers: three small queries here, the category names from the catalogue's outline (a per-process copy), the
offers summed up by the database with the same rule as `Offer.low_fen`. The API keeps the full objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import BigInteger, String, case, cast, func, select

from marketplace.agencies.models import Agency, AgencyStatus, Offer, OfferSummary, PriceMode, agency_category
from marketplace.catalogue.models import ServiceItem
from marketplace.catalogue.outline import OutlineCategory, outline
from marketplace.common.fragments import fragment
from marketplace.common.templating import macros
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


# An agency's category ids as comma-joined text (string_agg / group_concat, in no set order), a column of a query
# over `agency`; `categories_named` names them from the outline in the catalogue's order.
CATEGORY_IDS = (
    select(func.aggregate_strings(cast(agency_category.c.category_id, String), ","))
    .where(agency_category.c.agency_id == Agency.id)
    .correlate(Agency)
    .scalar_subquery()
)


def catalogue_places() -> dict[int, tuple[int, OutlineCategory]]:
    """{category id: (its place in the catalogue, its outline)}: once per page, for `categories_named`."""
    return {c.id: (i, c) for i, c in enumerate(outline())}


def categories_named(joined: str | None, places: dict) -> tuple[OutlineCategory, ...]:
    """The categories of a CATEGORY_IDS value in the catalogue's order, as `Agency.categories` (unknown ids left
    out)."""
    found = (places[int(i)] for i in (joined or "").split(",") if i and int(i) in places)
    return tuple(c for _, c in sorted(found, key=lambda p: p[0]))


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
    stmt = (
        select(
            Agency.id,
            Agency.name,
            Agency.region_code,
            CATEGORY_IDS.label("categories"),
            offers.c.n,
            offers.c.low,
            offers.c.days,
        )
        .outerjoin(offers, offers.c.agency_id == Agency.id)
        .where(Agency.id.in_(ids))
    )
    if active_only:
        stmt = stmt.where(Agency.status == AgencyStatus.ACTIVE)
    places = catalogue_places()
    found = {}
    for r in db.session.execute(stmt):
        found[r.id] = Card(
            r.id,
            r.name,
            r.region_code,
            categories_named(r.categories, places),
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


def agency_card(a, st: dict | None, title: Markup | str | None, check: Markup | str) -> Markup:
    """`{{ agency_card(…) }}` in templates/agencies/_card.html: the card's link and body. A page of 20 cards spent
    ~5 ms making them through the template (a dozen translations and filters each) on every request; the HTML
    depends only on the card's row, its figures, its title and qualification check, the language and the
    region's name, so it is kept per process under exactly those. Nothing can go stale: a change of any of them
    is a different key (a `Card` is a frozen value read on each request)."""
    body = macros("agencies/_card_body.html").card_body
    figures = None if st is None else {name: st.get(name) for name in FIGURES}
    key = None  # an ORM object (not a value): made each time
    if isinstance(a, Card):
        key = (
            a,
            display_label(a.region_code),
            None if figures is None else tuple(figures.values()),
            None if title is None else str(title),
            str(check),
        )
    return fragment("agency_cards", key, lambda: body(a, figures, title, check), KEPT_CARDS)
