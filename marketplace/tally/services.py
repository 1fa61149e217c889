"""The tally: each agency's running totals, kept as the market moves and rebuilt from history on demand.

It listens (tally/subscribers.py) to accepted and amended orders, deadline lights, ratings, money received and
confirmed fee violations, inside the transaction of the change it counts. Sums, not averages, are stored so
each event adds to them; stats/figures.py derives the figures buyers compare. This package sits above every
feature it counts, and nothing but the app, the CLI and the demo imports it.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.catalogue.models import ServiceItem, ServiceItemVersion
from marketplace.extensions import db
from marketplace.fees.models import FeeFlag, FlagStatus
from marketplace.orders.models import STARTED_LIVE, Order, OrderStatus
from marketplace.payments.models import Payment, PaymentStatus
from marketplace.ratings.models import Rating
from marketplace.requests.models import ServiceRequest
from marketplace.stats.figures import TOTALS, derive
from marketplace.stats.models import AgencyItemStats, AgencyStats
from marketplace.tally import listing, ocds_months, summary
from marketplace.tally import public as page_figures

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
    row.composite, row.rating_rank = figures["composite"], figures["rating_rank"]


def order_increments(order, req, item) -> dict[str, int]:
    """What one accepted order adds to its agency's totals; `item` is the item's rules the request was posted
    under (`req.rules`: its kept version), so a department's later edit changes no past figure."""
    inc = {
        "completed_orders": 1,
        "amount_sum_fen": order.amount_fen,
        "ceiling_sum_fen": req.ceiling_fen,
        "promised_days_sum": order.promised_days,
        "standard_days_sum": item.standard_days,
        "actual_seconds_sum": int((order.delivered_at - order.started_at).total_seconds()),
        "on_time_count": int(
            order.delivered_at <= order.on_time_due_at
        ),  # the original date unless extended in time
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
    _add(order_increments(order, req, req.rules), order.agency_id, req.service_item_id)


def on_order_rated(rating) -> None:
    order = rating.order
    _add(rating_increments(rating), order.agency_id, order.request.service_item_id)


def on_contract_amended(order, delta_fen: int) -> None:
    """An accepted order's amount changed: its completed-order price totals follow."""
    inc = {"amount_sum_fen": delta_fen}
    rules = order.request.rules
    if rules.guide_max_fen is not None and rules.guide_min_fen is not None:
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
    totals: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(TOTALS, 0))
    rows = db.session.execute(
        select(Order, ServiceRequest, ServiceItem, ServiceItemVersion)
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .join(ServiceItem, ServiceRequest.service_item_id == ServiceItem.id)
        .outerjoin(ServiceItemVersion, ServiceRequest.service_item_version_id == ServiceItemVersion.id)
        .where(Order.status == OrderStatus.ACCEPTED)
        .execution_options(yield_per=2000)
    )
    for order, req, item, version in rows:
        for name, n in order_increments(order, req, version or item).items():
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
            }
        )
    if agency_rows:
        db.session.execute(AgencyStats.__table__.insert(), agency_rows)
        db.session.execute(AgencyItemStats.__table__.insert(), item_rows)
    page_figures.rebuild()  # the public pages' kept figures (tally/public.py)
    listing.rebuild()  # the list's kept rows and counts (tally/listing.py) follow the rebuilt figures
    summary.rebuild(db.session)  # the market's summary rows (front page, public statistics)
    ocds_months.rebuild(db.session)  # the months with open-data releases (/opendata/)
    return len(agency_rows)


def snapshot() -> dict:
    """Every stored total, for comparing incremental and rebuilt statistics."""
    agencies = {
        r.agency_id: {n: getattr(r, n) for n in (*TOTALS, "composite", "rating_rank")}
        for r in db.session.scalars(select(AgencyStats))
    }
    items = {
        f"{r.agency_id}:{r.service_item_id}": {n: getattr(r, n) for n in TOTALS}
        for r in db.session.scalars(select(AgencyItemStats))
    }
    return {"agencies": agencies, "items": items}
