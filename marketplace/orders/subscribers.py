"""The order desk listens to the requests: publicity over means an order to confirm."""

from __future__ import annotations

from marketplace import events
from marketplace.orders import services


def _publicity_ended(req, winner, actor=None, **_) -> None:
    services.create_order(req, winner, actor)


def _member_status_changed(agency, after: str, actor=None, **_) -> None:
    """A winner suspended or expelled before it started: its order passes on at once (the clock would too)."""
    if after == "active":
        return
    for order in services.unstarted_orders_of(agency.id):
        services.replace_unavailable_winner(order, actor)


def connect() -> None:
    events.publicity_ended.connect(_publicity_ended)
    events.member_status_changed.connect(_member_status_changed)
