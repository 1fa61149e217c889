"""Log-in attempts: a per-address back-off after repeated failures, and no timing difference for unknown addresses."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from marketplace.auth import throttle
from marketplace.auth.models import LoginThrottle
from marketplace.common.clock import now
from marketplace.extensions import db
from tests import factories as f

WRONG = "wrong-pass1"
BACKOFF_MESSAGE = "该邮箱登录失败次数过多"


def html_login(client, email: str, password: str):
    return client.post("/auth/login", data={"email": email, "password": password})


def api_login(client, email: str, password: str):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def row(email: str) -> LoginThrottle | None:
    db.session.expire_all()
    return db.session.get(LoginThrottle, throttle.login_key(email))


def time_passes(email: str, by: timedelta) -> None:
    """Move the address's failures (and any back-off) `by` into the past."""
    r = row(email)
    r.first_failure_at -= by
    r.last_failure_at -= by
    if r.locked_until is not None:
        r.locked_until -= by
    db.session.commit()


def backoff_over(email: str) -> None:
    """Just after the end of the address's back-off."""
    time_passes(email, row(email).locked_until - now() + timedelta(seconds=1))


def test_html_login_backs_off_after_five_failures_and_a_success_resets_it(client):
    u = f.user("enterprise")
    for _ in range(4):
        r = html_login(client, u.email, WRONG)
        assert r.status_code == 200 and "邮箱或密码错误" in r.get_data(as_text=True)
    r = html_login(client, u.email, WRONG)
    assert r.status_code == 429 and BACKOFF_MESSAGE in r.get_data(as_text=True)
    assert "1 分钟后再试" in r.get_data(as_text=True) and r.headers["Retry-After"] == "60"

    r = html_login(client, u.email, f.PASSWORD)  # the right password is not even checked now
    assert r.status_code == 429 and BACKOFF_MESSAGE in r.get_data(as_text=True)
    assert client.get("/enterprise/").status_code == 302

    backoff_over(u.email)
    r = html_login(client, u.email, f.PASSWORD)
    assert r.status_code == 302 and client.get("/enterprise/").status_code == 200
    assert row(u.email) is None  # forgotten: the next mistakes count from zero
    client.post("/auth/logout")
    for _ in range(4):
        assert html_login(client, u.email, WRONG).status_code == 200


def test_api_token_backs_off_with_a_doubling_retry_after_capped_at_30_minutes(client):
    u = f.user("agency")
    for _ in range(4):
        r = api_login(client, u.email, WRONG)
        assert r.status_code == 401
    waits = []
    for _ in range(8):
        r = api_login(client, u.email, WRONG)
        body = r.get_json()
        assert r.status_code == 429 and body["code"] == 429 and body["status"] == "Too Many Requests"
        assert BACKOFF_MESSAGE in body["message"]
        waits.append(int(r.headers["Retry-After"]))
        refused = api_login(client, u.email, f.PASSWORD)  # while backing off, even the right password
        assert refused.status_code == 429 and refused.get_json()["code"] == 429
        backoff_over(u.email)
    assert waits == [60, 120, 240, 480, 960, 1800, 1800, 1800]
    assert api_login(client, u.email, f.PASSWORD).status_code == 200
    assert row(u.email) is None


def test_unknown_addresses_get_exactly_the_same_answers(client):
    u = f.user("enterprise")
    answers = {}
    for email in (u.email, "nobody-here@test.cn"):
        seen = []
        for _ in range(6):
            r = api_login(client, email, WRONG)
            seen.append((r.status_code, r.get_json()["message"], r.headers.get("Retry-After")))
        answers[email] = seen
    assert answers[u.email] == answers["nobody-here@test.cn"]
    assert [s for s, _, _ in answers[u.email]] == [401, 401, 401, 401, 429, 429]
    assert row("nobody-here@test.cn").failures == 5  # counted although no such account exists
    odd = "x" * 300  # whatever is typed is counted, and answered politely
    assert api_login(client, odd, WRONG).status_code == 401 and row(odd).failures == 1


def test_failures_count_per_address_in_any_spelling_and_only_within_15_minutes(client):
    u, other = f.user("enterprise"), f.user("enterprise")
    for spelling in (u.email.upper(), f"  {u.email}", u.email, u.email.title()):
        assert api_login(client, spelling, WRONG).status_code == 401
    assert row(u.email).failures == 4
    assert api_login(client, other.email, f.PASSWORD).status_code == 200  # other addresses unaffected

    time_passes(u.email, timedelta(minutes=16))  # the first four are now too old to count
    assert api_login(client, u.email, WRONG).status_code == 401
    assert row(u.email).failures == 1
    for _ in range(3):
        assert api_login(client, u.email, WRONG).status_code == 401
    assert api_login(client, u.email, WRONG).status_code == 429


def test_a_quiet_quarter_of_an_hour_after_a_backoff_starts_afresh(client):
    email = "someone@test.cn"
    for _ in range(5):
        api_login(client, email, WRONG)
    assert row(email).locked_until is not None
    backoff_over(email)
    assert api_login(client, email, WRONG).get_json()["code"] == 429  # right after it: twice as long
    time_passes(email, timedelta(minutes=2 + 16))
    assert api_login(client, email, WRONG).status_code == 401
    assert row(email).failures == 1 and row(email).locked_until is None


def test_an_unknown_address_costs_as_much_time_as_a_wrong_password(app, client):
    """Before the fix the unknown-address path hashed twice (~2× as long); now both check one hash."""
    method = app.config["PASSWORD_HASH_METHOD"]
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:600000"  # slow, so the hashing dominates
    try:
        users = [f.user("enterprise") for _ in range(2)]  # hashed with the slow method

        def attempt(email: str) -> float:
            start = time.perf_counter()
            assert api_login(client, email, WRONG).status_code == 401
            return time.perf_counter() - start

        attempt("warm-up@test.cn")
        attempt(users[1].email)
        known, unknown = [], []
        for i in range(5):  # interleaved, so that load on the machine hits both alike; ≤ 4 failures each
            known.append(attempt(users[i % 2].email))
            unknown.append(attempt(f"nobody{i}@test.cn"))
    finally:
        app.config["PASSWORD_HASH_METHOD"] = method
    assert statistics.median(unknown) < 1.5 * statistics.median(known), (known, unknown)
