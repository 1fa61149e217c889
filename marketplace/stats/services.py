"""Agency statistics as the rest of the market reads them.

Until ratings and completed orders are counted (the ranking issue), every figure is None rather than invented;
selection methods treat None as neutral (see requests/draw.py NEUTRAL).
"""

from __future__ import annotations

EMPTY = {
    "completed_orders": 0,
    "avg_rating": None,
    "good_rate": None,
    "avg_price_ratio_to_ceiling": None,
    "savings_rate": None,
    "avg_days": None,
    "on_time_rate": None,
    "speedup_vs_standard": None,
    "credit_score": None,
    "ratings_count": 0,
}


def agency_stats(agency_id: int) -> dict:
    return dict(EMPTY)


def stats_for(agency_ids: list[int]) -> dict[int, dict]:
    return {agency_id: agency_stats(agency_id) for agency_id in agency_ids}
