"""HTML pages: Chinese by default, English on request, forms protected by CSRF, bad input explained."""

import re

from sqlalchemy import func, select

from marketplace.auth.models import User
from marketplace.extensions import db
from tests import factories as f
from tests.html import flashes


def test_pages_are_chinese_by_default_and_english_on_request(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page and "中介超市" in page
    client.get("/auth/lang/en?next=/catalogue/")
    page = client.get("/catalogue/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Intermediary service catalogue" in page
    u = f.user("enterprise")
    f.login(client, u)
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)  # the choice survives logging in
    assert client.get("/auth/lang/en?next=https://evil.example/").headers["Location"] == "/"


def test_public_pages_render(client):
    u = f.active_agency()
    f.offer(u)
    for path in (
        "/",
        "/catalogue/",
        "/catalogue/items/1",
        "/agencies/",
        f"/agencies/{u.agency.id}",
        "/auth/login",
        "/auth/register",
        "/api/v1/docs",
    ):
        assert client.get(path).status_code == 200, path
    assert client.get("/agencies/?category=abc&region=<script>&page=-3").status_code == 200
    assert client.get("/agencies/999999").status_code == 404
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)


def test_security_headers(client):
    r = client.get("/")
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_register_form_explains_a_wrong_credit_code_in_chinese(client):
    r = client.post(
        "/auth/register",
        data={
            "role": "enterprise",
            "org_name": "连云港某某置业有限公司",
            "uscc": "91350100M000100Y44",
            "email": "x@y.cn",
            "password": "abc12345",
            "confirm": "abc12345",
        },
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "统一社会信用代码" in page and "校验码" in page
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_register_and_login_through_forms(client):
    r = client.post(
        "/auth/register",
        data={
            "role": "enterprise",
            "org_name": "连云港某某置业有限公司",
            "uscc": f.new_uscc(),
            "email": "boss@y.cn",
            "password": "abc12345",
            "confirm": "abc12345",
        },
    )
    assert r.status_code == 302
    client.post("/auth/logout")
    assert (
        f.login(
            client, db.session.scalar(select(User).where(User.email == "boss@y.cn")), "wrong-pass1"
        ).status_code
        == 200
    )
    r = client.post("/auth/login?next=//evil.example", data={"email": "boss@y.cn", "password": "abc12345"})
    assert r.status_code == 302 and "evil" not in r.headers["Location"]


def test_forms_refuse_posts_without_csrf_token(app, client):
    u = f.pending_agency()
    admin = f.admin()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = client.post("/auth/login", data={"email": admin.email, "password": f.PASSWORD})
        assert r.status_code == 400 and "表单" in r.get_data(as_text=True)
        login_page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        r = client.post(
            "/auth/login", data={"email": admin.email, "password": f.PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 302
        assert client.post(f"/admin/agencies/{u.agency.id}/approve", data={}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert client.get("/api/v1/agencies/me", headers=f.token(client, u)).get_json()["status"] == "pending"


def test_admin_reviews_in_the_browser_forms(client):
    u = f.pending_agency()
    f.login(client, f.admin())
    page = client.get("/admin/applications").get_data(as_text=True)
    assert u.agency.name in page
    r = client.post(f"/admin/agencies/{u.agency.id}/reject", data={"reason": ""}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert flashes(page) == ["请填写理由。"]  # "A reason is required." (its place: test_form_errors.py)
    assert 'data-status="pending"' in page
    r = client.post(f"/admin/agencies/{u.agency.id}/approve", data={"confirm": "yes"}, follow_redirects=True)
    assert 'data-status="active"' in r.get_data(as_text=True)


def test_offer_form_takes_yuan_and_rejects_nonsense(client):
    u = f.active_agency("C03")
    item = f.market_item("C03")
    f.login(client, u)
    r = client.post(
        "/agency/offers",
        data={"service_item_id": item.id, "price_mode": "fixed", "price": "12.345", "promised_days": "5"},
    )
    assert r.status_code == 200 and "元" in r.get_data(as_text=True)
    assert u.agency.offers == []
    r = client.post(
        "/agency/offers",
        data={"service_item_id": item.id, "price_mode": "fixed", "price": "12,000.50", "promised_days": "5"},
    )
    assert r.status_code == 302
    page = client.get(f"/agencies/{u.agency.id}").get_data(as_text=True)
    assert "¥12,000.50" in page
