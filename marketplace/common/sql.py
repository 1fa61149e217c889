"""Small SQL helpers shared by the features' queries."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from marketplace.extensions import db


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column, text: str):
    """Case-insensitive substring match where % and _ typed by a user are plain characters."""
    return column.ilike(f"%{escape_like(text.strip())}%", escape="\\")


def count_of(stmt: Select) -> int:
    """How many rows `stmt` selects (its ORDER BY dropped), in one statement."""
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
