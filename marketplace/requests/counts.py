"""How many public announcements there are per service item and status, kept rather than counted.

A request counts from the moment it is public (not a draft, under review or returned, and published) in the row
of its item and status; `move_request` moves it between rows inside the transaction of every status change,
with atomic `n = n + 1` updates. The announcements list reads its total here (a few small rows) instead of
counting every announcement of the market; `rebuild()` recounts from the requests (`flask stats rebuild`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.requests.models import UNPUBLISHED, RequestCount, RequestStatus, ServiceRequest


def is_public(status: RequestStatus, published_at: datetime | None) -> bool:
    """What the public list shows (queries.public_requests_query): published and not unpublished."""
    return status not in UNPUBLISHED and published_at is not None


def _add(item_id: int, status: str, n: int) -> None:
    if db.session.get(RequestCount, (item_id, status)) is None:
        try:
            with db.session.begin_nested():
                db.session.add(RequestCount(service_item_id=item_id, status=status, count=0))
        except IntegrityError:  # made by a concurrent transaction: we only add to it
            pass
    db.session.execute(
        update(RequestCount)
        .where(RequestCount.service_item_id == item_id, RequestCount.status == status)
        .values(count=RequestCount.count + n)
        .execution_options(synchronize_session=False)
    )


def moved(req: ServiceRequest, before: RequestStatus, before_published: datetime | None) -> None:
    """A request's status (or publication) changed: it leaves its old row and joins its new one."""
    if is_public(before, before_published):
        _add(req.service_item_id, RequestStatus(before).value, -1)
    if is_public(req.status, req.published_at):
        _add(req.service_item_id, RequestStatus(req.status).value, 1)


def total(statuses: set[RequestStatus] | None = None, service_item_id: int | None = None) -> int:
    """Public announcements in these statuses (all public ones when None), of one item when given."""
    stmt = select(func.coalesce(func.sum(RequestCount.count), 0))
    if statuses is not None:
        stmt = stmt.where(RequestCount.status.in_([s.value for s in statuses]))
    if service_item_id is not None:
        stmt = stmt.where(RequestCount.service_item_id == service_item_id)
    return int(db.session.scalar(stmt) or 0)


def overdue_bidding(service_item_id: int | None = None) -> int:
    """Public announcements bidding by status whose deadline has passed: bidding as time has made it ends at the
    deadline (queries.phase_is), the clock closes them at its next pass. Few at any size, found through
    ix_service_request_status_deadline: the kept count of a phase less (or plus) these is the phase's count, where
    counting the open announcements themselves read thousands of rows at a national market's size."""
    stmt = (
        select(func.count())
        .select_from(ServiceRequest)
        .where(
            ServiceRequest.status == RequestStatus.BIDDING,
            ServiceRequest.bid_deadline <= now(),
            ServiceRequest.published_at.is_not(None),
        )
    )
    if service_item_id is not None:
        stmt = stmt.where(ServiceRequest.service_item_id == service_item_id)
    return int(db.session.scalar(stmt) or 0)


def rebuild() -> int:
    """Recount every row from the requests; returns the number of rows."""
    rows = [
        {"service_item_id": item_id, "status": RequestStatus(status).value, "count": n}
        for item_id, status, n in db.session.execute(
            select(ServiceRequest.service_item_id, ServiceRequest.status, func.count())
            .where(ServiceRequest.status.not_in(UNPUBLISHED), ServiceRequest.published_at.is_not(None))
            .group_by(ServiceRequest.service_item_id, ServiceRequest.status)
        )
    ]
    db.session.execute(delete(RequestCount))
    if rows:
        db.session.execute(RequestCount.__table__.insert(), rows)
    return len(rows)


def snapshot() -> dict[str, int]:
    return {
        f"{r.service_item_id}:{r.status}": r.count
        for r in db.session.scalars(select(RequestCount))
        if r.count
    }
