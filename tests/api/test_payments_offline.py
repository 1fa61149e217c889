"""Offline payment (bank transfer + voucher) through the API: the enterprise records, the agency confirms or
rejects, partial payments add up, nothing beyond what is outstanding, only accepted orders, only the parties."""

import io
from pathlib import Path

from sqlalchemy import func, select

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from marketplace.payments.models import Payment
from marketplace.stats.models import AgencyStats
from tests import factories as f


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Payment))


def _paid_sum(agency) -> int:
    row = db.session.get(AgencyStats, agency.agency.id)
    db.session.refresh(row)
    return row.paid_sum_fen


def _vouchers(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_DIR"]) / "vouchers"
    return sorted(folder.iterdir()) if folder.exists() else []


def _offline(client, order_id, headers, **fields):
    return client.post(
        f"/api/v1/orders/{order_id}/payments", json={"method": "offline"} | fields, headers=headers
    )


def test_offline_payment_with_voucher_confirmed_by_the_agency(app, client):
    enterprise, agency, order = f.accepted_order(price_fen=12_345_600)
    he, ha = f.token(client, enterprise), f.token(client, agency)
    before = _paid_sum(agency)
    r = client.post(
        f"/api/v1/orders/{order.id}/payments",
        data={
            "method": "offline",
            "reference": "HX20261122-0001",
            "voucher": (io.BytesIO(f.PDF), "回单.pdf"),
        },
        headers=he,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    p = r.get_json()
    assert (p["method"], p["status"], p["amount_fen"]) == ("offline", "submitted", 12_345_600)
    assert p["reference"] == "HX20261122-0001" and p["voucher"]["name"] == "回单.pdf"
    assert p["payment_id"] == p["id"] and p["checkout_url"] is None

    o = client.get(f"/api/v1/orders/{order.id}", headers=he).get_json()
    assert (o["paid_fen"], o["outstanding_fen"], o["payment_status"]) == (0, 12_345_600, "unpaid")
    assert [x["status"] for x in o["payments"]] == ["submitted"]

    # The agency sees the voucher and confirms that the money arrived.
    file = client.get(p["voucher"]["url"], headers=ha)
    assert file.status_code == 200 and file.data == f.PDF
    r = client.post(f"/api/v1/payments/{p['id']}/confirm", headers=ha)
    assert r.status_code == 200 and r.get_json()["status"] == "paid" and r.get_json()["paid_at"]
    assert client.post(f"/api/v1/payments/{p['id']}/confirm", headers=ha).status_code == 409  # once

    o = client.get(f"/api/v1/orders/{order.id}", headers=ha).get_json()
    assert (o["paid_fen"], o["outstanding_fen"], o["payment_status"]) == (12_345_600, 0, "paid")
    listed = client.get(f"/api/v1/orders/{order.id}/payments", headers=he).get_json()
    assert [(x["id"], x["status"]) for x in listed] == [(p["id"], "paid")]
    assert _paid_sum(agency) == before + 12_345_600
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "payment")))
    assert {"payment.create", "payment.confirm"} <= actions
    # Nothing is left to pay.
    assert _offline(client, order.id, he, reference="HX20261122-0002").status_code == 409


def test_partial_payments_add_up_and_a_rejected_transfer_frees_its_amount(client):
    enterprise, agency, order = f.accepted_order(price_fen=10_000_000)
    he, ha = f.token(client, enterprise), f.token(client, agency)
    first = _offline(client, order.id, he, reference="FIRST-0001", amount_fen=3_000_000).get_json()
    assert first["amount_fen"] == 3_000_000
    # Awaiting confirmation still counts: the default amount is what remains.
    second = _offline(client, order.id, he, reference="SECOND-0002").get_json()
    assert second["amount_fen"] == 7_000_000
    assert _offline(client, order.id, he, reference="THIRD-0003", amount_fen=1).status_code == 409

    r = client.post(f"/api/v1/payments/{second['id']}/reject", json={"reason": "未收到"}, headers=ha)
    assert r.status_code == 422  # too short a reason; nothing changed
    r = client.post(
        f"/api/v1/payments/{second['id']}/reject", json={"reason": "账户未收到该笔转账"}, headers=ha
    )
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"
    assert r.get_json()["status_reason"] == "账户未收到该笔转账"
    assert client.post(f"/api/v1/payments/{second['id']}/confirm", headers=ha).status_code == 409

    client.post(f"/api/v1/payments/{first['id']}/confirm", headers=ha)
    o = client.get(f"/api/v1/orders/{order.id}", headers=he).get_json()
    assert (o["paid_fen"], o["outstanding_fen"], o["payment_status"]) == (3_000_000, 7_000_000, "partial")

    # The same reference twice on one order is refused; a new transfer for the rest is fine.
    assert _offline(client, order.id, he, reference="FIRST-0001", amount_fen=100).status_code == 422
    third = _offline(client, order.id, he, reference="THIRD-0003", amount_fen=2_500_000).get_json()
    fourth = _offline(client, order.id, he, reference="FOURTH-0004").get_json()
    assert fourth["amount_fen"] == 4_500_000
    for p in (third, fourth):
        assert client.post(f"/api/v1/payments/{p['id']}/confirm", headers=ha).status_code == 200
    o = client.get(f"/api/v1/orders/{order.id}", headers=he).get_json()
    assert (o["paid_fen"], o["outstanding_fen"], o["payment_status"]) == (10_000_000, 0, "paid")


def test_more_than_outstanding_is_refused_and_changes_nothing(app, client):
    enterprise, agency, order = f.accepted_order(price_fen=5_000_000)
    he = f.token(client, enterprise)
    audit = db.session.scalar(select(func.count()).select_from(AuditEntry))
    files = _vouchers(app)
    r = client.post(
        f"/api/v1/orders/{order.id}/payments",
        data={
            "method": "offline",
            "reference": "OVER-0001",
            "amount_fen": "5000001",
            "voucher": (io.BytesIO(f.PDF), "回单.pdf"),
        },
        headers=he,
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and "amount_fen" in r.get_json()["errors"]
    assert "¥50,000.00" in r.get_json()["message"]
    assert _count() == 0 and _vouchers(app) == files
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit
    for bad in (0, -5, True, "100", 1.5):
        r = _offline(client, order.id, he, reference="OVER-0002", amount_fen=bad)
        assert r.status_code == 422 and "amount_fen" in r.get_json()["errors"], bad
    assert _count() == 0


def test_only_an_accepted_order_can_be_paid(client):
    enterprise, _, delivered = f.accepted_order(accept=False)
    r = _offline(client, delivered.id, f.token(client, enterprise), reference="EARLY-0001")
    assert r.status_code == 409 and r.get_json()["message"]
    assert _count() == 0


def test_only_the_parties_may_pay_confirm_or_see(client):
    enterprise, agency, order = f.accepted_order()
    he, ha = f.token(client, enterprise), f.token(client, agency)
    other_enterprise = f.token(client, f.user("enterprise"))
    other_agency = f.token(client, f.active_agency("C03"))
    admin = f.token(client, f.admin())
    assert _offline(client, order.id, other_enterprise, reference="WHO-00001").status_code == 404
    assert _offline(client, order.id, ha, reference="WHO-00002").status_code == 403  # agencies do not pay
    assert _offline(client, order.id, admin, reference="WHO-00003").status_code == 403
    assert _offline(client, order.id, {}, reference="WHO-00004").status_code == 401
    assert _count() == 0
    p = client.post(
        f"/api/v1/orders/{order.id}/payments",
        data={"reference": "WHO-00005", "voucher": (io.BytesIO(f.PNG), "slip.png")},
        headers=he,
        content_type="multipart/form-data",
    ).get_json()
    assert p["method"] == "offline" and p["voucher"]["mime"] == "image/png"
    for h in (other_enterprise, other_agency):
        assert client.get(f"/api/v1/orders/{order.id}/payments", headers=h).status_code == 404
        assert client.get(f"/api/v1/payments/{p['id']}", headers=h).status_code == 404
        assert client.get(p["voucher"]["url"], headers=h).status_code == 404
    assert client.get(p["voucher"]["url"]).status_code == 401
    assert client.get(p["voucher"]["url"], headers=admin).data == f.PNG
    assert client.get(f"/api/v1/orders/{order.id}/payments", headers=admin).status_code == 200
    assert client.post(f"/api/v1/payments/{p['id']}/confirm", headers=other_agency).status_code == 404
    assert client.post(f"/api/v1/payments/{p['id']}/confirm", headers=he).status_code == 403
    assert (
        client.post(
            f"/api/v1/payments/{p['id']}/reject", json={"reason": "没有收到款项"}, headers=he
        ).status_code
        == 403
    )
    assert db.session.get(Payment, p["id"]).status == "submitted"


def test_bad_input_is_refused_with_the_field_named(app, client):
    enterprise, _, order = f.accepted_order()
    he = f.token(client, enterprise)
    files = _vouchers(app)
    r = client.post(
        f"/api/v1/orders/{order.id}/payments",
        data={
            "reference": "FAKE-00001",
            "voucher": (io.BytesIO(b"MZ\x90\x00 not a scan at all"), "回单.pdf"),
        },
        headers=he,
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and "voucher" in r.get_json()["errors"]
    assert _vouchers(app) == files
    for body, field in (
        ({"method": "offline"}, "reference"),
        ({"method": "offline", "reference": "abc"}, "reference"),
        ({"method": "offline", "reference": "x" * 65}, "reference"),
        (
            {"method": "offline", "reference": "\x00\x00\x00\x00\x00\x00"},
            "reference",
        ),  # nothing left once cleaned
        ({"method": "cash", "reference": "CASH-0001"}, "method"),
        ({"reference": "NOMETHOD-1"}, "method"),
        ({"method": "offline", "reference": "EXTRA-0001", "note": "x"}, "note"),
    ):
        r = client.post(f"/api/v1/orders/{order.id}/payments", json=body, headers=he)
        assert r.status_code == 422 and field in r.get_json()["errors"], (body, r.get_json())
    r = client.post(
        f"/api/v1/orders/{order.id}/payments", data="[1, 2]", headers=he, content_type="application/json"
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/orders/{order.id}/payments",
        data={"reference": "AMOUNT-001", "amount_fen": "一百元"},
        headers=he,
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and "amount_fen" in r.get_json()["errors"]
    assert _count() == 0


def test_paying_through_the_order_page(client):
    enterprise, agency, order = f.accepted_order(price_fen=8_000_000)
    f.login(client, enterprise)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-payment-status="unpaid"' in page and 'data-form="pay-offline"' in page
    assert 'value="80000.00"' in page  # the amount field starts at what is payable
    # Bad input: the page comes back with the reasons beside the fields, nothing recorded.
    r = client.post(f"/orders/{order.id}/payments/offline", data={"amount": "八万", "reference": "PAGE-0001"})
    assert r.status_code == 200 and 'data-form="pay-offline"' in r.get_data(as_text=True)
    assert "PAGE-0001" in r.get_data(as_text=True)  # what was typed is kept
    r = client.post(
        f"/orders/{order.id}/payments/offline", data={"amount": "90000", "reference": "PAGE-0001"}
    )
    assert r.status_code == 200 and "¥80,000.00" in r.get_data(as_text=True)
    assert _count() == 0
    r = client.post(
        f"/orders/{order.id}/payments/offline",
        data={"amount": "30,000.50", "reference": "PAGE-0001", "voucher": (io.BytesIO(f.PDF), "回单.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("#payments")
    (payment,) = db.session.scalars(select(Payment))
    assert (payment.amount_fen, payment.reference, payment.voucher["name"]) == (
        3_000_050,
        "PAGE-0001",
        "回单.pdf",
    )
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-payment-state="submitted"' in page and "data-voucher" in page
    assert 'data-form="confirm-payment"' not in page  # the payer cannot confirm its own transfer
    assert client.post(f"/payments/{payment.id}/confirm").status_code == 302
    assert _payment_status(payment.id) == "submitted"

    client.post("/auth/logout")
    f.login(client, agency)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-form="confirm-payment"' in page and 'data-form="pay-offline"' not in page
    assert client.get(f"/payments/{payment.id}/voucher").data == f.PDF
    client.post(f"/payments/{payment.id}/confirm", data={"confirm": "yes"})
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-payment-status="partial"' in page and 'data-payment-state="paid"' in page
    assert "<strong data-outstanding>¥49,999.50</strong>" in page

    outsider = f.user("enterprise")
    client.post("/auth/logout")
    f.login(client, outsider)
    assert client.get(f"/payments/{payment.id}/voucher").status_code == 404


def _payment_status(payment_id: int) -> str:
    payment = db.session.get(Payment, payment_id)
    db.session.refresh(payment)
    return payment.status.value
