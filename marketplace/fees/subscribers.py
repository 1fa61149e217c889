"""The fee audit listens to the market: bids opened, contracts made or amended, money received, prices changed."""

from __future__ import annotations

from marketplace import events
from marketplace.fees import checks, summary


def _bidding_closed(req, **_) -> None:
    checks.audit_bids(req)


def _order_created(order, **_) -> None:
    checks.audit_contract(order)
    summary.item_changed(order.request.service_item_id)


def _contract_amended(order, **_) -> None:
    checks.audit_contract(order)
    checks.audit_paid(order)
    summary.item_changed(order.request.service_item_id)


def _deal_void(order, **_) -> None:
    """A declined or cancelled order is no longer a deal: the public fee figures drop it."""
    summary.item_changed(order.request.service_item_id)


def _winner_withdrawn(req, order=None, **_) -> None:
    if order is not None:
        _deal_void(order)


def _money_received(payment, delta_fen: int, **_) -> None:
    if delta_fen > 0:
        checks.audit_payment(payment)


def _offer_changed(offer, old_high_fen: int | None, **_) -> None:
    checks.audit_offer_change(offer, old_high_fen)


def _item_edited(item, before: dict, **_) -> None:
    """A new guide range: the item's kept marks (deals above / below it) are recounted in the edit's transaction."""
    if (before.get("guide_min_fen"), before.get("guide_max_fen")) != (item.guide_min_fen, item.guide_max_fen):
        summary.refresh_item(item.id)


def connect() -> None:
    events.bidding_closed.connect(_bidding_closed)
    events.order_created.connect(_order_created)
    events.contract_amended.connect(_contract_amended)
    events.money_received.connect(_money_received)
    events.offer_changed.connect(_offer_changed)
    events.order_declined.connect(_deal_void)
    events.winner_withdrawn.connect(_winner_withdrawn)
    events.service_item_edited.connect(_item_edited)
