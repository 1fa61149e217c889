"""What a complaint can be about, who answers it, and who may complain about it when.

A target is an agency, a request (its announcement), a selection (a request's result; the target id is the
request's) or an order. Resolving one gives its label, its region (staff scope), the respondent (who answers),
the agency concerned (credit, suspension) and the request concerned (a selection redone or announced again).

Complaints (投诉) come from parties: for a request, any member agency; for a selection, the agencies that bid in
its round, before its publicity ends; for an order, its two parties; for an agency, any enterprise or other
agency — and the agency itself about its own membership decision, within N working days of it. Reports (举报)
come from anyone, about anything visible to the public or known to the reporter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.audit.models import AuditEntry
from marketplace.auth.models import Role, User
from marketplace.common.clock import now
from marketplace.common.errors import NotAllowed, NotFound, WrongState
from marketplace.common.workdays import due_after
from marketplace.complaints.models import ComplaintCategory, ComplaintKind, TargetType
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.requests.bids import Bid, BidStatus
from marketplace.requests.models import RequestStatus, ServiceRequest

C = ComplaintCategory
# The categories that fit each target (the form offers these; the service refuses the others).
CATEGORIES: dict[TargetType, tuple[ComplaintCategory, ...]] = {
    TargetType.AGENCY: (C.FEE, C.QUALITY, C.OVERDUE, C.MISCONDUCT, C.ENTRY_DECISION, C.OTHER),
    TargetType.REQUEST: (C.TAILORED, C.DESIGNATED, C.OTHER),
    TargetType.SELECTION: (C.UNFAIR_SELECTION, C.DESIGNATED, C.OTHER),
    TargetType.ORDER: (C.FEE, C.QUALITY, C.OVERDUE, C.MISCONDUCT, C.OTHER),
}
# A store that has been public at some time (a draft or an application under review is nobody's business).
ADMITTED = frozenset({AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED, AgencyStatus.EXPELLED})
ENTRY_ACTIONS = ("agency.approve", "agency.reject", "agency.suspend", "agency.expel", "agency.reinstate")


@dataclass
class Target:
    type: TargetType
    id: int
    label: str
    region_code: str | None
    agency: Agency | None = None  # the agency concerned
    request: ServiceRequest | None = None
    order: Order | None = None
    respondent_agency_id: int | None = None
    respondent_enterprise_id: int | None = None


def _no_target():
    return NotFound(_l("No such target."), {"target_id": [_l("No such target.")]})


def _winner_agency(req: ServiceRequest) -> Agency | None:
    bid = db.session.get(Bid, req.winner_bid_id) if req.winner_bid_id else None
    return bid.agency if bid is not None else None


def resolve(target_type: Any, target_id: Any) -> Target:
    """The target as filed (404 when it does not exist or is not public)."""
    try:
        kind = TargetType(target_type)
    except ValueError:
        raise NotFound(
            _l("No such target."), {"target_type": [_l("Not one of the allowed values.")]}
        ) from None
    if not isinstance(target_id, int) or isinstance(target_id, bool) or not 0 < target_id < 2**31:
        raise _no_target()
    if kind == TargetType.AGENCY:
        agency = db.session.get(Agency, target_id)
        if agency is None or agency.status not in ADMITTED:
            raise _no_target()
        return Target(kind, agency.id, agency.name, agency.region_code, agency=agency,
                      respondent_agency_id=agency.id)  # fmt: skip
    if kind in (TargetType.REQUEST, TargetType.SELECTION):
        req = db.session.get(ServiceRequest, target_id)
        if req is None or not req.is_public or (kind == TargetType.SELECTION and req.selected_at is None):
            raise _no_target()
        agency = _winner_agency(req) if kind == TargetType.SELECTION else None
        return Target(kind, req.id, req.title, req.region_code, agency=agency, request=req,
                      respondent_enterprise_id=req.enterprise_id)  # fmt: skip
    order = db.session.get(Order, target_id)
    if order is None:
        raise _no_target()
    return Target(kind, order.id, order.request.title, order.request.region_code, agency=order.agency,
                  request=order.request, order=order, respondent_agency_id=order.agency_id)  # fmt: skip


# --- who may complain, and when ------------------------------------------------------------------------------


def _own_agency(actor: User) -> Agency | None:
    return actor.agency if actor.role == Role.AGENCY else None


def _own_enterprise(actor: User):
    return actor.enterprise if actor.role == Role.ENTERPRISE else None


def membership_decided_at(agency: Agency) -> datetime | None:
    """When the operator last decided the agency's membership (the audit log keeps every decision)."""
    return db.session.scalar(
        select(AuditEntry.at)
        .where(
            AuditEntry.object_type == "agency",
            AuditEntry.object_id == agency.id,
            AuditEntry.action.in_(ENTRY_ACTIONS),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


def entry_window_ends(agency: Agency) -> datetime | None:
    decided = membership_decided_at(agency)
    days = current_app.config["COMPLAINT_ENTRY_DECISION_WORKING_DAYS"]
    return due_after(decided, days) if decided is not None else None


def check_complainant(actor: User, target: Target, category: ComplaintCategory) -> None:
    """Refuse (403) a complaint from someone who is not a party, (409) one filed outside its window."""
    agency, enterprise = _own_agency(actor), _own_enterprise(actor)
    if agency is None and enterprise is None:
        raise NotAllowed(_l("Complaints are filed by enterprises and agencies; anyone may file a report."))
    if category == ComplaintCategory.ENTRY_DECISION:
        if target.type != TargetType.AGENCY or agency is None or agency.id != target.id:
            raise NotAllowed(_l("Only the agency itself may complain about its membership decision."))
        ends = entry_window_ends(agency)
        if ends is None or now() > ends:
            raise WrongState(
                _l(
                    "A membership decision can be complained about only within %(n)d working days of it.",
                    n=current_app.config["COMPLAINT_ENTRY_DECISION_WORKING_DAYS"],
                )
            )
        return
    if target.type == TargetType.AGENCY:
        if agency is not None and agency.id == target.id:
            raise NotAllowed(_l("An agency cannot complain about itself."))
        return
    if target.type == TargetType.REQUEST:
        if agency is None or agency.status != AgencyStatus.ACTIVE:
            raise NotAllowed(_l("Complaints about a request are filed by member agencies."))
        return
    if target.type == TargetType.SELECTION:
        status = (
            db.session.scalar(
                select(Bid.status).where(Bid.request_id == target.id, Bid.agency_id == agency.id)
            )
            if agency is not None
            else None
        )
        if status is None or status == BidStatus.WITHDRAWN:
            raise NotAllowed(_l("Only the agencies that bid in this round may complain about its selection."))
        req = target.request
        if not (
            req.status == RequestStatus.PUBLICITY and req.publicity_ends_at and now() < req.publicity_ends_at
        ):
            raise WrongState(_l("A selection can be complained about only before its publicity ends."))
        return
    order = target.order
    if not (
        (agency is not None and agency.id == order.agency_id)
        or (enterprise is not None and enterprise.id == order.enterprise_id)
    ):
        raise NotFound(_l("No such target."), {"target_id": [_l("No such target.")]})


def respondent_for(kind: ComplaintKind, actor: User | None, target: Target, category: ComplaintCategory):
    """(agency id, enterprise id) of who answers: for an order, the other party of the complainant."""
    if category == ComplaintCategory.ENTRY_DECISION:
        return None, None  # the operator's decision: staff review it, nobody answers
    if target.type == TargetType.ORDER and kind == ComplaintKind.COMPLAINT and actor is not None:
        agency = _own_agency(actor)
        if agency is not None and agency.id == target.order.agency_id:
            return None, target.order.enterprise_id
    return target.respondent_agency_id, target.respondent_enterprise_id
