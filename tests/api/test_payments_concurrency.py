"""Payments raced with real commits on SQLite (a file database) and PostgreSQL: two full payments at once → one;
the same webhook delivered twice at once → counted once; a completion racing an expiry → paid."""

import pytest
from sqlalchemy import func, select

from marketplace.auth.models import User
from marketplace.common.errors import DomainError
from marketplace.extensions import db
from marketplace.payments import services
from marketplace.payments.models import Payment, StripeEvent
from marketplace.stats.models import AgencyStats
from tests import factories as f
from tests.paying import WEBHOOK_SECRET, FakeStripe, assert_paid_once, event, session_completed, signed
from tests.racing import committed, race

pytestmark = pytest.mark.sqlite  # also run on SQLite, the embedded default (tests/run.sh)


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    fake = FakeStripe()
    app, close = committed(
        tmp_path_factory,
        STRIPE_SECRET_KEY="sk_test_fake",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=fake.url,
    )
    yield app
    fake.close()
    close()


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_two_full_payments_at_once_only_one_passes(committed_app):
    for round_ in range(3):  # a few rounds to make overlap likely
        with committed_app.app_context():
            enterprise, _, order = f.accepted_order(price_fen=6_000_000)
            user_id, order_id = enterprise.id, order.id
            db.session.remove()

        def pay(n, user_id=user_id, order_id=order_id, round_=round_):
            def call():
                user = db.session.get(User, user_id)
                ref = f"RACE-{round_}-{n}"
                return services.record_offline(user, order_id, reference=ref, amount_fen=6_000_000).id

            return call

        results = race(committed_app, pay(1), pay(2))
        assert sum(isinstance(r, int) for r in results) == 1, results
        assert sum(isinstance(r, DomainError) for r in results) == 1, results
        with committed_app.app_context():
            assert _count(Payment, Payment.order_id == order_id) == 1
            db.session.remove()


def _stripe_payment(app) -> tuple[int, int, dict]:
    """An accepted order with an open Checkout Session (made through the API and the fake Stripe)."""
    with app.app_context():
        enterprise, agency, order = f.accepted_order(price_fen=4_200_000)
        client = app.test_client()
        r = client.post(
            f"/api/v1/orders/{order.id}/payments",
            json={"method": "stripe"},
            headers=f.token(client, enterprise),
        )
        assert r.status_code == 201, r.get_json()
        db.session.rollback()  # a new read: SQLite's snapshot of this session predates the request's commit
        payment = db.session.get(Payment, r.get_json()["payment_id"])
        session = session_completed(payment)
        ids = payment.id, agency.agency.id
        db.session.remove()
    return *ids, session


def test_the_same_webhook_twice_at_once_counts_once(committed_app):
    payment_id, agency_id, session = _stripe_payment(committed_app)
    payload, headers = signed(event("checkout.session.completed", session))

    def deliver():
        r = committed_app.test_client().post("/api/v1/payments/stripe/webhook", data=payload, headers=headers)
        return r.status_code, r.get_json()["outcome"]

    results = race(committed_app, deliver, deliver)
    assert sorted(results) == [(200, "duplicate"), (200, "paid")], results
    assert_paid_once(committed_app, payment_id, agency_id, 4_200_000)


def test_a_completion_racing_an_expiry_ends_paid(committed_app):
    payment_id, agency_id, session = _stripe_payment(committed_app)
    completed = signed(event("checkout.session.completed", session))
    expired = signed(event("checkout.session.expired", {"id": session["id"]}))

    def deliver(payload, headers):
        return lambda: (
            committed_app.test_client()
            .post("/api/v1/payments/stripe/webhook", data=payload, headers=headers)
            .status_code
        )

    assert race(committed_app, deliver(*completed), deliver(*expired)) == [200, 200]
    with committed_app.app_context():
        assert db.session.get(Payment, payment_id).status == "paid"
        assert db.session.get(AgencyStats, agency_id).paid_sum_fen == 4_200_000
        assert _count(StripeEvent, StripeEvent.payment_id == payment_id) == 2
