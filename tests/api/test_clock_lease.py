"""The clock's lease under long passes and cron: a pass longer than the lease keeps it (a heartbeat renews it), a
clock that finds its lease taken stops before its next object, and `flask tick` waits its turn like `flask clock`.
Real commits and real threads (the heartbeat renews on a session of its own)."""

from __future__ import annotations

import time

from sqlalchemy import update

from marketplace.chronograph import services as chronograph
from marketplace.chronograph.models import ClockLease
from marketplace.extensions import db
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel


def _due_request() -> int:
    """A request whose bidding is over: the next pass of any clock closes it."""
    enterprise, admin = f.user("enterprise"), f.admin()
    req = f.published_request(enterprise)
    for i in range(3):  # enough bids for a selection
        f.bid(f.active_agency("C03", reviewer=admin), req, price_fen=10_000_000 + i)
    timetravel.past_deadline(req, clock=False)
    return req.id


def _status(req_id: int) -> str:
    db.session.expire_all()
    return db.session.get(ServiceRequest, req_id).status.value


def test_a_pass_longer_than_the_lease_keeps_it(committed_app):
    with committed_app.app_context():
        assert chronograph.try_acquire("machine-a:1", 1)
        with chronograph.Heartbeat("machine-a:1", 1) as lease:
            time.sleep(2.5)  # two and a half lease lengths: without the heartbeat it would have run out
            assert not chronograph.try_acquire("machine-b:2", 1)
            assert not lease.lost.is_set()
        time.sleep(1.2)  # the heartbeat stopped: the lease runs out and another clock may take over
        assert chronograph.try_acquire("machine-b:2", 60)
        chronograph.release("machine-b:2")
        db.session.remove()


def test_a_clock_that_lost_its_lease_stops_before_acting(committed_app):
    with committed_app.app_context():
        req_id = _due_request()
        assert chronograph.try_acquire("machine-a:1", 1)
        with chronograph.Heartbeat("machine-a:1", 1) as lease:
            # machine a stalled past its lease and machine b took it over
            db.session.execute(update(ClockLease).values(holder="machine-b:2"))
            db.session.commit()
            assert lease.lost.wait(3)
            report = chronograph.run_once(lease=lease)
        assert report.requests == 0
        assert any("lease lost" in failure for failure in report.failures)
        assert _status(req_id) == "bidding"  # a's pass moved nothing
        assert chronograph.run_once().requests == 1  # the holder's pass does
        assert _status(req_id) == "evaluating"
        chronograph.release("machine-b:2")
        db.session.remove()


def _tick(app):
    with app.app_context():  # as `flask` pushes one for its commands
        result = app.test_cli_runner().invoke(args=["tick"])
        db.session.remove()
    assert result.exit_code == 0, result.output
    return result.output


def test_tick_waits_while_another_clock_holds_the_lease(committed_app):
    with committed_app.app_context():
        req_id = _due_request()
        assert chronograph.try_acquire("machine-b:2", 60)  # `flask clock` on another machine, mid-pass
        db.session.remove()
    assert "another clock holds the lease" in _tick(committed_app)
    with committed_app.app_context():
        assert _status(req_id) == "bidding"
        chronograph.release("machine-b:2")
        db.session.remove()
    assert "1 requests" in _tick(committed_app)
    with committed_app.app_context():
        assert _status(req_id) == "evaluating"
        # the tick let go of the lease when it was done: a clock may take it at once
        assert chronograph.try_acquire("machine-c:3", 60)
        chronograph.release("machine-c:3")
        db.session.remove()
