"""Benchmark: what the audit hash chain costs a write, and how fast `audit verify` walks the log.

    .venv/bin/python -m bench.bench_audit                       # a throwaway SQLite file
    .venv/bin/python -m bench.bench_audit --database-url postgresql+psycopg://postgres@127.0.0.1:5433/postgres

A write here is what a service does: change one row (a user's display name) and record one audit entry, then
commit. It is timed with the chain (the entries linked at commit under the head row's lock) and without it (the
commit hook removed: entries stay unsealed), sequentially and with 8 writers at once; then `verify` walks every
entry. On PostgreSQL a fresh database is made on the server and dropped afterwards. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, event, text, update
from sqlalchemy.orm import Session


def _app(url: str):
    from flask_migrate import upgrade

    from marketplace.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="mp-bench-audit-"))
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
    with app.app_context():
        upgrade()
    return app


def _write(user_id: int, n: int) -> None:
    from marketplace.audit.services import record
    from marketplace.auth.models import User
    from marketplace.extensions import db

    db.session.execute(update(User).where(User.id == user_id).values(contact_name=f"张{n}"))
    record(
        None, "bench.write", object_type="user", object_id=user_id, after={"contact_name": f"张{n}", "n": n}
    )
    db.session.commit()


def _sequential(app, user_id: int, n: int) -> list[float]:
    from marketplace.extensions import db

    samples = []
    with app.app_context():
        for i in range(n):
            t0 = time.perf_counter()
            _write(user_id, i)
            samples.append((time.perf_counter() - t0) * 1000)
        db.session.remove()
    return samples


def _concurrent(app, user_ids: list[int], per_thread: int) -> float:
    """Writes per second with one writer per user (no row conflicts: only the chain's head is shared)."""
    from marketplace.extensions import db

    barrier = threading.Barrier(len(user_ids))

    def run(uid):
        with app.app_context():
            barrier.wait()
            for i in range(per_thread):
                try:
                    _write(uid, i)
                except Exception:  # noqa: BLE001 (SQLite: a busy writer; counted as lost below)
                    db.session.rollback()
            db.session.remove()

    threads = [threading.Thread(target=run, args=(u,)) for u in user_ids]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(user_ids) * per_thread / (time.perf_counter() - t0)


def _figures(samples: list[float]) -> str:
    samples = sorted(samples)
    return f"median {statistics.median(samples):.2f} ms, p95 {samples[int(len(samples) * 0.95) - 1]:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--writes", type=int, default=2000)
    args = parser.parse_args()

    url, drop = args.database_url, None
    if url.startswith("postgresql"):
        name = f"mp_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = url.rsplit("/", 1)[0] + "/" + name

        def drop():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    try:
        app = _app(url)
        from marketplace.audit import chain
        from marketplace.auth.models import Role, User
        from marketplace.extensions import db

        with app.app_context():
            users = [
                User(email=f"bench{i}@example.cn", password_hash="x", role=Role.ENTERPRISE, contact_name="张")
                for i in range(8)
            ]
            db.session.add_all(users)
            db.session.commit()
            ids = [u.id for u in users]
            print(f"database: {db.engine.dialect.name}")

        n = args.writes
        _sequential(app, ids[0], 100)  # warm up
        chained, plain, chained_rates, plain_rates = [], [], [], []
        for _ in range(4):  # alternate, so that a busy moment of the machine hurts both alike
            chained += _sequential(app, ids[0], n // 4)
            chained_rates.append(_concurrent(app, ids, n // 32))
            event.remove(Session, "before_commit", chain.seal)
            try:
                plain += _sequential(app, ids[0], n // 4)
                plain_rates.append(_concurrent(app, ids, n // 32))
            finally:
                event.listen(Session, "before_commit", chain.seal)
        chained_rate, plain_rate = statistics.median(chained_rates), statistics.median(plain_rates)
        print(f"one write + one audit entry, {n} in a row:")
        print(f"  without the chain  {_figures(plain)}")
        print(f"  with the chain     {_figures(chained)}")
        extra = statistics.median(chained) - statistics.median(plain)
        print(f"  cost of the chain  {extra:+.2f} ms a write (median)")
        print(f"8 writers at once: {plain_rate:.0f} writes/s without the chain, {chained_rate:.0f} with it")

        with app.app_context():
            t0 = time.perf_counter()
            finding = chain.verify(db.session())
            took = time.perf_counter() - t0
            # the unsealed entries written without the chain are reported as outside it, as they should be
            print(
                f"verify: {finding.agreed} chained entries walked in {took:.2f} s ({finding.agreed / took:,.0f}/s)"
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        if drop:
            drop()


if __name__ == "__main__":
    main()
