"""Announcement review (公告审核): with MARKET_REVIEW_ANNOUNCEMENTS on, a published request waits for the operator
of its region, who approves it (it goes public and the bidding starts) or returns it with an opinion the
enterprise reads, fixes and submits again. Also the project's approval document the operator reviews.

Submitting is `services.publish_request` (it decides between review and publishing at once)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import IO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace import events
from marketplace.audit.services import record
from marketplace.auth.models import Role, User
from marketplace.auth.policy import IsAdmin, OwnsRequest, acts_in
from marketplace.auth.services import require_acting, require_staff
from marketplace.common import uploads
from marketplace.common.areas import prefix
from marketplace.common.clock import now
from marketplace.common.errors import Invalid, NotFound, WrongState
from marketplace.extensions import db
from marketplace.requests import services
from marketplace.requests.models import (
    EDITABLE_STATUSES,
    RequestReview,
    RequestStatus,
    ReviewAction,
    ServiceRequest,
)

UPLOAD_KIND = "approvals"
OPINION_MIN, OPINION_MAX = 4, 2000


# --- the operator's queue ------------------------------------------------------------------------------------


def _in_area(stmt, actor: User):
    if actor.role != Role.ADMIN and actor.region_code:
        return stmt.where(ServiceRequest.region_code.startswith(prefix(actor.region_code)))
    return stmt


def review_queue_query(actor: User | None):
    """Requests waiting for review in the operator's area, the longest waiting first."""
    actor = require_staff(actor)
    stmt = (
        select(ServiceRequest)
        .where(ServiceRequest.status == RequestStatus.REVIEW)
        .options(selectinload(ServiceRequest.service_item), selectinload(ServiceRequest.enterprise))
        .order_by(ServiceRequest.submitted_at, ServiceRequest.id)
    )
    if not actor.holds(Role.OPERATOR):
        return stmt.where(ServiceRequest.id.is_(None))  # staff of another role review no announcements
    return _in_area(stmt, actor)


def waiting_in_area(actor: User | None) -> tuple[int, datetime | None]:
    """How many announcements wait for review in the staff account's area, and since when the oldest waits
    (for the deadline board, which supervisors read too)."""
    actor = require_staff(actor)
    stmt = select(func.count(), func.min(ServiceRequest.submitted_at)).where(
        ServiceRequest.status == RequestStatus.REVIEW
    )
    count, oldest = db.session.execute(_in_area(stmt, actor)).one()
    return count, oldest


def for_review(actor: User | None, request_id: int) -> ServiceRequest:
    """A request as its reviewing operator reads it (404 when it is not in the operator's area)."""
    req = db.session.get(ServiceRequest, request_id)
    if req is None or not services.can_review(actor, req):
        raise NotFound(_l("No such request."))
    return req


def deadline_too_close(req: ServiceRequest) -> bool:
    """Approving now would leave agencies less than the minimum bidding time before the deadline."""
    minimum = timedelta(seconds=current_app.config["MARKET_MIN_BIDDING_SECONDS"])
    return req.bid_deadline < now() + minimum


# --- deciding --------------------------------------------------------------------------------------------------


def _reviewed(actor: User | None, request_id: int) -> tuple[User, ServiceRequest]:
    req = services.locked_request(request_id)
    if req is None:
        raise NotFound(_l("No such request."))
    actor = require_acting(actor, Role.OPERATOR, req.region_code)
    if req.status != RequestStatus.REVIEW:
        raise WrongState(_l("This request is not waiting for review."))
    return actor, req


def approve(actor: User | None, request_id: int) -> ServiceRequest:
    """The announcement goes public: the bidding period starts now (the draw commitment is fixed now too).

    A deadline that no longer leaves agencies the minimum bidding time is refused rather than published short:
    the operator returns the request, and the enterprise moves its deadline and submits again."""
    actor, req = _reviewed(actor, request_id)
    if deadline_too_close(req):
        hours = current_app.config["MARKET_MIN_BIDDING_SECONDS"] / 3600
        raise WrongState(
            _l(
                "The bid deadline no longer leaves agencies %(h)s hours to bid. Return the request and ask the "
                "enterprise to move its deadline.",
                h=f"{hours:g}",
            )
        )
    services.open_bidding(req, actor, "approve")
    db.session.add(RequestReview(request_id=req.id, action=ReviewAction.APPROVE, actor_id=actor.id, at=now()))
    return req


def return_request(actor: User | None, request_id: int, opinion: str | None) -> ServiceRequest:
    """Send the request back to its enterprise with the operator's opinion (what to fix)."""
    actor, req = _reviewed(actor, request_id)
    opinion = (opinion or "").strip()
    if not OPINION_MIN <= len(opinion) <= OPINION_MAX:
        message = _l(
            "Write the review opinion: what the enterprise must change (%(low)d to %(high)d characters).",
            low=OPINION_MIN,
            high=OPINION_MAX,
        )
        raise Invalid(message, {"opinion": [message]})
    services.move_request(req, "return", actor)
    db.session.add(
        RequestReview(
            request_id=req.id, action=ReviewAction.RETURN, opinion=opinion, actor_id=actor.id, at=now()
        )
    )
    db.session.flush()
    events.request_returned.send(req, actor=actor, opinion=opinion)
    return req


# --- the approval document ---------------------------------------------------------------------------------


def sees_approval_document(actor: User | None, req: ServiceRequest) -> bool:
    """The enterprise, administrators, and the operators and supervisors of the request's region."""
    return (
        OwnsRequest(actor, req)
        or IsAdmin(actor)
        or any(acts_in(actor, role, req.region_code) for role in (Role.OPERATOR, Role.SUPERVISOR))
    )


def attach_approval_document(
    actor: User | None, request_id: int, stream: IO[bytes], filename: str | None
) -> ServiceRequest:
    """Upload (or replace) the project's approval/filing document while the request may still be edited."""
    req = services.own_request(actor, request_id, lock=True)
    if req.status not in EDITABLE_STATUSES:
        raise WrongState(
            _l("The approval document can be changed only while the request is a draft or returned.")
        )
    stored = uploads.save_upload(stream, filename, UPLOAD_KIND, field="approval_document")
    old = req.approval_document
    req.approval_document = stored.__dict__
    if old and old.get("key") != stored.key and not _shared(old["key"], req.id):
        uploads.discard(UPLOAD_KIND, old["key"])
    record(actor, "request.approval_document", req, after={"name": stored.name, "size": stored.size})
    db.session.flush()
    return req


def _shared(key: str, request_id: int) -> bool:
    """Another round of the same project still refers to this file (a republished request keeps it)."""
    others = db.session.scalars(
        select(ServiceRequest.approval_document).where(
            ServiceRequest.id != request_id, ServiceRequest.approval_document.is_not(None)
        )
    )
    return any(isinstance(d, dict) and d.get("key") == key for d in others)


def approval_document(actor: User | None, request_id: int) -> tuple[ServiceRequest, dict]:
    req = db.session.get(ServiceRequest, request_id)
    if req is None or not req.approval_document or not sees_approval_document(actor, req):
        raise NotFound(_l("No such file."))
    return req, req.approval_document
