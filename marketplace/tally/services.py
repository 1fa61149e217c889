"""The tally: each agency's running totals, kept as the market moves and rebuilt from history on demand.

It listens (tally/subscribers.py) to accepted and amended orders, deadline lights, ratings, money received and
confirmed fee violations, inside the transaction of the change it counts. Sums, not averages, are stored so
each event adds to them; stats/figures.py derives the figures buyers compare. This package sits above every
feature it counts, and nothing but the app, the CLI and the demo imports it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    and_,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    literal_column,
    select,
    union_all,
    update,
)
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


def _seconds(start, end):
    """`int((end - start).total_seconds())` in SQL: whole seconds, truncated toward zero, exact."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.trunc(extract("epoch", end - start)), BigInteger)
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy always writes the microseconds): whole seconds by
    # strftime('%s'), microseconds from the text, then integer division (which truncates toward zero, like int)
    # (strftime reads the fraction too, rounded to milliseconds: so it is given the whole seconds only)
    whole = cast(func.strftime("%s", func.substr(end, 1, 19)), BigInteger) - cast(
        func.strftime("%s", func.substr(start, 1, 19)), BigInteger
    )
    micro = cast(func.substr(end, 21, 6), BigInteger) - cast(func.substr(start, 21, 6), BigInteger)
    return (whole * 1_000_000 + micro).self_group().op("/")(literal_column("1000000"))


def _sources():
    """One SELECT per kind of history, each giving (agency_id, service_item_id, *TOTALS) per row counted: the
    same rules as `order_increments`, `rating_increments` and the event handlers, as SQL expressions."""
    zero = literal_column("0")

    def row(agency_id, item_id, **values):
        return [agency_id.label("agency_id"), item_id.label("service_item_id")] + [
            (values.get(name, zero)).label(name) for name in TOTALS
        ]

    version, item = ServiceItemVersion, ServiceItem

    def rule(name: str):  # the request's kept version when it has one, else the item (`req.rules`)
        return case((version.id.is_not(None), getattr(version, name)), else_=getattr(item, name))

    guided = and_(rule("guide_min_fen").is_not(None), rule("guide_max_fen").is_not(None))
    one = literal_column("1")
    accepted = (
        select(
            *row(
                Order.agency_id,
                ServiceRequest.service_item_id,
                completed_orders=one,
                amount_sum_fen=Order.amount_fen,
                ceiling_sum_fen=ServiceRequest.ceiling_fen,
                promised_days_sum=Order.promised_days,
                standard_days_sum=rule("standard_days"),
                actual_seconds_sum=_seconds(Order.started_at, Order.delivered_at),
                on_time_count=case(
                    (Order.delivered_at <= func.coalesce(Order.reckoned_due_at, Order.due_at), one),
                    else_=zero,
                ),
                guide_orders=case((guided, one), else_=zero),
                guide_amount_sum_fen=case((guided, Order.amount_fen), else_=zero),
                guide_mid_sum_fen=case(
                    (
                        guided,
                        (rule("guide_min_fen") + rule("guide_max_fen"))
                        .self_group()
                        .op("/")(literal_column("2")),
                    ),
                    else_=zero,
                ),
            )
        )
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .join(item, ServiceRequest.service_item_id == item.id)
        .outerjoin(version, ServiceRequest.service_item_version_id == version.id)
        .where(Order.status == OrderStatus.ACCEPTED)
    )
    rated = (
        select(
            *row(
                Order.agency_id,
                ServiceRequest.service_item_id,
                ratings_count=one,
                rating_sum=Rating.overall,
                good_count=case((Rating.overall >= 4, one), else_=zero),
            )
        )
        .join(Order, Rating.order_id == Order.id)
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
    )
    overdue = (
        select(*row(Order.agency_id, ServiceRequest.service_item_id, overdue_orders=one))
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .where(Order.deadline_flag == "red", Order.status.in_(list(STARTED_LIVE)))
    )
    violations = select(*row(FeeFlag.agency_id, FeeFlag.service_item_id, violations=one)).where(
        FeeFlag.status == FlagStatus.CONFIRMED
    )
    paid = (
        select(
            *row(
                Order.agency_id,
                ServiceRequest.service_item_id,
                paid_sum_fen=Payment.amount_fen - Payment.refunded_fen,
            )
        )
        .join(Order, Payment.order_id == Order.id)
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .where(Payment.status.in_([PaymentStatus.PAID, PaymentStatus.REFUNDED]))
    )
    return union_all(accepted, rated, overdue, violations, paid).subquery("counted")


def rebuild() -> int:
    """Recompute every total from the accepted orders, ratings, lights, fee flags and payments (a separate code
    path from the events, so comparing the two checks both) — set-based: one INSERT … SELECT … GROUP BY for the
    per-item rows, the agencies' sums read back to derive their composite. Returns the agencies with
    statistics."""
    db.session.execute(delete(AgencyItemStats))
    db.session.execute(delete(AgencyStats))
    counted = _sources()
    db.session.execute(
        insert(AgencyItemStats.__table__).from_select(
            ["agency_id", "service_item_id", *TOTALS],
            select(
                counted.c.agency_id,
                counted.c.service_item_id,
                *(func.sum(counted.c[name]) for name in TOTALS),
            ).group_by(counted.c.agency_id, counted.c.service_item_id),
        )
    )
    items = AgencyItemStats.__table__
    per_agency = db.session.execute(
        select(items.c.agency_id, *(func.sum(items.c[name]).label(name) for name in TOTALS)).group_by(
            items.c.agency_id
        )
    )
    agency_rows = []
    for r in per_agency.mappings():
        t = {name: int(r[name]) for name in TOTALS}
        figures = derive(t)
        agency_rows.append(
            {
                "agency_id": r["agency_id"],
                **t,
                "composite": figures["composite"],
                "rating_rank": figures["rating_rank"],
            }
        )
    if agency_rows:
        db.session.execute(AgencyStats.__table__.insert(), agency_rows)
    page_figures.rebuild()  # the public pages' kept figures (tally/public.py)
    listing.rebuild()  # the list's kept rows and counts (tally/listing.py) follow the rebuilt figures
    summary.rebuild(db.session)  # the market's summary rows (front page, public statistics)
    ocds_months.rebuild(db.session)  # the months with open-data releases (/opendata/)
    return len(agency_rows)


def snapshot() -> dict:
    """Every stored total, for comparing incremental and rebuilt statistics."""
    db.session.flush()  # rows, not ORM objects: a million-order market has hundreds of thousands of them
    agencies = {
        r["agency_id"]: {n: r[n] for n in (*TOTALS, "composite", "rating_rank")}
        for r in db.session.execute(select(AgencyStats.__table__)).mappings()
    }
    items = {
        f"{r['agency_id']}:{r['service_item_id']}": {n: r[n] for n in TOTALS}
        for r in db.session.execute(select(AgencyItemStats.__table__)).mappings()
    }
    return {"agencies": agencies, "items": items}
