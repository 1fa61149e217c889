"""PostgreSQL keeps the market's statements prepared across requests: psycopg prepares a statement once the
connection has run it five times, and forgets all of them at a rollback. Reads used to end with one, so nothing
ever stayed prepared and every statement of every page was planned again (~95 µs each, a quarter of the
database's time under the load test)."""

from __future__ import annotations

from types import SimpleNamespace

from marketplace.extensions import db
from tests import factories as f
from tests.racing import needs_postgresql

pytestmark = needs_postgresql


def _prepared_on_pooled_connections(app) -> tuple[int, list[int]]:
    """(how many connections the pool holds, the prepared statements of each): checked out all at once, so that
    each is a different connection."""
    with app.app_context():
        held = db.engine.pool.checkedin()
        raws = [db.engine.raw_connection() for _ in range(held)]
        try:
            counts = []
            for raw in raws:
                assert raw.driver_connection.prepared_max == app.config["DB_PREPARED_MAX"]
                cursor = raw.cursor()
                cursor.execute("SELECT count(*) FROM pg_prepared_statements")
                counts.append(cursor.fetchone()[0])
                cursor.close()
                raw.rollback()
        finally:
            for raw in raws:
                raw.close()
    return held, counts


def test_pages_read_keep_their_statements_prepared_for_the_next_request(committed_app):
    with committed_app.app_context():
        enterprise = f.user("enterprise")
        item = f.market_item()
        f.active_agency(item.category.code)
        db.session.commit()
        who = SimpleNamespace(email=enterprise.email)
        db.session.remove()
    client = committed_app.test_client()
    assert f.login(client, who).status_code == 302
    for _ in range(7):  # logged in: no page cache; the same statements each time
        assert client.get("/agencies/").status_code == 200
        assert client.get("/api/v1/agencies").status_code == 200
    held, counts = _prepared_on_pooled_connections(committed_app)
    assert held >= 1
    # the list's and the log-in's statements, run seven times each on the one connection the requests used
    assert max(counts) >= 5, counts


def test_connections_compile_no_statement_just_in_time(committed_app):
    """JIT compilation is off on every connection of the market (the web's, the clock's, the commands'): it
    cost more than the short statements it compiled (48 ms for the clock's 30 ms query of due orders)."""
    with committed_app.app_context():
        assert db.session.execute(db.text("SHOW jit")).scalar() == "off"
        db.session.rollback()
