"""The application factory."""

from __future__ import annotations

import functools
import logging
import threading

from flask import Flask, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.routing import IntegerConverter

from marketplace.common import database, uow
from marketplace.common.clock import ARRIVAL_KEY, now
from marketplace.config import ROOT, load_config
from marketplace.extensions import api, babel, cache, csrf, db, limiter, login_manager, migrate, talisman


class Marketplace(Flask):
    """Flask, staying polite when the database is busy: readers never take the last connection.

    GET requests use at most DB_POOL_SIZE + DB_MAX_OVERFLOW − DB_WRITE_RESERVE connections at once (the others
    wait at a gate, and after DB_POOL_TIMEOUT are answered 503), so a bid or a payment finds a connection however
    many pages are being read. (Reads never write — common/uow.py — so a GET never meets a write lock.)"""

    reader_gate: threading.BoundedSemaphore | None = None

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        from marketplace.common import assets

        return assets.max_age(self, filename) or super().get_send_file_max_age(filename)

    def full_dispatch_request(self):
        gate = self.reader_gate
        if gate is None or request.method not in database.SAFE_METHODS or request.endpoint == "static":
            return super().full_dispatch_request()
        if not gate.acquire(timeout=self.config["DB_POOL_TIMEOUT"]):
            busy = PoolTimeout("every database connection for readers is in use")
            return self.finalize_request(self.handle_user_exception(busy))
        try:
            return super().full_dispatch_request()
        finally:
            db.session.remove()  # its connection goes back before the next reader passes the gate
            gate.release()


class StampArrival:
    """WSGI middleware: note when each request arrived, before it waits for a connection or a lock."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        environ.setdefault(ARRIVAL_KEY, now())
        return self.wsgi_app(environ, start_response)


def create_app(config: dict | None = None) -> Flask:
    settings = load_config(config)
    app = Marketplace(
        "marketplace",
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=settings["INSTANCE_DIR"],
    )
    app.config.update(settings)
    from marketplace.regions.services import check_market_area

    check_market_area(settings["MARKET_AREA_CODE"])
    app.wsgi_app = StampArrival(app.wsgi_app)
    readers = settings["DB_POOL_SIZE"] + settings["DB_MAX_OVERFLOW"] - settings["DB_WRITE_RESERVE"]
    if settings["DB_WRITE_RESERVE"] > 0 and readers >= 1:
        app.reader_gate = threading.BoundedSemaphore(readers)
    app.url_map.converters["int"] = BoundedInt
    app.json.ensure_ascii = False
    logging.basicConfig(level=logging.INFO)
    register_extensions(app)
    register_subscribers()
    register_blueprints(app)
    keep_openapi_document(app)
    uow.wrap_views(app)  # every view and API resource is one unit of work
    register_template_helpers(app)
    register_commands(app)
    from marketplace.common.web import register_error_handlers

    register_error_handlers(app)
    return app


class BoundedInt(IntegerConverter):
    """Ids in URLs fit the database's integer: a larger number is simply not found (404), never an overflow."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _select_locale() -> str:
    from flask import current_app

    if not has_request_context():  # CLI commands, background work
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang") if not request.path.startswith("/api/") else None
    if chosen in languages:
        return chosen
    if request.path.startswith("/api/"):
        best = request.accept_languages.best_match(["zh", "en"], default="zh")
        return "en" if best == "en" else "zh_Hans"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _sqlite_pragmas(dbapi_connection, _record, busy_timeout_ms: int = 5000) -> None:
    # Let SQLAlchemy (not pysqlite) manage transactions, so SAVEPOINTs and BEGIN IMMEDIATE work.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Wait for the write lock instead of failing at once (0 = "no limit" in the settings: a minute here).
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms) or 60_000}")
    # Write-ahead log: readers never wait for the writer, nor the writer for readers.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    from marketplace.search.sessions import draining

    # The search's own short sessions (a second connection) must not queue behind their request's write lock.
    immediate = database.wants_write_lock() and not draining.get()
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _postgresql_begin(conn, lock_timeout_ms: int = 0, statement_timeout_ms: int = 0) -> None:
    """A web request waits at most this long for a row lock and for one statement; commands, the clock and other
    work outside a request are not limited. The limits are the connection's own settings, changed only when a
    transaction of the other kind begins on it (a `set_config` at every BEGIN was a round trip per request)."""
    wanted = (int(lock_timeout_ms), int(statement_timeout_ms)) if has_request_context() else (0, 0)
    if conn.info.get(_PG_LIMITS) == wanted:
        return
    sql = (
        f"SELECT set_config('lock_timeout', '{wanted[0]}ms', {{local}}),"
        f" set_config('statement_timeout', '{wanted[1]}ms', {{local}})"
    )
    from psycopg.pq import TransactionStatus

    raw = conn.connection.dbapi_connection
    if raw.info.transaction_status == TransactionStatus.IDLE:
        # outside a transaction, so that a rollback of the coming one does not undo it
        raw.autocommit = True
        try:
            raw.execute(sql.format(local="false"))
        finally:
            raw.autocommit = False
        conn.info[_PG_LIMITS] = wanted
    else:  # (not expected: a transaction already open) for this transaction only
        conn.exec_driver_sql(sql.format(local="true"))


def _postgresql_connect(dbapi_connection, _record, prepared_max: int = 100) -> None:
    """How many statements the connection keeps prepared (psycopg's least-recently-used cache), and no JIT
    compilation: the market's statements are short, and PostgreSQL compiled each one its planner costed above
    jit_above_cost on every run — the clock's due orders, a 30 ms query, spent 48 ms more compiling each pass.
    (A SET once per new connection, not a startup option, which PgBouncer would refuse.)"""
    if prepared_max > 0:
        dbapi_connection.prepared_max = prepared_max
    autocommit = dbapi_connection.autocommit
    # outside a transaction: the setting lasts the connection's life, and no rollback can undo it
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute("SET jit = off")
    finally:
        dbapi_connection.autocommit = autocommit


_PG_LIMITS = "mp_pg_limits"  # the pooled connection's info: the (lock, statement) limits it has now


def register_extensions(app: Flask) -> None:
    import marketplace.models  # noqa: F401  (every table known before migrations or queries)
    from marketplace.common import inputs

    uow.register(app)  # first: a GET never writes, from the first hook on
    inputs.register(app)  # first, so that nothing reads a request's input before it is checked and cleaned
    db.init_app(app)
    from marketplace.common.uploads import register_listeners as register_upload_listeners
    from marketplace.search.hooks import register_listeners

    register_upload_listeners()  # uploaded files take their final name only when their transaction commits
    register_listeners()  # the search index follows every session's commits
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            pragmas = functools.partial(_sqlite_pragmas, busy_timeout_ms=app.config["DB_LOCK_TIMEOUT_MS"])
            event.listen(engine, "connect", pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        elif engine.dialect.name == "postgresql":
            timeouts = functools.partial(
                _postgresql_begin,
                lock_timeout_ms=app.config["DB_LOCK_TIMEOUT_MS"],
                statement_timeout_ms=app.config["DB_STATEMENT_TIMEOUT_MS"],
            )
            event.listen(engine, "begin", timeouts)
            prepared = functools.partial(_postgresql_connect, prepared_max=app.config["DB_PREPARED_MAX"])
            event.listen(engine, "connect", prepared)
            uow.follow_writes(engine)  # a refusal that wrote nothing ends without a ROLLBACK (common/uow.py)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    limiter.init_app(app)
    production = app.config["MARKET_ENV"] == "production"
    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the reverse proxy
        strict_transport_security=production,
        session_cookie_secure=production,
        frame_options="DENY",
        content_security_policy={
            "default-src": "'self'",
            "img-src": ["'self'", "data:"],
            "style-src": "'self'",
            "script-src": "'self'",
            "object-src": "'none'",
            "base-uri": "'self'",
            # Stripe Checkout: the pay button's POST is answered with a redirect to Stripe's hosted page.
            "form-action": ["'self'", "https://checkout.stripe.com"],
        },
        referrer_policy="strict-origin-when-cross-origin",
    )

    from marketplace.auth import sessions

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "warning"
    login_manager.login_message = _l("Please log in to access this page.")

    @login_manager.user_loader
    def load_user(user_id: str):
        # The cookie alone is not enough: its server-side session must still be live (auth/sessions.py).
        return sessions.user_for(user_id, session.get(sessions.SESSION_KEY))

    from marketplace.auth import gate

    gate.register(app)  # staff-only areas: authorize before any input is validated
    api.init_app(app)
    # The API authenticates with bearer tokens only, so session-cookie CSRF does not apply to it.
    for blueprint_name in ("api-docs",):
        if blueprint_name in app.blueprints:
            csrf.exempt(app.blueprints[blueprint_name])
    from marketplace.common import cache as shared_cache
    from marketplace.common import httpcache

    cache.init_app(app)
    shared_cache.register(app)  # the market's generation follows every commit that changes a public table
    httpcache.register(app)  # last: ETag / Cache-Control for anonymous reads, private for everyone else


def register_subscribers() -> None:
    """Who listens to the market's domain events (see marketplace/events.py and docs/architecture.md)."""
    from marketplace.agencies import subscribers as agencies
    from marketplace.credit import subscribers as credit
    from marketplace.fees import subscribers as fees
    from marketplace.notifications import subscribers as notifications
    from marketplace.orders import subscribers as orders
    from marketplace.requests import subscribers as requests
    from marketplace.tally import subscribers as tally

    for module in (agencies, credit, fees, orders, requests, tally, notifications):
        module.connect()


def register_blueprints(app: Flask) -> None:
    from marketplace.agencies import api as agencies_api
    from marketplace.agencies import views as agencies_views
    from marketplace.auth import api as auth_api
    from marketplace.auth import views as auth_views
    from marketplace.catalogue import api as catalogue_api
    from marketplace.catalogue import views as catalogue_views
    from marketplace.complaints import api as complaints_api
    from marketplace.complaints import views as complaints_views
    from marketplace.credit import api as credit_api
    from marketplace.credit import views as credit_views
    from marketplace.fees import api as fees_api
    from marketplace.fees import views as fees_views
    from marketplace.home import agencies as agencies_pages
    from marketplace.home import catalogue as catalogue_pages
    from marketplace.home import views as home_views
    from marketplace.inspections import api as inspections_api
    from marketplace.inspections import views as inspections_views
    from marketplace.notifications import api as notifications_api
    from marketplace.notifications import views as notifications_views
    from marketplace.opendata import api as opendata_api
    from marketplace.opendata import views as opendata_views
    from marketplace.orders import api as orders_api
    from marketplace.orders import views as orders_views
    from marketplace.payments import api as payments_api
    from marketplace.payments import views as payments_views
    from marketplace.ratings import api as ratings_api
    from marketplace.ratings import views as ratings_views
    from marketplace.regions import api as regions_api
    from marketplace.reports import api as reports_api
    from marketplace.reports import views as reports_views
    from marketplace.requests import api as requests_api
    from marketplace.requests import views as requests_views
    from marketplace.search import api as search_api
    from marketplace.search import views as search_views
    from marketplace.supervision import api as supervision_api
    from marketplace.supervision import views as supervision_views

    for module in (
        home_views,
        auth_views,
        catalogue_pages,
        agencies_pages,
        agencies_views,
        requests_views,
        orders_views,
        search_views,
        ratings_views,
        payments_views,
        fees_views,
        supervision_views,
        catalogue_views,
        credit_views,
        complaints_views,
        inspections_views,
        notifications_views,
        reports_views,
        opendata_views,
    ):
        for blueprint in module.blueprints():
            app.register_blueprint(blueprint)
    for module in (
        auth_api,
        regions_api,
        catalogue_api,
        agencies_api,
        requests_api,
        orders_api,
        search_api,
        ratings_api,
        payments_api,
        fees_api,
        supervision_api,
        credit_api,
        complaints_api,
        inspections_api,
        notifications_api,
        reports_api,
        opendata_api,
    ):
        for blueprint in module.blueprints():
            api.register_blueprint(blueprint)
            csrf.exempt(blueprint)


def keep_openapi_document(app: Flask) -> None:
    """/api/v1/openapi.json is fixed once the blueprints are registered, yet flask-smorest builds and dumps it
    (340 KB) on every request (~15 ms): keep its bytes once per process, per language in case a description
    is ever translated."""
    from flask_babel import get_locale

    endpoint = "api-docs.openapi_json"
    make = app.view_functions.get(endpoint)
    if make is None:
        return
    made: dict[str, bytes] = {}

    @functools.wraps(make)
    def openapi_json():
        language = str(get_locale())
        if language not in made:
            made[language] = make().get_data()
        return app.response_class(made[language], mimetype="application/json")

    app.view_functions[endpoint] = openapi_json


def register_template_helpers(app: Flask) -> None:
    from marketplace.agencies import cards
    from marketplace.audit.labels import action_label
    from marketplace.catalogue.models import level_name
    from marketplace.common import areas, assets, l10n, templating
    from marketplace.regions import services as regions

    templating.register(app)
    assets.register(app)  # url_for('static', …) with the file's fingerprint: kept by browsers for a year
    # {{ code|region_name }} → 平湖市; {{ code|region_name(full=True) }} → 浙江省嘉兴市平湖市 (English: Pinghu City)
    app.jinja_env.filters["region_name"] = regions.display_label
    app.jinja_env.filters["named"] = l10n.named  # {{ item|named }}: name_en in the English UI
    app.jinja_env.filters["level_name"] = level_name  # {{ q.level|level_name }}: 甲级 / Grade A
    app.jinja_env.globals["colon"] = l10n.colon  # {{ _('Reason') }}{{ colon() }}: "：" or ": "
    app.jinja_env.filters["audit_action"] = action_label  # {{ e.action|audit_action }}: words, never the code
    app.jinja_env.globals["market_area"] = regions.market_area
    app.jinja_env.globals["region_subtree"] = regions.subtree
    app.jinja_env.globals["region_level"] = areas.level
    app.jinja_env.globals["region_options"] = regions.options_html  # a filter's <option>s, kept per process
    app.jinja_env.globals["agency_card"] = cards.agency_card  # a card's HTML, kept per process


def register_commands(app: Flask) -> None:
    from marketplace import cli

    cli.register(app)
