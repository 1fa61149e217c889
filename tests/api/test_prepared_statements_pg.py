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
                raw.commit()  # (a rollback would make psycopg forget them: a second look would find none)
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


def test_a_refusal_that_wrote_nothing_leaves_the_statements_prepared(committed_app):
    """A refused action rolled its transaction back, and a ROLLBACK makes psycopg forget every statement prepared
    on the connection: a busy market refuses a bid every second (after the deadline, or a second one), so nothing
    stayed prepared. A refusal that wrote nothing now ends with a COMMIT (common/uow.py `end_refused`): the
    statements the connection had prepared are still there after it."""
    with committed_app.app_context():
        agency = f.active_agency("C03")
        req = f.published_request()
        f.bid(agency, req)
        db.session.commit()
        who = SimpleNamespace(email=agency.email)
        req_id = req.id
        db.session.remove()
    client = committed_app.test_client()
    h = f.token(client, who)
    for _ in range(7):  # the same statements each time: prepared from the fifth on
        assert client.get("/api/v1/agencies/me/bids", headers=h).status_code == 200
    _held, before = _prepared_on_pooled_connections(committed_app)
    assert max(before) >= 5, before
    # refused: the agency bid already (its request read under a shared lock, its bid locked)
    for _ in range(3):
        r = client.post(
            f"/api/v1/requests/{req_id}/bids",
            json={"price_fen": 19_000_000, "promised_days": 30, "plan": "再次投标：现场踏勘后编制报告书。"},
            headers=h,
        )
        assert r.status_code == 409, r.get_json()
    _held, after = _prepared_on_pooled_connections(committed_app)
    assert max(after) >= max(before), (before, after)


def test_only_a_transaction_that_ran_nothing_but_reads_counts_as_having_written_nothing(committed_app):
    """The rule `end_refused` follows: reads (row locks included) wrote nothing; any other statement, an object
    waiting to be flushed or a file waiting for the commit did — and that transaction is rolled back as before."""
    from marketplace.auth.models import User
    from marketplace.common import uow, uploads

    with committed_app.app_context():
        user = f.user("enterprise")
        db.session.commit()
        db.session.execute(db.select(User).where(User.id == user.id).with_for_update())
        assert uow.wrote_nothing(db.session())
        user.phone = "13800000000"
        assert not uow.wrote_nothing(db.session())  # dirty: a commit would flush it
        db.session.flush()
        assert not uow.wrote_nothing(db.session())  # the UPDATE ran
        db.session.rollback()
        db.session.execute(db.text("SELECT 1"))
        assert uow.wrote_nothing(db.session())
        db.session.execute(db.text('UPDATE "user" SET phone = phone WHERE id = :i'), {"i": user.id})
        assert not uow.wrote_nothing(db.session())
        db.session.rollback()
        db.session.execute(db.text("SELECT 1"))
        uploads.discard("qualifications", "kept-until-the-commit.pdf")  # a file removed if this commits
        assert not uow.wrote_nothing(db.session())
        db.session.rollback()
        db.session.remove()
