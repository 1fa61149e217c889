"""Extensions (延期): the agency asks for a new due date with a reason, the enterprise approves or refuses; the
deadline lights follow the current due date, the on-time rate the original one unless the extension was approved
before it passed. And the agency's bank details: kept in its workspace, shown to the paying enterprise only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.common.clock import LOCAL_TZ, now
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.stats.models import AgencyStats
from tests import factories as f
from tests import timetravel
from tests.api.test_contracts import awaiting_order


def started_order():
    enterprise, agency, order = awaiting_order()
    orders.confirm(agency, order.id)  # the tests' base app: the agency's confirmation starts the clock
    db.session.commit()
    return enterprise, agency, db.session.get(Order, order.id)


def local_day(when, days: int = 0) -> str:
    return (when.astimezone(LOCAL_TZ).date() + timedelta(days=days)).isoformat()


def ask(client, agency, order, days: int = 10, reason: str = "甲方补充提供地勘资料滞后，需顺延工期"):
    return client.post(
        f"/api/v1/orders/{order.id}/extensions",
        json={"due_date": local_day(order.due_at, days), "reason": reason},
        headers=f.token(client, agency),
    )


def on_time_count(agency) -> int:
    row = db.session.scalar(select(AgencyStats).where(AgencyStats.agency_id == agency.agency.id))
    return row.on_time_count


def finish(agency, enterprise, order_id: int) -> None:
    orders.deliver(agency, order_id, "提交成果报告")
    orders.accept(enterprise, order_id)
    db.session.commit()


def test_extension_approved_in_time_moves_the_due_date_and_the_on_time_date(client):
    enterprise, agency, order = started_order()
    original = order.due_at
    resp = ask(client, agency, order)
    assert resp.status_code == 201, resp.get_json()
    ext = resp.get_json()
    assert ext["status"] == "pending"
    db.session.expire_all()
    assert db.session.get(Order, order.id).due_at == original  # nothing moves before the owner agrees

    resp = client.post(
        f"/api/v1/orders/{order.id}/extensions/{ext['id']}/approve", headers=f.token(client, enterprise)
    )
    assert resp.status_code == 200 and resp.get_json()["status"] == "approved" and resp.get_json()["in_time"]
    got = client.get(f"/api/v1/orders/{order.id}", headers=f.token(client, enterprise)).get_json()
    assert got["original_due_at"] != got["due_at"] == got["on_time_due_at"]
    db.session.expire_all()
    moved = db.session.get(Order, order.id)
    assert moved.original_due_at == original and moved.due_at > original + timedelta(days=9)

    # Delivered after the original date but before the extended one: on time. (Every date moves back together
    # so that the original due date passed a day ago.)
    back = moved.original_due_at - now() + timedelta(days=1)
    db.session.execute(
        Order.__table__.update()
        .where(Order.id == order.id)
        .values(
            started_at=moved.started_at - back,
            original_due_at=moved.original_due_at - back,
            due_at=moved.due_at - back,
            reckoned_due_at=moved.reckoned_due_at - back,
        )
    )
    db.session.commit()
    timetravel.run_clock()
    db.session.expire_all()
    assert db.session.get(Order, order.id).original_due_at < now() < db.session.get(Order, order.id).due_at
    assert (
        orders.deadline_status(db.session.get(Order, order.id)) != "red"
    )  # the light follows the current date
    finish(agency, enterprise, order.id)
    assert on_time_count(agency) == 1


def test_extension_approved_after_the_due_date_leaves_the_order_late(client):
    enterprise, agency, order = started_order()
    timetravel.order_elapsed(order, 1.2)  # the due date passed: red light
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.deadline_flag == "red"
    missed = order.due_at
    ext = ask(client, agency, order, days=30).get_json()
    resp = client.post(
        f"/api/v1/orders/{order.id}/extensions/{ext['id']}/approve", headers=f.token(client, enterprise)
    )
    assert resp.status_code == 200 and resp.get_json()["in_time"] is False
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.due_at > now() and order.deadline_flag != "red"  # the light follows the new date
    assert order.reckoned_due_at == missed  # the on-time rate does not
    finish(agency, enterprise, order.id)
    assert on_time_count(agency) == 0
    f.login(client, enterprise)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "data-original-due" in page and "data-late-approval" in page


def test_refused_extension_changes_nothing(client):
    enterprise, agency, order = started_order()
    original = order.due_at
    ext = ask(client, agency, order).get_json()
    url = f"/api/v1/orders/{order.id}/extensions/{ext['id']}"
    assert client.post(url + "/approve", headers=f.token(client, agency)).status_code == 403  # not the agency
    resp = client.post(
        url + "/reject", json={"reason": "工期为招标公告的实质性要求"}, headers=f.token(client, enterprise)
    )
    assert resp.status_code == 200 and resp.get_json()["status"] == "rejected"
    assert resp.get_json()["decision_reason"] == "工期为招标公告的实质性要求"
    assert client.post(url + "/approve", headers=f.token(client, enterprise)).status_code == 409
    db.session.expire_all()
    assert db.session.get(Order, order.id).due_at == original
    # Refused without a reason is allowed too, on a new request.
    again = ask(client, agency, order, days=5).get_json()
    resp = client.post(
        f"/api/v1/orders/{order.id}/extensions/{again['id']}/reject", headers=f.token(client, enterprise)
    )
    assert resp.status_code == 200


def test_extension_requests_are_checked(client):
    enterprise, agency, order = started_order()
    assert ask(client, enterprise, order).status_code == 403  # the agency asks
    assert ask(client, agency, order, days=-3).status_code == 422  # not later than the current date
    assert ask(client, agency, order, reason="慢").status_code == 422
    resp = client.post(
        f"/api/v1/orders/{order.id}/extensions",
        json={"due_date": "not-a-date", "reason": "资料滞后需要顺延"},
        headers=f.token(client, agency),
    )
    assert resp.status_code == 422
    assert ask(client, agency, order).status_code == 201
    assert ask(client, agency, order, days=20).status_code == 409  # one waits at a time
    _, other_agency, other = started_order()
    assert ask(client, other_agency, order).status_code == 404
    # Before the work starts there is no due date to move.
    _, waiting_agency, waiting = awaiting_order(price_fen=9_000_000)
    resp = client.post(
        f"/api/v1/orders/{waiting.id}/extensions",
        json={"due_date": local_day(now(), 30), "reason": "资料滞后需要顺延"},
        headers=f.token(client, waiting_agency),
    )
    assert resp.status_code == 409


# --- bank details ---------------------------------------------------------------------------------------------

BANK = {
    "bank_name": "中国工商银行南京新街口支行",
    "account_name": "江苏苏环环境科技有限公司",
    "account_no": "4301 0123 4567 8901 234",
}


def test_bank_details_are_validated_and_saved(client):
    agency = f.active_agency("C03")
    h = f.token(client, agency)
    bad = client.post("/api/v1/agencies/me/bank", json=BANK | {"account_no": "12AB5678"}, headers=h)
    assert bad.status_code == 422 and "account_no" in bad.get_json()["errors"]
    short = client.post("/api/v1/agencies/me/bank", json=BANK | {"account_no": "1234567"}, headers=h)
    assert short.status_code == 422
    partial = client.post("/api/v1/agencies/me/bank", json={"account_no": "430101234567890"}, headers=h)
    assert partial.status_code == 422 and "bank_name" in partial.get_json()["errors"]
    ok = client.post("/api/v1/agencies/me/bank", json=BANK, headers=h)
    assert ok.status_code == 200 and ok.get_json()["account_no"] == "4301012345678901234"
    cleared = client.post("/api/v1/agencies/me/bank", json={}, headers=h)
    assert cleared.status_code == 200 and cleared.get_json()["account_no"] is None
    # The workspace page.
    f.login(client, agency)
    resp = client.post("/agency/bank", data=BANK | {"account_no": "12"})
    assert resp.status_code == 200 and "has-error" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert agency.agency.account_no is None
    resp = client.post("/agency/bank", data=BANK)
    assert resp.status_code == 302
    db.session.expire_all()
    assert agency.agency.account_no == "4301012345678901234"


def test_bank_details_are_shown_to_the_paying_enterprise_only(client):
    enterprise, agency, order = f.accepted_order()
    assert (
        client.post("/api/v1/agencies/me/bank", json=BANK, headers=f.token(client, agency)).status_code == 200
    )
    number = "4301012345678901234"
    resp = client.get(f"/api/v1/orders/{order.id}/payee", headers=f.token(client, enterprise))
    assert resp.status_code == 200 and resp.get_json()["account_no"] == number
    for who in (agency, f.active_agency("C03"), f.user("enterprise")):
        assert client.get(f"/api/v1/orders/{order.id}/payee", headers=f.token(client, who)).status_code == 404
    assert client.get(f"/api/v1/orders/{order.id}/payee").status_code == 401

    f.login(client, enterprise)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert number in page and "data-payee" in page
    f.login(client, agency)
    assert number not in client.get(f"/orders/{order.id}").get_data(as_text=True)
    anonymous = client.application.test_client()
    for url in (f"/agencies/{agency.agency.id}", f"/api/v1/agencies/{agency.agency.id}", "/agencies/"):
        assert number not in anonymous.get(url).get_data(as_text=True)
