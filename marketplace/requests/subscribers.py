"""A request listens to its order (a winner who declines or drops out passes the award on) and to complaints (an
upheld complaint passes the selection to the next-ranked bid, or fails the request so that it is announced
again)."""

from __future__ import annotations

from marketplace import events
from marketplace.common.messages import N_, Message, message
from marketplace.extensions import db
from marketplace.requests import invitations, services
from marketplace.requests.models import RequestStatus, ServiceRequest

DECLINED = N_("The selected agency declined: %(reason)s")
COMPLAINT_UPHELD = N_("Complaint %(number)s upheld: %(outcome)s")


def _order_declined(order, reason: str, actor=None, **_) -> None:
    services.fall_back(order.request, actor, message(DECLINED, reason=reason))  # the agency's own words


def _winner_withdrawn(req, why: Message, actor=None, **_) -> None:
    services.fall_back(req, actor, why)


def _credit_listed(entry, agency_id: int, kind: str, actor=None, **_) -> None:
    """A winner blacklisted during publicity loses the award at once: the next-ranked bid takes over."""
    if kind != "black":
        return
    for req in services.publicity_won_by(agency_id):
        services.fall_back(req, actor, message(services.WINNER_BLACKLISTED))


def _credit_grade_changed(agency_id: int, after: str = "", **_) -> None:
    """The bottom grade (E) bars like the black list."""
    if after == "E":
        _credit_listed(None, agency_id=agency_id, kind="black")


def _complaint_decided(complaint, upheld: bool, consequences: list, request_id=None, actor=None, **_) -> None:
    if not upheld or request_id is None or not {"reselect", "reannounce"} & set(consequences):
        return
    req = db.session.get(ServiceRequest, request_id)
    why = message(COMPLAINT_UPHELD, number=complaint.number, outcome=complaint.outcome or "")
    if "reselect" in consequences and req.status == RequestStatus.PUBLICITY:
        services.fall_back(services.locked_request(req.id), actor, why)
    elif "reannounce" in consequences:
        services.fail_by_decision(req, actor, why)


def _published(req, actor=None, **_) -> None:
    """An invited agency hears of the request once it is public (not while a draft or under review)."""
    invitations.announce(req, actor)


def connect() -> None:
    events.request_published.connect(_published)
    events.order_declined.connect(_order_declined)
    events.winner_withdrawn.connect(_winner_withdrawn)
    events.credit_listed.connect(_credit_listed)
    events.credit_grade_changed.connect(_credit_grade_changed)
    events.complaint_decided.connect(_complaint_decided)
