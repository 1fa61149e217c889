"""The store: an active member lists offers (price, promised days) per service item."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace import events
from marketplace.agencies.models import AgencyStatus, Offer, PriceMode
from marketplace.agencies.services import my_agency
from marketplace.audit.services import record, snapshot
from marketplace.auth.models import User
from marketplace.catalogue.models import ServiceItem
from marketplace.common.errors import NotFound, WrongState, invalid_fields
from marketplace.common.money import MAX_FEN
from marketplace.extensions import db

OFFER_FIELDS = (
    "service_item_id",
    "price_mode",
    "price_fen",
    "price_min_fen",
    "price_max_fen",
    "discount_pct",
    "promised_days",
    "description",
    "active",
)


def _int_or_none(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float) and not value.is_integer():
        raise ValueError
    return int(value)


def clean_offer(data: dict[str, Any]) -> tuple[dict[str, Any], ServiceItem | None, dict[str, list]]:
    errors: dict[str, list] = {}

    def err(field: str, message) -> None:
        errors.setdefault(field, []).append(message)

    out: dict[str, Any] = {}
    nums: dict[str, int | None] = {}
    for field in (
        "service_item_id",
        "price_fen",
        "price_min_fen",
        "price_max_fen",
        "discount_pct",
        "promised_days",
    ):
        try:
            nums[field] = _int_or_none(data.get(field))
        except (TypeError, ValueError):
            err(field, _l("Must be a whole number."))
            nums[field] = None
    item = db.session.get(ServiceItem, nums["service_item_id"]) if nums["service_item_id"] else None
    if item is None and "service_item_id" not in errors:
        err("service_item_id", _l("Choose a service item."))
    out["service_item_id"] = nums["service_item_id"]

    mode_raw = data.get("price_mode")
    if mode_raw in (None, ""):
        mode_raw = (
            "range" if nums["price_min_fen"] is not None or nums["price_max_fen"] is not None else "fixed"
        )
        mode_raw = "discount" if nums["discount_pct"] is not None and nums["price_fen"] is None else mode_raw
    try:
        mode = PriceMode(mode_raw)
    except ValueError:
        err("price_mode", _l("Choose fixed, range or discount."))
        mode = None
    out["price_mode"] = mode
    out.update(price_fen=None, price_min_fen=None, price_max_fen=None, discount_pct=None)
    if mode == PriceMode.FIXED:
        price = nums["price_fen"]
        if price is None or not 0 < price <= MAX_FEN:
            err("price_fen", _l("Enter a price above zero."))
        out["price_fen"] = price
    elif mode == PriceMode.RANGE:
        low, high = nums["price_min_fen"], nums["price_max_fen"]
        if low is None or not 0 < low <= MAX_FEN:
            err("price_min_fen", _l("Enter a lowest price above zero."))
        if high is None or not 0 < high <= MAX_FEN:
            err("price_max_fen", _l("Enter a highest price above zero."))
        if low is not None and high is not None and low > high:
            err("price_max_fen", _l("The highest price must not be below the lowest."))
        out["price_min_fen"], out["price_max_fen"] = low, high
    elif mode == PriceMode.DISCOUNT:
        pct = nums["discount_pct"]
        if pct is None or not 1 <= pct <= 100:
            err("discount_pct", _l("A discount is a percentage from 1 to 100 of the guide price."))
        if item is not None and not item.is_guided:
            err("price_mode", _l("A discount needs a government guide price; this item is market-priced."))
        out["discount_pct"] = pct

    # Government-guided items: a published price may not exceed the top of the guide range.
    if item is not None and item.is_guided and item.guide_max_fen is not None:
        top = (
            out["price_fen"]
            if mode == PriceMode.FIXED
            else out["price_max_fen"]
            if mode == PriceMode.RANGE
            else None
        )
        if top is not None and top > item.guide_max_fen:
            field = "price_fen" if mode == PriceMode.FIXED else "price_max_fen"
            err(field, _l("Above the government guide price ceiling for this item."))

    days = nums["promised_days"]
    if days is None or not 1 <= days <= 365:
        err("promised_days", _l("Promised days must be from 1 to 365."))
    out["promised_days"] = days
    for field, limit in (("description", 2000),):
        value = data.get(field)
        value = value.strip() if isinstance(value, str) else None
        if value and len(value) > limit:
            err(field, _l("At most %(n)d characters.", n=limit))
        out[field] = value or None
    out["active"] = bool(data.get("active", True))
    return out, item, errors


def save_offer(actor: User | None, data: dict[str, Any]) -> Offer:
    """Create the offer for a service item, or replace the existing one for the same item."""
    agency = my_agency(actor)
    if agency.status != AgencyStatus.ACTIVE:
        raise WrongState(_l("Only active members can keep a store."))
    clean, item, errors = clean_offer(data)
    if item is not None and item.category_id not in {c.id for c in agency.categories}:
        errors.setdefault("service_item_id", []).append(
            _l("This item is outside your approved service categories.")
        )
    if errors:
        raise invalid_fields(errors)
    offer = db.session.scalar(
        select(Offer).where(Offer.agency_id == agency.id, Offer.service_item_id == item.id).with_for_update()
    )
    before = snapshot(offer, OFFER_FIELDS) if offer else None
    old_high = offer.high_fen if offer is not None else None
    if offer is None:
        offer = Offer(agency=agency)
        db.session.add(offer)
    for field, value in clean.items():
        setattr(offer, field, value)
    db.session.flush()
    record(actor, "offer.save", offer, before=before, after=snapshot(offer, OFFER_FIELDS))
    events.offer_changed.send(offer, old_high_fen=old_high)
    return offer


def own_offer(actor: User | None, offer_id: int) -> Offer:
    agency = my_agency(actor)
    offer = db.session.get(Offer, offer_id)
    if offer is None or offer.agency_id != agency.id:
        raise NotFound(_l("No such offer."))
    return offer


def remove_offer(actor: User | None, offer_id: int) -> None:
    offer = own_offer(actor, offer_id)
    record(actor, "offer.remove", offer, before=snapshot(offer, OFFER_FIELDS))
    db.session.delete(offer)
