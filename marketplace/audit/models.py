"""The append-only audit log: every state change, who did it, and what changed — chained by hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.common.clock import now
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db


class AuditEntry(db.Model):
    """One audit entry. `seq`, `prev_hash` and `hash` are set once, when its transaction commits (chain.py):
    `hash` covers the entry's content and `prev_hash`, the hash of the entry before it in the chain."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_seq", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))
    seq: Mapped[int | None]  # the entry's place in the chain (1, 2, …): commit order, not id order
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditHead(db.Model):
    """The chain's end, one row (id 1): locked while a transaction links its entries, so chains never fork."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _append_only(mapper, connection, target):  # the database triggers enforce the same below the ORM
    raise RuntimeError("the audit log is append-only")
