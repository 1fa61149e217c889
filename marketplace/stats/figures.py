"""Agency statistics as the market reads them: the figures buyers compare, derived from the running totals.

The totals (stats/models.py) are kept by the tally (marketplace/tally/: it listens to orders, ratings, payments
and the fee audit, and rebuilds them from history). This module only reads them, so every feature that shows
figures — stores, the list, the bid comparison, the draw — imports it without depending on what is counted.

Formulas (documented here and in the README):
- avg_rating = Σ overall / ratings; good_rate = ratings with overall ≥ 4 / ratings
- rating_rank (for ranking) = (PRIOR_WEIGHT × PRIOR_MEAN + Σ overall) / (PRIOR_WEIGHT + ratings): a Bayesian
  average, so one 5-star order does not beat two hundred 4.8s
- avg_price_ratio_to_ceiling = Σ contract amount / Σ request ceiling; savings_rate = 1 − that
- avg_price_ratio_to_guide = Σ amount / Σ guide-range midpoint (government-guided items only)
- avg_days = Σ (delivery − start) / completed orders; on_time_rate = delivered by the due date /
  (completed + overdue), where overdue counts started orders that are red (past due) and not yet accepted —
  a late order lowers the rate the day it turns red, not only when it is finally accepted
- speedup_vs_standard = 1 − avg_days / average standard time limit of those items
- credit_score and credit_grade come from the credit feature (marketplace/credit/rules.py: itemised events
  weighted by source, grades A–E); it sits above this module and registers itself in CREDIT when the app starts
- composite = 100 × (0.35 × rating_rank/5 + 0.25 × on_time + 0.20 × sales + 0.20 × savings), where
  sales = min(1, log10(1 + completed) / 2) and savings = clamp(savings_rate / 0.3, 0, 1); missing figures
  count as neutral (on-time 0.8, savings 0.5), so a new member starts in the middle, not at the bottom.
  Like the rating, on-time and savings are Bayesian averages: SHRINK_ORDERS pseudo-orders at the neutral value
  are added, so one or two lucky (or unlucky) orders move an agency little and a long record counts in full.
- newcomer: no completed order and no rating yet — every figure of its composite is a neutral value, and the
  pages say so ("新入驻，按中性值").
"""

from __future__ import annotations

import math
from collections import defaultdict

from sqlalchemy import column, select
from sqlalchemy import table as sql_table

from marketplace.extensions import db
from marketplace.stats.models import AgencyItemStats, AgencyStats

PRIOR_MEAN = 4.0
PRIOR_WEIGHT = 10
NEUTRAL_ON_TIME = 0.8
NEUTRAL_SAVINGS = 0.5
SHRINK_ORDERS = 5  # pseudo-orders at the neutral values in the composite's on-time and savings parts
TOTALS = (
    "completed_orders", "amount_sum_fen", "ceiling_sum_fen", "guide_orders", "guide_amount_sum_fen",
    "guide_mid_sum_fen", "actual_seconds_sum", "promised_days_sum", "standard_days_sum", "on_time_count",
    "ratings_count", "rating_sum", "good_count", "overdue_orders", "violations", "paid_sum_fen",
)  # fmt: skip

EMPTY = {
    "completed_orders": 0,
    "avg_rating": None,
    "good_rate": None,
    "avg_price_ratio_to_ceiling": None,
    "savings_rate": None,
    "avg_price_ratio_to_guide": None,
    "avg_days": None,
    "avg_promised_days": None,
    "on_time_rate": None,
    "speedup_vs_standard": None,
    "credit_score": None,
    "credit_grade": None,
    "credit_blacklisted": False,
    "overdue_orders": 0,
    "violations": 0,
    "ratings_count": 0,
    "rating_rank": PRIOR_MEAN,
    "composite": None,
    "newcomer": True,
}


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def derive(t) -> dict:
    """The figures buyers compare, from a row of totals (AgencyStats, AgencyItemStats or a dict)."""
    get = (lambda k: t.get(k, 0)) if isinstance(t, dict) else (lambda k: getattr(t, k) or 0)
    n, r = get("completed_orders"), get("ratings_count")
    rating_rank = (PRIOR_WEIGHT * PRIOR_MEAN + get("rating_sum")) / (PRIOR_WEIGHT + r)
    price_ratio = _ratio(get("amount_sum_fen"), get("ceiling_sum_fen"))
    avg_days = get("actual_seconds_sum") / 86400 / n if n else None
    on_time = _ratio(get("on_time_count"), n + get("overdue_orders"))
    standard = _ratio(get("standard_days_sum"), n)
    savings = 1 - price_ratio if price_ratio is not None else None
    sales = min(1.0, math.log10(1 + n) / 2)
    savings_score = min(1.0, max(0.0, savings / 0.3)) if savings is not None else NEUTRAL_SAVINGS
    timed = n + get("overdue_orders")
    on_time_part = (SHRINK_ORDERS * NEUTRAL_ON_TIME + get("on_time_count")) / (SHRINK_ORDERS + timed)
    savings_part = (SHRINK_ORDERS * NEUTRAL_SAVINGS + n * savings_score) / (SHRINK_ORDERS + n)
    composite = 100 * (0.35 * rating_rank / 5 + 0.25 * on_time_part + 0.20 * sales + 0.20 * savings_part)
    return {
        "completed_orders": n,
        "avg_rating": round(get("rating_sum") / r, 2) if r else None,
        "good_rate": round(get("good_count") / r, 4) if r else None,
        "avg_price_ratio_to_ceiling": round(price_ratio, 4) if price_ratio is not None else None,
        "savings_rate": round(savings, 4) if savings is not None else None,
        "avg_price_ratio_to_guide": _round(_ratio(get("guide_amount_sum_fen"), get("guide_mid_sum_fen"))),
        "avg_days": round(avg_days, 1) if avg_days is not None else None,
        "avg_promised_days": _round(_ratio(get("promised_days_sum"), n), 1),
        "on_time_rate": round(on_time, 4) if on_time is not None else None,
        "speedup_vs_standard": round(1 - avg_days / standard, 4)
        if avg_days is not None and standard
        else None,
        "credit_score": None,  # per agency, from credit (stats_for)
        "credit_grade": None,
        "credit_blacklisted": False,
        "overdue_orders": get("overdue_orders"),
        "violations": get("violations"),
        "ratings_count": r,
        "rating_rank": round(rating_rank, 4),
        "composite": round(composite, 4),
        "newcomer": n == 0 and r == 0,
    }


def _round(value: float | None, digits: int = 4) -> float | None:
    return round(value, digits) if value is not None else None


NO_DATA_COMPOSITE = derive({})["composite"]


# The credit feature (above this one) that supplies credit_score and credit_grade: anything with
# `figures_for(agency_ids) -> {id: {"credit_score", "credit_grade", "credit_blacklisted"}}`, the same as columns
# (`figure_columns(id_column)`, read back by `figures_of(row)`) and `grade_order(stmt, id_column)`;
# set by credit/subscribers.connect().
CREDIT = None

# --- reading ---------------------------------------------------------------------------------------------------


def agency_stats(agency_id: int) -> dict:
    return stats_for([agency_id])[agency_id]


def stats_for(agency_ids: list[int], credit: dict[int, dict] | None = None) -> dict[int, dict]:
    """{agency id: its figures and credit}; `credit`: the credit figures (CREDIT.figures_for) already read for
    these ids, if the caller has them. One statement: the running totals and, beside them, the credit's columns
    (CREDIT.figure_columns) — under load every statement costs a round trip and a wait for the GIL."""
    ids = sorted(set(agency_ids))
    if not ids:
        return {}
    table = AgencyStats.__table__  # plain rows (derive reads their columns by name): no objects to map
    asked = sql_table("agency", column("id")).alias("asked")  # by name: stats does not import the agencies
    read_credit = CREDIT is not None and (credit is None or not set(ids) <= credit.keys())
    stmt = (
        select(asked.c.id.label("asked_id"), table)
        .select_from(asked.outerjoin(table, table.c.agency_id == asked.c.id))
        .where(asked.c.id.in_(ids))
    )
    if read_credit:
        stmt = stmt.add_columns(*CREDIT.figure_columns(asked.c.id))
    rows = {r.asked_id: r for r in db.session.execute(stmt)}
    out = {}
    for a in agency_ids:
        row = rows.get(a)
        out[a] = derive(row) if row is not None and row.agency_id is not None else dict(EMPTY)
        if CREDIT is not None:
            if read_credit:
                out[a].update(CREDIT.figures_of(row))
            else:
                out[a].update(credit[a])
    return out


def item_stats_for(agency_id: int) -> dict[int, dict]:
    """Per service item, for one agency's store."""
    rows = db.session.scalars(select(AgencyItemStats).where(AgencyItemStats.agency_id == agency_id))
    return {r.service_item_id: derive(r) for r in rows}


def service_item_stats(service_item_id: int) -> dict:
    """The market's figures for one service item, summed over the agencies that delivered it."""
    rows = db.session.scalars(
        select(AgencyItemStats).where(AgencyItemStats.service_item_id == service_item_id)
    )
    total: dict[str, int] = defaultdict(int)
    for row in rows:
        for name in TOTALS:
            total[name] += getattr(row, name) or 0
    return derive(dict(total))
