"""The clock that acts: nobody reading a page, `flask clock` alone moves a request from bidding to an order;
pages compute the phase from the time but never record it; several clocks take turns through one lease."""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.audit.models import AuditEntry
from marketplace.chronograph import services as chronograph
from marketplace.extensions import db
from marketplace.orders.models import Order
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


def test_the_clocks_read_of_the_orders_goes_through_the_status_index(app):
    """Every pass reads the orders to act on by status: through ix_service_order_status_due (migration 0043), not
    a scan of every order ever made; on PostgreSQL the orders under way are read from the index alone."""
    from marketplace.orders import services as orders
    from tests.plans import plan, statements

    f.accepted_order(deliver=False)
    with statements(r"FROM service_order\s+WHERE service_order\.status") as seen:
        orders.due_order_ids()
    assert len(seen) == 2  # the orders to settle, the orders under way
    for statement, parameters in seen:
        assert "ix_service_order_status_due" in plan(statement, parameters), plan(statement, parameters)
    if db.engine.dialect.name == "postgresql":
        under_way = next(s for s in seen if "deadline_flag" in s[0])
        connection = db.session.connection()  # (a bitmap scan is cheaper over a test's few rows)
        connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        assert "Index Only Scan" in plan(*under_way), plan(*under_way)
        connection.exec_driver_sql("SET LOCAL enable_bitmapscan = on")
