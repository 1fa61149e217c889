"""The scaled market: build it on SQLite or PostgreSQL, then time every public page beside `/healthz`.

    .venv/bin/python -m bench.market build --agencies 100000 --orders 1000000 --ratings 750000 \
        [--database postgresql+psycopg://postgres@127.0.0.1:5433/bench] [--folder /tmp/mp-bench]
    .venv/bin/python -m bench.market run [--database URL] [--folder DIR] [--repeat 30] [--profile]
    .venv/bin/python -m bench.market all --agencies 20000 --orders 200000      # build, then run
    make bench AGENCIES=100000 ORDERS=1000000 [DATABASE=postgresql+psycopg://…]

`build` migrates an empty database (flask_migrate upgrade), bulk-loads a generated market — agencies with
categories, service areas, qualifications and several offers; thousands of enterprises; completed requests
with their bids, orders, ratings, credit events and payments spread over 24 months; a few thousand open
announcements with sealed bids, and recently closed, selected and failed ones; fee flags; red and black list
entries — with psycopg COPY on PostgreSQL and large executemany batches (journal off) on SQLite, then runs the
rebuild paths a real installation has (`flask stats rebuild`, `flask credit rebuild --fix`, `flask search
reindex`, `flask reports generate`), each timed. Without --database the SQLite file is <folder>/bench.db
(the folder defaults to a new temporary one, printed).

`run` times through the Flask test client every anonymous GET route of the url map that answers 200 (routes
with arguments filled with real ids: the busiest store, a guided item, an open and an awarded announcement, …)
plus the list in every sort and filter, a deep page, and searches, and prints median / p95 / × healthz beside
the issue's targets (10 ms; search 20 ms). A cold start (app created, then the first `/` and the first search)
is timed in a fresh process. `--profile` adds, for each page over its target, the slowest SQL statements
(with their plans) and the top functions of cProfile. Nothing is asserted: figures are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

TARGET_MS = 10.0
SEARCH_TARGET_MS = 20.0
SEARCHES = ("测绘", "安评", "环评", "环境 咨询")


def say(message: str) -> None:
    print(message, flush=True)


# --- the app --------------------------------------------------------------------------------------------------


def make_app(database: str | None, folder: Path, **extra):
    """The app on `database` (a SQLAlchemy URL; None: <folder>/bench.db), its index and uploads under `folder`."""
    from marketplace.app import create_app

    folder.mkdir(parents=True, exist_ok=True)
    url = database or f"sqlite:///{folder / 'bench.db'}"
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_app(
        {
            "MARKET_ENV": "testing",
            "SECRET_KEY": "bench",
            "INSTANCE_DIR": str(folder),
            "UPLOAD_DIR": str(folder / "uploads"),
            "SQLALCHEMY_DATABASE_URI": url,
            "SEARCH_INDEX_DIR": str(folder / "index"),
            "RATELIMIT_ENABLED": False,
            **extra,
        }
    )


# --- writing rows fast ----------------------------------------------------------------------------------------


class Writer:
    """Bulk rows into tables, bypassing the ORM: COPY on PostgreSQL, executemany with the journal off on SQLite.
    Rows are tuples in the order of `columns`; `ts(datetime)` gives what the database stores for a UTC time."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith("postgresql")
        if self.postgres:
            import psycopg

            self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))
            with self.conn.cursor() as cur:
                try:  # skip the foreign-key triggers while loading (needs a superuser; else they run)
                    cur.execute("SET session_replication_role = replica")
                    self.conn.commit()
                except Exception:  # noqa: BLE001
                    self.conn.rollback()
        else:
            import sqlite3

            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF", "cache_size=-400000"):
                self.conn.execute(f"PRAGMA {pragma}")
        self.tables: dict[str, list[float]] = {}

    def ts(self, moment: datetime | None):
        if moment is None:
            return None
        if self.postgres:
            return moment
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def write(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        t0 = time.perf_counter()
        n = 0
        quoted = ", ".join(f'"{c}"' for c in columns)
        if self.postgres:
            with self.conn.cursor() as cur, cur.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            self.conn.commit()
        else:
            sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(columns))})'
            self.conn.execute("BEGIN")
            batch: list[tuple] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= 50_000:
                    self.conn.executemany(sql, batch)
                    n += len(batch)
                    batch = []
            if batch:
                self.conn.executemany(sql, batch)
                n += len(batch)
            self.conn.execute("COMMIT")
        spent = time.perf_counter() - t0
        total = self.tables.setdefault(table, [0, 0.0])
        total[0] += n
        total[1] += spent
        say(f"  {table:24} {n:>10,} rows {spent:7.1f} s")
        return n

    def finish(self, id_tables: Iterable[str]) -> None:
        if self.postgres:
            with self.conn.cursor() as cur:
                for table in id_tables:  # explicit ids were loaded: the sequences continue after them
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                        f'COALESCE((SELECT max(id) FROM "{table}"), 0) + 1, false)'
                    )
                cur.execute("SET session_replication_role = DEFAULT")
            self.conn.commit()
            self.conn.autocommit = True
            t0 = time.perf_counter()
            self.conn.execute("VACUUM ANALYZE")  # what autovacuum would have done on a live server
            say(f"  VACUUM ANALYZE {time.perf_counter() - t0:.1f} s")
        else:
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.close()


# --- the generated market -------------------------------------------------------------------------------------


@dataclass
class Plan:
    agencies: int
    orders: int
    ratings: int
    seed: int = 7
    enterprises: int = 0
    open_requests: int = 0
    closed_requests: int = 0  # each of evaluating, publicity and failed

    def __post_init__(self) -> None:
        self.ratings = min(self.ratings, self.orders)
        self.enterprises = self.enterprises or max(20, self.agencies // 20)
        self.open_requests = self.open_requests or max(10, self.orders // 300)
        self.closed_requests = self.closed_requests or max(3, self.orders // 2000)


@dataclass
class Catalogue:
    items: list  # (id, category_id, standard_days, guide_min_fen, guide_max_fen, name)
    by_category: dict[int, list] = field(default_factory=dict)
    kinds: dict[int, list] = field(default_factory=dict)  # category_id -> [(kind id, levels)]
    category_names: dict[int, str] = field(default_factory=dict)
    category_codes: dict[int, str] = field(default_factory=dict)


def _catalogue(app) -> Catalogue:
    from sqlalchemy import select

    from marketplace.catalogue.models import Category, QualificationKind, ServiceItem
    from marketplace.extensions import db

    with app.app_context():
        items = db.session.execute(
            select(
                ServiceItem.id,
                ServiceItem.category_id,
                ServiceItem.standard_days,
                ServiceItem.guide_min_fen,
                ServiceItem.guide_max_fen,
                ServiceItem.name,
            ).order_by(ServiceItem.id)
        ).all()
        cat = Catalogue(items=[tuple(i) for i in items])
        for item in cat.items:
            cat.by_category.setdefault(item[1], []).append(item)
        for kind_id, category_id, levels in db.session.execute(
            select(QualificationKind.id, QualificationKind.category_id, QualificationKind.levels)
        ):
            if category_id is not None:
                cat.kinds.setdefault(category_id, []).append((kind_id, levels or ["不分级"]))
        for c in db.session.scalars(select(Category)):
            cat.category_names[c.id] = c.name
            cat.category_codes[c.id] = c.code
        db.session.remove()
    return cat


def _places() -> tuple[list[str], list[str], list[str]]:
    """(county codes, city codes, city names) of the demo's province (the default market area)."""
    from marketplace.demo.dataset import CITY_CODES, DISTRICTS

    counties = [code for rows in DISTRICTS.values() for code, _name in rows]
    return counties, sorted(CITY_CODES.values()), sorted(CITY_CODES)


def build(app, plan: Plan, report: bool = True) -> dict:
    """Migrate, bulk-load the market, run the rebuilds. Returns timings {step: seconds}."""
    from flask_migrate import upgrade

    from marketplace.extensions import db

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with app.app_context():
        upgrade()
        db.engine.dispose()
    timings["migrations"] = time.perf_counter() - t0
    say(f"migrations: {timings['migrations']:.1f} s")
    t0 = time.perf_counter()
    writer = Writer(app.config["SQLALCHEMY_DATABASE_URI"])
    generate(writer, _catalogue(app), plan)
    writer.finish(
        (
            "user",
            "agency",
            "enterprise",
            "offer",
            "qualification",
            "service_request",
            "bid",
            "bid_revision",
            "service_order",
            "rating",
            "payment",
            "fee_flag",
            "credit_event",
            "credit_list_entry",
        )
    )
    timings["load"] = time.perf_counter() - t0
    say(f"bulk load: {timings['load']:.1f} s")
    timings.update(rebuild(app, report))
    return timings


def rebuild(app, report: bool = True) -> dict[str, float]:
    """What an installation runs after an import: the same commands, through Flask's CLI runner."""
    from marketplace.common.clock import now
    from marketplace.reports.figures import add_months, month_of

    last_month = add_months(month_of(now()), -1)
    steps = {
        "stats rebuild": ["stats", "rebuild"],
        "credit rebuild": ["credit", "rebuild", "--fix"],
        "search reindex": ["search", "reindex"],
    }
    timings = {}
    runner = app.test_cli_runner()
    for name, args in steps.items():
        t0 = time.perf_counter()
        result = runner.invoke(args=args)
        timings[name] = time.perf_counter() - t0
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        # exit 1 from the rebuilds means "the running figures differed and were replaced": after a bulk load
        # that wrote no running figures, they always do.
        lines = [line for line in result.output.strip().splitlines() if not line.startswith("  agency ")]
        say(f"{name}: {timings[name]:.1f} s — {lines[-1] if lines else ''}")
    if not report:
        return timings
    # the market area's monthly report of last month (what the clock makes on the 1st; its divisions' are skipped)
    from marketplace.common.uow import unit_of_work
    from marketplace.regions.services import market_area
    from marketplace.reports import services as reports

    t0 = time.perf_counter()
    with app.app_context(), unit_of_work():
        reports.generate(market_area(), last_month)
    timings["monthly report"] = time.perf_counter() - t0
    say(f"monthly report {last_month}: {timings['monthly report']:.1f} s")
    return timings


def generate(w: Writer, cat: Catalogue, plan: Plan) -> None:  # noqa: C901, PLR0915 (one long recipe)
    from marketplace.common.clock import now as clock_now
    from marketplace.common.uscc import make
    from marketplace.credit.rules import STAR_POINTS
    from marketplace.demo.dataset import BRANDS, DEFAULT_TRADES, TRADES

    rng = random.Random(plan.seed)
    now = clock_now()
    T = w.ts
    counties, cities, city_names = _places()
    categories = sorted(cat.by_category)
    A, E = plan.agencies, plan.enterprises
    say(
        f"generating: {A:,} agencies, {E:,} enterprises, {plan.orders:,} orders, {plan.ratings:,} ratings, "
        f"{plan.open_requests:,} open announcements"
    )

    # users: agencies 1..A, enterprises A+1..A+E
    def users():
        for i in range(1, A + E + 1):
            made = T(now - timedelta(days=800 + i % 300))
            role = "agency" if i <= A else "enterprise"
            yield (i, f"u{i}@bench.cn", "x", role, f"联系人{i % 997}", True, made, made)

    w.write(
        "user",
        ("id", "email", "password_hash", "role", "contact_name", "active", "created_at", "updated_at"),
        users(),
    )

    # agencies and what they offer
    agency_cats: dict[int, list[int]] = {}
    members: dict[int, list[int]] = {c: [] for c in categories}
    statuses = ["active"] * 96 + ["suspended", "pending", "pending", "expelled"]
    active: list[int] = []

    def agencies():
        for i in range(1, A + 1):
            cs = rng.sample(categories, rng.choice((1, 1, 2, 2, 3)))
            agency_cats[i] = cs
            status = rng.choice(statuses)
            if status == "active":
                active.append(i)
                for c in cs:
                    members[c].append(i)
            city = rng.randrange(len(cities))
            code = cat.category_codes[cs[0]]
            trade = rng.choice(TRADES.get(code) or DEFAULT_TRADES)
            name = f"{city_names[city][:2]}{rng.choice(BRANDS)}{trade}有限公司"
            if i % 7 == 0:
                name = f"{name[:-4]}{'一二三四五六七八九'[i % 9]}分公司"
            topics = "、".join(cat.category_names[c] for c in cs)
            intro = f"专业从事{topics}等中介服务，服务网点覆盖{city_names[city]}及周边地区，团队经验丰富。"
            approved = now - timedelta(days=rng.randint(1, 1500))
            made = T(approved - timedelta(days=10))
            yield (
                i, i, name, make("91", cities[city], f"A{i:08d}"), status, rng.choice(counties),
                f"{city_names[city]}{rng.randint(1, 999)}号", f"张{i % 100}", f"0251{i:07d}"[:11], intro,
                T(approved) if status != "pending" else None, made, made,
            )  # fmt: skip

    w.write(
        "agency",
        (
            "id", "user_id", "name", "uscc", "status", "region_code", "address", "contact_name",
            "contact_phone", "intro", "approved_at", "created_at", "updated_at",
        ),
        agencies(),
    )  # fmt: skip
    w.write(
        "agency_category",
        ("agency_id", "category_id"),
        ((a, c) for a, cs in agency_cats.items() for c in cs),
    )

    def areas():
        for a in range(1, A + 1):
            r = rng.random()
            codes = (
                {"320000"} if r < 0.1 else {rng.choice(cities)} if r < 0.5 else set(rng.sample(counties, 2))
            )
            for code in sorted(codes):
                yield (a, code)

    w.write("agency_service_area", ("agency_id", "region_code"), areas())

    offered: dict[int, list] = {}  # agency -> items it offers

    def offers():
        oid = 0
        for a in range(1, A + 1):
            pool = [item for c in agency_cats[a] for item in cat.by_category[c]]
            chosen = rng.sample(pool, min(len(pool), rng.randint(2, 6)))
            offered[a] = chosen
            made = T(now - timedelta(days=rng.randint(30, 900)))
            for item in chosen:
                iid, _c, days, gmin, gmax, _n = item
                oid += 1
                mode = (
                    "discount"
                    if gmin and gmax and rng.random() < 0.2
                    else rng.choice(("fixed", "fixed", "range"))
                )
                base = ((gmin + gmax) // 2) if gmin and gmax else rng.randint(20, 3000) * 10_000
                price = pmin = pmax = pct = None
                if mode == "fixed":
                    price = int(base * rng.uniform(0.6, 1.1)) // 100 * 100
                elif mode == "range":
                    pmin = int(base * rng.uniform(0.5, 0.9)) // 100 * 100
                    pmax = pmin + int(base * rng.uniform(0.1, 0.5)) // 100 * 100
                else:
                    pct = rng.randint(60, 95)
                yield (
                    oid, a, iid, mode, price, pmin, pmax, pct, max(1, days - rng.randint(-3, 10)),
                    f"提供{_n}全流程服务。", True, made, made,
                )  # fmt: skip

    w.write(
        "offer",
        (
            "id", "agency_id", "service_item_id", "price_mode", "price_fen", "price_min_fen", "price_max_fen",
            "discount_pct", "promised_days", "description", "active", "created_at", "updated_at",
        ),
        offers(),
    )  # fmt: skip

    def qualifications():
        qid = 0
        for a in range(1, A + 1):
            for c in agency_cats[a]:
                if not cat.kinds.get(c):
                    continue
                kind_id, levels = rng.choice(cat.kinds[c])
                qid += 1
                valid = (now + timedelta(days=rng.randint(-60, 1500))).date()
                yield (
                    qid, a, c, kind_id, f"{cat.category_names[c]}资质", rng.choice(levels), f"Q{a:07d}{c:03d}",
                    "江苏省相关主管部门", valid, T(now - timedelta(days=400)),
                )  # fmt: skip

    w.write(
        "qualification",
        (
            "id", "agency_id", "category_id", "kind_id", "name", "level", "number", "issuer", "valid_until",
            "verified_at",
        ),
        qualifications(),
    )  # fmt: skip

    def enterprises():
        for e in range(1, E + 1):
            made = T(now - timedelta(days=900))
            city = rng.randrange(len(cities))
            kind = rng.choice(
                ("建设投资", "置业", "化工", "新材料", "物流", "电子科技", "城市建设", "交通投资")
            )
            name = f"{city_names[city][:2]}{rng.choice(BRANDS)}{kind}有限公司"
            yield (e, A + e, name, make("91", cities[city], f"E{e:08d}"), rng.choice(counties), made, made)

    w.write(
        "enterprise",
        ("id", "user_id", "name", "uscc", "region_code", "created_at", "updated_at"),
        enterprises(),
    )

    # completed deals: request → bids (the winner and 0–3 others) → accepted order → rating, payment, credit
    req_cols = (
        "id", "enterprise_id", "created_by_id", "title", "project_code", "service_item_id", "scope",
        "ceiling_fen", "region_code", "required_days", "funding", "selection_method", "bid_deadline", "status",
        "round", "published_at", "closed_at", "ranking", "winner_bid_id", "selected_at", "selection_reason",
        "publicity_ends_at", "failure_reason", "created_at", "updated_at",
    )  # fmt: skip
    bid_cols = (
        "id", "request_id", "agency_id", "price_fen", "promised_days", "plan", "status", "version",
        "created_at", "updated_at",
    )  # fmt: skip
    order_cols = (
        "id", "request_id", "bid_id", "enterprise_id", "agency_id", "amount_fen", "promised_days", "status",
        "started_at", "due_at", "original_due_at", "delivered_at", "accepted_at", "auto_accepted",
        "deadline_flag", "created_at", "updated_at",
    )  # fmt: skip
    projects = (
        "厂房",
        "综合楼",
        "道路",
        "管网",
        "产业园",
        "污水处理厂",
        "物流中心",
        "学校",
        "医院",
        "光伏电站",
    )
    deals: list[tuple] = []  # (order id, agency, enterprise, amount, accepted_at or None, item id)
    next_bid = [0]

    def pick_agency(item) -> int:
        pool = members.get(item[1]) or active
        return rng.choice(pool)

    def deal_rows():
        span = 730 * 86400
        for i in range(1, plan.orders + 1):
            winner = rng.choice(active)
            item = rng.choice(offered[winner]) if offered[winner] else rng.choice(cat.items)
            iid, _c, std, gmin, gmax, item_name = item
            e = rng.randint(1, E)
            base = ((gmin + gmax) // 2) if gmin and gmax else rng.randint(20, 3000) * 10_000
            ceiling = max(10_000, int(base * rng.uniform(0.9, 1.4)) // 1000 * 1000)
            started = now - timedelta(seconds=rng.randint(5 * 86400, span))
            published = started - timedelta(days=rng.randint(12, 25))
            deadline = published + timedelta(days=7)
            selected = deadline + timedelta(hours=rng.randint(2, 48))
            publicity_end = selected + timedelta(days=3)
            days = max(1, std - rng.randint(0, 5))
            due = started + timedelta(days=days)
            delivered = started + timedelta(days=days * rng.uniform(0.5, 1.15))
            accepted = delivered + timedelta(days=rng.randint(1, 7))
            n_bids = rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
            bidders = [winner]
            while len(bidders) < n_bids:
                other = pick_agency(item)
                if other not in bidders:
                    bidders.append(other)
                elif len(members.get(item[1]) or ()) < n_bids:
                    break
            prices = sorted(int(ceiling * rng.uniform(0.65, 0.99)) // 100 * 100 for _ in bidders)
            bid_ids = []
            bids = []
            for k, a in enumerate(bidders):  # the winner offers the lowest price (竞价选取)
                next_bid[0] += 1
                bid_ids.append(next_bid[0])
                at = T(deadline - timedelta(hours=rng.randint(1, 120)))
                bids.append((next_bid[0], i, a, prices[k], days, "技术方案与服务承诺。", "active", 1, at, at))
            if accepted <= now:
                status, delivered_at, accepted_at = "accepted", delivered, accepted
            elif delivered <= now:
                status, delivered_at, accepted_at = "delivered", delivered, None
            else:
                status, delivered_at, accepted_at = "in_progress", None, None
            flag = "red" if status == "in_progress" and due < now else "ok"
            title = (
                f"{city_names[i % len(city_names)]}{rng.choice(BRANDS)}{rng.choice(projects)}项目{item_name}"
            )
            req = (
                i, e, A + e, title[:200], f"2026-320{i % 1000:03d}-{i:07d}", iid, f"{item_name}：编制并报批。",
                ceiling, rng.choice(counties), days + 5, rng.choice(("fiscal", "social")), "lowest_price",
                T(deadline), "awarded", 1, T(published), T(deadline), json.dumps(bid_ids), bid_ids[0],
                T(selected), "报价最低者中选。", T(publicity_end), None, T(published), T(publicity_end),
            )  # fmt: skip
            order = (
                i, i, bid_ids[0], e, winner, prices[0], days, status, T(started), T(due), T(due),
                T(delivered_at), T(accepted_at), False, flag, T(publicity_end), T(accepted_at or started),
            )  # fmt: skip
            deals.append((i, winner, e, prices[0], accepted_at, iid))
            yield req, bids, order

    # The three tables are written in one pass over the generator, chunk by chunk.
    chunk = 100_000
    generator = deal_rows()
    while True:
        reqs, bids, orders = [], [], []
        for req, bs, order in generator:
            reqs.append(req)
            bids.extend(bs)
            orders.append(order)
            if len(reqs) >= chunk:
                break
        if not reqs:
            break
        w.write("service_request", req_cols, reqs)
        w.write("bid", bid_cols, bids)
        w.write("service_order", order_cols, orders)

    accepted_deals = [d for d in deals if d[4] is not None]
    rated = rng.sample(accepted_deals, min(plan.ratings, len(accepted_deals)))
    rated.sort()
    comments = (
        "服务专业，报告质量高。",
        "响应及时，沟通顺畅。",
        "整体满意。",
        "进度偏慢。",
        "材料反复修改，效率一般。",
    )
    rating_rows, credit_rows = [], []
    for rid, (oid, a, e, _amount, accepted, _iid) in enumerate(rated, start=1):
        overall = rng.choices((5, 4, 3, 2, 1), weights=(50, 30, 12, 5, 3))[0]
        dims = [max(1, min(5, overall + rng.choice((0, 0, 0, -1, 1)))) for _ in range(5)]
        at = min(now, accepted + timedelta(days=rng.randint(0, 10)))
        comment = comments[5 - overall] if overall < 5 else comments[rng.randrange(3)]
        rating_rows.append((rid, oid, a, e, overall, *dims, comment, T(at)))
        credit_rows.append(
            (
                rid,
                a,
                T(at),
                "enterprise",
                "rating",
                STAR_POINTS[overall],
                f"/orders/{oid}",
                "rating",
                rid,
                "counted",
            )
        )
    w.write(
        "rating",
        (
            "id", "order_id", "agency_id", "enterprise_id", "overall", "quality", "timeliness", "attitude", "fee",
            "compliance", "comment", "created_at",
        ),
        rating_rows,
    )  # fmt: skip
    del rating_rows
    w.write(
        "credit_event",
        (
            "id",
            "agency_id",
            "at",
            "source",
            "rule",
            "points",
            "evidence",
            "subject_type",
            "subject_id",
            "status",
        ),
        credit_rows,
    )
    del credit_rows

    def payments():
        pid = 0
        for oid, _a, e, amount, accepted, _iid in accepted_deals:
            if rng.random() < 0.6:
                pid += 1
                paid = T(min(now, accepted + timedelta(days=rng.randint(1, 30))))
                yield (pid, oid, "offline", "paid", amount, 0, f"HX{oid:09d}", paid, A + e, paid, paid)

    w.write(
        "payment",
        (
            "id", "order_id", "method", "status", "amount_fen", "refunded_fen", "reference", "paid_at",
            "created_by_id", "created_at", "updated_at",
        ),
        payments(),
    )  # fmt: skip

    def flags():
        chosen = rng.sample(deals, min(len(deals), max(5, plan.orders // 400)))
        for fid, (oid, a, _e, amount, _acc, iid) in enumerate(chosen, start=1):
            rule = rng.choice(("outside_guide", "over_offer", "abnormally_low"))
            status = rng.choices(("open", "confirmed", "dismissed"), weights=(7, 2, 1))[0]
            at = T(now - timedelta(days=rng.randint(5, 700)))
            yield (
                fid, f"{rule}:order:{oid}", rule, rng.choice(("high", "medium", "low")), status, a, iid, oid, oid,
                json.dumps({"amount_fen": amount}), at, at,
            )  # fmt: skip

    w.write(
        "fee_flag",
        (
            "id", "subject_key", "rule", "severity", "status", "agency_id", "service_item_id", "request_id",
            "order_id", "figures", "occurred_at", "detected_at",
        ),
        flags(),
    )  # fmt: skip

    def list_entries():
        for lid, a in enumerate(rng.sample(active, max(2, len(active) // 100)), start=1):
            kind = "black" if lid % 5 == 0 else "red"
            reason = "多次逾期且经查实违规收费。" if kind == "black" else "连续两年信用评价优秀。"
            yield (
                lid,
                a,
                kind,
                reason,
                "《中介服务机构信用管理办法》",
                T(now - timedelta(days=rng.randint(1, 300))),
            )

    w.write("credit_list_entry", ("id", "agency_id", "kind", "reason", "basis", "starts_at"), list_entries())

    # announcements still moving: open (sealed bids), closed and waiting, in publicity, failed
    base_id = plan.orders
    moving = [("bidding", plan.open_requests), ("evaluating", plan.closed_requests)] + [
        ("publicity", plan.closed_requests),
        ("failed", plan.closed_requests),
    ]
    reqs, bids, revisions = [], [], []
    rid = base_id
    for status, count in moving:
        for _ in range(count):
            rid += 1
            item = rng.choice(cat.items)
            iid, _c, std, gmin, gmax, item_name = item
            e = rng.randint(1, E)
            base = ((gmin + gmax) // 2) if gmin and gmax else rng.randint(20, 3000) * 10_000
            ceiling = max(10_000, int(base * rng.uniform(0.9, 1.4)) // 1000 * 1000)
            if status == "bidding":
                published = now - timedelta(hours=rng.randint(1, 15 * 24))
                deadline = now + timedelta(hours=rng.randint(2, 20 * 24))
            else:
                deadline = now - timedelta(hours=rng.randint(1, 72))
                published = deadline - timedelta(days=7)
            n_bids = rng.randint(0, 8) if status == "bidding" else rng.randint(3, 6)
            bidders = list(dict.fromkeys(pick_agency(item) for _ in range(n_bids)))
            bid_ids, prices = [], sorted(int(ceiling * rng.uniform(0.65, 0.99)) // 100 * 100 for _ in bidders)
            for k, a in enumerate(bidders):
                next_bid[0] += 1
                bid_ids.append(next_bid[0])
                at = published + timedelta(hours=rng.randint(1, 48))
                bids.append(
                    (next_bid[0], rid, a, prices[k], std, "技术方案与服务承诺。", "active", 1, T(at), T(at))
                )
                revisions.append(
                    (next_bid[0], next_bid[0], 1, "submit", prices[k], std, "技术方案与服务承诺。", T(at))
                )
            winner = bid_ids[0] if status == "publicity" and bid_ids else None
            selected = deadline + timedelta(hours=1) if winner else None
            title = f"{city_names[rid % len(city_names)]}{rng.choice(BRANDS)}{rng.choice(projects)}项目{item_name}"
            reqs.append(
                (
                    rid, e, A + e, title[:200], f"2026-320{rid % 1000:03d}-{rid:07d}", iid,
                    f"{item_name}：编制并报批。", ceiling, rng.choice(counties), std + 5,
                    rng.choice(("fiscal", "social")), "lowest_price", T(deadline), status if winner or status != "publicity" else "evaluating",
                    1, T(published), T(deadline) if status != "bidding" else None,
                    json.dumps(bid_ids) if winner else None, winner, T(selected), "报价最低者中选。" if winner else None,
                    T(selected + timedelta(days=3)) if winner else None,
                    "有效报价不足三家。" if status == "failed" else None, T(published), T(published),
                )
            )  # fmt: skip
    w.write("service_request", req_cols, reqs)
    w.write("bid", bid_cols, bids)
    w.write(
        "bid_revision",
        ("id", "bid_id", "version", "action", "price_fen", "promised_days", "plan", "at"),
        revisions,
    )


# --- timing the pages -----------------------------------------------------------------------------------------


@dataclass
class Page:
    label: str
    path: str
    target: float = TARGET_MS
    probe_ms: float | None = None  # the route walk's first fetch (it warms the page up)


def _ids(app) -> dict[str, list]:
    """Real ids for the route arguments: the busiest store, a busy guided item, an open and an awarded
    announcement, the newest monthly report, …"""
    from sqlalchemy import func, select

    from marketplace.agencies.models import Agency
    from marketplace.catalogue.models import ServiceItem
    from marketplace.common.clock import local, now
    from marketplace.extensions import db
    from marketplace.reports.models import MonthlyReport
    from marketplace.requests.models import ServiceRequest
    from marketplace.stats.models import AgencyStats

    with app.app_context():
        s = db.session
        busiest = s.scalar(
            select(AgencyStats.agency_id)
            .join(Agency, Agency.id == AgencyStats.agency_id)
            .where(Agency.status == "active")
            .order_by(AgencyStats.completed_orders.desc())
            .limit(1)
        )
        guided = s.scalar(
            select(ServiceRequest.service_item_id)
            .join(ServiceItem, ServiceItem.id == ServiceRequest.service_item_id)
            .where(ServiceItem.guide_max_fen.is_not(None), ServiceRequest.id <= 5000)
            .group_by(ServiceRequest.service_item_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        open_id = s.scalar(
            select(func.max(ServiceRequest.id)).where(
                ServiceRequest.status == "bidding", ServiceRequest.bid_deadline > now()
            )
        )
        awarded = s.scalar(select(func.max(ServiceRequest.id)).where(ServiceRequest.status == "awarded"))
        report = s.scalar(select(func.max(MonthlyReport.id)))
        category = (
            s.scalar(select(ServiceItem.category_id).where(ServiceItem.id == guided)) if guided else None
        )
        db.session.remove()
    month = local(now()).strftime("%Y-%m")
    return {
        "agency_id": [busiest] if busiest else [],
        "item_id": [guided] if guided else [],
        "request_id": [i for i in (open_id, awarded) if i],
        "report_id": [report] if report else [],
        "role": ["enterprise"],
        "month": [month],
        "category": [category] if category else [],
    }


def _probe(app, path: str, timeout_s: float) -> tuple[int | None, float]:
    """(status, ms) of one anonymous GET; (None, ms) when it has not answered within `timeout_s` (it is left
    running in its thread: a request cannot be stopped from outside)."""
    import threading

    answer: list[int] = []
    thread = threading.Thread(
        target=lambda: answer.append(app.test_client().get(path).status_code), daemon=True
    )
    t0 = time.perf_counter()
    thread.start()
    thread.join(timeout_s)
    ms = (time.perf_counter() - t0) * 1000
    return (answer[0] if answer else None), ms


def pages(app, timeout_s: float = 120.0) -> tuple[list[Page], list[str], list[str]]:
    """Every anonymous GET route (parameterised ones with real ids) answering 200, then the list's sorts and
    filters, a deep page and the searches. Returns (pages, routes left out with the reason, routes answering 5xx)."""
    ids = _ids(app)
    out = [Page("/healthz (baseline)", "/healthz")]
    left_out, broken = [], []
    slow: list[Page] = []  # no answer within timeout_s: reported, not timed again
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static" or rule.rule == "/healthz":
            continue
        if rule.endpoint.startswith("api-docs.") and rule.endpoint != "api-docs.openapi_json":
            continue
        if rule.rule.startswith(("/admin", "/api/v1/admin", "/auth/lang")):
            continue
        values = {}
        for name in rule.arguments:
            if not ids.get(name):
                left_out.append(f"{rule.rule} (no id for <{name}>)")
                break
            values[name] = ids[name]
        else:
            combos = [{}]
            for name, choices in values.items():
                combos = [c | {name: v} for c in combos for v in choices]
            for combo in combos:
                path = adapter.build(rule.endpoint, combo, method="GET")
                status, probe = _probe(app, path, timeout_s)
                if status is None:
                    slow.append(
                        Page(path, path, SEARCH_TARGET_MS if "search" in rule.endpoint else TARGET_MS, probe)
                    )
                    continue
                if status >= 500:
                    broken.append(f"{path} ({status})")
                elif status == 200:
                    target = SEARCH_TARGET_MS if "search" in rule.endpoint else TARGET_MS
                    out.append(Page(path, path, target, probe))
                else:
                    left_out.append(f"{path} ({status} to an anonymous visitor)")
    category = (ids.get("category") or [None])[0]
    item = (ids.get("item_id") or [None])[0]
    html, api = "/agencies/", "/api/v1/agencies"
    for sort in ("composite", "sales", "rating", "price", "speed"):
        out.append(Page(f"list {sort}", f"{html}?{urlencode({'sort': sort})}"))
        out.append(Page(f"list API {sort}", f"{api}?{urlencode({'sort': sort})}"))
        if category:
            out.append(
                Page(f"list {sort}, category", f"{html}?{urlencode({'category': category, 'sort': sort})}")
            )
            out.append(
                Page(
                    f"list API {sort}, category",
                    f"{api}?{urlencode({'category_id': category, 'sort': sort})}",
                )
            )
    filters = {
        "region 南京": ({"region": "南京"}, {"region": "南京"}),
        "level 甲级": ({"level": "甲级"}, {"level": "甲级"}),
        "q 环境": ({"q": "环境"}, {"q": "环境"}),
        "price 1–50万": ({"price_min": 10000, "price_max": 500000}, {"price_min_fen": 1_000_000, "price_max_fen": 50_000_000}),
        "deep page 200": ({"page": 200}, {"page": 200}),
        "deep page 200, sales": ({"page": 200, "sort": "sales"}, {"page": 200, "sort": "sales"}),
    }  # fmt: skip
    if item:
        filters["item, price sort"] = (
            {"service_item": item, "sort": "price"},
            {"service_item_id": item, "sort": "price"},
        )
    for label, (h, a) in filters.items():
        out.append(Page(f"list {label}", f"{html}?{urlencode(h)}"))
        out.append(Page(f"list API {label}", f"{api}?{urlencode(a)}"))
    for status in ("bidding", "awarded"):
        out.append(Page(f"announcements {status}", f"/requests/?status={status}"))
    out.append(Page("announcements page 100", "/requests/?page=100"))
    for q in SEARCHES:
        out.append(Page(f"search {q}", f"/search?q={quote(q)}", SEARCH_TARGET_MS))
        out.append(Page(f"search API {q}", f"/api/v1/search?q={quote(q)}", SEARCH_TARGET_MS))
    seen, unique = set(), []
    for page in out:
        if page.path not in seen:
            seen.add(page.path)
            unique.append(page)
    for page in slow:
        page.label = f"{page.label} (no answer in {timeout_s:.0f} s)"
    return unique + slow, left_out, broken


def time_page(
    client, path: str, repeat: int, budget_s: float = 8.0, probe_ms: float | None = None
) -> tuple[float, float, int]:
    """(median ms, p95 ms, samples) after one warm-up; stops early when a slow page spends its time budget."""
    if (
        probe_ms is not None and probe_ms > budget_s * 1000 / 4
    ):  # also: no answer within the walk's timeout  # its warm-up was the route walk's fetch
        return probe_ms, probe_ms, 1
    t0 = time.perf_counter()
    r = client.get(path)
    first = (time.perf_counter() - t0) * 1000
    if r.status_code != 200:
        raise RuntimeError(f"{path} answered {r.status_code}")
    if first > budget_s * 1000 / 4:  # so slow that its first answer must do (the run would take hours)
        return first, first, 1
    samples = []
    started = time.perf_counter()
    while len(samples) < repeat and (len(samples) < 3 or time.perf_counter() - started < budget_s):
        t0 = time.perf_counter()
        r = client.get(path)
        samples.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{path} answered {r.status_code}")
    samples.sort()
    p95 = samples[max(0, int(round(len(samples) * 0.95)) - 1)]
    return statistics.median(samples), p95, len(samples)


def cold_start(database: str | None, folder: Path, extra: dict | None = None) -> str:
    """A fresh process: create the app, then the first `/` and the first search (its index already built)."""
    extra = extra or {}
    code = f"""
import time, sys
t0 = time.perf_counter()
from bench.market import make_app
from pathlib import Path
app = make_app({database!r}, Path({str(folder)!r}), **{extra!r})
t1 = time.perf_counter()
c = app.test_client()
r1 = c.get('/')
t2 = time.perf_counter()
r2 = c.get('/api/v1/search?q=%E7%8E%AF%E8%AF%84')
t3 = time.perf_counter()
print(f"cold start: import + create_app {{(t1 - t0) * 1000:.0f}} ms, first / {{(t2 - t1) * 1000:.0f}} ms "
      f"({{r1.status_code}}), first search {{(t3 - t2) * 1000:.0f}} ms ({{r2.status_code}})")
"""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=900, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("cold start")]
    return lines[-1] if lines else f"cold start failed: {done.stderr[-500:]}"


def clock_pass(app) -> str:
    """One pass of the clock, as an installation's runs every few seconds: what time made due since the build (a
    fee row whose oldest deal left its 12-month window, a deadline passed, this month's open-data package, the
    statistics' default views) is done before the pages are timed, as it would be there."""
    from marketplace.chronograph import services as clock

    t0 = time.perf_counter()
    with app.app_context():
        report = clock.run_once()
    return (
        f"clock pass before timing: {report.requests} requests, {report.orders} orders, {report.others} "
        f"other items in {time.perf_counter() - t0:.1f} s"
    )


def run(
    app,
    repeat: int = 30,
    profile: int = 0,
    out: Callable[[str], None] = say,
    timeout_s: float = 120.0,
    served=None,
) -> list[dict]:
    """Time every public page as made (the page cache off: the verdict), and, given `served` (the same market
    with the page cache on, as an installation runs), as served to an anonymous visitor once it was made."""
    from marketplace.search import backends

    with app.app_context():
        if not backends.is_built():  # a search never builds its index: built here, as `flask search reindex`
            backends.reindex()
    out(clock_pass(app))
    found, left_out, broken = pages(app, timeout_s)
    if broken:
        out("BROKEN (5xx to an anonymous visitor): " + "; ".join(broken))
    client = app.test_client()
    engine = app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]
    out(f"\n{engine}: {len(found)} pages, median of up to {repeat} requests each after a warm-up")
    served_client = served.test_client() if served is not None else None
    out(
        f"{'page':62} {'median ms':>10} {'p95 ms':>8} {'× healthz':>10} {'target':>7}  verdict"
        + (f" {'served ms':>10}" if served_client else "")
    )
    results = []
    base = None
    for page in found:
        median, p95, n = time_page(client, page.path, repeat, probe_ms=page.probe_ms)
        base = base or median
        ok = median <= page.target
        cached = None
        if served_client is not None:  # made once (and this app's first search opens the index), then timed
            served_client.get(page.path)
            cached = time_page(served_client, page.path, min(repeat, 10))[0]
        results.append(
            {
                "page": page.label,
                "path": page.path,
                "median": median,
                "p95": p95,
                "n": n,
                "ok": ok,
                "target": page.target,
                "served": cached,
            }
        )
        label = page.label if len(page.label) <= 62 else page.label[:59] + "…"
        out(
            f"{label:62} {median:10.1f} {p95:8.1f} {median / base:10.1f} {page.target:6.0f}  "
            f"{'OK  ' if ok else 'over'}" + (f" {cached:10.1f}" if cached is not None else "")
        )
    over = [r for r in results if not r["ok"]]
    out(f"{len(results) - len(over)} of {len(results)} pages within target as made; healthz {base:.2f} ms")
    if served_client is not None:
        late = [r["page"] for r in results if r["served"] > r["target"]]
        out(
            f"{len(results) - len(late)} of {len(results)} within target as served (the page cache on, production's "
            "defaults: a visitor after the first)" + (": over: " + "; ".join(late) if late else "")
        )
    if left_out:
        out("not timed: " + "; ".join(left_out))
    if profile:  # the slowest pages first
        for r in sorted(over, key=lambda r: -r["median"])[:profile]:
            out(profile_page(app, r["path"]))
    return results


def profile_page(app, path: str, top: int = 14) -> str:
    """The slowest SQL statements of one request (with their plans) and its top functions by own+callee time."""
    from sqlalchemy import event

    from marketplace.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[tuple[float, str, object]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("t0", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info.get("t0")  # empty when an earlier statement failed (a time-out) before this one
        if started:
            statements.append(((time.perf_counter() - started.pop()) * 1000, statement, parameters))

    client = app.test_client()  # warmed up by the timing run
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    client.get(path)
    profiler.disable()
    total = (time.perf_counter() - t0) * 1000
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    sql_ms = sum(s[0] for s in statements)
    lines = [
        f"\n=== {path}: {total:.0f} ms (profiled), {len(statements)} SQL statements, {sql_ms:.0f} ms in SQL"
    ]
    postgres = engine.dialect.name == "postgresql"
    for ms, statement, params in sorted(statements, key=lambda s: -s[0])[:3]:
        flat = " ".join(statement.split())
        lines.append(f"--- {ms:.1f} ms: {flat[:700]}{'…' if len(flat) > 700 else ''}")
        try:
            with engine.connect() as conn:
                explain = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
                raw = conn.connection.dbapi_connection.cursor()
                raw.execute(explain + statement, params)
                plan = raw.fetchall()
                raw.close()
            lines.extend("    " + " | ".join(str(c) for c in row if c is not None) for row in plan[:25])
        except Exception as exc:  # noqa: BLE001 (a plan we cannot get is said, not fatal)
            lines.append(f"    (no plan: {str(exc).splitlines()[0][:200]})")
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(top)
    lines.append("\n".join(stream.getvalue().splitlines()[: top + 12]))
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    lines.append("\n".join(stream.getvalue().splitlines()[: top + 12]))
    return "\n".join(lines)


# --- the command line -----------------------------------------------------------------------------------------


def _drop_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    base, name = url.rsplit("/", 1)
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.market", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("build", "run", "all"))
    parser.add_argument("--agencies", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--ratings", type=int, help="default: three quarters of the orders")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", help="a SQLAlchemy URL (PostgreSQL: the database is dropped and made anew "
                        "by build); default a SQLite file in --folder")  # fmt: skip
    parser.add_argument("--folder", help="where the SQLite file, the search index and uploads live")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=12,
        default=0,
        help="profile the N slowest pages over target (12)",
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds a page may take before it is given up"
    )
    parser.add_argument("--search-backend", choices=("whoosh", "postgres"))
    args = parser.parse_args(argv)
    folder = Path(args.folder or os.environ.get("BENCH_FOLDER") or tempfile.mkdtemp(prefix="mp-bench-"))
    database = args.database or os.environ.get("BENCH_DATABASE") or None
    extra = {"SEARCH_BACKEND": args.search_backend} if args.search_backend else {}
    say(f"folder: {folder}; database: {database or folder / 'bench.db'}")
    if args.command in ("build", "all"):
        if database and database.startswith("postgresql"):
            _drop_postgres(database.replace("postgresql://", "postgresql+psycopg://", 1))
        elif (folder / "bench.db").exists():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{folder / 'bench.db'}{suffix}").unlink(missing_ok=True)
        ratings = args.ratings if args.ratings is not None else args.orders * 3 // 4
        plan = Plan(args.agencies, args.orders, ratings, seed=args.seed)
        t0 = time.perf_counter()
        timings = build(make_app(database, folder, **extra), plan)
        say(
            f"built {plan.agencies:,} agencies / {plan.orders:,} orders / {plan.ratings:,} ratings in "
            f"{time.perf_counter() - t0:.0f} s: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
        )
    if args.command in ("run", "all"):
        # the statistics are served as an installation serves them: computed figures kept for a few minutes and
        # the default views made by the clock (STATS_FRESH_SECONDS, 0 in tests); the page cache stays off, so that
        # every other page is timed as made (the verdict). The `served` column: the same page with the page
        # cache on (the production defaults), as an anonymous visitor gets it once it was made
        app = make_app(database, folder, STATS_FRESH_SECONDS=300, **extra)
        served = make_app(
            database, folder, STATS_FRESH_SECONDS=300, CACHE_PAGE_SECONDS=60, CACHE_STALE_SECONDS=5, **extra
        )
        run(app, args.repeat, args.profile, timeout_s=args.timeout, served=served)
        say(cold_start(database, folder, extra))


if __name__ == "__main__":
    main()
