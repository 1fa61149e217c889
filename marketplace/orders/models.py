"""Orders: the contract that follows a selection, its progress, delivery and acceptance (验收)."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.agencies.models import Agency
from marketplace.auth.models import Enterprise
from marketplace.common.clock import now
from marketplace.common.models import TimestampMixin, enum_column
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db


class OrderStatus(enum.StrEnum):
    AWAITING = "awaiting"  # created after publicity; the agency confirms (clock starts) or declines
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    DISPUTED = "disputed"
    ACCEPTED = "accepted"
    DECLINED = "declined"  # the agency declined before starting; the next-ranked bid took its place
    CANCELLED = "cancelled"  # an upheld objection reopened the selection


STATUS_LABELS = {
    OrderStatus.AWAITING: _l("Awaiting confirmation"),
    OrderStatus.IN_PROGRESS: _l("In progress"),
    OrderStatus.DELIVERED: _l("Delivered, awaiting acceptance"),
    OrderStatus.DISPUTED: _l("Disputed"),
    OrderStatus.ACCEPTED: _l("Accepted"),
    OrderStatus.DECLINED: _l("Declined by the agency"),
    OrderStatus.CANCELLED: _l("Cancelled"),
}
EVENT_LABELS = {
    "confirm": _l("Contract confirmed, service clock started"),
    "decline": _l("Declined by the agency"),
    "progress": _l("Progress report"),
    "deliver": _l("Delivered"),
    "accept": _l("Accepted"),
    "dispute": _l("Acceptance disputed"),
    "amend": _l("Contract amount changed (supplementary agreement)"),
}


TRANSITIONS: dict[str, tuple[frozenset[OrderStatus], OrderStatus]] = {
    "confirm": (frozenset({OrderStatus.AWAITING}), OrderStatus.IN_PROGRESS),
    "decline": (frozenset({OrderStatus.AWAITING}), OrderStatus.DECLINED),
    "deliver": (frozenset({OrderStatus.IN_PROGRESS, OrderStatus.DISPUTED}), OrderStatus.DELIVERED),
    "accept": (frozenset({OrderStatus.DELIVERED}), OrderStatus.ACCEPTED),
    "dispute": (frozenset({OrderStatus.DELIVERED}), OrderStatus.DISPUTED),
    "cancel": (frozenset({OrderStatus.AWAITING}), OrderStatus.CANCELLED),
}
LIVE = frozenset({OrderStatus.AWAITING, OrderStatus.IN_PROGRESS, OrderStatus.DELIVERED, OrderStatus.DISPUTED})
STARTED_LIVE = LIVE - {OrderStatus.AWAITING}  # the service clock is running (or stopped by a delivery)
VOID = frozenset({OrderStatus.DECLINED, OrderStatus.CANCELLED})  # never became a deal: no price was paid


class Order(TimestampMixin, db.Model):
    __tablename__ = "service_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    amount_fen: Mapped[int]
    promised_days: Mapped[int]
    status: Mapped[OrderStatus] = enum_column(OrderStatus, default=OrderStatus.AWAITING, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    auto_accepted: Mapped[bool] = mapped_column(default=False)
    deadline_flag: Mapped[str] = mapped_column(
        String(10), default="ok"
    )  # last ok/yellow/red written to the log
    status_reason: Mapped[str | None] = mapped_column(Text)

    agency: Mapped[Agency] = relationship()
    enterprise: Mapped[Enterprise] = relationship()
    request = relationship("ServiceRequest")
    events: Mapped[list[OrderEvent]] = relationship(back_populates="order", order_by="OrderEvent.id")


class OrderEvent(db.Model):
    """Progress reports, deliveries (with files), acceptance and disputes — the order's visible history."""

    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # confirm, progress, deliver, accept, dispute, decline
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str | None] = mapped_column(Text)
    percent: Mapped[int | None]
    files: Mapped[list | None] = mapped_column(JSON)  # [{key, name, mime, size}]
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    order: Mapped[Order] = relationship(back_populates="events")
