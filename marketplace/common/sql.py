"""Small SQL helpers shared by the features' queries."""

from __future__ import annotations


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column, text: str):
    """Case-insensitive substring match where % and _ typed by a user are plain characters."""
    return column.ilike(f"%{escape_like(text.strip())}%", escape="\\")
