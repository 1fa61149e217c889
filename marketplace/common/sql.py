"""Small SQL helpers shared by the features' queries."""

from __future__ import annotations

from sqlalchemy import Float, Select, cast, extract, func, select

from marketplace.extensions import db


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column, text: str):
    """Case-insensitive substring match where % and _ typed by a user are plain characters."""
    return column.ilike(f"%{escape_like(text.strip())}%", escape="\\")


def count_of(stmt: Select) -> int:
    """How many rows `stmt` selects (its ORDER BY dropped), in one statement."""
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def epoch_seconds(column):
    """A timestamp column as seconds since 1970 (a float), on PostgreSQL and SQLite alike: SQLite keeps UTC as
    'YYYY-MM-DD HH:MM:SS.ffffff' text (common/types.py), which julianday() reads to the millisecond."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(extract("epoch", column), Float)
    return (func.julianday(column) - 2440587.5) * 86400.0
