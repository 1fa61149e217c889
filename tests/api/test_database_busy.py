"""A busy database is answered politely, on SQLite and PostgreSQL: no free connection → 503 with Retry-After (a
Chinese page, or the API's error body); a write that waited too long for a lock → 409, nothing saved."""

import threading

import pytest
from sqlalchemy import text, update

from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.ratings.models import Rating
from tests import factories as f
from tests.api.test_ratings_stats_api import SCORES
from tests.racing import committed

pytestmark = pytest.mark.sqlite  # also run on SQLite, the embedded default (tests/run.sh)


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    app, close = committed(
        tmp_path_factory,
        DB_POOL_SIZE=2,
        DB_MAX_OVERFLOW=0,
        DB_WRITE_RESERVE=0,
        DB_POOL_TIMEOUT=0.3,
        DB_LOCK_TIMEOUT_MS=300,
    )
    yield app
    close()


def test_no_free_connection_is_answered_503_with_retry_after(committed_app):
    client = committed_app.test_client()
    with committed_app.app_context():
        held = [db.engine.connect() for _ in range(2)]  # every connection of the pool is in use
        try:
            page = client.get("/")
            api = client.get("/api/v1/requests")
        finally:
            for conn in held:
                conn.close()
    assert page.status_code == 503 and page.headers["Retry-After"] == "2"
    assert "系统繁忙，请稍后再试。" in page.get_data(as_text=True)
    assert api.status_code == 503 and api.headers["Retry-After"] == "2"
    assert api.get_json() == {
        "code": 503,
        "status": "Service Unavailable",
        "message": "系统繁忙，请稍后再试。",
    }
    assert client.get("/").status_code == 200  # connections back: pages as usual


def test_a_write_that_waits_too_long_for_a_lock_gets_409_and_saves_nothing(committed_app):
    with committed_app.app_context():
        enterprise, _, order = f.accepted_order()
        order_id = order.id
        headers = f.token(committed_app.test_client(), enterprise)
        db.session.remove()
        holder = db.engine.connect()
        # Another transaction holds the order's row (PostgreSQL) or the database's write lock (SQLite).
        holder.execute(update(Order).where(Order.id == order_id).values(updated_at=Order.updated_at))
    release = threading.Timer(5, holder.rollback)  # were the wait unlimited, the test still ends
    release.start()
    try:
        r = committed_app.test_client().post(
            f"/api/v1/orders/{order_id}/rating", json=SCORES, headers=headers
        )
    finally:
        release.cancel()
        holder.rollback()
        holder.close()
    assert r.status_code == 409, r.get_json()
    assert r.get_json() == {
        "code": 409,
        "status": "Conflict",
        "message": "其他人同时修改了此记录，请刷新后重试。",
    }
    with committed_app.app_context():
        assert db.session.query(Rating).filter_by(order_id=order_id).count() == 0
    again = committed_app.test_client().post(
        f"/api/v1/orders/{order_id}/rating", json=SCORES, headers=headers
    )
    assert again.status_code == 201


def test_on_postgresql_a_request_is_limited_and_a_command_is_not(committed_app):
    """The time limits are the connection's own defaults (set once when it opens); a transaction outside a request
    (a command, the clock) lifts them for itself, and the next request on the same connection has them again."""
    with committed_app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's lock_timeout and statement_timeout")

        def limits() -> tuple[str, str]:
            row = db.session.execute(
                text("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')")
            )
            found = tuple(row.one())
            db.session.rollback()
            return found

        assert limits() == ("0", "0")  # a command
        with committed_app.test_request_context("/"):
            assert limits() == ("300ms", f"{committed_app.config['DB_STATEMENT_TIMEOUT_MS'] // 1000}s")
        assert limits() == ("0", "0")
