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


def _credit_listed(entry, agency_id: int, kind: str, actor=None, **_) -> None:
    """A winner blacklisted before it started: its order passes on at once, like a suspended one."""
    if kind != "black":
        return
    for order in services.unstarted_orders_of(agency_id):
        services.replace_unavailable_winner(order, actor)


def _credit_grade_changed(agency_id: int, after: str = "", **_) -> None:
    """The bottom grade (E) bars like the black list."""
    if after == "E":
        _credit_listed(None, agency_id=agency_id, kind="black")


def connect() -> None:
    events.publicity_ended.connect(_publicity_ended)
    events.member_status_changed.connect(_member_status_changed)
    events.credit_listed.connect(_credit_listed)
    events.credit_grade_changed.connect(_credit_grade_changed)
