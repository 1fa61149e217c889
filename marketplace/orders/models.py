"""Orders: the contract that follows a selection, its progress, delivery and acceptance (验收)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.agencies.models import Agency
from marketplace.auth.models import Enterprise
from marketplace.common.clock import now
from marketplace.common.models import TimestampMixin, enum_column
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db


class OrderStatus(enum.StrEnum):
    AWAITING = (
        "awaiting"  # created after publicity; the agency confirms (clock starts) or declines — with the
    )
    # contract step on, the parties upload and confirm the signed contract (the clock starts then)
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
AWAITING_CONTRACT = _l("Awaiting the signed contract")  # AWAITING's label with the contract step on
EVENT_LABELS = {
    "confirm": _l("Contract confirmed, service clock started"),
    "decline": _l("Declined by the agency"),
    "progress": _l("Progress report"),
    "deliver": _l("Delivered"),
    "accept": _l("Accepted"),
    "dispute": _l("Acceptance disputed"),
    "amend": _l("Contract amount changed (supplementary agreement)"),
    "contract": _l("Signed contract uploaded"),
    "contract_confirmed": _l("Signed contract confirmed by the other party, service clock started"),
    "contract_rejected": _l("Contract rejected"),
    "extension": _l("Extension requested"),
    "extension_approved": _l("Extension approved"),
    "extension_rejected": _l("Extension refused"),
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
    # By status (it replaced the status's own index): the clock reads the orders under way with what their deadline
    # light is judged from on every pass (services.due_order_ids). On PostgreSQL the index carries those columns:
    # through the status's index the read fetched ~15,000 scattered rows at 1,000,000 orders (~100 ms a pass).
    __table_args__ = (
        Index(
            "ix_service_order_status_due",
            "status",
            "due_at",
            postgresql_include=["id", "started_at", "delivered_at", "deadline_flag"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    amount_fen: Mapped[int]
    promised_days: Mapped[int]
    # indexed by ix_service_order_status_due (above)
    status: Mapped[OrderStatus] = enum_column(OrderStatus, default=OrderStatus.AWAITING)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)  # the current one (lights)
    # The due date when the clock started, kept visible after extensions (延期), and the one the on-time rate is
    # judged by: the original, unless an extension was approved before the date in force had passed.
    original_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reckoned_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
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
    contracts: Mapped[list[Contract]] = relationship(back_populates="order", order_by="Contract.id")
    extensions: Mapped[list[Extension]] = relationship(back_populates="order", order_by="Extension.id")

    @property
    def contract(self) -> Contract | None:
        """The contract in force or under confirmation: the latest one uploaded (rejected ones are history)."""
        return self.contracts[-1] if self.contracts else None

    @property
    def on_time_due_at(self) -> datetime | None:
        """The due date the on-time rate counts against."""
        return self.reckoned_due_at or self.due_at


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


# --- the signed contract (合同) and extensions (延期) -------------------------------------------------------------


class ContractStatus(enum.StrEnum):
    PENDING = "pending"  # uploaded by one party, waiting for the other
    CONFIRMED = "confirmed"  # the service clock started
    REJECTED = "rejected"  # the other party refused it (with a reason); a new one may be uploaded


CONTRACT_STATUS_LABELS = {
    ContractStatus.PENDING: _l("Waiting for the other party to confirm"),
    ContractStatus.CONFIRMED: _l("Signed and confirmed"),
    ContractStatus.REJECTED: _l("Returned by the other party"),
}
CONTRACT_TRANSITIONS: dict[str, tuple[frozenset[ContractStatus], ContractStatus]] = {
    "confirm": (frozenset({ContractStatus.PENDING}), ContractStatus.CONFIRMED),
    "reject": (frozenset({ContractStatus.PENDING}), ContractStatus.REJECTED),
}
SIDES = ("enterprise", "agency")


class Contract(TimestampMixin, db.Model):
    """The contract the two parties signed off the platform, uploaded by one and confirmed by the other."""

    __tablename__ = "order_contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_order.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    amount_fen: Mapped[int]
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    # The signed PDF under UPLOAD_DIR (never public): only the parties and staff may download it.
    file_key: Mapped[str] = mapped_column(String(80))
    file_name: Mapped[str] = mapped_column(String(200))
    file_mime: Mapped[str] = mapped_column(String(50))
    file_size: Mapped[int]
    uploaded_by: Mapped[str] = mapped_column(String(10))  # enterprise / agency
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    status: Mapped[ContractStatus] = enum_column(ContractStatus, default=ContractStatus.PENDING, index=True)
    reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    order: Mapped[Order] = relationship(back_populates="contracts")

    @property
    def confirmer_side(self) -> str:
        return "agency" if self.uploaded_by == "enterprise" else "enterprise"

    @property
    def confirmed_at(self) -> datetime | None:
        return self.decided_at if self.status == ContractStatus.CONFIRMED else None


class ExtensionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


EXTENSION_STATUS_LABELS = {
    ExtensionStatus.PENDING: _l("Waiting for the owner"),
    ExtensionStatus.APPROVED: _l("Approved"),
    ExtensionStatus.REJECTED: _l("Refused"),
}
EXTENSION_TRANSITIONS: dict[str, tuple[frozenset[ExtensionStatus], ExtensionStatus]] = {
    "approve": (frozenset({ExtensionStatus.PENDING}), ExtensionStatus.APPROVED),
    "reject": (frozenset({ExtensionStatus.PENDING}), ExtensionStatus.REJECTED),
}


class Extension(TimestampMixin, db.Model):
    """An agency's request to move the due date (延期), decided by the enterprise."""

    __tablename__ = "order_extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_order.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    due_before: Mapped[datetime] = mapped_column(UTCDateTime())  # the due date in force when asked
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the new due date asked for
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExtensionStatus] = enum_column(
        ExtensionStatus, default=ExtensionStatus.PENDING, index=True
    )
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Approved before the due date then in force had passed: the on-time rate counts against the new date.
    in_time: Mapped[bool | None]

    order: Mapped[Order] = relationship(back_populates="extensions")
