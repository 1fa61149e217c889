"""Move requests and orders to any point of their life by shifting their dates (never by sleeping).

Time passing means the market's clock acts, as `flask clock` does every few seconds: each helper runs one pass
of the clock after shifting (`clock=False` to look at the moment before the clock has run)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from marketplace.agencies.models import Qualification
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.requests.models import ServiceRequest


def run_clock():
    """One pass of the market's clock (what `flask tick` does); returns its report."""
    from marketplace.chronograph.services import run_once

    return run_once()


def _shift(model, obj_id: int, clock: bool = True, **values) -> None:
    db.session.execute(
        update(model).where(model.id == obj_id).values(**values).execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.expire_all()
    if clock:
        run_clock()


def past_deadline(req: ServiceRequest, by: timedelta = timedelta(seconds=1), clock: bool = True) -> None:
    """The bid deadline and its grace period (requests.services.close_grace) passed `by` ago: the request is
    due to close (the request was published a day before that)."""
    from marketplace.requests.services import close_grace

    deadline = now() - by - close_grace()
    _shift(ServiceRequest, req.id, clock, bid_deadline=deadline, published_at=deadline - timedelta(days=1))


def publicity_over(req: ServiceRequest, clock: bool = True) -> None:
    _shift(ServiceRequest, req.id, clock, publicity_ends_at=now() - timedelta(seconds=1))


def order_elapsed(order: Order, share: float, clock: bool = True) -> None:
    """Pretend `share` of the promised time has passed since the order started (1.0 = due now)."""
    total = timedelta(days=order.promised_days)
    start = now() - total * share
    due = start + total
    _shift(Order, order.id, clock, started_at=start, due_at=due, original_due_at=due, reckoned_due_at=due)


def delivered_ago(order: Order, seconds: int, clock: bool = True) -> None:
    _shift(Order, order.id, clock, delivered_at=now() - timedelta(seconds=seconds))


def qualification_expired(qualification: Qualification) -> None:
    """The certificate's validity ended yesterday."""
    _shift(Qualification, qualification.id, clock=False, valid_until=now().date() - timedelta(days=1))


def credit_event_ago(event, days: float, clock: bool = True) -> None:
    """A credit event happened `days` ago (moved with its running sums left as they are: the clock or a rebuild
    puts them right when the window has moved)."""
    from marketplace.credit.models import CreditEvent

    _shift(CreditEvent, event.id, clock, at=now() - timedelta(days=days))


def credit_listing_ended(entry, clock: bool = True) -> None:
    """A red or black list entry's period ended a minute ago."""
    from marketplace.credit.models import CreditListEntry

    _shift(CreditListEntry, entry.id, clock, until=now() - timedelta(minutes=1))


def credit_listed_ago(entry, days: float, clock: bool = False) -> None:
    from marketplace.credit.models import CreditListEntry

    _shift(CreditListEntry, entry.id, clock, starts_at=now() - timedelta(days=days))


def into_last_month(req: ServiceRequest, clock: bool = True) -> None:
    """The request was published last month (Beijing time): the month is over, as on the 1st of this one, so
    its monthly reports are due."""
    from marketplace.reports.figures import add_months, month_of, month_start

    last = add_months(month_of(now()), -1)
    _shift(ServiceRequest, req.id, clock, published_at=month_start(last) + timedelta(days=2))
