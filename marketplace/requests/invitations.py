"""Invitations to quote (邀请报价): an enterprise asks one agency it found in a store to bid on its request.

An invitation never bypasses the selection rules: the request stays an open announcement that every qualified
member may bid on, the invited agency bids like any other and may win only by the request's method. It only
makes sure the agency hears of it — a notification when the request goes public (`request_invited`) and a mark
on its inbox, where the request is listed even outside its usual categories and areas (an agency that is not
eligible sees why, as for any announcement).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace import events
from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.audit.services import record
from marketplace.common.clock import now
from marketplace.common.errors import invalid_fields
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db
from marketplace.requests.models import ServiceRequest


class RequestInvitation(db.Model):
    """One agency invited to quote on one request; `notified_at` once it was told (at publication)."""

    __tablename__ = "request_invitation"
    __table_args__ = (UniqueConstraint("request_id", "agency_id", name="uq_request_invitation_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    agency: Mapped[Agency] = relationship()


def invitable_agency(agency_id: int | None) -> Agency | None:
    """The active member agency with this id, or None (unknown, suspended or not yet admitted)."""
    if agency_id is None:
        return None
    agency = db.session.get(Agency, agency_id)
    return agency if agency is not None and agency.status == AgencyStatus.ACTIVE else None


def invited(request_id: int) -> list[RequestInvitation]:
    return list(
        db.session.scalars(
            select(RequestInvitation)
            .where(RequestInvitation.request_id == request_id)
            .order_by(RequestInvitation.id)
        )
    )


def set_invitation(actor, req: ServiceRequest, agency_id: int | None) -> RequestInvitation | None:
    """Make `agency_id` the request's one invited agency (None: invite nobody). Only while the request is
    unpublished; the agency must be an active member and not excluded from the request (回避)."""
    current = invited(req.id)
    if agency_id is not None and any(i.agency_id == agency_id for i in current):
        return next(i for i in current if i.agency_id == agency_id)
    if agency_id is not None:
        agency = invitable_agency(agency_id)
        if agency is None:
            raise invalid_fields(
                {"invite_agency_id": [_l("This agency is not an active member; it cannot be invited.")]}
            )
        if any(x.agency_id == agency_id for x in req.exclusions):
            raise invalid_fields(
                {
                    "invite_agency_id": [
                        _l("You excluded this agency from the request (回避); it cannot be invited.")
                    ]
                }
            )
    if current:
        db.session.execute(delete(RequestInvitation).where(RequestInvitation.request_id == req.id))
        for old in current:
            record(actor, "request.uninvite", req, before={"agency_id": old.agency_id})
    if agency_id is None:
        return None
    invitation = RequestInvitation(request_id=req.id, agency_id=agency_id)
    db.session.add(invitation)
    db.session.flush()
    record(actor, "request.invite", req, after={"agency_id": agency_id})
    return invitation


def announce(req: ServiceRequest, actor=None) -> int:
    """Tell the invited agencies once the request is public (listens to request_published). Returns how many."""
    told = 0
    for invitation in invited(req.id):
        if invitation.notified_at is None:
            invitation.notified_at = now()
            events.request_invited.send(invitation, request=req, agency_id=invitation.agency_id, actor=actor)
            told += 1
    db.session.flush()
    return told


def invited_request_ids(agency_id: int, request_ids: list[int]) -> set[int]:
    """Which of these requests invited this agency (for the inbox's 邀请 mark)."""
    if not request_ids:
        return set()
    return set(
        db.session.scalars(
            select(RequestInvitation.request_id).where(
                RequestInvitation.agency_id == agency_id, RequestInvitation.request_id.in_(request_ids)
            )
        )
    )
