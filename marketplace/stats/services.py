"""Agency statistics: running totals updated by events (order accepted, order rated), figures derived from them.

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
- credit_score (until the supervision work refines it) = max(0, 50 + 30 × on_time_rate
  + 20 × (rating_rank − 1) / 4 − VIOLATION_PENALTY × confirmed fee violations)
- composite = 100 × (0.35 × rating_rank/5 + 0.25 × on_time + 0.20 × sales + 0.20 × savings), where
  sales = min(1, log10(1 + completed) / 2) and savings = clamp(savings_rate / 0.3, 0, 1); missing figures
  count as neutral (on-time 0.8, savings 0.5), so a new member starts in the middle, not at the bottom.
"""

from __future__ import annotations

import math
from collections import defaultdict

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.extensions import db
from marketplace.stats.models import AgencyItemStats, AgencyStats

PRIOR_MEAN = 4.0
PRIOR_WEIGHT = 10
NEUTRAL_ON_TIME = 0.8
NEUTRAL_SAVINGS = 0.5
VIOLATION_PENALTY = 5
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
    "overdue_orders": 0,
    "violations": 0,
    "ratings_count": 0,
    "rating_rank": PRIOR_MEAN,
    "composite": None,
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
    composite = 100 * (
        0.35 * rating_rank / 5
        + 0.25 * (on_time if on_time is not None else NEUTRAL_ON_TIME)
        + 0.20 * sales
        + 0.20 * savings_score
    )
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
        "credit_score": _credit(on_time, rating_rank, get("violations")),
        "overdue_orders": get("overdue_orders"),
        "violations": get("violations"),
        "ratings_count": r,
        "rating_rank": round(rating_rank, 4),
        "composite": round(composite, 4),
    }


def _credit(on_time: float | None, rating_rank: float, violations: int) -> float | None:
    if on_time is None and not violations:
        return None  # nothing known yet: shown as "—", ranked as neutral
    on_time = NEUTRAL_ON_TIME if on_time is None else on_time
    return round(max(0.0, 50 + 30 * on_time + 20 * (rating_rank - 1) / 4 - VIOLATION_PENALTY * violations), 1)


def _round(value: float | None, digits: int = 4) -> float | None:
    return round(value, digits) if value is not None else None


NO_DATA_COMPOSITE = derive({})["composite"]


# --- reading -----------------------------------------------------------------------------------------------


def agency_stats(agency_id: int) -> dict:
    return stats_for([agency_id])[agency_id]


def stats_for(agency_ids: list[int]) -> dict[int, dict]:
    ids = list(set(agency_ids))
    rows = (
        {
            r.agency_id: r
            for r in db.session.scalars(select(AgencyStats).where(AgencyStats.agency_id.in_(ids)))
        }
        if ids
        else {}
    )
    return {a: derive(rows[a]) if a in rows else dict(EMPTY) for a in agency_ids}


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


# --- events (called by the services, inside their transaction) ------------------------------------------------


def _ensure(model, **key) -> None:
    if db.session.get(model, tuple(key.values()) if len(key) > 1 else next(iter(key.values()))) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(model(**key, **{name: 0 for name in TOTALS}))
    except IntegrityError:  # created by a concurrent transaction: fine, we only add to it
        pass


def _add(increments: dict[str, int], agency_id: int, service_item_id: int) -> None:
    """Atomic `x = x + n` updates, so concurrent events never lose each other's counts."""
    _ensure(AgencyStats, agency_id=agency_id)
    _ensure(AgencyItemStats, agency_id=agency_id, service_item_id=service_item_id)
    for model, where in (
        (AgencyStats, AgencyStats.agency_id == agency_id),
        (
            AgencyItemStats,
            (AgencyItemStats.agency_id == agency_id) & (AgencyItemStats.service_item_id == service_item_id),
        ),
    ):
        values = {name: getattr(model, name) + n for name, n in increments.items()}
        db.session.execute(
            update(model).where(where).values(**values).execution_options(synchronize_session=False)
        )
    _refresh_rank(agency_id)


def _refresh_rank(agency_id: int) -> None:
    row = db.session.get(AgencyStats, agency_id)
    db.session.refresh(row)
    figures = derive(row)
    row.composite, row.rating_rank, row.credit_score = (
        figures["composite"],
        figures["rating_rank"],
        figures["credit_score"],
    )


def order_increments(order, req, item) -> dict[str, int]:
    """What one accepted order adds to its agency's totals."""
    inc = {
        "completed_orders": 1,
        "amount_sum_fen": order.amount_fen,
        "ceiling_sum_fen": req.ceiling_fen,
        "promised_days_sum": order.promised_days,
        "standard_days_sum": item.standard_days,
        "actual_seconds_sum": int((order.delivered_at - order.started_at).total_seconds()),
        "on_time_count": int(order.delivered_at <= order.due_at),
    }
    if item.guide_min_fen is not None and item.guide_max_fen is not None:
        inc.update(
            guide_orders=1,
            guide_amount_sum_fen=order.amount_fen,
            guide_mid_sum_fen=(item.guide_min_fen + item.guide_max_fen) // 2,
        )
    return inc


def rating_increments(rating) -> dict[str, int]:
    return {"ratings_count": 1, "rating_sum": rating.overall, "good_count": int(rating.overall >= 4)}


def on_order_accepted(order) -> None:
    req = order.request
    _add(order_increments(order, req, req.service_item), order.agency_id, req.service_item_id)


def on_order_rated(rating) -> None:
    order = rating.order
    _add(rating_increments(rating), order.agency_id, order.request.service_item_id)


def on_contract_amended(order, delta_fen: int) -> None:
    """An accepted order's amount changed: its completed-order price totals follow."""
    inc = {"amount_sum_fen": delta_fen}
    if (
        order.request.service_item.guide_max_fen is not None
        and order.request.service_item.guide_min_fen is not None
    ):
        inc["guide_amount_sum_fen"] = delta_fen
    _add(inc, order.agency_id, order.request.service_item_id)


def on_overdue_change(order, delta: int) -> None:
    """+1 when a started order turns red, −1 when a red order is accepted (or leaves red)."""
    _add({"overdue_orders": delta}, order.agency_id, order.request.service_item_id)


def on_payment(order, delta_fen: int) -> None:
    """Money received (+) or refunded (−) on an order."""
    _add({"paid_sum_fen": delta_fen}, order.agency_id, order.request.service_item_id)


def on_violation(agency_id: int, service_item_id: int, delta: int) -> None:
    """A fee flag confirmed as a violation (+1) or un-confirmed (−1)."""
    _add({"violations": delta}, agency_id, service_item_id)


# --- rebuilding from history ------------------------------------------------------------------------------------


def rebuild() -> int:
    """Recompute every total from the accepted orders and ratings (a separate code path from the events, so
    comparing the two checks both). Returns the number of agencies with statistics."""
    from marketplace.catalogue.models import ServiceItem
    from marketplace.fees.models import FeeFlag, FlagStatus
    from marketplace.orders.models import STARTED_LIVE, Order, OrderStatus
    from marketplace.payments.models import Payment, PaymentStatus
    from marketplace.ratings.models import Rating
    from marketplace.requests.models import ServiceRequest

    totals: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(TOTALS, 0))
    rows = db.session.execute(
        select(Order, ServiceRequest, ServiceItem)
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .join(ServiceItem, ServiceRequest.service_item_id == ServiceItem.id)
        .where(Order.status == OrderStatus.ACCEPTED)
        .execution_options(yield_per=2000)
    )
    for order, req, item in rows:
        for name, n in order_increments(order, req, item).items():
            totals[(order.agency_id, item.id)][name] += n
    ratings = db.session.execute(
        select(Rating.overall, Order.agency_id, ServiceRequest.service_item_id)
        .join(Order, Rating.order_id == Order.id)
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
    )
    for overall, agency_id, item_id in ratings:
        t = totals[(agency_id, item_id)]
        t["ratings_count"] += 1
        t["rating_sum"] += overall
        t["good_count"] += int(overall >= 4)
    overdue = db.session.execute(
        select(Order.agency_id, ServiceRequest.service_item_id)
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .where(Order.deadline_flag == "red", Order.status.in_(list(STARTED_LIVE)))
    )
    for agency_id, item_id in overdue:
        totals[(agency_id, item_id)]["overdue_orders"] += 1
    violations = db.session.execute(
        select(FeeFlag.agency_id, FeeFlag.service_item_id).where(FeeFlag.status == FlagStatus.CONFIRMED)
    )
    for agency_id, item_id in violations:
        totals[(agency_id, item_id)]["violations"] += 1
    payments = db.session.execute(
        select(Payment.amount_fen - Payment.refunded_fen, Order.agency_id, ServiceRequest.service_item_id)
        .join(Order, Payment.order_id == Order.id)
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .where(Payment.status.in_([PaymentStatus.PAID, PaymentStatus.REFUNDED]))
    )
    for net, agency_id, item_id in payments:
        totals[(agency_id, item_id)]["paid_sum_fen"] += net

    db.session.execute(delete(AgencyItemStats))
    db.session.execute(delete(AgencyStats))
    per_agency: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TOTALS, 0))
    item_rows = []
    for (agency_id, item_id), t in totals.items():
        item_rows.append({"agency_id": agency_id, "service_item_id": item_id, **t})
        for name, n in t.items():
            per_agency[agency_id][name] += n
    agency_rows = []
    for agency_id, t in per_agency.items():
        figures = derive(t)
        agency_rows.append(
            {
                "agency_id": agency_id,
                **t,
                "composite": figures["composite"],
                "rating_rank": figures["rating_rank"],
                "credit_score": figures["credit_score"],
            }
        )
    if agency_rows:
        db.session.execute(AgencyStats.__table__.insert(), agency_rows)
        db.session.execute(AgencyItemStats.__table__.insert(), item_rows)
    db.session.commit()
    return len(agency_rows)


def snapshot() -> dict:
    """Every stored total, for comparing incremental and rebuilt statistics."""
    agencies = {
        r.agency_id: {n: getattr(r, n) for n in (*TOTALS, "composite", "rating_rank", "credit_score")}
        for r in db.session.scalars(select(AgencyStats))
    }
    items = {
        f"{r.agency_id}:{r.service_item_id}": {n: getattr(r, n) for n in TOTALS}
        for r in db.session.scalars(select(AgencyItemStats))
    }
    return {"agencies": agencies, "items": items}
