"""Concurrent actors in threads against a real PostgreSQL server (SQLite serialises writers, so these tests
only mean something there)."""

from __future__ import annotations

import os
import threading

import pytest

from marketplace.common.errors import DomainError
from marketplace.common.uow import unit_of_work
from marketplace.extensions import db

needs_postgresql = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql"),
    reason="needs PostgreSQL (make test runs it)",
)


def race(app, *calls):
    """Run the calls in threads released together; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        with app.app_context():
            barrier.wait()
            try:
                with unit_of_work():  # each actor is a boundary, as a view or the clock would be
                    results[i] = call()
            except DomainError as exc:
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results
