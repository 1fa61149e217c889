"""A gunicorn worker killed (SIGKILL) while a selection is in flight: the client gets an error, the database holds
the whole selection or none of it, the audit chain still verifies, and a retry on the respawned worker selects
once. On PostgreSQL the selection is held at its last step — every change flushed, the audit chain's lock awaited
before the commit — by a test connection holding that lock; on SQLite by a test connection holding the write
lock (the selection waits for it before it begins)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
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
from tests.faults.servers import Gunicorn
from tests.racing import bids_closing_soon, committed

GRACE = 0.2


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    app, close = committed(tmp_path_factory, MARKET_CLOSE_GRACE_SECONDS=GRACE, DB_LOCK_TIMEOUT_MS=30_000)
    yield app
    close()


def call(method: str, url: str, body: dict | None = None, headers: dict | None = None, timeout: float = 40):
    """(status, JSON) of one HTTP call; the exception itself when the connection broke."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except OSError as exc:  # reset, closed without an answer
        return exc, None


@contextmanager
def held_lock(app):
    """Hold the lock the selection will wait for, until the block ends."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield lambda: time.sleep(1.5)  # nothing to observe: give the request time to reach the lock
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = create_engine(url)
    conn = engine.connect()
    conn.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))

    def wait_blocked():
        watcher = engine.connect()
        try:
            for _ in range(200):
                waiting = watcher.scalar(
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
            watcher.close()

    try:
        yield wait_blocked
    finally:
        conn.rollback()
        conn.close()
        engine.dispose()


def _state(app, request_id: int):
    with app.app_context():
        req = db.session.get(ServiceRequest, request_id)
        audited = dict(
            db.session.execute(
                select(AuditEntry.action, func.count())
                .where(AuditEntry.action.like("request.%"), AuditEntry.object_id == request_id)
                .group_by(AuditEntry.action)
            ).all()
        )
        finding = chain.verify(db.session)
        out = (req.status, req.winner_bid_id, audited, finding)
        db.session.remove()
    return out


def test_a_worker_killed_mid_selection_leaves_all_or_nothing(committed_app):
    app = committed_app
    request_id, *_, deadline = bids_closing_soon(app, timedelta(seconds=1))
    with app.app_context():
        owner = db.session.get(User, db.session.get(ServiceRequest, request_id).created_by_id).email
        db.session.remove()
    server = Gunicorn(app, workers=1)  # a sync worker, as `make serve` runs them
    # marketplace/serving.py: the worker loaded the search analyzer before it answered anyone
    assert "search analyzer loaded" in server.output()
    try:
        status, token = call(
            "POST", f"{server.url}/api/v1/auth/token", {"email": owner, "password": f.PASSWORD}
        )
        assert status == 200, token
        bearer = {"Authorization": f"Bearer {token['token']}"}
        time.sleep(max(0.0, (deadline - now()).total_seconds()) + GRACE + 0.3)
        selection = f"{server.url}/api/v1/requests/{request_id}/selection"
        outcome: list = []
        with held_lock(app) as wait_blocked:
            caller = threading.Thread(target=lambda: outcome.append(call("POST", selection, {}, bearer)))
            caller.start()
            wait_blocked()
            [worker] = server.workers()
            os.kill(worker, signal.SIGKILL)
            caller.join(20)
        [(answer, _)] = outcome
        assert isinstance(answer, Exception) or answer >= 500  # the client learns it did not go through
        status, winner, audited, finding = _state(app, request_id)
        # none of it: the bidding is not even closed (the selection's own close was part of the transaction)
        assert (status, winner) == (RequestStatus.BIDDING, None)
        assert "request.select" not in audited and "request.close" not in audited
        assert finding.ok, finding.problem

        server.wait_up()  # the master has started a new worker
        status, body = call("POST", selection, {}, bearer)
        assert status == 200, body
        status, winner, audited, finding = _state(app, request_id)
        assert status == RequestStatus.PUBLICITY and winner == body["winner_bid_id"]
        assert audited["request.select"] == 1 and audited["request.close"] == 1
        assert finding.ok, finding.problem
    finally:
        server.stop()
