"""Move requests and orders to any point of their life by shifting their dates (never by sleeping)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from marketplace.agencies.models import Qualification
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.requests.models import ServiceRequest


def _shift(model, obj_id: int, **values) -> None:
    db.session.execute(
        update(model).where(model.id == obj_id).values(**values).execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.expire_all()


def past_deadline(req: ServiceRequest, by: timedelta = timedelta(seconds=1)) -> None:
    """The bid deadline passed `by` ago (the request was published a day before that)."""
    _shift(ServiceRequest, req.id, bid_deadline=now() - by, published_at=now() - by - timedelta(days=1))


def publicity_over(req: ServiceRequest) -> None:
    _shift(ServiceRequest, req.id, publicity_ends_at=now() - timedelta(seconds=1))


def order_elapsed(order: Order, share: float) -> None:
    """Pretend `share` of the promised time has passed since the order started (1.0 = due now)."""
    total = timedelta(days=order.promised_days)
    start = now() - total * share
    _shift(Order, order.id, started_at=start, due_at=start + total)


def delivered_ago(order: Order, seconds: int) -> None:
    _shift(Order, order.id, delivered_at=now() - timedelta(seconds=seconds))


def qualification_expired(qualification: Qualification) -> None:
    """The certificate's validity ended yesterday."""
    _shift(Qualification, qualification.id, valid_until=now().date() - timedelta(days=1))


def run_clock() -> str:
    """Let the market's clock apply every transition that has come due (close bidding, end publicity,
    auto-accept deliveries, deadline lights). THE one place tests trigger time-driven transitions: today that is
    the cron-able `flask tick`; when the way the clock runs changes, change only this function."""
    from flask import current_app

    result = current_app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output
