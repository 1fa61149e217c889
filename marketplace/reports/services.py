"""Public statistics and monthly reports (to be built)."""

from __future__ import annotations


def due_ids() -> list[int]:
    """Monthly reports the clock should generate now (one per area, on the 1st): for the clock."""
    return []


def apply_due(report_id: int) -> bool:
    """The clock's step for one report. Returns True if it was generated. The caller commits."""
    return False
