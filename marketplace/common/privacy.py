"""Personal data shown partly: ID numbers are stored in full and shown masked to everyone but staff."""

from __future__ import annotations


def mask_id(number: str | None) -> str | None:
    """An ID number as everyone but staff sees it: 3205**********1234."""
    if not number:
        return number
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
