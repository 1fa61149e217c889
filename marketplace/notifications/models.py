"""Notifications (站内信), each user's choice of what also comes by mail or SMS, the outbox, and agencies' watches
on open requests (关注 / 提醒我: the closing reminder)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.common.clock import now
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db


class Notification(db.Model):
    """One thing a user is told. `text` is a stored message (common/messages.py), shown in the reader's language;
    `link` a path inside the site (the page it is about)."""

    __tablename__ = "notification"
    # The bell's count and the unread-first page read (user, read_at) from the index alone.
    __table_args__ = (Index("ix_notification_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def unread(self) -> bool:
        return self.read_at is None


class DeliveryPreference(db.Model):
    """A user's choice for one kind of notification: also by mail, also by SMS. No row: the kind's default."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    by_mail: Mapped[bool]
    by_sms: Mapped[bool]


class OutboxStatus:
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after NOTIFY_MAX_ATTEMPTS


class OutboxMessage(db.Model):
    """A mail or SMS written in the transaction that caused it and sent after the commit by the clock (outbox.py),
    retried with growing pauses while the server is down."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # mail | sms
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(254))  # an address or a phone number
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RequestWatch(db.Model):
    """An agency user asked to be reminded before a request's bidding closes (关注 / 提醒我); the clock reminds
    once (`reminded_at`), unless the agency has bid by then."""

    __tablename__ = "request_watch"
    __table_args__ = (UniqueConstraint("request_id", "user_id", name="uq_request_watch_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
