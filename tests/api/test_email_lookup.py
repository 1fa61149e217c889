"""An account is found by its address through an index, whatever the case it is typed in, and the database keeps one
account per address whatever its case (migration 0041)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.exc import IntegrityError

from marketplace.auth.models import User
from marketplace.common.clock import now
from marketplace.extensions import db
from tests import factories as f


def _lookups(client, path: str, **kw) -> tuple[int, list[tuple[str, object]]]:
    """The status of one request and the statements it ran that look an account up by lower(email)."""
    seen: list[tuple[str, object]] = []

    def note(_conn, _cursor, statement, parameters, _context, _many):
        if re.search(r'FROM "?user"?\b', statement) and "lower(" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        status = client.post(path, **kw).status_code
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return status, seen


def _plan(statement: str, parameters) -> str:
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # A test database holds a few accounts: the planner would scan them whatever the indexes. Forbidding the
        # scan shows whether an index can answer the statement at all (else the plan still scans, at a high cost).
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        connection.exec_driver_sql("SET LOCAL enable_seqscan = on")
    else:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return " ".join(str(r[-1]) for r in rows)


def test_the_token_and_the_log_in_find_the_account_through_the_index(client):
    user = f.user("enterprise", email="zhang.wei@example.cn")
    status, seen = _lookups(
        client, "/api/v1/auth/token", json={"email": "Zhang.Wei@Example.CN", "password": f.PASSWORD}
    )
    assert status == 200  # the case typed does not matter
    assert seen
    for statement, parameters in seen:
        plan = _plan(statement, parameters)
        assert "uq_user_email_lower" in plan, plan
    status, seen = _lookups(
        client, "/auth/login", data={"email": "ZHANG.WEI@example.cn", "password": f.PASSWORD}
    )
    assert status == 302 and seen
    assert all("uq_user_email_lower" in _plan(s, p) for s, p in seen)
    assert user.id


def test_the_database_keeps_one_account_per_address_whatever_its_case(app):
    f.user("agency", email="li.na@example.cn")
    stamp = now()
    row = {
        "email": "Li.Na@Example.cn",
        "password_hash": "x",
        "role": "agency",
        "active": True,
        "created_at": stamp,
        "updated_at": stamp,
    }
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(insert(User).values(**row))
    assert (
        db.session.scalar(text("SELECT count(*) FROM \"user\" WHERE lower(email) = 'li.na@example.cn'")) == 1
    )
