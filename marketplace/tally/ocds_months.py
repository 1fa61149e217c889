"""Keeping `ocds_month` (stats/open_months.py): a month gets its row the first time a stamp of an open-data
event falls in it, and is marked `dirty` whenever a stamp dated in it is written, so that the clock makes its
package again (opendata/kept.py). The stamps are the dates `opendata/ocds.py` makes releases of: a published
request's publication, award, award made final (publicity over, once awarded) and end (failed or cancelled), an
order's creation, start, delivery and acceptance, a payment's receipt — never `updated_at`. Only the months
of the stamps written are marked (releases are states as of their date: a later write changes no earlier
one), and a request's award made final when its status moves. Rows are only ever
added (an event once dated stays in its month's package); a write behind the ORM's back (a bulk UPDATE, the
tests' time travel) marks the months of the rows it touched, and `rebuild()` recomputes the set from the
records and marks every month for the clock.

The current month is written by nearly every order and payment: its mark is only set when it is not set
already (read first), so concurrent writers never queue on its row. Another month's mark is always written
(a rare write: a stamp dated back), under the row's lock, which the package's generation also takes first: a
change dated in a closed month is never lost between a generation's reading and its clearing of the mark.
(The current month's package is made again at the latest when the month is over, so a change that raced its
generation waits for the next write or the month's end.)"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, event, inspect, select, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from marketplace.common.clock import local, now
from marketplace.orders.models import Order
from marketplace.payments.models import Payment
from marketplace.requests.models import RequestStatus, ServiceRequest
from marketplace.stats.open_months import OcdsMonth
from marketplace.tally.summary import sets_none_of

STAMPS = {
    ServiceRequest: ("published_at", "selected_at", "publicity_ends_at", "ended_at"),
    Order: ("created_at", "started_at", "delivered_at", "accepted_at"),
    Payment: ("paid_at",),
}
# a bulk UPDATE setting one of these may change a row's months (a request's status makes its award final)
WATCHED = {
    ServiceRequest: (*STAMPS[ServiceRequest], "status"),
    Order: STAMPS[Order],
    Payment: STAMPS[Payment],
}
FINAL = "publicity_ends_at"  # a release only once the request is awarded


def month_of(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return local(moment).strftime("%Y-%m")


def _counted(model, row) -> bool:
    return model is not ServiceRequest or row.published_at is not None  # a draft's dates are no release


def _dialect(conn):
    return {"sqlite": sqlite, "postgresql": postgresql}[conn.dialect.name]


def _keep(conn, months: set[str]) -> None:
    """Add the months' rows and mark them for the clock."""
    if not months:
        return
    table = OcdsMonth.__table__
    marks = dict(
        conn.execute(select(table.c.month, table.c.dirty).where(table.c.month.in_(sorted(months)))).all()
    )
    new = months - set(marks)
    if new:
        conn.execute(
            _dialect(conn)
            .insert(table)
            .values([{"month": m, "dirty": True} for m in sorted(new)])
            .on_conflict_do_nothing()
        )
    current = month_of(now())
    stale = sorted(m for m in months & set(marks) if m != current or not marks[m])
    if stale:
        conn.execute(update(table).where(table.c.month.in_(stale)).values(dirty=True))


def _months(model, values: dict) -> set[str]:
    names = [n for n in STAMPS[model] if n != FINAL or values.get("status") == RequestStatus.AWARDED]
    return {month_of(v) for n in names if (v := values.get(n)) is not None}


def _written(model, names: set[str]) -> set[str]:
    """The stamps whose months a write of `names` touches: all of a request's when it is published; its award
    made final (publicity_ends_at) when its status moves (to awarded: a release appears)."""
    if model is ServiceRequest:
        if "published_at" in names:
            return set(WATCHED[model])
        if "status" in names:
            return names | {FINAL}
    return names


def _months_of(model, target, changed_only: bool) -> set[str]:
    if not _counted(model, target):
        return set()
    values = {n: getattr(target, n) for n in WATCHED[model]}
    if changed_only:  # only the stamps written now
        state = inspect(target)
        written = _written(model, {n for n in WATCHED[model] if state.attrs[n].history.has_changes()})
        values = {n: v for n, v in values.items() if n in written or n == "status"}
    return _months(model, values)


def _after_insert(mapper, connection, target) -> None:
    _keep(connection, _months_of(mapper.class_, target, changed_only=False))


def _after_update(mapper, connection, target) -> None:
    _keep(connection, _months_of(mapper.class_, target, changed_only=True))


def _rows_months(conn, model, ids, names: set[str]) -> set[str]:
    watched = WATCHED[model]
    written = _written(model, names)
    extra = (ServiceRequest.published_at,) if model is ServiceRequest else ()
    out: set[str] = set()
    for row in conn.execute(
        select(*(getattr(model, n) for n in watched), *extra).where(model.id.in_(list(ids)))
    ):
        if model is ServiceRequest and row[-1] is None:
            continue
        values = dict(zip(watched, row[: len(watched)], strict=True))
        out |= _months(model, {n: v for n, v in values.items() if n in written or n == "status"})
    return out


def _bulk_update(state):
    if not state.is_update or state.bind_mapper is None or state.bind_mapper.class_ not in STAMPS:
        return None
    model, where = state.bind_mapper.class_, state.statement.whereclause
    if where is None or sets_none_of(state.statement, WATCHED[model]):
        return None  # (a row's months come from its stamps and status alone: a SET of none of them adds none)
    conn = state.session.connection()
    ids = set(conn.scalars(select(model.id).where(where)))
    names = {getattr(k, "key", k) for k in (getattr(state.statement, "_values", None) or {})}
    result = state.invoke_statement()
    if ids:
        _keep(conn, _rows_months(conn, model, ids, names & set(WATCHED[model])))
    return result


_registered = [False]


def register_listeners() -> None:
    """Once per process: the months of each written row's stamps are kept and marked."""
    if _registered[0]:
        return
    _registered[0] = True
    for model in STAMPS:
        event.listen(model, "after_insert", _after_insert)
        event.listen(model, "after_update", _after_update)
    event.listen(Session, "do_orm_execute", _bulk_update)


def _month_sql(conn, column):
    """The column's month in Beijing time, computed by the database (the rebuild: one GROUP BY per stamp)."""
    from sqlalchemy import func, literal_column

    if conn.dialect.name == "postgresql":
        # literal text, not bound parameters: PostgreSQL matches the GROUP BY with the select list by text
        return func.to_char(
            func.timezone(literal_column("'Asia/Shanghai'"), column), literal_column("'YYYY-MM'")
        )
    return func.strftime("%Y-%m", column, "+8 hours")


def stamped_months(session) -> set[str]:
    """The months of every stamp in the records (one GROUP BY per stamp)."""
    conn = session.connection()
    parts = []
    for model, names in STAMPS.items():
        for name in names:
            column = getattr(model, name)
            stmt = select(_month_sql(conn, column).label("month")).where(column.is_not(None))
            if model is ServiceRequest:
                stmt = stmt.where(ServiceRequest.published_at.is_not(None))
                if name == FINAL:
                    stmt = stmt.where(ServiceRequest.status == RequestStatus.AWARDED)
            parts.append(stmt.group_by(_month_sql(conn, column)))
    return {m for m in conn.scalars(union(*parts)) if m}


def rebuild(session) -> int:
    """Recompute the months from the records and mark them all for the clock (a bulk load wrote behind the
    hooks; `flask opendata rebuild` makes every package at once); returns their number. A month left without
    a stamp loses its row (its file goes with `flask uploads sweep`)."""
    conn = session.connection()
    requests = ServiceRequest.__table__
    conn.execute(  # a request loaded in bulk without the moment it ended: its last update stands for it
        update(requests)
        .where(requests.c.status.in_(["failed", "cancelled"]), requests.c.ended_at.is_(None))
        .values(ended_at=requests.c.updated_at)
    )
    months = stamped_months(session)
    table = OcdsMonth.__table__
    conn.execute(delete(table).where(table.c.month.not_in(sorted(months))))
    if months:
        conn.execute(
            _dialect(conn)
            .insert(table)
            .values([{"month": m} for m in sorted(months)])
            .on_conflict_do_nothing()
        )
    conn.execute(update(table).values(dirty=True))
    return len(months)


def snapshot(session) -> list[str]:
    return list(session.scalars(select(OcdsMonth.month).order_by(OcdsMonth.month)))
