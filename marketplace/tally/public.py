"""The public pages' kept figures, rebuilt with the agency statistics (`flask stats rebuild`, the benchmark)."""

from __future__ import annotations

from marketplace.fees import summary as fee_summary
from marketplace.requests import counts as request_counts


def rebuild() -> None:
    fee_summary.rebuild()  # the fee pages' figures per service item and division
    request_counts.rebuild()  # the announcements per service item and status


def snapshot() -> dict:
    return {"fees": fee_summary.snapshot(), "announcements": request_counts.snapshot()}
