"""Pending changes for the full-text index: written in the same transaction as the change, drained by one
writer after commit (and by `flask search drain`), so several processes never fight over Whoosh's lock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, Index, String, Text
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


class SearchDocument(db.Model):
    """One searchable document for SEARCH_BACKEND=postgres (the Whoosh index holds the same documents on disk).

    `title_lexemes` and `lexemes` are jieba-segmented text (index terms separated by spaces, pinyin pairs as
    `py…`). On PostgreSQL, migration 0028 adds `tsv`, a generated tsvector of them (the 'simple' configuration,
    the title's lexemes with weight A) with a GIN index; it is not mapped here, the backend queries it in SQL.
    On SQLite the table exists but the backend refuses to run (see pg.py)."""

    __tablename__ = "search_document"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)  # "agency:12"
    doc_type: Mapped[str] = mapped_column(String(20))
    doc_id: Mapped[int]
    title: Mapped[str] = mapped_column(Text)
    subtitle: Mapped[str] = mapped_column(Text, default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    rank: Mapped[float] = mapped_column(Float, default=0.0)  # the static rank (documents.py)
    title_lexemes: Mapped[str] = mapped_column(Text, default="")
    lexemes: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_search_document_type_rank", "doc_type", "rank"),
        # on PostgreSQL also `title_tsv` (migration 0033), the title's own tsvector with a GIN index, not mapped
    )


# the static-rank order a broad query walks from the top (walked backwards: rank DESC, doc_id), migration 0033
Index("ix_search_document_rank", SearchDocument.rank, SearchDocument.doc_id.desc())
