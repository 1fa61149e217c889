"""Credit records (to be built)."""

from __future__ import annotations


def due_ids() -> list[int]:
    """Agencies whose credit time has moved on (a list entry expired, events left the window): for the clock."""
    return []


def apply_due(agency_id: int) -> bool:
    """The clock's step for one agency. Returns True if anything changed. The caller commits."""
    return False
