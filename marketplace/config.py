"""Settings, read from the environment (see shared/API.md for the list)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT / "instance"

DAY = 24 * 3600


def _json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def _float(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a number, got {raw!r}") from exc


def _flag(name: str, default: bool) -> bool:
    """1/0 (also true/false, yes/no, on/off) from the environment."""
    raw = (os.environ.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise RuntimeError(f"{name} must be 1 or 0, got {raw!r}")


def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    raw = (os.environ.get(name) or default).strip().lower()
    if raw not in choices:
        raise RuntimeError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def app_env() -> str:
    """`development` unless told otherwise; gunicorn deployments default to production."""
    explicit = os.environ.get("MARKET_ENV")
    if explicit:
        return explicit
    if "gunicorn" in os.environ.get("SERVER_SOFTWARE", ""):
        return "production"
    return "development"


def _secret_key(env: str, instance_dir: Path) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if env != "development" and env != "testing":
        raise RuntimeError(f"SECRET_KEY must be set outside development (MARKET_ENV={env})")
    # Development: a random key kept under instance/ so sessions survive restarts; never in the repo.
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def engine_options(config: dict) -> dict:
    """SQLAlchemy engine options from the settings: the pool as configured (not for in-memory SQLite)."""
    # Chinese stays readable (and searchable with LIKE) inside JSON columns.
    options = {"pool_pre_ping": True, "json_serializer": _json_dumps}
    url = config["SQLALCHEMY_DATABASE_URI"]
    if not (url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") == "sqlite:")):
        options |= {
            "pool_size": config["DB_POOL_SIZE"],
            "max_overflow": config["DB_MAX_OVERFLOW"],
            "pool_timeout": config["DB_POOL_TIMEOUT"],
        }
    return options


def load_config(overrides: dict | None = None) -> dict:
    overrides = overrides or {}
    env = overrides.get("MARKET_ENV") or app_env()
    instance_dir = Path(overrides.get("INSTANCE_DIR") or os.environ.get("INSTANCE_DIR") or INSTANCE_DIR)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'marketplace.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    config = {
        "MARKET_ENV": env,
        "INSTANCE_DIR": str(instance_dir),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Connections per process (see README, "Running with several workers"): pool + overflow per worker;
        # a request that waits DB_POOL_TIMEOUT seconds for one is answered 503 with Retry-After.
        "DB_POOL_SIZE": _int("DB_POOL_SIZE", 5),
        "DB_MAX_OVERFLOW": _int("DB_MAX_OVERFLOW", 5),
        "DB_POOL_TIMEOUT": _float("DB_POOL_TIMEOUT", 5.0),
        # Connections GET requests may never take, kept for writes (bids, payments) when pages are busy.
        "DB_WRITE_RESERVE": _int("DB_WRITE_RESERVE", 1),
        # Waiting for a lock (PostgreSQL lock_timeout, SQLite busy_timeout) and, on PostgreSQL, for one
        # statement of a web request (statement_timeout); 0 = no limit.
        "DB_LOCK_TIMEOUT_MS": _int("DB_LOCK_TIMEOUT_MS", 5000),
        "DB_STATEMENT_TIMEOUT_MS": _int("DB_STATEMENT_TIMEOUT_MS", 30000),
        # PostgreSQL: statements each connection keeps prepared (psycopg prepares one run 5 times; its default
        # of 100 is fewer than the ~1,100 distinct statements the market runs, so they were planned every time).
        "DB_PREPARED_MAX": _int("DB_PREPARED_MAX", 500),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR") or str(instance_dir / "uploads"),
        # --- search ---
        # whoosh: an index on disk per machine (SEARCH_INDEX_DIR); postgres: a table of the database with a
        # tsvector and a GIN index, shared by every machine (needs DATABASE_URL on PostgreSQL).
        "SEARCH_BACKEND": _choice("SEARCH_BACKEND", ("whoosh", "postgres"), "whoosh"),
        "SEARCH_INDEX_DIR": os.environ.get("SEARCH_INDEX_DIR") or str(instance_dir / "search-index"),
        # A search opens a searcher of the newest index (and, without SEARCH_INDEX_BY_CLOCK, indexes the queued
        # changes) at most this often per process (Whoosh): in a busy market the index changes at every clock
        # pass, and opening a searcher of a 100k-agency index costs ~0.1 s of a worker's CPU. Results are at most
        # this many seconds behind (plus the clock's pass); 0: every search. Production: 10 s (under load, 1 s
        # kept a twentieth of the workers' time opening searchers and doubled the p95).
        "SEARCH_REFRESH_SECONDS": _float(
            "SEARCH_REFRESH_SECONDS", {"testing": 0.0, "production": 10.0}.get(env, 1.0)
        ),
        # Who indexes the queued changes. 1 (production): only the clock, at each pass (every few seconds), so
        # no write waits for the index after its commit and no search before it runs (under load a worker spent
        # a tenth of its time there, and the index changed under every search). 0: the writer right after its
        # commit and a search before it runs (development, tests), and the clock picks up what they left.
        "SEARCH_INDEX_BY_CLOCK": _flag("SEARCH_INDEX_BY_CLOCK", env == "production"),
        # `flask clock` builds a missing or outgrown index in a thread beside its passes (minutes at 100k agencies,
        # during which a pass that waited for it would close no bidding); 0: inside the pass, as `flask tick` does.
        "SEARCH_BUILD_BESIDE_CLOCK": _flag("SEARCH_BUILD_BESIDE_CLOCK", env != "testing"),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY") or None,
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
        # Where the Stripe SDK sends API calls; None = Stripe's own (tests point it at a local fake).
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE") or None,
        # How long one call to Stripe may take before the payment is refused as "Stripe not reachable" (502).
        "STRIPE_TIMEOUT_SECONDS": _float("STRIPE_TIMEOUT_SECONDS", 20.0),
        # The market's own area (GB/T 2260 code): projects must lie inside it; agencies may come from anywhere.
        "MARKET_AREA_CODE": os.environ.get("MARKET_AREA_CODE") or "320000",
        "MARKET_MIN_BIDDING_SECONDS": _int("MARKET_MIN_BIDDING_SECONDS", DAY),
        # 1: a published request waits for the operator's review (审核中) before it becomes public; 0: public at once.
        "MARKET_REVIEW_ANNOUNCEMENTS": _int("MARKET_REVIEW_ANNOUNCEMENTS", 1),
        # Fiscally funded purchases above this ceiling must go through formal government procurement (政府采购),
        # not the marketplace. Default 100万元, the common 政府采购限额标准 for services (the 2020 central
        # standard, which most provinces follow: 《中央预算单位政府集中采购目录及标准（2020年版）》); 0: no limit.
        "MARKET_FISCAL_THRESHOLD_FEN": _int("MARKET_FISCAL_THRESHOLD_FEN", 100_000_000),
        "MARKET_PUBLICITY_SECONDS": _int("MARKET_PUBLICITY_SECONDS", 3 * DAY),
        # Administrators decide an objection within this time after it is lodged; past it, it shows as overdue.
        "MARKET_OBJECTION_DECISION_SECONDS": _int("MARKET_OBJECTION_DECISION_SECONDS", 3 * DAY),
        "MARKET_MIN_BIDS": _int("MARKET_MIN_BIDS", 3),
        # Operators decide a membership application or change within this many working days (工作日).
        "MARKET_REVIEW_WORKING_DAYS": _int("MARKET_REVIEW_WORKING_DAYS", 2),
        # The contract step: after publicity the parties upload and confirm the signed contract, and the confirmation
        # starts the service clock. 0 for markets that sign contracts off the platform: the agency's confirmation
        # starts the clock.
        "MARKET_CONTRACT_STEP": _flag("MARKET_CONTRACT_STEP", True),
        "MARKET_ACCEPTANCE_SECONDS": _int("MARKET_ACCEPTANCE_SECONDS", 14 * DAY),
        "MARKET_RATING_WINDOW_SECONDS": _int("MARKET_RATING_WINDOW_SECONDS", 30 * DAY),
        # The front page recommends (推荐机构) only agencies with at least N ratings: thin records don't lead.
        "MARKET_RECOMMEND_MIN_RATINGS": _int("MARKET_RECOMMEND_MIN_RATINGS", 3),
        # How long after the bid deadline the bidding stays open for bids that *arrived* before it but still
        # wait for a connection or the request's lock; unset = DB_POOL_TIMEOUT + DB_LOCK_TIMEOUT + 2 s.
        "MARKET_CLOSE_GRACE_SECONDS": _float("MARKET_CLOSE_GRACE_SECONDS", None),
        # --- credit (marketplace/credit/) ---
        # Events count from 1 January of (this year − N): a rolling window plus the current year.
        "CREDIT_WINDOW_YEARS": _int("CREDIT_WINDOW_YEARS", 2),
        # An agency may appeal an event within N days of it; the operator decides within N working days.
        "CREDIT_APPEAL_DAYS": _int("CREDIT_APPEAL_DAYS", 15),
        "CREDIT_APPEAL_WORKING_DAYS": _int("CREDIT_APPEAL_WORKING_DAYS", 5),
        # Credit repair (信用修复) may be asked N days after the event or the black-list entry.
        "CREDIT_REPAIR_MIN_DAYS": _int("CREDIT_REPAIR_MIN_DAYS", 90),
        # --- complaints and reports (marketplace/complaints/) ---
        # Supervisors accept (受理) or refuse a complaint or report within this many working days of its filing,
        # and close it (办结: upheld or dismissed) within this many working days of its acceptance.
        "COMPLAINT_ACCEPT_WORKING_DAYS": _int("COMPLAINT_ACCEPT_WORKING_DAYS", 5),
        "COMPLAINT_CLOSE_WORKING_DAYS": _int("COMPLAINT_CLOSE_WORKING_DAYS", 30),
        # An agency may complain about its own membership decision within this many working days of it.
        "COMPLAINT_ENTRY_DECISION_WORKING_DAYS": _int("COMPLAINT_ENTRY_DECISION_WORKING_DAYS", 5),
        # --- random inspections (marketplace/inspections/) ---
        # At most this many inspectors are drawn per agency, and this many evidence files kept per agency's findings.
        "INSPECTION_MAX_INSPECTORS_PER_AGENCY": _int("INSPECTION_MAX_INSPECTORS_PER_AGENCY", 5),
        "INSPECTION_MAX_EVIDENCE_FILES": _int("INSPECTION_MAX_EVIDENCE_FILES", 5),
        # --- notifications and mail (marketplace/notifications/) ---
        # Mail is off while MAIL_SERVER is unset: notifications still reach the bell, no mail rows are written.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS", False),  # STARTTLS
        "MAIL_FROM": os.environ.get("MAIL_FROM") or "中介超市 <noreply@localhost>",
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 10),
        # SMS: unset = off; "log" = the shipped sender that writes to the log; "package.module:callable" = a gateway
        # called with (phone, text).
        "SMS_SENDER": os.environ.get("SMS_SENDER") or None,
        # Links in mails: the site's public address (e.g. https://zjcs.example.gov.cn); unset = paths only.
        "NOTIFY_SITE_URL": os.environ.get("NOTIFY_SITE_URL") or "",
        # The closing reminder for watched requests goes this long before the bid deadline.
        "NOTIFY_REMINDER_SECONDS": _int("NOTIFY_REMINDER_SECONDS", DAY),
        # The outbox: a failed message waits NOTIFY_RETRY_SECONDS × 2^(attempts−1) (at most 6 h), up to
        # NOTIFY_MAX_ATTEMPTS tries, then is marked failed.
        "NOTIFY_RETRY_SECONDS": _int("NOTIFY_RETRY_SECONDS", 60),
        "NOTIFY_MAX_ATTEMPTS": _int("NOTIFY_MAX_ATTEMPTS", 8),
        # --- public statistics and monthly reports (marketplace/reports/) ---
        "REPORTS_TOP_AGENCIES": _int("REPORTS_TOP_AGENCIES", 5),  # agencies listed per category on /stats
        "REPORTS_MONTHLY": _int("REPORTS_MONTHLY", 1),  # 0: the clock generates no monthly reports
        # /stats and GET /api/v1/stats (reports/served.py): figures kept in the shared cache are served while
        # nothing public changed, or for this many seconds after a change (stamped with when they were
        # computed); the clock recomputes the default views before. 0: every request computes them.
        "STATS_FRESH_SECONDS": _int("STATS_FRESH_SECONDS", 0 if env == "testing" else 300),
        # the views the clock keeps (reports/served.py views()) are recomputed by a request only when older than this
        "STATS_KEPT_SECONDS": _int("STATS_KEPT_SECONDS", 3600),
        # The public fee figures (fees/summary.py) follow a deal of an item at the clock's first pass this many
        # seconds after it, one recompute for all the item's deals meanwhile; negative: inside each deal's own
        # transaction (which then waits ~0.25 s for a busy item at 100,000 agencies, and every deal of the item
        # waits for the one before).
        "FEES_FIGURES_DELAY_SECONDS": _int("FEES_FIGURES_DELAY_SECONDS", -1 if env == "testing" else 10),
        # The CJK font the PDF embeds (a fontconfig family; Debian's fonts-wqy-microhei), and a file tried first.
        "REPORTS_PDF_FONT": os.environ.get("REPORTS_PDF_FONT", "WenQuanYi Micro Hei"),
        "REPORTS_PDF_FONT_FILE": os.environ.get(
            "REPORTS_PDF_FONT_FILE", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
        ),
        # --- open data (marketplace/opendata/) ---
        # OCDS: the ocid prefix registered with the Open Contracting Partnership ("ocds-" + six characters) and
        # the publisher's name in every release package.
        "OCDS_OCID_PREFIX": os.environ.get("OCDS_OCID_PREFIX") or "ocds-zjcs00",
        "OCDS_PUBLISHER_NAME": os.environ.get("OCDS_PUBLISHER_NAME") or "中介服务网上超市",
        # The page saying what is published, when and how (an absolute URL; optional).
        "OCDS_PUBLICATION_POLICY": os.environ.get("OCDS_PUBLICATION_POLICY") or None,
        # The clock makes each month's package in the background (opendata/kept.py); the current month's again at
        # most this often after a change (a GET never builds one).
        "OCDS_REFRESH_SECONDS": _int("OCDS_REFRESH_SECONDS", 600),
        # 1: the clock makes the packages; 0: `flask opendata watch` does, in a process of its own (a national
        # market: a month of a million orders takes minutes, which the clock's deadlines should not wait for).
        "OCDS_IN_CLOCK": _int("OCDS_IN_CLOCK", 1),
        # --- the footer's trust line (templates/base.html) ---
        # 主办单位 (the organiser: the bureau that runs the market), 客服电话 (the help line) and the ICP filing
        # number (ICP备案号, linked to the MIIT register); the defaults are the demo's.
        "SITE_ORGANISER": os.environ.get("SITE_ORGANISER") or "江苏省政务服务管理办公室（演示）",
        "SITE_ORGANISER_EN": os.environ.get("SITE_ORGANISER_EN")
        or "Jiangsu Government Services Administration Office (demo)",
        "SITE_HOTLINE": os.environ.get("SITE_HOTLINE") or "025-12345",
        "SITE_HOTLINE_HOURS": os.environ.get("SITE_HOTLINE_HOURS") or "9:00–17:00",
        "SITE_ICP": os.environ.get("SITE_ICP") or "苏ICP备00000000号-1",
        "SITE_ICP_URL": os.environ.get("SITE_ICP_URL") or "https://beian.miit.gov.cn/",
        # --- many machines: shared state (marketplace/common/cache.py, README "Many machines") ---
        # REDIS_URL set: the page cache, its generation, the rate limits and the per-process copies' versions
        # live in Redis, shared by every worker on every machine. Unset: one machine — a FileSystemCache under
        # the instance folder (shared by that machine's workers and its clock) and per-process rate limits.
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "CACHE_TYPE": os.environ.get("CACHE_TYPE")
        or ("RedisCache" if os.environ.get("REDIS_URL") else "FileSystemCache"),
        "CACHE_DIR": os.environ.get("CACHE_DIR") or str(instance_dir / "cache"),
        # FileSystemCache: 0 = cachelib does not count the files on each write (that count cost as much as the
        # write); the clock removes the expired files every minute and the oldest beyond CACHE_MAX_FILES.
        # N > 0: cachelib counts and prunes past N files itself, on the writes.
        "CACHE_THRESHOLD": _int("CACHE_THRESHOLD", 0),
        "CACHE_MAX_FILES": _int("CACHE_MAX_FILES", 20_000),
        "CACHE_KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX") or "mp:",
        # Anonymous public pages and API reads are kept this many seconds (0: no page cache; ETags stay);
        # any committed change to a public table makes them stale at once (a new generation).
        "CACHE_PAGE_SECONDS": _int("CACHE_PAGE_SECONDS", 0 if env == "testing" else 60),
        # ... but a page made less than this many seconds ago is still served after a change (X-Cache: stale):
        # under a stream of bids and clock passes the generation changes every second or two, and without this
        # every anonymous reader would make the page again; 0: a change is seen by the very next request.
        "CACHE_STALE_SECONDS": _int("CACHE_STALE_SECONDS", 0 if env == "testing" else 5),
        # Compiled templates kept on disk (Jinja's bytecode cache, keyed by each template's source): shared by the
        # machine's workers and kept across restarts. Without it every worker compiled every template again on its
        # first requests (~3 s of CPU in all, in the middle of serving). "" turns it off.
        "TEMPLATE_CACHE_DIR": os.environ.get("TEMPLATE_CACHE_DIR", str(instance_dir / "templates-compiled")),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI")
        or os.environ.get("REDIS_URL")
        or "memory://",
        # --- end of the feature blocks ---
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD", "scrypt"),
        "API_TOKEN_SECONDS": _int("API_TOKEN_SECONDS", 7 * DAY),
        # Uploads: one request at most 12 MB, one scanned file at most 8 MB.
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        "MAX_UPLOAD_BYTES": _int("MAX_UPLOAD_BYTES", 8 * 1024 * 1024),
        # JSON bodies: size and nesting checked before parsing (see common/inputs.py).
        "MAX_JSON_BYTES": _int("MAX_JSON_BYTES", 1024 * 1024),
        "MAX_JSON_DEPTH": _int("MAX_JSON_DEPTH", 32),
        "BABEL_DEFAULT_LOCALE": "zh_Hans",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": {"zh_Hans": "简体中文", "en": "English"},
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "RATELIMIT_ENABLED": env != "testing",
        # flask-smorest / OpenAPI
        "API_TITLE": "中介超市 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "info": {"description": "中介超市公开接口。金额单位为分（整数），时间为带时区的 ISO 8601。"},
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            },
        },
        "JSON_AS_ASCII": False,
    }
    config.update(overrides)
    if config["MARKET_CLOSE_GRACE_SECONDS"] is None:
        config["MARKET_CLOSE_GRACE_SECONDS"] = (
            config["DB_POOL_TIMEOUT"] + config["DB_LOCK_TIMEOUT_MS"] / 1000 + 2.0
        )
    if "SQLALCHEMY_ENGINE_OPTIONS" not in overrides:
        config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(config)
    config["SECRET_KEY"] = overrides.get("SECRET_KEY") or _secret_key(config["MARKET_ENV"], instance_dir)
    _shared_state(config, overrides)
    return config


def _shared_state(config: dict, overrides: dict) -> None:
    """REDIS_URL (from the environment or the overrides) reaches the cache and, unless told otherwise, the rate
    limits; without a Redis URL a Redis cache type falls back to the one-machine default."""
    url = config["REDIS_URL"]
    if url and "CACHE_TYPE" not in overrides and not os.environ.get("CACHE_TYPE"):
        config["CACHE_TYPE"] = "RedisCache"
    if url and "RATELIMIT_STORAGE_URI" not in overrides and not os.environ.get("RATELIMIT_STORAGE_URI"):
        config["RATELIMIT_STORAGE_URI"] = url
    if config["CACHE_TYPE"] == "RedisCache":
        if not url:
            raise RuntimeError("CACHE_TYPE=RedisCache needs REDIS_URL")
        config.setdefault("CACHE_REDIS_URL", url)
        # A slow or absent Redis costs a page at most this long; the page is then made without the cache.
        config.setdefault("CACHE_OPTIONS", {"socket_timeout": 0.5, "socket_connect_timeout": 0.5})
    config.setdefault("CACHE_DEFAULT_TIMEOUT", max(config["CACHE_PAGE_SECONDS"], 1))
