"""Agencies listen to accounts (registering an agency account opens its draft membership) and to complaints (an
upheld complaint may suspend the agency concerned)."""

from __future__ import annotations

from marketplace import events
from marketplace.agencies import membership
from marketplace.common.messages import N_, message

SUSPENDED_BY_COMPLAINT = N_("Suspended: complaint %(number)s upheld (%(outcome)s)")


def _account_registered(user, org_name: str, uscc: str, **_) -> None:
    membership.open_agency(user, org_name, uscc)


def _complaint_decided(complaint, upheld: bool, consequences: list, agency_id=None, actor=None, **_) -> None:
    if upheld and "suspend" in consequences and agency_id is not None:
        reason = message(SUSPENDED_BY_COMPLAINT, number=complaint.number, outcome=complaint.outcome or "")
        membership.suspend_by_decision(agency_id, actor, reason.encode(500))


def connect() -> None:
    events.account_registered.connect(_account_registered)
    events.complaint_decided.connect(_complaint_decided)
