"""PostgreSQL restarted during a selection, and stopped for a while: the request in flight fails cleanly (503 with
a clear message, JSON in the API, a Chinese page in the browser — never a 500), the selection is done whole or not
at all, and the app recovers by itself on the next request (pool_pre_ping replaces the dead connections).

Runs against a throwaway cluster started here (never the suite's server), in the PostgreSQL pass of the suite."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from marketplace.audit import chain
from marketplace.audit.models import AuditEntry
from marketplace.auth.models import User
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.requests.models import RequestStatus, ServiceRequest
from tests import factories as f
from tests.conftest import build_app, make_database
from tests.faults.servers import ThrowawayPostgres
from tests.racing import bids_closing_soon, needs_postgresql

pytestmark = needs_postgresql
GRACE = 0.2


@pytest.fixture(scope="module")
def cluster():
    made = ThrowawayPostgres()
    yield made
    made.destroy()


@pytest.fixture(scope="module")
def committed_app(cluster, tmp_path_factory):
    url, _drop = make_database(cluster.url, tmp_path_factory.mktemp("db"))  # empty: build_app migrates it
    app, _ = build_app(
        tmp_path_factory,
        SQLALCHEMY_DATABASE_URI=url,
        MARKET_CLOSE_GRACE_SECONDS=GRACE,
        DB_LOCK_TIMEOUT_MS=30_000,
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _state(app, request_id: int):
    with app.app_context():
        req = db.session.get(ServiceRequest, request_id)
        selected = db.session.scalar(
            select(func.count()).where(
                AuditEntry.action == "request.select", AuditEntry.object_id == request_id
            )
        )
        out = (req.status, req.winner_bid_id, selected, chain.verify(db.session))
        db.session.remove()
    return out


def _wait_for_lock_waiter(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            for _ in range(200):
                waiting = conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock'"
                    )
                )
                if waiting:
                    return
                time.sleep(0.1)
        raise AssertionError("the selection never reached the audit chain's lock")
    finally:
        engine.dispose()


def test_a_restart_during_a_selection_fails_cleanly_and_the_app_recovers(committed_app, cluster):
    app = committed_app
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    request_id, *_, deadline = bids_closing_soon(app, timedelta(seconds=1))
    with app.app_context():
        owner = db.session.get(User, db.session.get(ServiceRequest, request_id).created_by_id)
        bearer = f.token(app.test_client(), owner)
        db.session.remove()
    time.sleep(max(0.0, (deadline - now()).total_seconds()) + GRACE + 0.3)
    selection = f"/api/v1/requests/{request_id}/selection"

    # The selection has flushed everything and waits for the audit chain's lock when the server restarts.
    blocker_engine = create_engine(url)
    blocker = blocker_engine.connect()
    blocker.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))
    answers: list = []
    caller = threading.Thread(
        target=lambda: answers.append(app.test_client().post(selection, json={}, headers=bearer))
    )
    caller.start()
    _wait_for_lock_waiter(url)
    cluster.restart()
    caller.join(30)
    blocker.invalidate()
    blocker_engine.dispose()

    [r] = answers
    assert r.status_code == 503, r.get_data(as_text=True)
    assert r.get_json()["code"] == 503 and "数据库" in r.get_json()["message"]
    assert r.headers["Retry-After"]
    status, winner, selected, finding = _state(app, request_id)
    assert (status, winner, selected) == (RequestStatus.BIDDING, None, 0)  # none of it
    assert finding.ok, finding.problem

    # The next request finds a live connection by itself, and the selection goes through once.
    client = app.test_client()
    assert client.get(f"/api/v1/requests/{request_id}").status_code == 200
    r = client.post(selection, json={}, headers=bearer)
    assert r.status_code == 200, r.get_json()
    status, winner, selected, finding = _state(app, request_id)
    assert (status, winner, selected) == (RequestStatus.PUBLICITY, r.get_json()["winner_bid_id"], 1)
    assert finding.ok, finding.problem


def test_a_stopped_database_gets_a_clear_503_and_service_resumes(committed_app, cluster):
    client = committed_app.test_client()
    assert client.get("/requests/").status_code == 200
    cluster.stop()
    try:
        page = client.get("/requests/")
        assert page.status_code == 503
        text_ = page.get_data(as_text=True)
        assert "数据库暂时无法连接" in text_ and "Traceback" not in text_
        api = client.get("/api/v1/requests")
        assert api.status_code == 503 and api.get_json()["status"] == "Service Unavailable"
    finally:
        cluster.start()
    assert client.get("/requests/").status_code == 200
    assert client.get("/api/v1/requests").status_code == 200
