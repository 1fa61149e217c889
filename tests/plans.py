"""The statements a piece of code runs, and the plan the database would choose for one of them."""

from __future__ import annotations

import contextlib
import re

from sqlalchemy import event

from marketplace.extensions import db


@contextlib.contextmanager
def statements(pattern: str):
    """Collect (statement, parameters) of the statements run meanwhile whose text matches `pattern` (a regex)."""
    seen: list[tuple[str, object]] = []
    wanted = re.compile(pattern, re.S)

    def note(_conn, _cursor, statement, parameters, _context, _many):
        if wanted.search(statement):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def plan(statement: str, parameters) -> str:
    """The database's plan for the statement, as one line of text. On PostgreSQL with sequential scans forbidden:
    a test database holds a few rows, so the planner would scan them whatever the indexes; forbidding the scan
    shows whether an index can answer the statement at all (else the plan still scans, at a high cost)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        try:
            rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        finally:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = on")
    else:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return " ".join(str(r[-1]) for r in rows)
