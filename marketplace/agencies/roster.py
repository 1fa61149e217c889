"""What a member proves about itself beyond its licences: its practitioners (执业人员) and the changes an active
member asks for (资质、法定代表人、执业人员变更), which count only once an operator approves them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.agencies.models import Agency
from marketplace.auth.models import User
from marketplace.common.clock import now
from marketplace.common.models import TimestampMixin, enum_column
from marketplace.common.privacy import mask_id
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db


class PractitionerStatus(enum.StrEnum):
    PENDING = "pending"  # entered, waits for the membership review or a change review
    APPROVED = "approved"  # counts: may be named in bids
    REMOVED = "removed"  # left the agency, or its addition was refused


PRACTITIONER_STATUS_LABELS = {
    PractitionerStatus.PENDING: _l("Under review"),
    PractitionerStatus.APPROVED: _l("Approved"),
    PractitionerStatus.REMOVED: _l("Removed"),
}


class Practitioner(TimestampMixin, db.Model):
    """A licensed professional (执业人员) of an agency: items may require some of them to be named in a bid."""

    __tablename__ = "practitioner"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    # Stored in full; shown masked (mask_id) to everyone but staff.
    id_number: Mapped[str] = mapped_column(String(18))
    registration: Mapped[str | None] = mapped_column(String(50))  # e.g. 注册安全工程师
    certificate_no: Mapped[str] = mapped_column(String(60))
    years: Mapped[int] = mapped_column(default=0)
    is_lead: Mapped[bool] = mapped_column(default=False)  # 项目负责人
    status: Mapped[PractitionerStatus] = enum_column(
        PractitionerStatus, default=PractitionerStatus.PENDING, index=True
    )
    file_key: Mapped[str | None] = mapped_column(String(80))
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_mime: Mapped[str | None] = mapped_column(String(50))
    file_size: Mapped[int | None]

    agency: Mapped[Agency] = relationship()

    @property
    def masked_id(self) -> str | None:
        return mask_id(self.id_number)

    @property
    def is_approved(self) -> bool:
        return self.status == PractitionerStatus.APPROVED


class ChangeKind(enum.StrEnum):
    QUALIFICATION = "qualification"
    LEGAL_REP = "legal_rep"
    PRACTITIONER = "practitioner"


CHANGE_KIND_LABELS = {
    ChangeKind.QUALIFICATION: _l("Qualifications"),
    ChangeKind.LEGAL_REP: _l("Legal representative"),
    ChangeKind.PRACTITIONER: _l("Practitioner"),
}


class ChangeStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


CHANGE_STATUS_LABELS = {
    ChangeStatus.PENDING: _l("Under review"),
    ChangeStatus.APPROVED: _l("Approved"),
    ChangeStatus.REJECTED: _l("Rejected"),
}


class MembershipChange(db.Model):
    """A change an active member asks for. The payload holds the proposed values (and the key of an uploaded
    scan); the old values stay in force until an operator approves it, when it is applied in one transaction."""

    __tablename__ = "membership_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ChangeKind] = enum_column(ChangeKind)
    # {"action": "add"|"remove"|"set", ...}: see agencies/changes.py for each kind's shape.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[ChangeStatus] = enum_column(ChangeStatus, default=ChangeStatus.PENDING, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    agency: Mapped[Agency] = relationship()
    decided_by: Mapped[User | None] = relationship()

    @property
    def action(self) -> str:
        return (self.payload or {}).get("action", "set")
