"""Benchmark: the intermediary-services list (and search, when available) on a large market.

    .venv/bin/python -m bench.bench_list            # 20,000 agencies, 200,000 orders, 150,000 ratings
    .venv/bin/python -m bench.bench_list --small    # a quick run (2,000 / 20,000 / 15,000)

Builds a throwaway SQLite database through the migrations, bulk-inserts generated data, rebuilds the statistics
from it (timed), then measures through the Flask test client the median and p95 of:
  - a trivial page (/healthz) — the baseline of the same app on the same machine,
  - the list page: first page, default (composite) sort, one category filter, HTML and JSON,
  - a Chinese search query, when the search feature is installed.
Figures are printed; nothing is asserted (speed targets live here, not in tests).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text


def _time(client, path: str, n: int) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(path)
        samples.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def build(agencies: int, orders: int, ratings: int, seed: int = 7, url: str | None = None):
    """The generated market in a throwaway SQLite file, or in the (empty) database at `url` (PostgreSQL too)."""
    from flask_migrate import upgrade

    from marketplace.app import create_app
    from marketplace.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="mp-bench-"))
    app = create_app(
        {
            "MARKET_ENV": "testing",
            "SECRET_KEY": "bench",
            "INSTANCE_DIR": str(folder),
            "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{folder / 'bench.db'}",
            "SEARCH_INDEX_DIR": str(folder / "index"),
            "RATELIMIT_ENABLED": False,
        }
    )
    rng = random.Random(seed)
    with app.app_context():
        upgrade()
        from marketplace.agencies.models import Agency, Offer, agency_category
        from marketplace.auth.models import Enterprise, User
        from marketplace.catalogue.models import Category, ServiceItem
        from marketplace.common.uscc import make
        from marketplace.demo.dataset import CITY_CODES
        from marketplace.orders.models import Order
        from marketplace.ratings.models import Rating
        from marketplace.requests.bids import Bid
        from marketplace.requests.models import ServiceRequest
        from marketplace.tally import services as tally

        cities = sorted(CITY_CODES.items())
        t0 = time.perf_counter()
        now = datetime.now(UTC)
        items = db.session.execute(
            select(ServiceItem.id, ServiceItem.category_id, ServiceItem.standard_days)
        ).all()
        categories = [c for (c,) in db.session.execute(select(Category.id))]
        by_category: dict[int, list] = {}
        for item in items:
            by_category.setdefault(item.category_id, []).append(item)
        n_users = agencies + 100
        db.session.execute(
            insert(User),
            [
                {
                    "id": i,
                    "email": f"u{i}@bench.cn",
                    "password_hash": "x",
                    "role": "agency" if i <= agencies else "enterprise",
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, n_users + 1)
            ],
        )
        words = [
            "环境",
            "安全",
            "测绘",
            "华信",
            "中衡",
            "恒通",
            "苏科",
            "金陵",
            "东方",
            "明德",
            "正元",
            "天成",
        ]
        db.session.execute(
            insert(Agency),
            [
                {
                    "id": i, "user_id": i, "name": f"{rng.choice(cities)[0][:2]}{rng.choice(words)}{rng.choice(words)}咨询{i}有限公司",
                    "uscc": make("91", "320100", f"B{i:08d}"), "status": "active", "region_code": rng.choice(cities)[1],
                    "intro": "专业中介服务机构。", "approved_at": now, "created_at": now, "updated_at": now,
                }
                for i in range(1, agencies + 1)
            ],
        )  # fmt: skip
        cats = {i: rng.sample(categories, rng.randint(1, 3)) for i in range(1, agencies + 1)}
        db.session.execute(
            insert(agency_category),
            [{"agency_id": a, "category_id": c} for a, cs in cats.items() for c in cs],
        )
        offers = []
        for a, cs in cats.items():
            for item in rng.sample(by_category[cs[0]], min(3, len(by_category[cs[0]]))):
                offers.append(
                    {
                        "agency_id": a,
                        "service_item_id": item.id,
                        "price_mode": "fixed",
                        "price_fen": rng.randint(50, 3000) * 10000,
                        "promised_days": max(1, item.standard_days - rng.randint(0, 5)),
                        "active": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        db.session.execute(insert(Offer), offers)
        db.session.execute(
            insert(Enterprise),
            [
                {
                    "id": i,
                    "user_id": agencies + i,
                    "name": f"业主{i}",
                    "uscc": make("91", "320500", f"E{i:08d}"),
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, 101)
            ],
        )
        # One request, one bid and one accepted order per completed deal.
        chunk = 20_000
        order_agency: dict[int, int] = {}
        for start in range(1, orders + 1, chunk):
            ids = range(start, min(orders, start + chunk - 1) + 1)
            reqs, bids, ords = [], [], []
            for i in ids:
                a = rng.randint(1, agencies)
                item = rng.choice(by_category[cats[a][0]])
                ceiling = rng.randint(50, 3000) * 10000
                price = int(ceiling * rng.uniform(0.7, 0.98))
                days = max(1, item.standard_days - rng.randint(0, 5))
                started = now - timedelta(days=rng.randint(30, 360))
                due = started + timedelta(days=days)
                delivered = due + timedelta(days=rng.uniform(-days * 0.5, days * 0.2))
                reqs.append(
                    {
                        "id": i,
                        "enterprise_id": rng.randint(1, 100),
                        "created_by_id": agencies + 1,
                        "title": f"项目{i}",
                        "project_code": f"P{i}",
                        "service_item_id": item.id,
                        "scope": "服务内容",
                        "ceiling_fen": ceiling,
                        "region_code": "320102",
                        "required_days": days + 5,
                        "funding": "fiscal",
                        "selection_method": "lowest_price",
                        "bid_deadline": started,
                        "status": "awarded",
                        "round": 1,
                        "created_at": started,
                        "updated_at": started,
                    }
                )
                bids.append(
                    {
                        "id": i,
                        "request_id": i,
                        "agency_id": a,
                        "price_fen": price,
                        "promised_days": days,
                        "plan": "方案",
                        "status": "active",
                        "version": 1,
                        "created_at": started,
                        "updated_at": started,
                    }
                )
                order_agency[i] = a
                ords.append(
                    {
                        "id": i,
                        "request_id": i,
                        "bid_id": i,
                        "enterprise_id": reqs[-1]["enterprise_id"],
                        "agency_id": a,
                        "amount_fen": price,
                        "promised_days": days,
                        "status": "accepted",
                        "started_at": started,
                        "due_at": due,
                        "delivered_at": delivered,
                        "accepted_at": delivered + timedelta(days=2),
                        "auto_accepted": False,
                        "deadline_flag": "ok",
                        "created_at": started,
                        "updated_at": started,
                    }
                )
            db.session.execute(insert(ServiceRequest), reqs)
            db.session.execute(insert(Bid), bids)
            db.session.execute(insert(Order), ords)
        rated = rng.sample(range(1, orders + 1), ratings)
        for start in range(0, ratings, chunk):
            rows = []
            for oid in rated[start : start + chunk]:
                overall = rng.choices([5, 4, 3, 2, 1], weights=[50, 30, 12, 5, 3])[0]
                scores = dict.fromkeys(("quality", "timeliness", "attitude", "fee", "compliance"), overall)
                rows.append(
                    {
                        "order_id": oid,
                        "agency_id": order_agency[oid],
                        "enterprise_id": 1,
                        "overall": overall,
                        "created_at": now,
                        **scores,
                    }
                )
            db.session.execute(insert(Rating), rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":  # ids were given: the sequences continue after them
            for model in (User, Agency, Enterprise, ServiceRequest, Bid, Order):
                table = model.__tablename__
                db.session.execute(
                    text(
                        f"""SELECT setval(pg_get_serial_sequence('"{table}"', 'id'), (SELECT max(id) FROM "{table}"))"""
                    )
                )
            db.session.commit()
        generated = time.perf_counter() - t0
        t0 = time.perf_counter()
        tally.rebuild()
        rebuilt = time.perf_counter() - t0
        first_category = categories[2]
    return app, generated, rebuilt, first_category


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    sizes = (2_000, 20_000, 15_000) if args.small else (20_000, 200_000, 150_000)
    app, generated, rebuilt, category = build(*sizes)
    print(
        f"data: {sizes[0]:,} agencies, {sizes[1]:,} orders, {sizes[2]:,} ratings — generated in {generated:.1f} s, stats rebuild {rebuilt:.1f} s"
    )
    client = app.test_client()
    pages = [
        ("trivial page /healthz (baseline)", "/healthz"),
        ("list page, HTML, composite sort, 1 category", f"/agencies/?category={category}"),
        ("list API, composite sort, 1 category", f"/api/v1/agencies?category_id={category}"),
        ("list API, sort=sales, 1 category", f"/api/v1/agencies?category_id={category}&sort=sales"),
    ]
    if "search-api" in app.blueprints or any(r.rule == "/api/v1/search" for r in app.url_map.iter_rules()):
        from urllib.parse import quote

        from marketplace.search import backends

        with app.app_context():  # a search never builds its index: built here, as `flask search reindex` does
            report = backends.reindex()
        counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
        print(f"search index ({app.config['SEARCH_BACKEND']}): {counts} in {report.seconds:.1f} s")
        for q in ("环评", "测绘", "安评", "环境 咨询"):
            pages.append((f"search API q={q}", f"/api/v1/search?q={quote(q)}"))
    base = None
    print(f"{'what':50} {'median ms':>10} {'p95 ms':>8} {'× baseline':>11}")
    for label, path in pages:
        _time(client, path, 3)  # warm up
        median, p95 = _time(client, path, args.repeat)
        base = base or median
        print(f"{label:50} {median:10.1f} {p95:8.1f} {median / base:11.1f}")


if __name__ == "__main__":
    main()
