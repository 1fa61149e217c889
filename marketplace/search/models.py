"""Pending changes for the full-text index: written in the same transaction as the change, drained by one
writer after commit (and by `flask search drain`), so several processes never fight over Whoosh's lock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.common.clock import now
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db


class SearchQueue(db.Model):
    __tablename__ = "search_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(20))  # agency / request / service
    doc_id: Mapped[int]
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
