"""Stripe Checkout against a local fake Stripe API (the exact parameters sent), then webhooks signed in the test
and verified by the real construct_event path: paid once, replays and late expiries change nothing, refunds
are recorded, bad signatures are refused, Stripe being down or disabled leaves nothing behind."""

import json
import time
from datetime import timedelta

import pytest
import stripe
from sqlalchemy import func, select

from marketplace.audit.models import AuditEntry
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.payments import services
from marketplace.payments.models import Payment, StripeEvent
from marketplace.stats.models import AgencyStats
from tests import factories as f
from tests.paying import (
    WEBHOOK_SECRET,
    FakeStripe,
    charge_refunded,
    event,
    session_completed,
    signed,
)

WEBHOOK = "/api/v1/payments/stripe/webhook"


@pytest.fixture
def fake_stripe(app, monkeypatch):
    fake = FakeStripe()
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_fake")
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", fake.url)
    yield fake
    fake.close()


def _payment(payment_id: int) -> Payment:
    payment = db.session.get(Payment, payment_id)
    db.session.refresh(payment)
    return payment


def _paid_sum(agency) -> int:
    row = db.session.get(AgencyStats, agency.agency.id)
    if row is None:
        return 0
    db.session.refresh(row)
    return row.paid_sum_fen


def _events() -> int:
    return db.session.scalar(select(func.count()).select_from(StripeEvent))


def _deliver(client, evt: dict, **kw):
    payload, headers = signed(evt, **kw)
    return client.post(WEBHOOK, data=payload, headers=headers)


def signed_text(text: str) -> str:
    return stripe.WebhookSignature.generate_signature_header(text, WEBHOOK_SECRET)


def _checkout(client, enterprise, order, **body):
    r = client.post(
        f"/api/v1/orders/{order.id}/payments",
        json={"method": "stripe"} | body,
        headers=f.token(client, enterprise),
    )
    assert r.status_code == 201, r.get_json()
    return _payment(r.get_json()["payment_id"])


def test_checkout_session_is_created_with_exact_parameters(client, fake_stripe):
    enterprise, _, order = f.accepted_order(price_fen=9_876_500)
    he = f.token(client, enterprise)
    r = client.post(
        f"/api/v1/orders/{order.id}/payments", json={"method": "stripe", "amount_fen": 4_000_000}, headers=he
    )
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out["checkout_url"] == "https://checkout.stripe.com/c/pay/cs_test_fake0001"
    assert out["status"] == "pending" and out["method"] == "stripe" and out["amount_fen"] == 4_000_000

    (sent,) = fake_stripe.requests
    form, headers = sent["form"], sent["headers"]
    assert sent["path"] == "/v1/checkout/sessions"
    assert headers["Authorization"] == "Bearer sk_test_fake"
    payment = _payment(out["payment_id"])
    assert headers["Idempotency-Key"] == services.idempotency_key(payment)
    assert headers["Idempotency-Key"].startswith(f"checkout-payment-{payment.id}-")
    assert form["mode"] == "payment"
    assert form["line_items[0][quantity]"] == "1"
    assert form["line_items[0][price_data][currency]"] == "cny"
    assert form["line_items[0][price_data][unit_amount]"] == "4000000"
    name = form["line_items[0][price_data][product_data][name]"]
    assert order.request.title in name and f"#{order.id}" in name
    assert form["client_reference_id"] == str(payment.id)
    assert form["metadata[payment_id]"] == str(payment.id)
    assert form["metadata[order_id]"] == str(order.id)
    assert form["success_url"] == f"http://localhost/orders/{order.id}?stripe=success"
    assert form["cancel_url"] == f"http://localhost/orders/{order.id}?stripe=cancelled"
    expires = int(form["expires_at"])
    assert now().timestamp() + 30 * 60 < expires <= now().timestamp() + 32 * 60

    assert payment.stripe_session_id == "cs_test_fake0001" and payment.status == "pending"
    assert int(payment.expires_at.timestamp()) == expires
    o = client.get(f"/api/v1/orders/{order.id}", headers=he).get_json()
    assert (o["paid_fen"], o["outstanding_fen"], o["payment_status"]) == (0, 9_876_500, "unpaid")
    # The open session holds its amount: only the rest can be paid meanwhile.
    r = client.post(
        f"/api/v1/orders/{order.id}/payments",
        json={"method": "offline", "reference": "REST-00001", "amount_fen": 5_876_501},
        headers=he,
    )
    assert r.status_code == 422
    assert _checkout(client, enterprise, order).amount_fen == 5_876_500
    assert fake_stripe.requests[1]["form"]["line_items[0][price_data][unit_amount]"] == "5876500"


def test_completed_webhook_pays_once_and_a_late_expiry_changes_nothing(client, fake_stripe):
    enterprise, agency, order = f.accepted_order(price_fen=3_000_000)
    payment = _checkout(client, enterprise, order)
    before = _paid_sum(agency)
    evt = event("checkout.session.completed", session_completed(payment))
    r = _deliver(client, evt)
    assert r.status_code == 200 and r.get_json() == {"received": True, "outcome": "paid"}
    payment = _payment(payment.id)
    assert (
        payment.status == "paid"
        and payment.paid_at
        and payment.stripe_payment_intent == f"pi_test_{payment.id}"
    )
    assert _paid_sum(agency) == before + 3_000_000
    o = client.get(f"/api/v1/orders/{order.id}", headers=f.token(client, enterprise)).get_json()
    assert (o["paid_fen"], o["outstanding_fen"], o["payment_status"]) == (3_000_000, 0, "paid")

    # Stripe delivers the same event again: acknowledged, nothing twice.
    r = _deliver(client, evt)
    assert r.status_code == 200 and r.get_json()["outcome"] == "duplicate"
    assert _paid_sum(agency) == before + 3_000_000 and _events() == 1
    # The session's expiry arriving after the payment does not undo it.
    r = _deliver(client, event("checkout.session.expired", {"id": payment.stripe_session_id}))
    assert r.status_code == 200 and r.get_json()["outcome"] == "no_change"
    assert _payment(payment.id).status == "paid" and _paid_sum(agency) == before + 3_000_000
    assert "payment.complete" in set(db.session.scalars(select(AuditEntry.action)))


def test_bad_signatures_are_refused_and_change_nothing(client, fake_stripe):
    enterprise, agency, order = f.accepted_order()
    payment = _checkout(client, enterprise, order)
    evt = event("checkout.session.completed", session_completed(payment))
    payload, headers = signed(evt)
    tampered = payload.replace(str(payment.amount_fen), str(payment.amount_fen + 1))
    old = signed(evt, timestamp=int(time.time()) - 400)
    for body, hdrs in (
        (payload, {"Stripe-Signature": signed(evt, secret="whsec_wrong")[1]["Stripe-Signature"]}),
        (tampered, headers),
        (payload, {}),
        (payload, {"Stripe-Signature": "garbage"}),
        old,
        ("not json", {"Stripe-Signature": signed_text("not json")}),
        ("[1, 2]", {"Stripe-Signature": signed_text("[1, 2]")}),
        ('{"id": "evt_x"}', {"Stripe-Signature": signed_text('{"id": "evt_x"}')}),
    ):
        r = client.post(WEBHOOK, data=body, headers=hdrs)
        assert r.status_code == 400 and r.get_json()["message"], body[:40]
    assert _payment(payment.id).status == "pending" and _events() == 0 and _paid_sum(agency) == 0
    assert _deliver(client, evt).get_json()["outcome"] == "paid"  # the genuine one still works


def test_unknown_events_and_sessions_are_acknowledged_and_recorded(client, fake_stripe):
    r = _deliver(client, event("customer.created", {"id": "cus_1", "object": "customer"}, "evt_unknown_kind"))
    assert r.status_code == 200 and r.get_json()["outcome"] == "ignored"
    r = _deliver(
        client,
        event("checkout.session.completed", {"id": "cs_nobody", "payment_status": "paid"}, "evt_nobody"),
    )
    assert r.status_code == 200 and r.get_json()["outcome"] == "unknown_session"
    r = _deliver(client, event("charge.refunded", {"id": "ch_1", "payment_intent": "pi_nobody"}, "evt_no_pi"))
    assert r.status_code == 200 and r.get_json()["outcome"] == "unknown_payment"
    rows = {e.id: (e.type, e.outcome) for e in db.session.scalars(select(StripeEvent))}
    assert rows == {
        "evt_unknown_kind": ("customer.created", "ignored"),
        "evt_nobody": ("checkout.session.completed", "unknown_session"),
        "evt_no_pi": ("charge.refunded", "unknown_payment"),
    }


def test_completion_waits_until_stripe_has_the_money(client, fake_stripe):
    enterprise, agency, order = f.accepted_order(price_fen=2_000_000)
    payment = _checkout(client, enterprise, order)
    r = _deliver(client, event("checkout.session.completed", session_completed(payment, paid=False)))
    assert r.get_json()["outcome"] == "awaiting_payment" and _payment(payment.id).status == "pending"
    for wrong in (session_completed(payment, amount=1_999_999), session_completed(payment, currency="usd")):
        r = _deliver(client, event("checkout.session.completed", wrong))
        assert r.get_json()["outcome"] == "amount_mismatch" and _payment(payment.id).status == "pending"
    assert _paid_sum(agency) == 0
    r = _deliver(client, event("checkout.session.async_payment_succeeded", session_completed(payment)))
    assert r.get_json()["outcome"] == "paid" and _payment(payment.id).status == "paid"
    assert _paid_sum(agency) == 2_000_000


def test_a_failed_delayed_payment_says_so_in_the_callers_language(client, fake_stripe):
    enterprise, agency, order = f.accepted_order(price_fen=2_000_000)
    payment = _checkout(client, enterprise, order)
    r = _deliver(client, event("checkout.session.async_payment_failed", {"id": payment.stripe_session_id}))
    assert r.get_json()["outcome"] == "failed" and _payment(payment.id).status == "expired"
    assert json.loads(_payment(payment.id).status_reason)["$msg"]  # a message code, read in any language
    h = f.token(client, enterprise)

    def reason(headers):
        body = client.get(f"/api/v1/orders/{order.id}", headers=headers).get_json()
        return next(p["status_reason"] for p in body["payments"] if p["id"] == payment.id)

    assert reason(h) == "Stripe 通知：延迟到账的支付未成功。"
    assert reason({**h, "Accept-Language": "en"}) == "Stripe reported that the delayed payment failed."


def test_money_arriving_after_expiry_is_recorded_even_if_it_overpays(client, fake_stripe):
    enterprise, agency, order = f.accepted_order(price_fen=2_000_000)
    he = f.token(client, enterprise)
    payment = _checkout(client, enterprise, order)
    r = _deliver(client, event("checkout.session.expired", {"id": payment.stripe_session_id}))
    assert r.get_json()["outcome"] == "expired" and _payment(payment.id).status == "expired"
    offline = client.post(
        f"/api/v1/orders/{order.id}/payments",
        json={"method": "offline", "reference": "AFTER-0001"},
        headers=he,
    )
    assert offline.status_code == 201 and offline.get_json()["amount_fen"] == 2_000_000
    client.post(f"/api/v1/payments/{offline.get_json()['id']}/confirm", headers=f.token(client, agency))
    r = _deliver(client, event("checkout.session.completed", session_completed(payment)))
    assert r.get_json()["outcome"] == "paid" and _payment(payment.id).status == "paid"
    o = client.get(f"/api/v1/orders/{order.id}", headers=he).get_json()
    assert (o["paid_fen"], o["outstanding_fen"], o["payment_status"]) == (4_000_000, 0, "paid")
    assert _paid_sum(agency) == 4_000_000


def test_refunds_partial_then_full(client, fake_stripe):
    enterprise, agency, order = f.accepted_order(price_fen=5_000_000)
    he = f.token(client, enterprise)
    payment = _checkout(client, enterprise, order)
    _deliver(client, event("checkout.session.completed", session_completed(payment)))
    r = _deliver(client, event("charge.refunded", charge_refunded(payment, 1_500_000)))
    assert r.get_json()["outcome"] == "partially_refunded"
    p = _payment(payment.id)
    assert (p.status, p.refunded_fen) == ("paid", 1_500_000)
    o = client.get(f"/api/v1/orders/{order.id}", headers=he).get_json()
    assert (o["paid_fen"], o["outstanding_fen"], o["payment_status"]) == (3_500_000, 1_500_000, "partial")
    assert _paid_sum(agency) == 3_500_000
    # Another delivery with the same cumulative amount (a different event id) changes nothing.
    r = _deliver(client, event("charge.refunded", charge_refunded(payment, 1_500_000)))
    assert r.get_json()["outcome"] == "no_change" and _paid_sum(agency) == 3_500_000
    r = _deliver(client, event("charge.refunded", charge_refunded(payment, 5_000_000)))
    assert r.get_json()["outcome"] == "refunded"
    p = _payment(payment.id)
    assert (p.status, p.refunded_fen) == ("refunded", 5_000_000)
    assert _paid_sum(agency) == 0
    o = client.get(f"/api/v1/orders/{order.id}", headers=he).get_json()
    assert (o["paid_fen"], o["outstanding_fen"], o["payment_status"]) == (0, 5_000_000, "unpaid")
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == payment.id)))
    assert {"payment.refund_partial", "payment.refund"} <= actions


@pytest.mark.parametrize("how", ["error", "closed"])
def test_stripe_down_leaves_nothing_behind(client, fake_stripe, how):
    enterprise, _, order = f.accepted_order()
    if how == "error":
        fake_stripe.fail_with = 500
    else:
        fake_stripe.close()
    r = client.post(
        f"/api/v1/orders/{order.id}/payments", json={"method": "stripe"}, headers=f.token(client, enterprise)
    )
    assert r.status_code == 502 and "Stripe" in r.get_json()["message"]
    assert len(fake_stripe.requests) == (1 if how == "error" else 0)
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "payment.create")) == 0
    # In the browser: back to the order page with the reason, nothing recorded.
    f.login(client, enterprise)
    r = client.post(f"/orders/{order.id}/payments/stripe")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/orders/{order.id}#payments")
    assert "Stripe" in client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_the_pay_button_sends_the_browser_to_stripe(client, fake_stripe):
    enterprise, _, order = f.accepted_order()
    f.login(client, enterprise)
    assert 'data-form="pay-stripe"' in client.get(f"/orders/{order.id}").get_data(as_text=True)
    r = client.post(f"/orders/{order.id}/payments/stripe")
    assert (
        r.status_code == 303 and r.headers["Location"] == "https://checkout.stripe.com/c/pay/cs_test_fake0001"
    )
    page = client.get(f"/orders/{order.id}?stripe=success").get_data(as_text=True)
    assert (
        'data-payment-state="pending"' in page and 'data-form="pay-stripe"' not in page
    )  # all of it is on its way


def test_stripe_disabled_is_refused_and_hidden(app, client):
    assert not app.config["STRIPE_SECRET_KEY"]
    enterprise, _, order = f.accepted_order()
    r = client.post(
        f"/api/v1/orders/{order.id}/payments", json={"method": "stripe"}, headers=f.token(client, enterprise)
    )
    assert r.status_code == 409 and "Stripe" in r.get_json()["message"]
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    f.login(client, enterprise)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-form="pay-offline"' in page and 'data-form="pay-stripe"' not in page
    payload = json.dumps(event("checkout.session.completed", {"id": "cs_x"}))
    r = client.post(WEBHOOK, data=payload, headers={"Stripe-Signature": signed_text(payload)})
    assert r.status_code == 400 and _events() == 0


def test_expired_sessions_free_their_amount(client, fake_stripe):
    """A session past its expiry no longer holds the amount, even before Stripe's expiry event arrives."""
    enterprise, _, order = f.accepted_order(price_fen=1_000_000)
    payment = _checkout(client, enterprise, order)
    payment.expires_at = now() - timedelta(seconds=1)
    db.session.commit()
    again = _checkout(client, enterprise, order)
    assert again.amount_fen == 1_000_000 and again.id != payment.id
