"""A request listens to its order: a winner who declines or drops out passes the award on."""

from __future__ import annotations

from marketplace import events
from marketplace.requests import services


def _order_declined(order, reason: str, actor=None, **_) -> None:
    services.fall_back(order.request, actor, f"中选机构放弃：{reason}")


def _winner_withdrawn(req, why: str, actor=None, **_) -> None:
    services.fall_back(req, actor, why)


def connect() -> None:
    events.order_declined.connect(_order_declined)
    events.winner_withdrawn.connect(_winner_withdrawn)
