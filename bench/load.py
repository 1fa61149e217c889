"""Load test: Locust's realistic mix (bench/locustfile.py) against gunicorn + the clock on PostgreSQL.

    .venv/bin/python -m bench.load                       # 20,000 agencies / 200,000 orders, 50 users for 120 s
    .venv/bin/python -m bench.load --agencies 2000 --orders 20000 --ratings 15000 --time 30s   # a quick one
    make load                                            # the same as the first line

1. The market: bench/bench_list.py's generated market in DATABASE (default: a database `h7_load` of its own on
   the dev server; built once, reused while it holds that many agencies), plus the live actors (an administrator,
   10 enterprises, 30 active agencies with known passwords) and a few announcements closing during the run.
   The search index is built before the server starts (a search never builds it).
2. One clock pass (`flask tick`: the catch-up over the generated history, minutes at 100k, done before the run as
   a running market's clock has done it), then gunicorn (2 × cores + 1 sync workers at most 9, on 127.0.0.1, marketplace/serving.py:
   each worker loads the search analyzer first) and the market's clock, as `make serve` runs them
   (bench/load_app.py: production settings, rate limits off because every simulated user comes from 127.0.0.1).
3. Locust, headless and bounded (loopback only): an unmeasured warm-up (--warmup 20s: every worker has made each
   kind of page once), the announcements closing during the run, the run (-u 50 -r 10 -t 120s, counted once all
   users have started: --reset-stats, the ramp-up's log-ins are in the timeline, not the table); then two short
   probes (/healthz alone, the list page alone, no think time) for the list page's throughput as a fraction of
   /healthz's.
4. The table: endpoint | requests/s | p50 | p95 | p99 | errors; p50 / p95 every 10 s of the run; where the machine's CPU went during the run
   (gunicorn's workers, the clock, PostgreSQL, Locust itself: all on the same two cores); the errors and the
   server's tracebacks, if any.

Figures are printed, nothing is asserted. --drop drops the database at the end.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from marketplace.serving import default_workers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5433/h7_load"
BIDDING_SECONDS = 20  # the shortest bidding the load's requests use (MARKET_MIN_BIDDING_SECONDS is 15 here)


def _ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _app(url: str, work: Path):
    from marketplace.app import create_app

    return create_app(
        {
            "MARKET_ENV": "testing",
            "SECRET_KEY": "load",
            "INSTANCE_DIR": str(work),
            "SQLALCHEMY_DATABASE_URI": url,
            "SEARCH_INDEX_DIR": str(work / "index"),
            "UPLOAD_DIR": str(work / "uploads"),
            "RATELIMIT_ENABLED": False,
            "MARKET_MIN_BIDDING_SECONDS": 15,
            "MARKET_REVIEW_ANNOUNCEMENTS": 0,
            "MARKET_FISCAL_THRESHOLD_FEN": 0,
        }
    )


def _agency_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM agency")) or 0
    except Exception:  # noqa: BLE001 (no tables yet)
        return 0
    finally:
        engine.dispose()


def prepare(args, work: Path) -> dict:
    """Build (or reuse) the market, add the live actors and this run's announcements; return the actors."""
    url = args.database
    if url.startswith("postgresql"):
        _ensure_database(url)
    have = _agency_count(url)
    if have < args.agencies:
        if have:
            sys.exit(f"{url} holds {have:,} agencies, fewer than {args.agencies:,}: drop it first (--drop)")
        from bench.bench_list import build

        t0 = time.perf_counter()
        build(args.agencies, args.orders, args.ratings, url=url)
        print(f"market built: {args.agencies:,} agencies, {args.orders:,} orders, {args.ratings:,} ratings "
              f"in {time.perf_counter() - t0:.0f} s")  # fmt: skip
    app = _app(url, work)
    with app.app_context():
        return _actors(app, work)


def _actors(app, work: Path) -> dict:
    from marketplace.agencies.models import Agency, AgencyStatus
    from marketplace.auth import services as auth_services
    from marketplace.auth.models import User
    from marketplace.catalogue.models import Category, ServiceItem
    from marketplace.demo.dataset import CITY_CODES
    from marketplace.extensions import db
    from marketplace.requests.models import ServiceRequest
    from marketplace.search import backends
    from tests import factories as f

    admin = db.session.scalar(select(User).where(User.email == "load-admin@bench.cn"))
    if admin is None:
        t0 = time.perf_counter()
        admin = auth_services.create_admin("load-admin@bench.cn", f.PASSWORD)
        db.session.commit()
        for i in range(10):
            f.user("enterprise", email=f"load-ent{i}@bench.cn", org_name=f"苏州压力测试项目业主{i}有限公司")
        for i in range(30):
            u = f.active_agency("C03", reviewer=admin, org_name=f"南京压测环境咨询{i}有限公司")
            u.email = f"load-agency{i}@bench.cn"
            db.session.commit()
        print(
            f"actors: 1 administrator, 10 enterprises, 30 active agencies in {time.perf_counter() - t0:.0f} s"
        )
    if not (work / "index").exists():
        report = backends.reindex()
        print(f"search index: {report.counts} in {report.seconds:.0f} s")
    item = f.market_item("C03")
    enterprises = [f"load-ent{i}@bench.cn" for i in range(10)]
    return {
        "password": f.PASSWORD,
        "enterprises": enterprises,
        "agencies": [f"load-agency{i}@bench.cn" for i in range(30)],
        "item_id": item.id,
        "bidding_seconds": BIDDING_SECONDS,
        "project_region": "320102",
        "category_ids": list(db.session.scalars(select(Category.id))),
        "probe_category": sorted(db.session.scalars(select(Category.id)))[2],
        "item_ids": list(db.session.scalars(select(ServiceItem.id))),
        "region_codes": sorted(set(CITY_CODES.values())),
        # stores a visitor can open: active agencies (a suspended or pending one is a 404 by design), a sample
        "store_ids": list(
            db.session.scalars(
                select(Agency.id)
                .where(Agency.status == AgencyStatus.ACTIVE)
                .order_by(func.random())
                .limit(2000)
            )
        ),
        # announcements a visitor can open (the generated market's rows were never published)
        "request_ids": list(
            db.session.scalars(
                select(ServiceRequest.id).where(ServiceRequest.published_at.is_not(None)).limit(500)
            )
        ),
    }


def _announcements(url: str, work: Path, actors: dict) -> None:
    """Announcements closing while the users ramp up and run (made after the warm-up, just before the measured
    run): the agencies bid near their deadlines."""
    from marketplace.auth.models import User
    from marketplace.catalogue.models import ServiceItem
    from marketplace.extensions import db
    from marketplace.requests import services as request_services
    from tests import factories as f

    app = _app(url, work)
    with app.app_context():
        item = db.session.get(ServiceItem, actors["item_id"])
        enterprises = actors["enterprises"]
        for i in range(20):
            owner = db.session.scalar(select(User).where(User.email == enterprises[i % len(enterprises)]))
            deadline = datetime.now(UTC) + timedelta(seconds=30 + 3 * i)
            request_services.create_request(
                owner,
                f.request_data(
                    item, funding="social", ceiling_fen=30_000_000, bid_deadline=deadline.isoformat()
                ),
            )
            db.session.commit()


def _server_env(args, work: Path) -> dict:
    return os.environ | {
        "DATABASE_URL": args.database,
        "SECRET_KEY": "load-test-secret",
        "MARKET_ENV": "production",
        "INSTANCE_DIR": str(work),
        "SEARCH_INDEX_DIR": str(work / "index"),
        "UPLOAD_DIR": str(work / "uploads"),
        "MARKET_MIN_BIDDING_SECONDS": "15",
        "MARKET_REVIEW_ANNOUNCEMENTS": "0",
        "MARKET_FISCAL_THRESHOLD_FEN": "0",
        "MARKET_CLOSE_GRACE_SECONDS": "1",
        "REPORTS_MONTHLY": "0",  # the clock's monthly reports are not web load
        "PYTHONPATH": str(ROOT),
        "REQUEST_CPU_LOG": str(work / "request_cpu.tsv"),  # marketplace/serving.py: each request's CPU
        "LOAD_SLOWDOWN": str(getattr(args, "slowdown", 0.0)),  # bench/load_app.py
    }


def _wait_up(base: str, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the server at {base} did not come up")


def _locust(
    args, work: Path, prefix: str, users: int, rate: int, duration: str, classes: list[str], extra: tuple = ()
) -> Path:
    cmd = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--only-summary",
           "-u", str(users), "-r", str(rate), "-t", duration, "--host", f"http://127.0.0.1:{args.port}",
           "--csv", str(work / prefix), "--loglevel", "WARNING", "--stop-timeout", "5", *extra, *classes]  # fmt: skip
    env = os.environ | {"LOAD_ACTORS": str(work / "actors.json")}
    with open(work / f"{prefix}.log", "w") as log:
        subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    return work / f"{prefix}_stats.csv"


def _cpu_seconds(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the processes of each named process group (gunicorn's master
    and workers, the clock) and by PostgreSQL's processes; Locust's are its own (resource, after it ended)."""
    import psutil

    totals = dict.fromkeys([*groups, "PostgreSQL"], 0.0)
    for proc in psutil.process_iter(["name"]):
        try:
            group = os.getpgid(proc.pid)
            times = proc.cpu_times()
        except (psutil.Error, OSError):
            continue
        used = times.user + times.system
        name = next((n for n, g in groups.items() if g == group), None)
        if name is None and (proc.info["name"] or "").startswith("postgres"):
            name = "PostgreSQL"
        if name is not None:
            totals[name] += used
    return totals


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _rows(stats: Path) -> list[dict]:
    with open(stats, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def table(mix: Path) -> str:
    lines = [
        "| endpoint | requests/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in _rows(mix):
        name = row["Name"] if row["Type"] in ("GET", "INFO") else f"{row['Name']}"
        if row["Type"] == "GET" and not name.startswith(("/", "GET")):
            name = f"GET {name}"
        if row["Name"] == "Aggregated":
            name = "**all requests**"
        if row["Type"] == "INFO":
            lines.append(f"| {name} | {float(row['Requests/s']):.2f} | – | – | – | – |")
            continue
        lines.append(
            f"| {name} | {float(row['Requests/s']):.2f} | {row['50%']} | {row['95%']} | {row['99%']} "
            f"| {row['Failure Count']} |"
        )
    return "\n".join(lines)


def timeline(history: Path, every: float = 10.0) -> str:
    """All requests' p50 / p95 over the last 10 s (Locust's current window), every `every` seconds of the run,
    from its ramp-up on (the table above counts the requests after the ramp-up)."""
    rows = [r for r in _rows(history) if r["Name"] == "Aggregated" and r["50%"] not in ("N/A", "0")]
    if not rows:
        return "timeline: no history"
    start, shown, next_at = int(rows[0]["Timestamp"]), [], 0.0
    for row in rows:
        at = int(row["Timestamp"]) - start
        if at >= next_at:
            shown.append(f"{at}s {row['User Count']}u {row['50%']}/{row['95%']}")
            next_at = at + every
    return "p50/p95 ms over the last 10 s (s since start, users): " + ", ".join(shown)


def cpu_by_route(log: Path, workers_cpu: float) -> str:
    """Where the workers' CPU went: each route's share of the CPU the requests' threads used (marketplace/serving.py
    logs it), heaviest first; the rest of the workers' CPU is gunicorn's own (accepting, parsing, the GIL's hand-offs).
    With the log's statement columns, also the time each route spent in its statements (sent to answered, the GIL
    won back included) and how many it ran: under load a statement costs its round trip and a wait for the GIL."""
    routes: dict[str, list[tuple[float, float, float, float]]] = {}
    for line in log.read_text("utf-8").splitlines():
        fields = line.split("\t")
        method, path, _status, cpu, wall = fields[:5]
        db_ms, statements = (float(fields[7]), float(fields[8])) if len(fields) >= 9 else (0.0, 0.0)
        route = method + " " + re.sub(r"/\d+", "/[id]", path)
        routes.setdefault(route, []).append((float(cpu), float(wall), db_ms, statements))
    total = sum(r[0] for rows in routes.values() for r in rows) / 1000
    out = [f"the requests' own CPU: {total:.0f} s of the workers' {workers_cpu:.0f} s (the rest: gunicorn itself, "
           f"the GIL's hand-offs, threads waiting)", "",
           "| route | requests | CPU ms mean | CPU ms p95 | CPU s | share | wall ms p50 | wall ms p95 "
           "| statements | in statements ms mean |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for route, rows in sorted(routes.items(), key=lambda kv: -sum(r[0] for r in kv[1])):
        cpus, walls = sorted(r[0] for r in rows), sorted(r[1] for r in rows)
        seconds, n = sum(cpus) / 1000, len(rows)
        out.append(f"| {route} | {n} | {seconds * 1000 / n:.1f} | {cpus[int(len(cpus) * 0.95)]:.1f} "
                   f"| {seconds:.1f} | {seconds / total:.0%} | {walls[len(walls) // 2]:.0f} "
                   f"| {walls[int(len(walls) * 0.95)]:.0f} | {sum(r[3] for r in rows) / n:.1f} "
                   f"| {sum(r[2] for r in rows) / n:.1f} |")  # fmt: skip
    return "\n".join(out)


def requests_made(history: Path) -> int:
    """Every request of the run, the ramp-up's included: Locust's total restarts at --reset-stats, so each time it
    drops, the count it had reached is added (to within the second between two rows)."""
    total = last = 0
    for row in _rows(history):
        if row["Name"] != "Aggregated":
            continue
        count = int(row["Total Request Count"])
        if count < last:
            total += last
        last = count
    return total + last


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--agencies", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--ratings", type=int, default=150_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--time", default="120s")
    parser.add_argument("--warmup", default="20s", help="an unmeasured run first (0: none)")
    parser.add_argument("--probe-time", default="15s")
    parser.add_argument("--port", type=int, default=5070)
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WORKERS") or 0) or default_workers(),
        help="gunicorn -w (make serve's WORKERS; default marketplace/serving.py's, 2 × cores + 1 at most 9)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("THREADS") or 1),
        help="gunicorn --threads (make serve's THREADS)",
    )
    parser.add_argument(
        "--slowdown",
        type=float,
        default=0.0,
        help="every request's CPU costs (1 + F)× in the workers (bench/load_app.py): this machine's slow hours, "
        "when a /healthz costs 4.5 ms of CPU instead of 2, reproduced at will to compare settings",
    )
    parser.add_argument("--work", default="/tmp/mp-load", help="run folder: logs, CSVs, search index")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument(
        "--prepare-only", action="store_true", help="build the market and the index, then stop"
    )
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    actors = prepare(args, work)
    if args.prepare_only:
        return
    (work / "actors.json").write_text(json.dumps(actors, ensure_ascii=False))
    env = _server_env(args, work)
    # The clock has been running in a live market: its catch-up pass over the generated history (minutes at 100k)
    # is done before the run, not beside it.
    t0 = time.perf_counter()
    subprocess.run([str(BIN / "flask"), "--app", "bench.load_app", "tick"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    print(f"clock catch-up pass (flask tick): {time.perf_counter() - t0:.0f} s")
    log = open(work / "server.log", "w")  # noqa: SIM115 (open while the server runs)
    clock_log = open(work / "clock.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "python:marketplace.serving", "-w", str(args.workers), "--threads", str(args.threads), "-b", f"127.0.0.1:{args.port}", "--timeout", "60", "--keep-alive", "30",
         "bench.load_app:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    clock = subprocess.Popen(
        [str(BIN / "flask"), "--app", "bench.load_app", "clock", "--quiet"],
        cwd=ROOT, env=env, stdout=clock_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_up(f"http://127.0.0.1:{args.port}")
        if args.warmup not in ("", "0", "0s"):  # every worker has made each kind of page once: not measured
            _locust(args, work, "warmup", args.users, args.spawn_rate, args.warmup,
                    ["Visitor", "Enterprise", "Agency", "Watcher"])  # fmt: skip
        _announcements(args.database, work, actors)
        started = datetime.now(UTC)
        groups = {f"gunicorn ({args.workers} workers)": server.pid, "the clock": clock.pid}
        (work / "request_cpu.tsv").unlink(missing_ok=True)
        cpu_before, locust_before, t0 = _cpu_seconds(groups), _children_cpu(), time.perf_counter()
        # Measured once every user has started (--reset-stats): the ramp-up, when the members all log in at once
        # (a password hash each), is a moment of the run, not its steady state; the timeline shows both.
        mix = _locust(args, work, "mix", args.users, args.spawn_rate, args.time,
                      ["Visitor", "Enterprise", "Agency", "Watcher"],
                      ("--reset-stats", "--csv-full-history"))  # fmt: skip
        cpu_after, wall = _cpu_seconds(groups), time.perf_counter() - t0
        cpu = {name: cpu_after[name] - cpu_before[name] for name in cpu_after}
        cpu["Locust"] = _children_cpu() - locust_before
        if (work / "request_cpu.tsv").exists():
            (work / "request_cpu.tsv").replace(work / "request_cpu_mix.tsv")
        probes = {
            name: _locust(args, work, f"probe_{name}", 16, 16, args.probe_time, [name])
            for name in ("HealthzProbe", "ListProbe")
        }
    finally:
        for proc in (server, clock):
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in (server, clock):
            proc.wait(timeout=30)
        log.close()
        clock_log.close()
    print(f"\nLoad test {started:%Y-%m-%d %H:%M} UTC — {args.agencies:,} agencies / {args.orders:,} orders / "
          f"{args.ratings:,} ratings on {args.database.split('+')[0]}; gunicorn -w {args.workers} --threads {args.threads} + the clock; "
          + (f"every request slowed to {1 + args.slowdown:g}× its CPU (--slowdown); " if args.slowdown else "")
          + f"Locust -u {args.users} -r {args.spawn_rate} -t {args.time} after a warm-up of {args.warmup}; "
          f"counted from the moment all {args.users} users had started (--reset-stats)\n")  # fmt: skip
    print(table(mix))
    print(f"\n{timeline(work / 'mix_stats_history.csv')}")
    cores = os.cpu_count() or 1
    print(f"\nCPU during the run ({wall:.0f} s × {cores} cores = {wall * cores:.0f} CPU-seconds): "
          + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in cpu.items())
          + f"; idle or other {max(0.0, wall * cores - sum(cpu.values())):.0f} s")  # fmt: skip
    made = requests_made(work / "mix_stats_history.csv")
    workers = next(seconds for name, seconds in cpu.items() if name.startswith("gunicorn"))
    if made:  # the figure to compare runs by: a request's cost, whatever the rate the users came at
        print(f"the workers' CPU per request: {workers * 1000 / made:.1f} ms ({workers:.0f} CPU-seconds over "
              f"{made:,} requests, the ramp-up's included)")  # fmt: skip
    if (work / "request_cpu_mix.tsv").exists():
        print(f"\n{cpu_by_route(work / 'request_cpu_mix.tsv', workers)}")
    rate = {name: float(_rows(path)[-1]["Requests/s"]) for name, path in probes.items()}
    ratio = rate["ListProbe"] / rate["HealthzProbe"] if rate["HealthzProbe"] else 0
    print(f"\nthroughput alone (16 users, no think time, {args.probe_time}): /healthz {rate['HealthzProbe']:.0f} req/s, "
          f"list page {rate['ListProbe']:.0f} req/s = {ratio:.2f} of /healthz (target ≥ 0.25)")  # fmt: skip
    failures = work / "mix_failures.csv"
    if failures.exists() and len(_rows(failures)):
        print("\nerrors:")
        for row in _rows(failures):
            print(f"  {row['Occurrences']:>5} × {row['Method']} {row['Name']}: {row['Error'][:200]}")
    server_log = (work / "server.log").read_text(errors="replace")
    tracebacks = server_log.count("Traceback")
    print(f"server log: {tracebacks} tracebacks ({work / 'server.log'})")
    if args.drop and args.database.startswith("postgresql"):
        drop_database(args.database)
        print(f"dropped {args.database}")


if __name__ == "__main__":
    main()
