"""Services we depend on, hanging rather than refusing (the closed port and the 500 are tested beside the features:
tests/api/test_notifications.py, tests/api/test_payments_stripe.py): a Stripe that accepts the connection and never
answers, a mail server that never greets. The market waits only its time-out, says so clearly, records nothing
half-way, and the retry goes through once the service is back."""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.notifications.models import Notification, OutboxMessage
from marketplace.payments.models import Payment
from tests import factories as f
from tests import timetravel
from tests.paying import WEBHOOK_SECRET, FakeStripe
from tests.smtp import smtp_server


@contextmanager
def silent_server():
    """A TCP port that accepts connections (the kernel's backlog) and never says a word: (url host, port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


def _payments(*where) -> int:
    return db.session.scalar(select(func.count()).select_from(Payment).where(*where))


def test_a_stripe_that_never_answers_is_refused_in_time_and_the_retry_works(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_fake")
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 1.0)
    monkeypatch.setitem(app.config, "REPORTS_MONTHLY", 0)  # no monthly PDFs from the order's clock passes
    enterprise, _, order = f.accepted_order(price_fen=8_000_000)
    headers = f.token(client, enterprise)
    with silent_server() as port:
        monkeypatch.setitem(app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{port}")
        started = time.monotonic()
        r = client.post(f"/api/v1/orders/{order.id}/payments", json={"method": "stripe"}, headers=headers)
        waited = time.monotonic() - started
    assert r.status_code == 502 and "Stripe" in r.get_json()["message"], r.get_json()
    assert waited < 10  # its time-out, not the SDK's 80 s
    assert _payments() == 0

    fake = (
        FakeStripe()
    )  # Stripe is back: the same payment goes through, and is not paid before Stripe says so
    try:
        monkeypatch.setitem(app.config, "STRIPE_API_BASE", fake.url)
        r = client.post(f"/api/v1/orders/{order.id}/payments", json={"method": "stripe"}, headers=headers)
    finally:
        fake.close()
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["checkout_url"].startswith("https://checkout.stripe.com/")
    assert _payments() == 1 and _payments(Payment.status == "paid") == 0


def test_a_mail_server_that_never_greets_loses_nothing(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 1)
    agency = f.active_agency("C03")
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.user_id == agency.id))
    db.session.execute(delete(Notification).where(Notification.user_id == agency.id))
    db.session.commit()
    with silent_server() as port:
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", port)
        f.published_request()  # a matching announcement: the agency is mailed
        started = time.monotonic()
        timetravel.run_clock()
        assert time.monotonic() - started < 10  # the clock waited its time-out, then went on
    db.session.expire_all()
    [msg] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == agency.email)).all()
    assert (msg.status, msg.attempts) == (
        "pending",
        1,
    ) and msg.last_error  # a clear status: why, and it waits
    assert msg.next_attempt_at > now() + timedelta(seconds=30)

    with smtp_server() as (inbox, port):  # a working server, and the message's pause is over
        monkeypatch.setitem(app.config, "MAIL_PORT", port)
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == msg.id).values(next_attempt_at=now())
        )
        db.session.commit()
        timetravel.run_clock()
        assert len(inbox.to(agency.email)) == 1
    db.session.expire_all()
    sent = db.session.get(OutboxMessage, msg.id)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 2, None)
