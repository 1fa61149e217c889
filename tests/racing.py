"""Concurrent actors in threads against a committed database: a SQLite file (WAL, one writer at a time: the
losers wait for the write lock, or are answered 409) or a real PostgreSQL server (row locks)."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest

from marketplace.common.database import writing
from marketplace.common.errors import DomainError
from marketplace.common.uow import unit_of_work
from marketplace.extensions import db
from tests.conftest import build_app

needs_postgresql = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql"),
    reason="needs PostgreSQL (make test runs it)",
)


def committed(tmp_path_factory, **settings):
    """(app, close): an app on a fresh database of its own whose commits are real (no per-test rollback; name
    the fixture `committed_app` so that tests/conftest.py leaves it alone)."""
    app, drop = build_app(tmp_path_factory, **settings)

    def close():
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()

    return app, close


def race(app, *calls, timeout: float = 60):
    """Run the calls in threads released together, each in its own app context and, for services called
    directly, taking the write lock when a transaction begins like commands do; return each one's result, the
    DomainError it raised, or any other exception (so that a test sees it instead of a silent None)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        # A service called directly takes the write lock like a command (an HTTP call: as its method says).
        with app.app_context(), writing():
            barrier.wait()
            try:
                with unit_of_work():  # each actor is a boundary, as a view or the clock would be
                    results[i] = call()
            except DomainError as exc:
                db.session.rollback()
                results[i] = exc
            except Exception as exc:  # noqa: BLE001 (reported to the test as a result)
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results


def statuses(results) -> list:
    """The HTTP status of each result of `race` over test-client calls (an exception stays as it is)."""
    return [r.status_code if hasattr(r, "status_code") else r for r in results]


def bids_closing_soon(app, after: timedelta):
    """A request with three equal bids whose deadline comes `after` from now, committed, the test's session
    closed: (request id, the first bid's id, its agency user's id, its agency user's e-mail, the deadline)."""
    from sqlalchemy import update

    from marketplace.common.clock import now
    from marketplace.requests.models import ServiceRequest
    from tests import factories as f

    with app.app_context():
        enterprise, admin = f.user("enterprise"), f.admin()
        agencies = [f.active_agency("C03", reviewer=admin) for _ in range(3)]
        req = f.published_request(enterprise)
        bids = [f.bid(a, req, price_fen=5_000_000) for a in agencies]
        deadline = now() + after
        db.session.execute(
            update(ServiceRequest).where(ServiceRequest.id == req.id).values(bid_deadline=deadline)
        )
        db.session.commit()
        made = (req.id, bids[0].id, agencies[0].id, agencies[0].email, deadline)
        db.session.remove()
    return made
