"""The contract step (MARKET_CONTRACT_STEP on, the production default): either party uploads the signed contract,
the other confirms it — the service clock starts then — or rejects it with a reason; the public 合同公告 shows
confirmed contracts without their files. Most other tests run with the step off (tests/conftest.py), which is
today's flow: `test_step_off_keeps_the_agency_confirmation` checks both settings."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.orders import contracts
from marketplace.orders import services as orders
from marketplace.orders.models import Contract, Order
from marketplace.requests import services as requests
from tests import factories as f
from tests import timetravel
from tests.kept import keep, load


@pytest.fixture
def step_on(app):
    app.config["MARKET_CONTRACT_STEP"] = True
    yield
    app.config["MARKET_CONTRACT_STEP"] = False


def awaiting_order(price_fen: int = 10_000_000):
    """(enterprise user, agency user, order) right after publicity: the order waits for its contract."""
    enterprise = f.user("enterprise")
    agency = f.active_agency("C03")
    req = f.published_request(enterprise, selection_method="direct")
    bid = f.bid(agency, req, price_fen=price_fen)
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id, bid.id, "技术方案最优，团队经验丰富")
    db.session.commit()
    timetravel.publicity_over(req)
    return enterprise, agency, orders.order_for_request(req.id)


@pytest.fixture(scope="module", autouse=True)
def kept_order(app, module_transaction):
    """One order awaiting its contract (built with the step on), built once for the module (tests/kept.py): the
    tests that start from it read it by id, each in a savepoint undone after it."""
    app.config["MARKET_CONTRACT_STEP"] = True
    try:
        enterprise, agency, order = awaiting_order()
    finally:
        app.config["MARKET_CONTRACT_STEP"] = False
    return keep(enterprise=enterprise, agency=agency, order=order)


@pytest.fixture
def awaiting(kept_order):
    """(enterprise user, agency user, order): `awaiting_order()`'s, read in the test's session."""
    w = load(kept_order)
    return w.enterprise, w.agency, w.order


def terms(order, **over) -> dict:
    today = now().date()
    data = {
        "code": "HT-2026-0158",
        "amount_fen": str(order.amount_fen),
        "start_date": today.isoformat(),
        "end_date": (today + timedelta(days=60)).isoformat(),
    }
    return data | over


def upload(client, who, order, file: bytes | None = f.PDF, name: str = "合同.pdf", **over):
    data = terms(order, **over)
    if file is not None:
        data["file"] = (io.BytesIO(file), name)
    return client.post(
        f"/api/v1/orders/{order.id}/contract",
        data=data,
        headers=f.token(client, who),
        content_type="multipart/form-data",
    )


def contract_count(order_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Contract).where(Contract.order_id == order_id))


def test_agency_uploads_enterprise_confirms_and_the_clock_starts_then(client, step_on, awaiting):
    enterprise, agency, order = awaiting
    # The award was days ago and the contract was uploaded yesterday: neither starts the clock.
    resp = upload(client, agency, order)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "pending" and body["uploaded_by"] == "agency" and body["code"] == "HT-2026-0158"
    db.session.execute(update(Order).where(Order.id == order.id).values(created_at=now() - timedelta(days=5)))
    db.session.execute(
        update(Contract).where(Contract.id == body["id"]).values(created_at=now() - timedelta(days=1))
    )
    db.session.commit()
    got = client.get(f"/api/v1/orders/{order.id}", headers=f.token(client, enterprise)).get_json()
    assert (
        got["status"] == "awaiting" and got["started_at"] is None and got["contract"]["status"] == "pending"
    )

    before = now()
    resp = client.post(f"/api/v1/orders/{order.id}/contract/confirm", headers=f.token(client, enterprise))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "confirmed" and resp.get_json()["confirmed_at"]
    db.session.expire_all()
    started = db.session.get(Order, order.id)
    assert started.status.value == "in_progress"
    assert before <= started.started_at <= now()
    assert started.due_at == started.started_at + timedelta(days=started.promised_days)
    assert started.original_due_at == started.due_at == started.reckoned_due_at
    kinds = [e.kind for e in started.events]
    assert kinds == ["contract", "contract_confirmed"]


def test_enterprise_uploads_agency_confirms(client, step_on, awaiting):
    enterprise, agency, order = awaiting
    assert upload(client, enterprise, order).status_code == 201
    resp = client.post(f"/api/v1/orders/{order.id}/contract/confirm", headers=f.token(client, agency))
    assert resp.status_code == 200
    assert client.get(f"/api/v1/orders/{order.id}", headers=f.token(client, agency)).get_json()["status"] == (
        "in_progress"
    )


def test_the_uploader_cannot_confirm_nor_reject_its_own_contract(client, step_on, awaiting):
    enterprise, agency, order = awaiting
    assert upload(client, agency, order).status_code == 201
    h = f.token(client, agency)
    assert client.post(f"/api/v1/orders/{order.id}/contract/confirm", headers=h).status_code == 403
    resp = client.post(f"/api/v1/orders/{order.id}/contract/reject", json={"reason": "写错了金额"}, headers=h)
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(Order, order.id).status.value == "awaiting"
    assert db.session.get(Order, order.id).contract.status.value == "pending"


def test_only_the_parties_upload_and_a_second_upload_waits(client, step_on, awaiting):
    enterprise, agency, order = awaiting
    other = f.active_agency("C03")
    assert upload(client, other, order).status_code == 404
    assert upload(client, f.admin(), order).status_code == 403
    assert upload(client, agency, order).status_code == 201
    assert (
        upload(client, enterprise, order).status_code == 409
    )  # one contract waits for confirmation at a time
    assert contract_count(order.id) == 1


def test_reject_needs_a_reason_then_a_corrected_contract_is_uploaded(client, step_on, awaiting):
    enterprise, agency, order = awaiting
    assert upload(client, agency, order, code="HT-OLD-1").status_code == 201
    h = f.token(client, enterprise)
    url = f"/api/v1/orders/{order.id}/contract/reject"
    assert client.post(url, json={}, headers=h).status_code == 422
    resp = client.post(url, json={"reason": "短"}, headers=h)
    assert resp.status_code == 422 and "reason" in resp.get_json()["errors"]
    db.session.expire_all()
    assert db.session.get(Order, order.id).contract.status.value == "pending"

    resp = client.post(url, json={"reason": "合同第三条付款比例与采购公告不一致"}, headers=h)
    assert resp.status_code == 200 and resp.get_json()["status"] == "rejected"
    assert resp.get_json()["reason"] == "合同第三条付款比例与采购公告不一致"
    # The rejected contract cannot be confirmed any more; a corrected one can be uploaded.
    assert client.post(f"/api/v1/orders/{order.id}/contract/confirm", headers=h).status_code == 409
    assert upload(client, agency, order, code="HT-NEW-2").status_code == 201
    assert client.post(f"/api/v1/orders/{order.id}/contract/confirm", headers=h).status_code == 200
    got = client.get(f"/api/v1/orders/{order.id}", headers=h).get_json()
    assert [c["code"] for c in got["contracts"]] == ["HT-OLD-1", "HT-NEW-2"]
    assert [c["status"] for c in got["contracts"]] == ["rejected", "confirmed"]
    assert got["contract"]["code"] == "HT-NEW-2" and got["status"] == "in_progress"


def test_only_a_pdf_is_accepted_by_its_content(client, step_on, awaiting):
    enterprise, agency, order = awaiting
    resp = upload(client, agency, order, file=f.PNG, name="合同.pdf")  # a picture named .pdf
    assert resp.status_code == 422 and "file" in resp.get_json()["errors"]
    resp = upload(client, agency, order, file=b"not a contract at all", name="合同.pdf")
    assert resp.status_code == 422
    resp = upload(client, agency, order, file=None)
    assert resp.status_code == 422 and "file" in resp.get_json()["errors"]
    assert contract_count(order.id) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount_fen", "0"),
        ("amount_fen", "9999999"),  # not the awarded price (10,000,000 fen)
        ("amount_fen", "40000000"),  # above the ceiling
        ("amount_fen", "abc"),
        ("code", ""),
        ("start_date", "2026-13-45"),
        ("end_date", "yesterday"),
    ],
)
def test_amounts_codes_and_dates_are_checked(client, step_on, awaiting, field, value):
    enterprise, agency, order = awaiting
    resp = upload(client, agency, order, **{field: value})
    assert resp.status_code == 422, resp.get_json()
    assert contract_count(order.id) == 0


def test_the_end_cannot_come_before_the_start(client, step_on, awaiting):
    enterprise, agency, order = awaiting
    today = now().date()
    resp = upload(
        client, agency, order, start_date=today.isoformat(), end_date=(today - timedelta(days=1)).isoformat()
    )
    assert resp.status_code == 422 and "end_date" in resp.get_json()["errors"]
    assert contract_count(order.id) == 0


def test_with_the_step_on_the_agency_confirmation_alone_starts_nothing(client, step_on, awaiting):
    enterprise, agency, order = awaiting
    resp = client.post(f"/api/v1/orders/{order.id}/confirm", headers=f.token(client, agency))
    assert resp.status_code == 409
    db.session.expire_all()
    assert db.session.get(Order, order.id).started_at is None
    # Declining is still the agency's right before a contract is confirmed.
    resp = client.post(
        f"/api/v1/orders/{order.id}/decline",
        json={"reason": "项目负责人离职无法承接"},
        headers=f.token(client, agency),
    )
    assert resp.status_code == 200 and resp.get_json()["status"] == "declined"


def test_step_off_keeps_the_agency_confirmation(client, app):
    assert app.config["MARKET_CONTRACT_STEP"] is False
    enterprise, agency, order = awaiting_order()
    assert upload(client, agency, order).status_code == 409
    resp = client.post(f"/api/v1/orders/{order.id}/confirm", headers=f.token(client, agency))
    assert resp.status_code == 200 and resp.get_json()["status"] == "in_progress"
    assert resp.get_json()["contract"] is None


def test_the_public_list_shows_confirmed_contracts_without_files(client, step_on, awaiting):
    enterprise, agency, order = awaiting
    assert upload(client, agency, order, code="HT-PUBLIC-7").status_code == 201
    _, _, pending = awaiting_order(price_fen=9_000_000)
    assert upload(client, pending.agency.user, pending, code="HT-PENDING-8").status_code == 201
    listed = client.get("/api/v1/contracts").get_json()
    assert listed == []
    assert (
        client.post(
            f"/api/v1/orders/{order.id}/contract/confirm", headers=f.token(client, enterprise)
        ).status_code
        == 200
    )

    listed = client.get("/api/v1/contracts").get_json()
    assert [c["code"] for c in listed] == ["HT-PUBLIC-7"]
    row = listed[0]
    assert row["amount_fen"] == order.amount_fen and row["agency_name"] == agency.agency.name
    assert row["enterprise_name"] == enterprise.enterprise.name and row["confirmed_at"]
    assert row["start_date"] and row["end_date"]
    assert not any("file" in key for key in row)

    page = client.get("/contracts/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "HT-PUBLIC-7" in text and agency.agency.name in text and "HT-PENDING-8" not in text
    assert "/file" not in text and "合同.pdf" not in text


def test_the_file_is_for_the_parties_and_staff_only(client, step_on, awaiting):
    enterprise, agency, order = awaiting
    contract_id = upload(client, agency, order).get_json()["id"]
    api = f"/api/v1/orders/{order.id}/contracts/{contract_id}/file"
    page = f"/orders/{order.id}/contracts/{contract_id}/file"
    for who in (enterprise, agency, f.admin()):
        resp = client.get(api, headers=f.token(client, who))
        assert resp.status_code == 200 and resp.data == f.PDF
    supervisor = f.staff("supervisor", region_code=order.request.region_code)
    assert client.get(api, headers=f.token(client, supervisor)).status_code == 200
    region = order.request.region_code
    elsewhere = f.staff(
        "supervisor", region_code="320200" if region != "320200" else "320300"
    )  # another city
    assert client.get(api, headers=f.token(client, elsewhere)).status_code == 404
    other = f.active_agency("C03")
    assert client.get(api, headers=f.token(client, other)).status_code == 404
    assert client.get(api).status_code == 401
    assert client.get(page).status_code == 302  # to the log-in page
    f.login(client, other)
    assert client.get(page).status_code == 404
    f.login(client, enterprise)
    assert client.get(page).status_code == 200


def test_contract_terms_are_checked_in_the_service_too(step_on, awaiting):
    enterprise, agency, order = awaiting
    from marketplace.common.errors import Invalid

    with pytest.raises(Invalid) as caught:
        contracts.upload_contract(
            agency,
            order.id,
            {
                "code": "HT-1",
                "amount_fen": order.amount_fen,
                "start_date": date(2026, 1, 1),
                "end_date": None,
            },
            (io.BytesIO(f.PDF), "合同.pdf"),
        )
    assert "end_date" in caught.value.errors


def test_a_price_changed_after_the_upload_needs_a_new_contract(client, step_on, awaiting):
    enterprise, agency, order = awaiting
    assert upload(client, agency, order).status_code == 201
    h = f.token(client, enterprise)
    amended = client.post(
        f"/api/v1/orders/{order.id}/amend",
        json={"amount_fen": 9_500_000, "reason": "补充协议：缩减监测点位"},
        headers=h,
    )
    assert amended.status_code == 200
    assert client.post(f"/api/v1/orders/{order.id}/contract/confirm", headers=h).status_code == 409
    assert (
        client.post(
            f"/api/v1/orders/{order.id}/contract/reject", json={"reason": "金额已按补充协议调整"}, headers=h
        ).status_code
        == 200
    )
    assert upload(client, agency, order, amount_fen="9500000").status_code == 201
    assert client.post(f"/api/v1/orders/{order.id}/contract/confirm", headers=h).status_code == 200
