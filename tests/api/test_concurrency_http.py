"""Writes that meet, through the whole HTTP stack with real commits, on SQLite (a file database) and on
PostgreSQL: exactly one request wins, the others get 409 (or their normal page) — never a 500 — and the
database holds exactly one outcome. Readers keep getting their pages while a deadline passes."""

import io
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from marketplace.payments.models import Payment
from marketplace.ratings.models import Rating
from marketplace.requests import services as requests
from marketplace.requests.models import ServiceRequest
from marketplace.stats.models import AgencyStats
from tests import factories as f
from tests import timetravel
from tests.api.test_ratings_stats_api import SCORES
from tests.paying import WEBHOOK_SECRET, FakeStripe, assert_paid_once, event, session_completed, signed
from tests.racing import bids_closing_soon, committed, race, statuses

pytestmark = pytest.mark.sqlite  # also run on SQLite, the embedded default (tests/run.sh)

GRACE = 1.0  # MARKET_CLOSE_GRACE_SECONDS here: the reader test waits for the close


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    fake = FakeStripe()
    app, close = committed(
        tmp_path_factory,
        STRIPE_SECRET_KEY="sk_test_fake",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=fake.url,
        MARKET_CLOSE_GRACE_SECONDS=GRACE,
    )
    yield app
    fake.close()
    close()


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _bearer(app, email: str) -> dict:
    """A bearer token, asked for with no transaction of the test's own open."""
    r = app.test_client().post("/api/v1/auth/token", json={"email": email, "password": f.PASSWORD})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _posts(app, n: int, path: str, headers: dict, **body):
    """n test-client POSTs of the same thing, released together."""

    def call():
        return app.test_client().post(path, headers=headers, **body)

    return race(app, *[call] * n)


def _no_server_errors(results) -> list[int]:
    codes = statuses(results)
    assert all(isinstance(c, int) and c < 500 for c in codes), codes
    for r in results:  # the losers' answers are the API's usual error body
        if r.status_code >= 400:
            assert {"code", "status", "message"} <= set(r.get_json()), r.get_json()
            assert r.get_json()["code"] == r.status_code
    return codes


def test_six_selections_at_once_give_one_winner(committed_app):
    with committed_app.app_context():
        enterprise, admin = f.user("enterprise"), f.admin()
        req = f.published_request(enterprise, selection_method="random")
        for _ in range(3):
            f.bid(f.active_agency("C03", reviewer=admin), req)
        timetravel.past_deadline(req)
        requests.advance(db.session.get(ServiceRequest, req.id))
        req_id, email = req.id, enterprise.email
        db.session.remove()
    headers = _bearer(committed_app, email)

    results = _posts(committed_app, 6, f"/api/v1/requests/{req_id}/selection", headers, json={})
    assert sorted(_no_server_errors(results)) == [200, 409, 409, 409, 409, 409]
    with committed_app.app_context():
        assert _count(AuditEntry, AuditEntry.action == "request.select", AuditEntry.object_id == req_id) == 1
        assert db.session.get(ServiceRequest, req_id).status == "publicity"


def test_six_ratings_of_one_order_give_one_rating(committed_app):
    with committed_app.app_context():
        enterprise, agency, order = f.accepted_order()
        order_id, agency_id, email = order.id, agency.agency.id, enterprise.email
        db.session.remove()
    headers = _bearer(committed_app, email)

    results = _posts(committed_app, 6, f"/api/v1/orders/{order_id}/rating", headers, json=SCORES)
    assert sorted(_no_server_errors(results)) == [201, 409, 409, 409, 409, 409]
    with committed_app.app_context():
        assert _count(Rating, Rating.order_id == order_id) == 1
        assert db.session.get(AgencyStats, agency_id).ratings_count == 1


def _vouchers(app) -> set[str]:
    folder = Path(app.config["UPLOAD_DIR"]) / "vouchers"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_six_full_payments_of_one_order_give_one_payment_and_one_file(committed_app):
    with committed_app.app_context():
        enterprise, _, order = f.accepted_order(price_fen=6_000_000)
        order_id, email = order.id, enterprise.email
        db.session.remove()
    headers = _bearer(committed_app, email)
    before = _vouchers(committed_app)
    refs = iter(range(1, 7))
    lock = threading.Lock()

    def pay():
        with lock:
            n = next(refs)
        return committed_app.test_client().post(
            f"/api/v1/orders/{order_id}/payments",
            data={
                "method": "offline",
                "reference": f"RACE-HX-{n:04d}",
                "amount_fen": "6000000",
                "voucher": (io.BytesIO(f.PDF), "回单.pdf"),
            },
            headers=headers,
            content_type="multipart/form-data",
        )

    results = race(committed_app, *[pay] * 6)
    assert sorted(_no_server_errors(results)) == [201, 409, 409, 409, 409, 409]
    with committed_app.app_context():
        payments = db.session.scalars(select(Payment).where(Payment.order_id == order_id)).all()
        assert [p.amount_fen for p in payments] == [6_000_000]
        # The winner's voucher is on disk under its final name; the losers left nothing (not even a temporary).
        assert _vouchers(committed_app) - before == {payments[0].voucher["key"]}


def test_five_identical_webhooks_at_once_count_once(committed_app):
    with committed_app.app_context():
        enterprise, agency, order = f.accepted_order(price_fen=4_200_000)
        order_id, agency_id, email = order.id, agency.agency.id, enterprise.email
        db.session.remove()
    r = committed_app.test_client().post(
        f"/api/v1/orders/{order_id}/payments",
        json={"method": "stripe"},
        headers=_bearer(committed_app, email),
    )
    assert r.status_code == 201, r.get_json()
    with committed_app.app_context():
        payment = db.session.get(Payment, r.get_json()["payment_id"])
        payment_id = payment.id
        payload, headers = signed(event("checkout.session.completed", session_completed(payment)))
        db.session.remove()

    results = _posts(committed_app, 5, "/api/v1/payments/stripe/webhook", headers, data=payload)
    assert _no_server_errors(results) == [200] * 5
    assert sorted(r.get_json()["outcome"] for r in results) == ["duplicate"] * 4 + ["paid"]
    assert_paid_once(committed_app, payment_id, agency_id, 4_200_000)


def test_readers_see_their_pages_while_a_deadline_passes(committed_app):
    """Readers load the front page, the list and the request page while its deadline (and grace) passes and
    the clock, running meanwhile, closes the bidding; an agency revises its bid up to the deadline."""
    from marketplace.chronograph.services import run_once
    from marketplace.common.clock import now
    from marketplace.search import backends

    with (
        committed_app.app_context()
    ):  # else the clock's first pass does it, for longer than the deadline takes
        if not backends.is_built():
            backends.reindex()
        run_once()  # the first pass's hourly work (kept figures, feeds) comes before the race, not in it
        db.session.remove()
    req_id, bid_id, _, email, deadline = bids_closing_soon(committed_app, timedelta(seconds=1))
    bidder = _bearer(committed_app, email)
    stop = time.monotonic() + 20
    pages = ["/", "/requests/", f"/requests/{req_id}"]

    def read(offset: int):
        def call():
            client, seen, i = committed_app.test_client(), [], offset
            while time.monotonic() < stop and now() < deadline + timedelta(seconds=GRACE + 1.5):
                seen.append((pages[i % 3], client.get(pages[i % 3]).status_code))
                i += 1
            return seen

        return call

    def revise():
        client, seen, price = committed_app.test_client(), [], 5_000_000
        while now() < deadline + timedelta(seconds=0.3):
            price -= 1
            r = client.patch(f"/api/v1/bids/{bid_id}", json={"price_fen": price}, headers=bidder)
            seen.append(r.status_code)
        return seen

    def clock():
        passes = []  # passes go on past the deadline until one has closed it (a slow pass may straddle the grace)
        while time.monotonic() < stop and (
            now() < deadline + timedelta(seconds=GRACE + 1.5) or not sum(passes)
        ):
            passes.append(run_once().requests)
            time.sleep(0.2)
        return passes

    results = race(committed_app, *[read(i) for i in range(6)], revise, clock)
    assert sum(results.pop()) == 1  # the clock closed it, once
    for r in results:
        assert isinstance(r, list), r
    reads = [status for seen in results[:-1] for _, status in seen]
    assert reads and set(reads) == {200}, sorted(set(reads))
    assert 200 in results[-1] and set(results[-1]) <= {200, 409}, sorted(set(results[-1]))
    with committed_app.app_context():
        req = db.session.get(ServiceRequest, req_id)
        assert req.status == "evaluating"
        assert _count(AuditEntry, AuditEntry.action == "request.close", AuditEntry.object_id == req_id) == 1
