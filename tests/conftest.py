"""Fixtures: one app per session on a migrated database; every test runs in a transaction rolled back after it.

The database is SQLite unless TEST_DATABASE_URL points at a PostgreSQL server (`make test` starts one and runs
the suite on both). Each request of the test client runs in a fresh context, as in production, so login state
and per-request caches never leak between requests of one test.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.orm import scoped_session, sessionmaker

from marketplace.app import create_app
from marketplace.extensions import db


class IsolatedClient(FlaskClient):
    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_database(base_url: str | None, folder, template: str | None = None) -> tuple[str, callable]:
    """A fresh database: a SQLite file, or a new database on the PostgreSQL server; empty, or a copy of `template`
    (a URL from `make_database`). Returns (url, drop)."""
    if not base_url:
        path = folder / f"test-{uuid.uuid4().hex[:8]}.db"
        if template:
            shutil.copyfile(template.removeprefix("sqlite:///"), path)
        return f"sqlite:///{path}", lambda: None
    base_url = base_url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"mp_test_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    url = base_url.rsplit("/", 1)[0] + "/" + name

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


_TEMPLATE: dict[str, str] = {}  # per process: the URL of a database migrated once, which new ones copy


def _migrated_template(base_url: str | None) -> str:
    """A database brought to the head revision once per test process; every app's database starts as a copy of it
    (CREATE DATABASE … TEMPLATE on PostgreSQL, a file copy on SQLite) instead of running every migration again.
    The migrations themselves are still run here, and tests/unit/test_schema.py and the migration tests check them."""
    key = base_url or "sqlite"
    if key not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="mp-template-"))
        url, drop = make_database(base_url, folder)
        app = create_app(
            {"MARKET_ENV": "testing", "TESTING": True, "SECRET_KEY": "template", "INSTANCE_DIR": str(folder)}
            | {"SQLALCHEMY_DATABASE_URI": url, "SEARCH_INDEX_DIR": str(folder / "index")}
        )
        with app.app_context():
            upgrade()
            if db.engine.dialect.name == "postgresql":
                _without_autovacuum()
            db.engine.dispose()
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        atexit.register(drop)
        _TEMPLATE[key] = url
    return _TEMPLATE[key]


def _without_autovacuum() -> None:
    """No autovacuum on the template's tables (CREATE DATABASE … TEMPLATE copies the setting to every test
    database). A worker's database sees thousands of rolled-back inserts; autovacuum then ANALYZEs a table at a
    moment no test chooses, and an empty table's statistics turn the plan tests' choice of index (tests/plans.py)
    into a matter of timing: CI once planned market_agency_month by its category index after such an ANALYZE.
    Without it a table keeps no statistics unless a test takes them itself (on a database of its own)."""
    tables = db.session.scalars(
        text("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()")
    ).all()
    for table in tables:
        db.session.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    db.session.commit()


def migrated_database(base_url: str | None, folder) -> tuple[str, callable]:
    """A fresh database at the head revision: a copy of the process's migrated template. Returns (url, drop)."""
    return make_database(base_url, folder, template=_migrated_template(base_url))


def build_app(tmp_path_factory, **extra):
    instance = tmp_path_factory.mktemp("instance")
    if (
        "SQLALCHEMY_DATABASE_URI" in extra
    ):  # a database the caller made (tests/faults: on a throwaway cluster)
        url, drop = extra.pop("SQLALCHEMY_DATABASE_URI"), lambda: None
    else:
        url, drop = migrated_database(os.environ.get("TEST_DATABASE_URL"), instance)
    app = create_app(
        {
            "MARKET_ENV": "testing",
            "TESTING": True,
            "SECRET_KEY": "test-secret-not-for-production",
            "INSTANCE_DIR": str(instance),
            "UPLOAD_DIR": str(instance / "uploads"),
            "SEARCH_INDEX_DIR": str(instance / "search-index"),
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; production uses scrypt
            # Most tests publish straight to bidding, and with any ceiling: announcement review and the fiscal
            # procurement threshold are off here and turned on by the tests about them (tests/review.py).
            "MARKET_REVIEW_ANNOUNCEMENTS": 0,
            "MARKET_FISCAL_THRESHOLD_FEN": 0,
            # The order flow most tests walk: the agency's confirmation starts the clock. The contract step (the
            # default in production) is switched on by the tests about it (tests/api/test_contracts.py).
            "MARKET_CONTRACT_STEP": False,
            # The clock's monthly reports (a PDF each) are switched on by the tests about them
            # (tests/api/test_stats_reports.py): on the first days of a month, every clock pass of a test whose
            # dates were moved into last month would otherwise render last month's reports again (seconds each).
            "REPORTS_MONTHLY": 0,
            **extra,
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()
    return app, drop


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app, drop = build_app(tmp_path_factory)
    yield app
    with app.app_context():
        db.engine.dispose()
    drop()


@contextlib.contextmanager
def rolled_back(app):
    """An app context whose session runs inside one outer transaction that is rolled back at the end, including
    the commits services made inside it (they become savepoints)."""
    ctx = app.app_context()
    ctx.push()
    connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    from flask.globals import _cv_app

    def scope():
        return id(_cv_app.get(None))

    db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=True),
        scopefunc=scope,
    )
    try:
        yield connection
    finally:
        db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()
        ctx.pop()


@pytest.fixture(scope="module")
def module_transaction(app):
    """One rolled-back transaction (and app context) for a whole module, for a module-scoped fixture that builds
    what all its tests read (tests/market.py's market costs seconds): each test then runs in a savepoint of it,
    undone after the test (`_transaction`). The shared fixture keeps ids, not ORM objects: each test starts with a
    fresh session."""
    with rolled_back(app) as connection:
        yield connection


@pytest.fixture(autouse=True)
def _transaction(request, app):
    """Roll back everything a test did."""
    if "live_server" in request.fixturenames or "committed_app" in request.fixturenames:
        yield
        return
    if "module_transaction" in request.fixturenames:
        connection = request.getfixturevalue("module_transaction")
        db.session.remove()  # the module's fixture ended its work; the test's session starts inside the savepoint
        savepoint = connection.begin_nested()
        try:
            yield
        finally:
            db.session.remove()
            savepoint.rollback()
        return
    with rolled_back(app):
        yield


@pytest.fixture(scope="session")
def route_walk(app):
    """Every GET route fetched once by each of the five viewers in tests/market.py's market, kept as (status,
    readable text) for the tests that look for leaks in them; the market itself is rolled back at once."""
    from tests import routes

    with rolled_back(app):
        return routes.walk(app)


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    """An app on a fresh database of its own whose commits are real (threads, a live server). Modules that need
    other settings define their own, with tests/racing.py's `committed`."""
    from tests.racing import committed

    app, close = committed(tmp_path_factory)
    yield app
    close()


@pytest.fixture
def review_on(app, monkeypatch):
    """Announcement review and the fiscal procurement threshold on, as a real market has them (the defaults)."""
    from tests.review import THRESHOLD

    monkeypatch.setitem(app.config, "MARKET_REVIEW_ANNOUNCEMENTS", 1)
    monkeypatch.setitem(app.config, "MARKET_FISCAL_THRESHOLD_FEN", THRESHOLD)


@pytest.fixture
def client(app):
    return app.test_client()


# --- both cores (tests/run.sh runs pytest with `-n 2 --dist loadfile`: each module in one worker) -----------------

# The longest modules start first (longest-processing-time order: what is left at the end is short, so both workers
# finish together). Measured worker-seconds on this 2-core machine (TEST_TIMINGS), PostgreSQL pass unless marked;
# modules not listed follow in collection order. tests/run.sh keeps this order (--no-loadscope-reorder).
HEAVY_FIRST = (
    "tests/unit/test_demo_stats.py",  # SQLite only: the whole demo, ~130 s
    "tests/e2e/test_phone_and_accessibility.py",  # every page at 390 px and axe, ~150 s
    "tests/unit/test_search.py",  # ~55 s (SQLite ~40)
    "tests/api/test_reads_change_nothing.py",  # ~60 s
    "tests/api/test_sealed_routes.py",  # the walk of every route (`route_walk`) and the three leak checks on it
    "tests/e2e/test_request_walk.py",
    "tests/e2e/test_complaint_walk.py",
    "tests/api/test_api_fuzz.py",
    "tests/e2e/test_inspection_walk.py",
    "tests/e2e/test_staff_help_walk.py",
    "tests/unit/test_many_machines.py",
    "tests/unit/test_forms_fit.py",
    "tests/e2e/test_announcement_review_walk.py",
    "tests/e2e/test_credit_walk.py",
    "tests/e2e/test_payment_walk.py",
    "tests/api/test_concurrency_http.py",  # SQLite ~15 s
    "tests/api/test_payments_concurrency.py",
    # (the complaint, objection and authorization modules left this list when their worlds became module-wide,
    # tests/kept.py: ~10 s each now)
)

# Modules that touch neither the app nor a database (pure functions, the translation catalogue): they give the same
# answer on either database, so they run once, in the PostgreSQL run, not again on SQLite.
NO_DATABASE = (
    "tests/unit/test_translations.py",
    "tests/unit/test_areas.py",
    "tests/unit/test_draw.py",
    "tests/unit/test_fee_rules.py",
)


def pytest_collection_modifyitems(config, items):
    # The embedded default's run (tests/run.sh) takes the unit tests, the demo and migrations, and the modules
    # marked `sqlite` (the route walk, locking and concurrency, money limits, dialect-specific figures).
    for item in items:
        module = item.nodeid.split("::")[0]
        if module.startswith("tests/unit/") and module not in NO_DATABASE:
            item.add_marker(pytest.mark.sqlite)
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    # a stable sort: the other modules keep their order
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


# --- a real Redis for the many-machines tests (tests/run.sh installs Debian's redis-server) -------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A throwaway redis-server on a free loopback port, no persistence; skipped when the binary is absent
    (outside tests/run.sh)."""
    import socket
    import subprocess
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (tests/run.sh installs Debian's redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(
        [*args, "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        server.kill()
        pytest.fail("redis-server did not start")
    yield url
    server.terminate()
    server.wait(5)


# --- where the time goes (TEST_TIMINGS=FILE: each phase's seconds appended as it ends, kept even if the run is cut) --


def pytest_runtest_logreport(report):
    """Seconds, phase, test, the worker (gw0, gw1 … or main) and when the phase ended (Unix time), one line per
    phase: written where the test ran (xdist's controller, which hears of it too, writes nothing)."""
    path = os.environ.get("TEST_TIMINGS")
    if path and not hasattr(report, "node"):  # `node`: a report the controller received from a worker
        import time

        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{report.duration:.2f}\t{report.when}\t{report.nodeid}\t{worker}\t{time.time():.1f}\n")
