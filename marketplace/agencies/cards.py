"""What an agency's card on a public page shows (templates/agencies/_card.html), read as plain rows.

The list, the front page's 推荐机构 and the search page showed each card from a whole `Agency` with its
categories, service areas and every offer mapped as ORM objects (~250 objects for a page of 20 cards: most of
the page's time at any market size). A card needs its name, region, category names and a summary of its live
offers: three small queries here, the category names from the catalogue's outline (a per-process copy), the
offers summed up by the database with the same rule as `Offer.low_fen`. The API keeps the full objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, case, cast, func, select

from marketplace.agencies.models import Agency, AgencyStatus, Offer, OfferSummary, PriceMode, agency_category
from marketplace.catalogue.models import ServiceItem
from marketplace.catalogue.outline import OutlineCategory, outline
from marketplace.extensions import db

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
    """{agency id: its card} for the agencies of `ids` that exist (and are active, if asked)."""
    if not ids:
        return {}
    stmt = select(Agency.id, Agency.name, Agency.region_code).where(Agency.id.in_(ids))
    if active_only:
        stmt = stmt.where(Agency.status == AgencyStatus.ACTIVE)
    rows = db.session.execute(stmt).all()
    if not rows:
        return {}
    found = [r.id for r in rows]
    place = {c.id: (i, c) for i, c in enumerate(outline())}
    member: dict[int, list[tuple[int, OutlineCategory]]] = {}
    for agency_id, category_id in db.session.execute(
        select(agency_category.c.agency_id, agency_category.c.category_id).where(
            agency_category.c.agency_id.in_(found)
        )
    ):
        if category_id in place:
            member.setdefault(agency_id, []).append(place[category_id])
    offers = {
        r.agency_id: OfferSummary(r.n, r.low, r.days)
        for r in db.session.execute(
            select(
                Offer.agency_id,
                func.count().label("n"),
                func.min(_LOW).label("low"),
                func.min(Offer.promised_days).label("days"),
            )
            .join(ServiceItem, ServiceItem.id == Offer.service_item_id)
            .where(Offer.agency_id.in_(found), Offer.active.is_(True))
            .group_by(Offer.agency_id)
        )
    }
    return {
        r.id: Card(
            r.id,
            r.name,
            r.region_code,
            tuple(c for _, c in sorted(member.get(r.id, ()), key=lambda p: p[0])),
            offers.get(r.id, NO_OFFERS),
        )
        for r in rows
    }
