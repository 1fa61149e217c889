"""The outbox of mails and SMS (to be built): written in the transaction, sent after commit by the clock."""

from __future__ import annotations


def due_ids() -> list[int]:
    """Messages waiting to be sent (or to be retried) now: for the clock."""
    return []


def deliver(message_id: int) -> bool:
    """The clock's step for one message. Returns True if it was sent. The caller commits."""
    return False
