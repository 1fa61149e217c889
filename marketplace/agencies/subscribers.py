"""Agencies listen to accounts: registering an agency account opens its draft membership."""

from __future__ import annotations

from marketplace import events
from marketplace.agencies import membership


def _account_registered(user, org_name: str, uscc: str, **_) -> None:
    membership.open_agency(user, org_name, uscc)


def connect() -> None:
    events.account_registered.connect(_account_registered)
