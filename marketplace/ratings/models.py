"""Ratings of accepted orders: the enterprise's (once, with one reply from the agency) and the approving
department's own (双评价)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common.clock import now
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db

DIMENSIONS = ("quality", "timeliness", "attitude", "fee", "compliance")  # 质量 时效 态度 收费 规范


def _score(name: str) -> CheckConstraint:
    return CheckConstraint(f"{name} BETWEEN 1 AND 5", name=f"{name}_1_to_5")


class Rating(db.Model):
    __tablename__ = "rating"
    __table_args__ = tuple(_score(n) for n in ("overall", *DIMENSIONS))

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_order.id"), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    overall: Mapped[int]
    quality: Mapped[int]
    timeliness: Mapped[int]
    attitude: Mapped[int]
    fee: Mapped[int]
    compliance: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An administrator may hide an abusive comment (never change a score); the reason is kept and audited.
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    # The agency may report a comment as abusive (once; its reason kept): it then waits on the operators'
    # moderation list until an operator hides it or keeps it (`moderated_at`, each decision audited).
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    report_reason: Mapped[str | None] = mapped_column(Text)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order = relationship("Order")
    enterprise = relationship("Enterprise")


class DepartmentRating(db.Model):
    """The approving department's rating of quality and timeliness, shown apart from the owner's."""

    __tablename__ = "department_rating"
    __table_args__ = (_score("quality"), _score("timeliness"))

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_order.id"), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    quality: Mapped[int]
    timeliness: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
