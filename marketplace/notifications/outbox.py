"""The outbox of mails and SMS: written in the transaction that caused them, sent after commit by the clock.

Each message is sent in its own transaction under its row lock (so two clocks never send it twice at once). A
failure is recorded and the message waits NOTIFY_RETRY_SECONDS × 2^(attempts−1) (at most six hours) before the
next try; after NOTIFY_MAX_ATTEMPTS it is marked failed and stays in the table for staff to see. Nothing is lost
while a server is down. A message whose sending succeeded but whose commit then failed is sent again (at least
once, never silently dropped).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.notifications import transport
from marketplace.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)
BATCH = 200
LONGEST_PAUSE = timedelta(hours=6)


def due_ids() -> list[int]:
    """Messages waiting to be sent (or to be retried) now: for the clock."""
    return list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now())
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(BATCH)
        )
    )


def pause(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure."""
    base = current_app.config.get("NOTIFY_RETRY_SECONDS", 60)
    return min(LONGEST_PAUSE, timedelta(seconds=base * 2 ** max(0, attempts - 1)))


def deliver(message_id: int) -> bool:
    """The clock's step for one message. Returns True if it was sent. The caller commits."""
    msg = db.session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update())
    if msg is None or msg.status != OutboxStatus.PENDING or msg.next_attempt_at > now():
        return False
    msg.attempts += 1
    try:
        transport.send(msg.channel, msg.recipient, msg.subject, msg.body)
    except Exception as exc:  # the server is down, refuses, times out: try again later
        msg.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if msg.attempts >= current_app.config.get("NOTIFY_MAX_ATTEMPTS", 8):
            msg.status = OutboxStatus.FAILED
            log.warning("outbox: gave up on %s %s after %d attempts", msg.channel, msg.id, msg.attempts)
        else:
            msg.next_attempt_at = now() + pause(msg.attempts)
        db.session.flush()
        return False
    msg.status, msg.sent_at, msg.last_error = OutboxStatus.SENT, now(), None
    db.session.flush()
    return True
