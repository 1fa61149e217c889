"""Credit records: itemised events, each agency's running credit, the red and black lists, appeals and repairs."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common.clock import now
from marketplace.common.models import enum_column
from marketplace.common.types import UTCDateTime
from marketplace.credit.rules import Source
from marketplace.extensions import db


class EventStatus(enum.StrEnum):
    COUNTED = "counted"
    REVERSED = "reversed"  # an appeal was upheld
    REPAIRED = "repaired"  # credit repair approved
    WITHDRAWN = "withdrawn"  # its cause was undone (a fee violation dismissed again)


EVENT_STATUS_LABELS = {
    EventStatus.COUNTED: _l("Counted"),
    EventStatus.REVERSED: _l("Reversed on appeal"),
    EventStatus.REPAIRED: _l("Repaired"),
    EventStatus.WITHDRAWN: _l("Withdrawn"),
}


class ListKind(enum.StrEnum):
    RED = "red"  # 守信
    BLACK = "black"  # 失信


LIST_LABELS = {ListKind.RED: _l("Red list (trustworthy)"), ListKind.BLACK: _l("Black list (untrustworthy)")}


class Decision(enum.StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"  # an appeal upheld; a repair approved
    REJECTED = "rejected"


DECISION_LABELS = {
    Decision.PENDING: _l("Pending"),
    Decision.UPHELD: _l("Upheld"),
    Decision.REJECTED: _l("Rejected"),
}
REPAIR_LABELS = {
    Decision.PENDING: _l("Pending"),
    Decision.UPHELD: _l("Approved"),
    Decision.REJECTED: _l("Rejected"),
}


class CreditEvent(db.Model):
    """One dated, itemised credit event. The subject (what caused it) is unique per agency and rule, so an event
    heard twice never counts twice."""

    __tablename__ = "credit_event"
    __table_args__ = (
        UniqueConstraint("agency_id", "rule", "subject_type", "subject_id", name="uq_credit_event_subject"),
        Index("ix_credit_event_agency_at", "agency_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    source: Mapped[Source] = enum_column(Source)
    rule: Mapped[str] = mapped_column(String(40))
    points: Mapped[int] = mapped_column(Integer)
    evidence: Mapped[str | None] = mapped_column(String(300))  # a URL path to the object
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[EventStatus] = enum_column(EventStatus, default=EventStatus.COUNTED, index=True)
    note: Mapped[str | None] = mapped_column(Text)  # the supervisor's words for a manual record
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    agency = relationship("Agency")


class AgencyCredit(db.Model):
    """The running credit of one agency: per-source point sums of its counted events in the window (updated
    with atomic `x = x + n`), and the score and grade derived from them (credit/rules.py)."""

    __tablename__ = "agency_credit"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    enterprise_points: Mapped[int] = mapped_column(Integer, default=0)
    department_points: Mapped[int] = mapped_column(Integer, default=0)
    market_points: Mapped[int] = mapped_column(Integer, default=0)
    veto_count: Mapped[int] = mapped_column(Integer, default=0)
    negative_count: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float] = mapped_column(Float, default=80.0)
    grade: Mapped[str] = mapped_column(String(1), default="B")
    grade_rank: Mapped[int] = mapped_column(Integer, default=1, index=True)  # A = 0 … E = 4, for sorting
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # the clock: windows moved on


class CreditListEntry(db.Model):
    """A red (守信) or black (失信) list entry: automatic by the thresholds (decided_by empty, lifted when the
    condition no longer holds) or a supervisor's decision with reason, legal basis and period."""

    __tablename__ = "credit_list_entry"
    __table_args__ = (Index("ix_credit_list_entry_kind_lifted", "kind", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    kind: Mapped[ListKind] = enum_column(ListKind)
    reason: Mapped[str] = mapped_column(Text)  # a message (common/messages.py) or the supervisor's words
    basis: Mapped[str | None] = mapped_column(Text)  # the legal basis
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_why: Mapped[str | None] = mapped_column(Text)  # a message or the person's words

    agency = relationship("Agency")

    @property
    def automatic(self) -> bool:
        return self.decided_by_id is None

    def in_force(self, at: datetime | None = None) -> bool:
        at = at or now()
        return self.lifted_at is None and self.starts_at <= at and (self.until is None or at < self.until)


class CreditAppeal(db.Model):
    """异议申诉: the agency disputes one event; the operator of its region decides within working days."""

    __tablename__ = "credit_appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("credit_event.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list] = mapped_column(JSON, default=list)  # stored files: [{key, name, mime, size}]
    status: Mapped[Decision] = enum_column(Decision, default=Decision.PENDING, index=True)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opinion: Mapped[str | None] = mapped_column(Text)

    event: Mapped[CreditEvent] = relationship()
    agency = relationship("Agency")


class CreditRepair(db.Model):
    """信用修复: after the rules' period, with a commitment letter (承诺书), the agency asks that a negative event
    stop counting or that a black-list entry be lifted; the operator decides."""

    __tablename__ = "credit_repair"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("credit_event.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("credit_list_entry.id"))
    statement: Mapped[str] = mapped_column(Text)  # what the agency has corrected
    letter: Mapped[dict] = mapped_column(JSON)  # the commitment letter: {key, name, mime, size}
    status: Mapped[Decision] = enum_column(Decision, default=Decision.PENDING, index=True)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opinion: Mapped[str | None] = mapped_column(Text)

    event: Mapped[CreditEvent | None] = relationship()
    entry: Mapped[CreditListEntry | None] = relationship()
    agency = relationship("Agency")
