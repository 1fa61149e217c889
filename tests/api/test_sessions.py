"""Logging out ends a session on the server: copies of the cookie, other devices and API tokens stop working."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event, func, select, update

from marketplace.auth import throttle
from marketplace.auth.models import ApiToken, LoginThrottle, UserSession
from marketplace.common.clock import local, now
from marketplace.extensions import db
from tests import factories as f

WORKSPACE = "/enterprise/"
NEW_PASSWORD = "N3w-passw0rd"


def logged_in(app, user):
    client = app.test_client()
    assert f.login(client, user).status_code == 302
    return client


def stolen_copy(app, client):
    """Another browser holding a copy of `client`'s session cookie, taken now."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def is_in(client) -> bool:
    r = client.get(WORKSPACE)
    if r.status_code == 302:
        assert "/auth/login" in r.headers["Location"]
        return False
    assert r.status_code == 200
    return True


def me(client, headers) -> int:
    return client.get("/api/v1/me", headers=headers).status_code


def test_logout_ends_every_copy_of_the_session_cookie(app):
    u = f.user("enterprise")
    browser = logged_in(app, u)
    thief = stolen_copy(app, browser)
    assert is_in(thief)  # the copy works while the session lives …

    assert browser.post("/auth/logout").status_code == 302
    assert not is_in(browser)
    assert not is_in(thief)  # … and not after logout, although its signature is still valid
    assert db.session.scalar(select(UserSession.ended_at).where(UserSession.user_id == u.id)) is not None


def test_a_signed_cookie_without_a_live_session_logs_nobody_in(app):
    u = f.user("enterprise")
    forged = app.test_client()
    with forged.session_transaction() as s:  # what the cookie alone used to be enough for
        s["_user_id"] = str(u.id)
        s["_fresh"] = True
    assert not is_in(forged)
    with forged.session_transaction() as s:
        s["sid"] = "made-up"
    assert not is_in(forged)

    browser = logged_in(app, u)
    other = f.user("enterprise")
    swapped = stolen_copy(app, browser)
    with swapped.session_transaction() as s:  # a live session id only logs in its own user
        s["_user_id"] = str(other.id)
    assert not is_in(swapped)
    assert is_in(browser)


def test_sessions_last_no_longer_than_the_cookie_lifetime(app):
    u = f.user("enterprise")
    browser = logged_in(app, u)
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == u.id)
        .values(created_at=now() - app.permanent_session_lifetime - timedelta(minutes=1))
    )
    db.session.commit()
    assert not is_in(browser)


def test_password_change_ends_other_sessions_and_tokens_but_keeps_this_one(app, client):
    u, bystander = f.user("enterprise"), f.user("enterprise")
    here, laptop = logged_in(app, u), logged_in(app, u)
    token, bystander_token = f.token(client, u), f.token(client, bystander)
    bystander_browser = logged_in(app, bystander)

    r = here.post(
        "/auth/account/password",
        data={"current_password": f.PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/auth/account")
    assert "密码已修改" in here.get("/auth/account").get_data(as_text=True)
    assert is_in(here)
    assert not is_in(laptop)
    assert me(client, token) == 401
    assert me(client, bystander_token) == 200 and is_in(bystander_browser)
    assert f.login(app.test_client(), u).status_code == 200  # the old password no longer works
    assert f.login(app.test_client(), u, NEW_PASSWORD).status_code == 302


def test_password_change_refuses_bad_input_and_changes_nothing(app, client):
    u = f.user("enterprise")
    here, laptop = logged_in(app, u), logged_in(app, u)
    token = f.token(client, u)
    cases = [
        (
            {"current_password": "wrong-pass1", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
            "当前密码不正确",
        ),
        (
            {"current_password": f.PASSWORD, "new_password": "onlyletters", "confirm": "onlyletters"},
            "字母和数字",
        ),
        ({"current_password": f.PASSWORD, "new_password": "a1b2", "confirm": "a1b2"}, "介于 8 到 128"),
        (
            {"current_password": f.PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"},
            "不一致",
        ),
    ]
    for data, message in cases:
        r = here.post("/auth/account/password", data=data)
        assert r.status_code == 200 and message in r.get_data(as_text=True), data
    assert is_in(here) and is_in(laptop) and me(client, token) == 200
    assert f.login(app.test_client(), u).status_code == 302  # still the old password


def test_log_out_everywhere_ends_all_sessions_and_tokens(app, client):
    u, bystander = f.user("agency"), f.user("enterprise")
    here, laptop = logged_in(app, u), logged_in(app, u)
    copy = stolen_copy(app, here)
    token, bystander_token = f.token(client, u), f.token(client, bystander)

    r = here.post("/auth/account/logout-everywhere")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    for browser in (here, laptop, copy):
        r = browser.get("/auth/account")
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    assert me(client, token) == 401
    assert me(client, bystander_token) == 200
    assert f.login(app.test_client(), u).status_code == 302  # the password still works
    live = select(func.count()).select_from(UserSession).where(UserSession.ended_at.is_(None))
    assert db.session.scalar(live.where(UserSession.user_id == u.id)) == 1  # only that new log-in


def test_account_actions_need_a_login_and_csrf(app):
    anonymous = app.test_client()
    for path in ("/auth/account/password", "/auth/account/logout-everywhere"):
        r = anonymous.post(path)
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    u = f.user("enterprise")
    here = logged_in(app, u)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert here.post("/auth/account/logout-everywhere").status_code == 400
        data = {"current_password": f.PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        assert here.post("/auth/account/password", data=data).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert is_in(here)
    assert f.login(app.test_client(), u).status_code == 302


def test_delete_token_revokes_it_at_once(client):
    u, other = f.user("enterprise"), f.user("agency")
    token, second, others = f.token(client, u), f.token(client, u), f.token(client, other)
    assert me(client, token) == 200

    r = client.delete("/api/v1/auth/token", headers=token)
    assert r.status_code == 204 and r.get_data() == b""
    r = client.get("/api/v1/me", headers=token)
    body = r.get_json()
    assert (
        r.status_code == 401 and body["code"] == 401 and body["status"] == "Unauthorized" and body["message"]
    )
    assert client.delete("/api/v1/auth/token", headers=token).status_code == 401
    assert me(client, second) == 200  # the user's other token is a separate log-in
    assert me(client, others) == 200
    revoked = select(func.count()).where(ApiToken.user_id == u.id, ApiToken.revoked_at.is_not(None))
    assert db.session.scalar(revoked) == 1  # that token only, not the user's other one


def test_delete_token_without_a_live_token_is_401(client):
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        r = client.delete("/api/v1/auth/token", headers=headers)
        assert r.status_code == 401 and r.get_json()["code"] == 401


def test_delete_token_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/auth/token"]["delete"]
    assert "204" in operation["responses"] and "401" in operation["responses"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert "post" in spec["paths"]["/api/v1/auth/token"]


CHROME_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)


def test_account_page_lists_sessions_and_tokens(app, client):
    u = f.user("agency")
    phone = app.test_client()
    phone.post(
        "/auth/login",
        data={"email": u.email, "password": f.PASSWORD},
        headers={"User-Agent": SAFARI_ON_IPHONE},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    here = app.test_client()
    here.post(
        "/auth/login",
        data={"email": u.email, "password": f.PASSWORD},
        headers={"User-Agent": CHROME_ON_WINDOWS},
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    ended = logged_in(app, u)
    ended.post("/auth/logout")
    for _ in range(2):
        f.token(client, u)
    revoked = f.token(client, u)
    client.delete("/api/v1/auth/token", headers=revoked)

    r = here.get("/auth/account")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "账户与安全" in page and u.email in page and u.org_name in page and "中介机构" in page
    rows = re.findall(r'<tr data-session="(current|other)">(.*?)</tr>', page, re.S)
    assert [kind for kind, _ in rows] == ["current", "other"]  # newest first; the ended one is gone
    current, other = rows[0][1], rows[1][1]
    assert "本设备" in current and "Chrome · Windows" in current and "198.51.100.4" in current
    assert "本设备" not in other and "Safari · iPhone" in other and "203.0.113.7" in other
    created = db.session.scalars(
        select(UserSession.created_at).where(UserSession.user_id == u.id).order_by(UserSession.created_at)
    ).first()
    assert local(created).strftime("%Y-%m-%d %H:%M") in other  # shown in Asia/Shanghai time
    assert re.search(r'data-field="tokens">\s*使用中的 API 令牌：2', page)
    assert "退出所有设备" in page and 'name="csrf_token"' in page


def test_every_logged_in_user_has_the_account_link_in_the_header(app):
    anonymous = app.test_client().get("/").get_data(as_text=True)
    assert 'data-link="account"' not in anonymous
    for user in (f.user("enterprise"), f.user("agency"), f.admin()):
        page = logged_in(app, user).get("/").get_data(as_text=True)
        assert 'data-link="account"' in page and "账户与安全" in page, user.role


def test_a_logged_in_get_reads_its_session_once_and_writes_nothing(app):
    u = f.user("enterprise")
    browser = logged_in(app, u)
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split(None, 1)[0].upper() + " " + statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert is_in(browser)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    writes = [s for s in statements if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    lookups = [s for s in statements if "FROM user_session" in s]
    assert len(lookups) == 1 and "user_session.id_hash = " in lookups[0]


def test_tick_forgets_long_ended_sessions_and_old_login_failures(app, client):
    u = f.user("enterprise")
    old, recent, live = logged_in(app, u), logged_in(app, u), logged_in(app, u)
    old.post("/auth/logout")
    recent.post("/auth/logout")
    ended = db.session.scalars(
        select(UserSession).where(UserSession.ended_at.is_not(None)).order_by(UserSession.created_at)
    ).all()
    ended[0].ended_at = now() - timedelta(days=31)
    client.post("/api/v1/auth/token", json={"email": "gone@test.cn", "password": "wrong-pass1"})
    client.post("/api/v1/auth/token", json={"email": "fresh@test.cn", "password": "wrong-pass1"})
    stale = db.session.get(LoginThrottle, throttle.login_key("gone@test.cn"))
    stale.first_failure_at = stale.last_failure_at = now() - timedelta(days=2)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["tick"])
    assert "2 old log-in records forgotten" in result.output, result.output
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == u.id))
        == 2
    )
    assert db.session.get(LoginThrottle, throttle.login_key("gone@test.cn")) is None
    assert db.session.get(LoginThrottle, throttle.login_key("fresh@test.cn")) is not None
    assert is_in(live)


def test_logging_in_again_ends_the_session_it_replaces(app):
    u, other = f.user("enterprise"), f.user("enterprise")
    browser = logged_in(app, u)
    before = stolen_copy(app, browser)
    assert f.login(browser, other).status_code == 302  # someone else logs in on the same browser
    assert not is_in(before)  # the first user's old cookie is dead, not merely forgotten
    assert is_in(browser)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == u.id, UserSession.ended_at.is_(None))
        )
        == 0
    )
