"""Keeping `ocds_month` (stats/open_months.py): a month gets its row the first time a stamp of an open-data
event falls in it. The stamps are those `opendata/ocds.py` makes releases of: a published request's publication
and award, an order's creation, start, delivery and acceptance, a payment's receipt. Rows are only ever added
(an event once dated stays in its month's package); a write behind the ORM's back (a bulk UPDATE, the tests'
time travel) adds the months of the rows it touched, and `rebuild()` recomputes the set from the records."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, event, inspect, select, union
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from marketplace.common.clock import local
from marketplace.orders.models import Order
from marketplace.payments.models import Payment
from marketplace.requests.models import ServiceRequest
from marketplace.stats.open_months import OcdsMonth
from marketplace.tally.summary import sets_none_of

STAMPS = {
    ServiceRequest: ("published_at", "selected_at"),
    Order: ("created_at", "started_at", "delivered_at", "accepted_at"),
    Payment: ("paid_at",),
}


def month_of(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return local(moment).strftime("%Y-%m")


def _counted(model, row) -> bool:
    return model is not ServiceRequest or row.published_at is not None  # a draft's dates are no release


def _keep(conn, months: set[str]) -> None:
    if not months:
        return
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[conn.dialect.name]
    conn.execute(
        dialect.insert(OcdsMonth.__table__)
        .values([{"month": m} for m in sorted(months)])
        .on_conflict_do_nothing()
    )


def _months_of(model, target, changed_only: bool) -> set[str]:
    if not _counted(model, target):
        return set()
    names = STAMPS[model]
    if changed_only:  # only the stamps written now (all of a request's when it is being published)
        state = inspect(target)
        if model is not ServiceRequest or not state.attrs["published_at"].history.has_changes():
            names = tuple(n for n in names if state.attrs[n].history.has_changes())
    return {month_of(v) for n in names if (v := getattr(target, n)) is not None}


def _after_insert(mapper, connection, target) -> None:
    _keep(connection, _months_of(mapper.class_, target, changed_only=False))


def _after_update(mapper, connection, target) -> None:
    _keep(connection, _months_of(mapper.class_, target, changed_only=True))


def _rows_months(conn, model, ids) -> set[str]:
    columns = [getattr(model, n) for n in STAMPS[model]]
    extra = (ServiceRequest.published_at,) if model is ServiceRequest else ()
    out: set[str] = set()
    for row in conn.execute(select(*columns, *extra).where(model.id.in_(list(ids)))):
        if model is ServiceRequest and row[-1] is None:
            continue
        out |= {month_of(v) for v in row[: len(columns)] if v is not None}
    return out


def _bulk_update(state):
    if not state.is_update or state.bind_mapper is None or state.bind_mapper.class_ not in STAMPS:
        return None
    model, where = state.bind_mapper.class_, state.statement.whereclause
    if where is None or sets_none_of(state.statement, STAMPS[model]):
        return None  # (a row's months come from its stamps alone: a SET of none of them adds no month)
    conn = state.session.connection()
    ids = set(conn.scalars(select(model.id).where(where)))
    result = state.invoke_statement()
    if ids:
        _keep(conn, _rows_months(conn, model, ids))
    return result


_registered = [False]


def register_listeners() -> None:
    """Once per process: the months of each written row's stamps are kept."""
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


def rebuild(session) -> int:
    """Recompute the months from the records; returns their number."""
    conn = session.connection()
    parts = []
    for model, names in STAMPS.items():
        for name in names:
            column = getattr(model, name)
            stmt = select(_month_sql(conn, column).label("month")).where(column.is_not(None))
            if model is ServiceRequest:
                stmt = stmt.where(ServiceRequest.published_at.is_not(None))
            parts.append(stmt.group_by(_month_sql(conn, column)))
    months = set(conn.scalars(union(*parts)))
    conn.execute(delete(OcdsMonth.__table__))
    _keep(conn, {m for m in months if m})
    return len(months)


def snapshot(session) -> list[str]:
    return list(session.scalars(select(OcdsMonth.month).order_by(OcdsMonth.month)))
