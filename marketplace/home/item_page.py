"""What a service item's public page reads: the item with its requirements and category in one statement, and its
fastest offers as plain rows — the offer, the agency's name and region, and the qualifications the page checks.

The page loaded each offer's agency as a whole ORM object (every column, then every qualification mapped) to
print a name and a region and to check the qualifications: three statements and ~150 objects mapped per view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, select
from sqlalchemy.orm import joinedload

from marketplace.agencies.models import Agency, AgencyStatus, Offer, PriceMode, Qualification
from marketplace.agencies.qualifications import Eligibility, eligible_for
from marketplace.catalogue.models import ItemRequirement, ServiceItem
from marketplace.common.errors import NotFound
from marketplace.extensions import db


@dataclass(frozen=True, slots=True)
class OfferAgency:
    """The little of an agency the offers table shows, and the qualifications `eligible_for` checks."""

    name: str
    region_code: str | None
    qualifications: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class ItemOffer:
    """One row of the offers table: the offer's prices and days, as `Offer` has them (same `low_fen`/`high_fen`)."""

    id: int
    agency_id: int
    price_mode: PriceMode
    price_fen: int | None
    price_min_fen: int | None
    price_max_fen: int | None
    discount_pct: int | None
    promised_days: int
    agency: OfferAgency
    service_item: ServiceItem

    low_fen = Offer.low_fen  # the one definition of a discount's prices (from the item's guide range)
    high_fen = Offer.high_fen


def item(item_id: int) -> ServiceItem:
    """The item, its requirements (with their kinds) and its category, read together (404 when unknown)."""
    found = db.session.get(
        ServiceItem,
        item_id,
        options=[
            joinedload(ServiceItem.requirements).joinedload(ItemRequirement.kind),
            joinedload(ServiceItem.category),
        ],
    )
    if found is None:
        raise NotFound(_l("No such service item."))
    return found


def offers(item: ServiceItem, limit: int) -> list[ItemOffer]:
    """Active members' offers of the item, fastest first (the first `limit`: read along an index, not sorted)."""
    rows = db.session.execute(
        select(
            Offer.id,
            Offer.agency_id,
            Offer.price_mode,
            Offer.price_fen,
            Offer.price_min_fen,
            Offer.price_max_fen,
            Offer.discount_pct,
            Offer.promised_days,
            Agency.name,
            Agency.region_code,
        )
        .join(Agency, Agency.id == Offer.agency_id)
        .where(Offer.service_item_id == item.id, Offer.active.is_(True), Agency.status == AgencyStatus.ACTIVE)
        .order_by(Offer.promised_days, Offer.id)
        .limit(limit)
    ).all()
    held: dict[int, list[Row]] = {}
    if rows:
        for q in db.session.execute(
            select(
                Qualification.agency_id,
                Qualification.kind_id,
                Qualification.category_id,
                Qualification.level,
                Qualification.file_key,
                Qualification.valid_until,
            )
            .where(Qualification.agency_id.in_({r.agency_id for r in rows}))
            .order_by(Qualification.id)
        ):
            held.setdefault(q.agency_id, []).append(q)
    return [
        ItemOffer(*r[:8], OfferAgency(r.name, r.region_code, tuple(held.get(r.agency_id, ()))), item)
        for r in rows
    ]


def checks(offers: list[ItemOffer], item: ServiceItem, day: date) -> dict[int, Eligibility]:
    """Each offer's agency against the item's qualification rule (agencies/qualifications.py), which reads only
    the agency's `qualifications`: here rows with the columns it uses."""
    return {o.id: eligible_for(o.agency, item, day) for o in offers}
