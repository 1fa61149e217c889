"""Random inspections (双随机、一公开): the inspector register, tasks, the drawn agencies and their findings."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common.clock import now
from marketplace.common.models import TimestampMixin, enum_column
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db

if TYPE_CHECKING:
    from marketplace.agencies.models import Agency
    from marketplace.auth.models import User
    from marketplace.catalogue.models import Category


class Inspector(TimestampMixin, db.Model):
    """执法检查人员: one line of the register the draw picks inspectors from."""

    __tablename__ = "inspector"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    department: Mapped[str] = mapped_column(String(100), index=True)  # the body the inspector works for
    certificate_no: Mapped[str] = mapped_column(String(40), unique=True)  # 执法证号
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)  # None: the whole market area
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class TaskStatus(enum.StrEnum):
    PLANNED = "planned"  # commitment published, nothing drawn yet
    DRAWN = "drawn"  # seed revealed, agencies and inspectors drawn; findings being recorded
    CLOSED = "closed"  # every drawn agency has findings; the results are public


class InspectionTask(TimestampMixin, db.Model):
    """一次双随机抽查: its scope, checklist and the commit–reveal draw."""

    __tablename__ = "inspection_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6))  # None: the whole market area
    # Exactly one of the two: a number of agencies, or a share of the agencies in scope (rounded up).
    agency_count: Mapped[int | None]
    share_pct: Mapped[int | None]
    inspectors_per_agency: Mapped[int]
    checklist: Mapped[list] = mapped_column(JSON)  # the items' words, in order
    # Who runs it: "market" (a supervisor) or "department" (the trade's department, named in `department`).
    source: Mapped[str] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(100))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[TaskStatus] = enum_column(TaskStatus, default=TaskStatus.PLANNED, index=True)
    draw_seed: Mapped[str] = mapped_column(String(64))  # secret until the draw
    draw_commitment: Mapped[str] = mapped_column(String(64))
    seed_revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # At the draw: the candidates in canonical order and the number drawn (see inspections/findings.py).
    draw_details: Mapped[dict | None] = mapped_column(JSON)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    category: Mapped[Category] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    targets: Mapped[list[InspectionTarget]] = relationship(
        back_populates="task", order_by="InspectionTarget.position", cascade="all, delete-orphan"
    )

    @property
    def is_closed(self) -> bool:
        return self.status == TaskStatus.CLOSED


class InspectionTarget(db.Model):
    """A drawn agency of a task, its drawn inspectors and, once recorded, the findings."""

    __tablename__ = "inspection_target"
    __table_args__ = (UniqueConstraint("task_id", "agency_id", name="uq_inspection_target_task_agency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("inspection_task.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    position: Mapped[int]  # 0-based place in the draw
    inspector_ids: Mapped[list] = mapped_column(JSON)  # drawn, in draw order
    inspected_by: Mapped[list | None] = mapped_column(JSON)  # inspector ids who did the inspection
    notes: Mapped[str | None] = mapped_column(Text)  # the overall conclusion, published
    evidence: Mapped[list | None] = mapped_column(JSON)  # [{key, name, mime, size}], staff only
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    task: Mapped[InspectionTask] = relationship(back_populates="targets")
    agency: Mapped[Agency] = relationship()
    findings: Mapped[list[InspectionFinding]] = relationship(
        back_populates="target", order_by="InspectionFinding.position", cascade="all, delete-orphan"
    )

    @property
    def recorded(self) -> bool:
        return self.recorded_at is not None

    @property
    def failed_count(self) -> int:
        return sum(1 for f in self.findings if not f.passed)


class InspectionFinding(db.Model):
    """One checklist item's result at one agency."""

    __tablename__ = "inspection_finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("inspection_target.id"), index=True)
    position: Mapped[int]
    item: Mapped[str] = mapped_column(String(200))
    passed: Mapped[bool]
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    target: Mapped[InspectionTarget] = relationship(back_populates="findings")
