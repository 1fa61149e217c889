"""Complaints (投诉) and reports (举报): what was filed against what, its evidence, its status and its outcome."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.agencies.models import Agency
from marketplace.auth.models import Enterprise, User
from marketplace.common.clock import now
from marketplace.common.models import TimestampMixin, enum_column
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db


class ComplaintKind(enum.StrEnum):
    COMPLAINT = "complaint"  # 投诉: by a logged-in party concerned by the target
    REPORT = "report"  # 举报: by anyone, even anonymous


class TargetType(enum.StrEnum):
    AGENCY = "agency"
    REQUEST = "request"  # the announcement itself (its requirements)
    SELECTION = "selection"  # the request's selection result (target_id is the request's id)
    ORDER = "order"


class ComplaintCategory(enum.StrEnum):
    TAILORED = "tailored"  # 量身定制条件
    DESIGNATED = "designated"  # 指定中介
    UNFAIR_SELECTION = "unfair_selection"  # 选取不公
    FEE = "fee"  # 违规收费
    QUALITY = "quality"  # 服务质量
    OVERDUE = "overdue"  # 超期服务
    MISCONDUCT = "misconduct"  # 违规执业
    ENTRY_DECISION = "entry_decision"  # 入驻决定 (an agency about its own membership decision)
    OTHER = "other"  # 其他


class ComplaintStatus(enum.StrEnum):
    RECEIVED = "received"  # 已收到: waits to be accepted or refused
    INVESTIGATING = "investigating"  # 已受理，调查中
    REFUSED = "refused"  # 不予受理 (with a reason)
    UPHELD = "upheld"  # 投诉成立
    DISMISSED = "dismissed"  # 投诉不成立


OPEN_STATUSES = frozenset({ComplaintStatus.RECEIVED, ComplaintStatus.INVESTIGATING})

# action -> (allowed from, to): the one table every status change is checked against.
TRANSITIONS: dict[str, tuple[frozenset[ComplaintStatus], ComplaintStatus]] = {
    "accept": (frozenset({ComplaintStatus.RECEIVED}), ComplaintStatus.INVESTIGATING),
    "refuse": (frozenset({ComplaintStatus.RECEIVED}), ComplaintStatus.REFUSED),
    "uphold": (frozenset({ComplaintStatus.INVESTIGATING}), ComplaintStatus.UPHELD),
    "dismiss": (frozenset({ComplaintStatus.INVESTIGATING}), ComplaintStatus.DISMISSED),
}

KIND_LABELS = {ComplaintKind.COMPLAINT: _l("Complaint"), ComplaintKind.REPORT: _l("Whistle-blowing report")}
TARGET_LABELS = {
    TargetType.AGENCY: _l("An agency"),
    TargetType.REQUEST: _l("A request (its announcement)"),
    TargetType.SELECTION: _l("A selection result"),
    TargetType.ORDER: _l("An order"),
}
CATEGORY_LABELS = {
    ComplaintCategory.TAILORED: _l("Requirements tailored to one agency"),
    ComplaintCategory.DESIGNATED: _l("Designated agency"),
    ComplaintCategory.UNFAIR_SELECTION: _l("Unfair selection"),
    ComplaintCategory.FEE: _l("Irregular fees"),
    ComplaintCategory.QUALITY: _l("Quality of service"),
    ComplaintCategory.OVERDUE: _l("Service past its time limit"),
    ComplaintCategory.MISCONDUCT: _l("Professional misconduct"),
    ComplaintCategory.ENTRY_DECISION: _l("Membership decision"),
    ComplaintCategory.OTHER: _l("Other"),
}
STATUS_LABELS = {
    ComplaintStatus.RECEIVED: _l("Received, awaiting acceptance"),
    ComplaintStatus.INVESTIGATING: _l("Accepted, under investigation"),
    ComplaintStatus.REFUSED: _l("Not accepted"),
    ComplaintStatus.UPHELD: _l("Complaint upheld"),
    ComplaintStatus.DISMISSED: _l("Complaint dismissed"),
}
CONSEQUENCE_LABELS = {
    "credit": _l("Credit points deducted"),
    "suspend": _l("Agency suspended"),
    "reselect": _l("Selection passed to the next-ranked bid"),
    "reannounce": _l("Request failed, to be announced again"),
}


class Complaint(TimestampMixin, db.Model):
    """One complaint or report, numbered TS2026-000123 (投诉) or JB2026-000045 (举报).

    The complainant's contact details are private: staff see them, never the respondent or the public. The
    respondent (the agency or the enterprise the complaint is about) sees it once accepted and answers once."""

    __tablename__ = "complaint"
    __table_args__ = (Index("ix_complaint_status_accept_due_at", "status", "accept_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[ComplaintKind] = enum_column(ComplaintKind, index=True)
    complainant_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)  # None: anonymous
    # The organisation that complained (a complaint's party), shown to the respondent; None for reports.
    complainant_name: Mapped[str | None] = mapped_column(String(100))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    target_type: Mapped[TargetType] = enum_column(TargetType)
    target_id: Mapped[int]
    target_label: Mapped[str] = mapped_column(String(200))  # the target's name/title when filed
    category: Mapped[ComplaintCategory] = enum_column(ComplaintCategory, index=True)
    text: Mapped[str] = mapped_column(Text)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)  # the target's (staff scope)
    # Who answers: an agency or an enterprise (neither for a membership decision, which staff took).
    respondent_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    respondent_enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    # The agency concerned (credit, suspension) and the request concerned (reselect, reannounce), if any.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_request.id"))
    status: Mapped[ComplaintStatus] = enum_column(
        ComplaintStatus, default=ComplaintStatus.RECEIVED, index=True
    )
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    accept_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    close_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)  # set on acceptance
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    outcome: Mapped[str | None] = mapped_column(Text)
    consequences: Mapped[list | None] = mapped_column(JSON)  # ["credit", "suspend", ...]
    points: Mapped[int | None]  # the credit points deducted (5, 10 or 20) when "credit" is among them
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    complainant: Mapped[User | None] = relationship(foreign_keys=[complainant_id])
    respondent_agency: Mapped[Agency | None] = relationship(foreign_keys=[respondent_agency_id])
    respondent_enterprise: Mapped[Enterprise | None] = relationship(foreign_keys=[respondent_enterprise_id])
    agency: Mapped[Agency | None] = relationship(foreign_keys=[agency_id])
    files: Mapped[list[ComplaintFile]] = relationship(
        back_populates="complaint", order_by="ComplaintFile.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def due_at(self) -> datetime | None:
        """The deadline that runs now: accept (or refuse) by, then close by."""
        if self.status == ComplaintStatus.RECEIVED:
            return self.accept_due_at
        if self.status == ComplaintStatus.INVESTIGATING:
            return self.close_due_at
        return None

    @property
    def overdue(self) -> bool:
        """Past the deadline that runs now: computed from the clock, never stored."""
        due = self.due_at
        return due is not None and now() > due

    @property
    def respondent_name(self) -> str | None:
        if self.respondent_agency is not None:
            return self.respondent_agency.name
        if self.respondent_enterprise is not None:
            return self.respondent_enterprise.name
        return None

    def files_of(self, role: str) -> list[ComplaintFile]:
        return [f for f in self.files if f.role == role]


class ComplaintFile(db.Model):
    """An evidence file: the complainant's ("complaint") or the respondent's with its answer ("answer")."""

    __tablename__ = "complaint_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # complaint | answer
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(50))
    size: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    complaint: Mapped[Complaint] = relationship(back_populates="files")
