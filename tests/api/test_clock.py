"""The clock that acts: nobody reading a page, `flask clock` alone moves a request from bidding to an order;
pages compute the phase from the time but never record it; several clocks take turns through one lease."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from marketplace.audit.models import AuditEntry
from marketplace.chronograph import services as chronograph
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel


def _status(req_id: int) -> str:
    db.session.expire_all()
    return db.session.get(ServiceRequest, req_id).status.value


def _audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_the_clock_alone_takes_a_request_from_bidding_to_an_order(app, client):
    enterprise, admin = f.user("enterprise"), f.admin()
    req = f.published_request(enterprise, selection_method="lowest_price")
    bidders = [f.active_agency("C03", reviewer=admin) for _ in range(3)]
    bids = [f.bid(a, req, price_fen=12_000_000 - i * 1_000_000) for i, a in enumerate(bidders)]
    timetravel.past_deadline(req, clock=False)

    # Pages see the phase the time has made, and record nothing.
    before = _audit_count()
    h = f.token(client, enterprise)
    assert client.get(f"/api/v1/requests/{req.id}").get_json()["status"] == "evaluating"
    assert client.get(f"/requests/{req.id}").status_code == 200
    assert client.get(f"/api/v1/requests/{req.id}/bids", headers=h).status_code == 200  # opened for the owner
    assert _status(req.id) == "bidding" and _audit_count() == before

    runner = app.test_cli_runner()
    out = runner.invoke(args=["clock", "--passes", "1", "--interval", "0"]).output
    assert "1 requests" in out and _status(req.id) == "evaluating"

    r = client.post(f"/api/v1/requests/{req.id}/selection", json={}, headers=h)
    assert r.status_code == 200 and r.get_json()["winner_bid_id"] == bids[2].id
    timetravel.publicity_over(req, clock=False)
    assert db.session.scalar(select(func.count()).where(Order.request_id == req.id)) == 0
    out = runner.invoke(args=["clock", "--passes", "1", "--interval", "0"]).output
    assert "1 requests" in out and _status(req.id) == "awarded"
    order = db.session.scalar(select(Order).where(Order.request_id == req.id))
    assert order.agency_id == bidders[2].agency.id and order.amount_fen == bids[2].price_fen
    assert "0 requests, 0 orders" in runner.invoke(args=["tick"]).output  # nothing left to do: idempotent


def test_a_selection_right_after_the_deadline_opens_the_bids_itself(client):
    enterprise, admin = f.user("enterprise"), f.admin()
    req = f.published_request(enterprise, selection_method="lowest_price")
    for i in range(3):
        f.bid(f.active_agency("C03", reviewer=admin), req, price_fen=15_000_000 + i)
    timetravel.past_deadline(req, clock=False)
    r = client.post(f"/api/v1/requests/{req.id}/selection", json={}, headers=f.token(client, enterprise))
    assert r.status_code == 200
    assert _status(req.id) == "publicity"
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == req.id)))
    assert {"request.close", "request.select"} <= actions


def test_one_clock_at_a_time_through_the_lease(app):
    assert chronograph.try_acquire("machine-a:1", 60)
    assert not chronograph.try_acquire("machine-b:2", 60)  # a second clock waits its turn
    assert chronograph.try_acquire("machine-a:1", 60)  # the holder extends its lease
    chronograph.release("machine-a:1")
    assert chronograph.try_acquire("machine-b:2", 60)  # released: the other one takes over
    out = app.test_cli_runner().invoke(args=["clock", "--passes", "1", "--interval", "0"]).output
    assert "another clock holds the lease" in out
    chronograph.release("machine-b:2")


def test_one_failing_object_does_not_stop_the_clock(app, monkeypatch):
    enterprise = f.user("enterprise")
    reqs = [f.published_request(enterprise) for _ in range(2)]
    for req in reqs:
        timetravel.past_deadline(req, clock=False)
    doomed = reqs[0].id
    from marketplace.requests import services as requests

    real = requests.apply_due

    def flaky(request_id):  # a fault injected at the boundary of one object, not a mock of the logic
        if request_id == doomed:
            raise RuntimeError("disk full")
        return real(request_id)

    monkeypatch.setattr(requests, "apply_due", flaky)
    report = chronograph.run_once()
    assert report.requests == 1 and len(report.failures) == 1 and "disk full" in report.failures[0]
    assert _status(reqs[1].id) in ("evaluating", "failed") and _status(doomed) == "bidding"


def test_the_clock_takes_up_an_order_under_way_only_when_time_changed_its_light(app):
    """An order under way keeps its light for days: a pass of the clock picks it (and locks and commits it) only
    when time has lit yellow (80 % of the promised time used) or red (past due), and records that light then."""
    from marketplace.orders import services as orders

    _enterprise, _agency, order = f.accepted_order(deliver=False)
    others = [f.accepted_order(deliver=False)[2] for _ in range(2)]
    assert order.status.value == "in_progress" and order.deadline_flag == "ok"
    assert order.id not in orders.due_order_ids()
    timetravel.order_elapsed(order, 0.5)  # (and a pass of the clock, which leaves it as it is)
    assert order.id not in orders.due_order_ids() and db.session.get(Order, order.id).deadline_flag == "ok"

    timetravel.order_elapsed(db.session.get(Order, order.id), 0.85, clock=False)
    assert orders.due_order_ids() == [order.id]  # the other orders under way are not taken up
    assert timetravel.run_clock().orders == 1
    assert (
        db.session.get(Order, order.id).deadline_flag == "yellow" and order.id not in orders.due_order_ids()
    )

    timetravel.order_elapsed(db.session.get(Order, order.id), 1.1, clock=False)
    assert orders.due_order_ids() == [order.id]
    timetravel.run_clock()
    assert db.session.get(Order, order.id).deadline_flag == "red"
    assert orders.due_order_ids() == [] and all(
        db.session.get(Order, o.id).deadline_flag == "ok" for o in others
    )


@pytest.mark.sqlite
def test_the_light_the_database_judges_is_the_one_the_orders_own_rule_gives(app):
    """The clock asks the database which orders under way have a new light (services.light_condition); that SQL
    must say what `deadline_status` says for every shape of order and moment, on PostgreSQL and SQLite alike.
    (SQLite's date functions count milliseconds: a light due within a millisecond of now may be lit a pass later,
    so the shapes keep at least a second from the 80 % mark.)"""
    from marketplace.orders import services as orders

    order = f.accepted_order(deliver=False)[2]
    t0 = now()
    day = timedelta(days=1)
    shapes = {
        "not started": dict(started_at=None, due_at=None, delivered_at=None),
        "under way": dict(started_at=t0 - 4 * day, due_at=t0 + 6 * day, delivered_at=None),
        "a second before 80 %": dict(
            started_at=t0 - 8 * day + timedelta(seconds=1),
            due_at=t0 + 2 * day + timedelta(seconds=1),
            delivered_at=None,
        ),  # fmt: skip
        "a second past 80 %": dict(
            started_at=t0 - 8 * day - timedelta(seconds=1),
            due_at=t0 + 2 * day - timedelta(seconds=1),
            delivered_at=None,
        ),  # fmt: skip
        "a microsecond past due": dict(
            started_at=t0 - 10 * day, due_at=t0 - timedelta(microseconds=1), delivered_at=None
        ),  # fmt: skip
        "delivered in time, late now": dict(
            started_at=t0 - 20 * day, due_at=t0 - 10 * day, delivered_at=t0 - 11 * day
        ),  # fmt: skip
        "delivered late": dict(started_at=t0 - 20 * day, due_at=t0 - 10 * day, delivered_at=t0 - 9 * day),
        "delivered at 90 %": dict(started_at=t0 - 9 * day, due_at=t0 + day, delivered_at=t0),
    }
    seen = set()
    for name, columns in shapes.items():
        db.session.execute(update(Order).where(Order.id == order.id).values(**columns))
        for offset in (timedelta(0), -3 * day, 3 * day, 30 * day):
            at = t0 + offset
            judged = db.session.scalar(select(orders.light_condition(at)).where(Order.id == order.id))
            expected = orders.deadline_status(db.session.get(Order, order.id, populate_existing=True), at)
            assert judged == expected, (name, offset, judged, expected)
            seen.add(expected)
    assert seen == {"ok", "yellow", "red"}
    db.session.rollback()


@pytest.mark.sqlite
def test_an_unstarted_order_is_taken_up_only_once_its_winner_may_no_longer_take_it(app):
    """Unstarted orders (awaiting the winner's confirmation) are due only when their winner is suspended,
    black-listed or graded E: the clock no longer locks and re-checks every one of them on every pass. (The
    suspension and the listing move such an order at once through their events; the clock is the backstop for
    a winner that became unavailable any other way, which is what the direct updates below stand for.)"""
    from marketplace.agencies.models import Agency, AgencyStatus
    from marketplace.credit.models import AgencyCredit, CreditListEntry, ListKind
    from marketplace.orders import services as orders

    admin = f.admin()
    awaiting = []
    for _ in range(4):
        _enterprise, agency, order = f.awaiting_order(admin=admin)
        awaiting.append((agency.agency.id, order.id))
    assert {db.session.get(Order, o).status for _, o in awaiting} == {OrderStatus.AWAITING}
    assert orders.due_order_ids() == []

    (suspended, first), (listed, second), (graded, third), (_fine, fourth) = awaiting
    db.session.execute(update(Agency).where(Agency.id == suspended).values(status=AgencyStatus.SUSPENDED))
    db.session.add(CreditListEntry(agency_id=listed, kind=ListKind.BLACK, reason="围标串标", starts_at=now()))
    credit = db.session.get(AgencyCredit, graded)
    if credit is None:
        db.session.add(AgencyCredit(agency_id=graded, grade="E", window_start=now()))
    else:
        credit.grade = "E"
    db.session.commit()
    assert orders.due_order_ids() == sorted([first, second, third])
    assert timetravel.run_clock().orders == 3
    statuses = [
        db.session.get(Order, o, populate_existing=True).status for o in (first, second, third, fourth)
    ]
    assert statuses == [OrderStatus.CANCELLED] * 3 + [OrderStatus.AWAITING]
    assert orders.due_order_ids() == []


def test_the_clocks_read_of_the_orders_goes_through_the_status_index(app):
    """Every pass reads the orders to act on by status: through ix_service_order_status_due (migration 0043), not
    a scan of every order ever made; on PostgreSQL the orders under way are read from the index alone."""
    from marketplace.orders import services as orders
    from tests.plans import plan, statements

    f.accepted_order(deliver=False)
    with statements(r"FROM service_order\s+WHERE service_order\.status") as seen:
        orders.due_order_ids()
    assert len(seen) == 3  # the deliveries to settle, the unstarted orders stranded, the orders under way
    for statement, parameters in seen:
        assert "ix_service_order_status_due" in plan(statement, parameters), plan(statement, parameters)
    if db.engine.dialect.name == "postgresql":
        # the deliveries and the orders under way from the index alone (ORed with the stranded ones, the
        # deliveries were a bitmap scan reading each delivered order's row)
        delivered = next(s for s in seen if "delivered_at" in s[0])
        under_way = next(s for s in seen if "deadline_flag" in s[0])
        connection = db.session.connection()  # (a bitmap scan is cheaper over a test's few rows)
        connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        for statement in (delivered, under_way):
            assert "Index Only Scan" in plan(*statement), plan(*statement)
        connection.exec_driver_sql("SET LOCAL enable_bitmapscan = on")
