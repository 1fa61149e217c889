"""A request listens to its order: a winner who declines or drops out passes the award on."""

from __future__ import annotations

from marketplace import events
from marketplace.common.messages import N_, Message, message
from marketplace.requests import services

DECLINED = N_("The selected agency declined: %(reason)s")


def _order_declined(order, reason: str, actor=None, **_) -> None:
    services.fall_back(order.request, actor, message(DECLINED, reason=reason))  # the agency's own words


def _winner_withdrawn(req, why: Message, actor=None, **_) -> None:
    services.fall_back(req, actor, why)


def connect() -> None:
    events.order_declined.connect(_order_declined)
    events.winner_withdrawn.connect(_winner_withdrawn)
