"""Payments of accepted orders: offline bank transfers (recorded by the enterprise, confirmed by the agency)
and Stripe Checkout sessions (paid only by a signature-verified webhook). Money is integer fen, CNY."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common.clock import now
from marketplace.common.models import TimestampMixin, enum_column
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db


class PaymentMethod(enum.StrEnum):
    OFFLINE = "offline"
    STRIPE = "stripe"


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # Stripe: a Checkout Session is open; only the webhook can make it paid
    SUBMITTED = "submitted"  # offline: recorded by the enterprise, awaiting the agency's confirmation
    PAID = "paid"
    REJECTED = "rejected"  # offline: the agency reports that nothing arrived
    EXPIRED = "expired"  # Stripe: the session expired or was abandoned
    REFUNDED = "refunded"  # refunded in full (partial refunds keep PAID and add to refunded_fen)


STATUS_LABELS = {
    PaymentStatus.PENDING: _l("Awaiting online payment"),
    PaymentStatus.SUBMITTED: _l("Awaiting the agency's confirmation"),
    PaymentStatus.PAID: _l("Received"),
    PaymentStatus.REJECTED: _l("Rejected by the agency"),
    PaymentStatus.EXPIRED: _l("Expired"),
    PaymentStatus.REFUNDED: _l("Refunded"),
}
METHOD_LABELS = {PaymentMethod.OFFLINE: _l("Bank transfer"), PaymentMethod.STRIPE: _l("Online (Stripe)")}


TRANSITIONS: dict[str, tuple[frozenset[PaymentStatus], PaymentStatus]] = {
    "confirm": (frozenset({PaymentStatus.SUBMITTED}), PaymentStatus.PAID),
    "reject": (frozenset({PaymentStatus.SUBMITTED}), PaymentStatus.REJECTED),
    "complete": (frozenset({PaymentStatus.PENDING, PaymentStatus.EXPIRED}), PaymentStatus.PAID),
    "expire": (frozenset({PaymentStatus.PENDING}), PaymentStatus.EXPIRED),
    "refund": (frozenset({PaymentStatus.PAID}), PaymentStatus.REFUNDED),
}
# Statuses whose amount counts against the contract (money received, or on its way and not yet refused).
COMMITTED = frozenset({PaymentStatus.PENDING, PaymentStatus.SUBMITTED, PaymentStatus.PAID})


class Payment(TimestampMixin, db.Model):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen", name="refund_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_order.id"), index=True)
    method: Mapped[PaymentMethod] = enum_column(PaymentMethod)
    status: Mapped[PaymentStatus] = enum_column(PaymentStatus, index=True)
    amount_fen: Mapped[int]
    refunded_fen: Mapped[int] = mapped_column(default=0)
    reference: Mapped[str | None] = mapped_column(String(100))  # bank-transfer reference (offline)
    voucher: Mapped[dict | None] = mapped_column(JSON)  # {key, name, mime, size} of the transfer voucher
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_payment_intent: Mapped[str | None] = mapped_column(String(255), index=True)
    checkout_url: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # Stripe session expiry
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    status_reason: Mapped[str | None] = mapped_column(Text)

    order = relationship("Order")


class StripeEvent(db.Model):
    """Every webhook event processed, by Stripe's event id: a replayed event is acknowledged and skipped."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # evt_…
    type: Mapped[str] = mapped_column(String(100))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(50))  # paid, refunded, expired, ignored, unknown_session …
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
