"""The tally listens to the market (all inside the transaction of the change it counts)."""

from __future__ import annotations

from marketplace import events
from marketplace.orders.models import STARTED_LIVE, OrderStatus
from marketplace.tally import listing, ocds_months, summary
from marketplace.tally import services as tally


def _order_accepted(order, **_) -> None:
    tally.on_order_accepted(order)
    if order.deadline_flag == "red":  # no longer a live overdue order: it now counts as a late completion
        tally.on_overdue_change(order, -1)


def _order_light_changed(order, before: str, after: str, **_) -> None:
    if order.status in STARTED_LIVE and "red" in (before, after):
        tally.on_overdue_change(order, 1 if after == "red" else -1)


def _contract_amended(order, before_fen: int, after_fen: int, **_) -> None:
    if order.status == OrderStatus.ACCEPTED:
        tally.on_contract_amended(order, after_fen - before_fen)


def _money_received(payment, delta_fen: int, **_) -> None:
    tally.on_payment(payment.order, delta_fen)


def _rating_given(rating, **_) -> None:
    tally.on_order_rated(rating)


def _violation_changed(flag, delta: int, **_) -> None:
    tally.on_violation(flag.agency_id, flag.service_item_id, delta)


def connect() -> None:
    summary.register_listeners()  # the market's summary rows follow every flush (tally/summary.py)
    events.order_accepted.connect(_order_accepted)
    events.order_light_changed.connect(_order_light_changed)
    events.contract_amended.connect(_contract_amended)
    events.money_received.connect(_money_received)
    events.rating_given.connect(_rating_given)
    events.violation_changed.connect(_violation_changed)
    listing.connect()  # the list's kept rows (tally/listing.py)
    ocds_months.register_listeners()  # the months with open-data releases (tally/ocds_months.py)
