"""An account is found by its address through an index, whatever the case it is typed in, and the database keeps one
account per address whatever its case (migration 0041)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from marketplace.auth.models import User
from marketplace.common.clock import now
from marketplace.extensions import db
from tests import factories as f
from tests.plans import plan, statements

BY_EMAIL = r'FROM "?user"?\b.*lower\('


def test_the_token_and_the_log_in_find_the_account_through_the_index(client):
    f.user("enterprise", email="zhang.wei@example.cn")
    with statements(BY_EMAIL) as seen:
        r = client.post("/api/v1/auth/token", json={"email": "Zhang.Wei@Example.CN", "password": f.PASSWORD})
    assert r.status_code == 200  # the case typed does not matter
    assert seen
    for statement, parameters in seen:
        assert "uq_user_email_lower" in plan(statement, parameters), plan(statement, parameters)
    with statements(BY_EMAIL) as seen:
        r = client.post("/auth/login", data={"email": "ZHANG.WEI@example.cn", "password": f.PASSWORD})
    assert r.status_code == 302 and seen
    assert all("uq_user_email_lower" in plan(s, p) for s, p in seen)


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
