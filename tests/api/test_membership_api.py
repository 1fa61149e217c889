"""The membership and store path through the JSON API, as an integration would use it."""

import io
from datetime import date, timedelta

from sqlalchemy import select

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from tests import factories as f


def test_register_refuses_bad_credit_code_with_structured_error(client):
    r = client.post(
        "/api/v1/auth/register",
        json={
            "email": "a@b.cn",
            "password": "abc12345",
            "role": "agency",
            "org_name": "某某公司",
            "uscc": "91350100M000100Y44",
        },
        headers={"Accept-Language": "zh-CN"},
    )
    assert r.status_code == 422
    body = r.get_json()
    assert body["code"] == 422 and body["status"] == "Unprocessable Entity"
    assert "uscc" in body["errors"]
    assert "校验" in body["message"] or "check digit" in body["message"]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.register")) is None


def test_register_validates_every_field_at_once(client):
    r = client.post(
        "/api/v1/auth/register",
        json={"email": "nope", "password": "short", "role": "boss", "org_name": "x", "uscc": "1"},
    )
    assert r.status_code == 422
    assert set(r.get_json()["errors"]) >= {"email", "password", "role", "org_name", "uscc"}


def test_garbage_bodies_get_422_not_500(client):
    for body in ("not json", "[]", '{"email": 5}'):
        r = client.post("/api/v1/auth/register", data=body, content_type="application/json")
        assert r.status_code in (400, 422), (body, r.status_code)
        assert r.get_json()["code"] == r.status_code


def test_duplicate_email_and_credit_code_are_refused(client):
    u = f.user("agency")
    r = client.post(
        "/api/v1/auth/register",
        json={
            "email": u.email.upper(),
            "password": "abc12345",
            "role": "agency",
            "org_name": "另一家",
            "uscc": f.new_uscc(),
        },
    )
    assert r.status_code == 422 and "email" in r.get_json()["errors"]
    r = client.post(
        "/api/v1/auth/register",
        json={
            "email": "x@y.cn",
            "password": "abc12345",
            "role": "agency",
            "org_name": "另一家",
            "uscc": u.agency.uscc,
        },
    )
    assert r.status_code == 422 and "uscc" in r.get_json()["errors"]


def test_token_and_me(client):
    u = f.user("enterprise")
    assert client.post("/api/v1/auth/token", json={"email": u.email, "password": "wrong"}).status_code == 401
    headers = f.token(client, u)
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["email"] == u.email and me["role"] == "enterprise" and me["org_name"] == u.org_name
    assert me["agency_id"] is None
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_agency_applies_admin_approves_agency_lists_offer_public_sees_it(client):
    agency_user = f.user("agency")
    admin = f.admin()
    cat = f.category("C03")
    item = f.market_item("C03")
    h_agency, h_admin = f.token(client, agency_user), f.token(client, admin)

    me = client.get("/api/v1/me", headers=h_agency).get_json()
    assert me["agency_status"] == "draft"

    f.api_evidence(client, h_agency)
    application = f.application([cat.id], service_area_codes=["320100"])  # serves Nanjing only
    r = client.post("/api/v1/agencies/me/application", json=application, headers=h_agency)
    assert r.status_code == 201, r.get_json()
    qual_id = r.get_json()["qualifications"][0]["id"]
    r = client.post(
        f"/api/v1/agencies/me/qualifications/{qual_id}/file",
        data={"file": (io.BytesIO(f.PDF), "证书.pdf")},
        headers=h_agency,
        content_type="multipart/form-data",
    )
    assert r.status_code == 200 and r.get_json()["has_file"] is True

    apps = client.get("/api/v1/admin/applications", headers=h_admin).get_json()
    row = next(a for a in apps if a["agency_id"] == me["agency_id"])
    assert row["status"] == "pending" and row["qualifications"][0]["file_url"]

    # Offers are refused before approval.
    offer = {
        "service_item_id": item.id,
        "price_fen": 1_500_000,
        "promised_days": 10,
        "description": "含现场踏勘",
    }
    assert client.post("/api/v1/agencies/me/offers", json=offer, headers=h_agency).status_code == 409

    r = client.post(f"/api/v1/admin/agencies/{row['agency_id']}/approve", json={}, headers=h_admin)
    assert r.status_code == 200 and r.get_json()["status"] == "active"
    assert (
        client.post(
            f"/api/v1/admin/agencies/{row['agency_id']}/approve", json={}, headers=h_admin
        ).status_code
        == 409
    )

    r = client.post("/api/v1/agencies/me/offers", json=offer, headers=h_agency)
    assert r.status_code == 201, r.get_json()

    listing = client.get(f"/api/v1/agencies?category_id={cat.id}&region=南京市")
    assert listing.status_code == 200 and "X-Pagination" in listing.headers
    assert any(a["id"] == row["agency_id"] for a in listing.get_json())
    assert all("stats" in a for a in listing.get_json())
    assert not any(
        a["id"] == row["agency_id"] for a in client.get("/api/v1/agencies?region=苏州市").get_json()
    )

    store = client.get(f"/api/v1/agencies/{row['agency_id']}").get_json()
    assert store["offers"][0]["price_fen"] == 1_500_000
    assert store["qualifications"][0]["has_file"] is True
    for private in ("file_url", "file_name"):
        assert private not in store["qualifications"][0]
    assert "contact_phone" not in store

    actions = [
        e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "agency"))
    ]
    assert {"agency.update_application", "agency.apply", "agency.approve"} <= set(actions)


def test_application_errors_are_itemised(client):
    agency_user = f.user("agency")
    h = f.token(client, agency_user)
    bad = f.application(
        [999999],
        region_code="火星",
        qualifications=[
            {"name": "", "level": "特级", "number": "1", "issuer": "x", "valid_until": "2001-01-01"}
        ],
    )
    r = client.post("/api/v1/agencies/me/application", json=bad, headers=h)
    assert r.status_code == 422
    errors = r.get_json()["errors"]
    assert "region_code" in errors and "category_ids" in errors
    assert any(k.startswith("qualifications.0") for k in errors)
    assert client.get("/api/v1/me", headers=h).get_json()["agency_status"] == "draft"


def test_reject_needs_reason_and_agency_can_reapply(client):
    u = f.pending_agency()
    h_admin = f.token(client, f.admin())
    agency_id = u.agency.id
    r = client.post(f"/api/v1/admin/agencies/{agency_id}/reject", json={}, headers=h_admin)
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    r = client.post(
        f"/api/v1/admin/agencies/{agency_id}/reject", json={"reason": "资质证书扫描件不清晰"}, headers=h_admin
    )
    assert r.status_code == 200 and r.get_json()["status_reason"] == "资质证书扫描件不清晰"
    h = f.token(client, u)
    mine = client.get("/api/v1/agencies/me", headers=h).get_json()
    assert mine["status"] == "rejected" and mine["status_reason"] == "资质证书扫描件不清晰"
    data = f.application([f.category().id])
    data["qualifications"] = [dict(data["qualifications"][0], id=mine["qualifications"][0]["id"])]
    r = client.post("/api/v1/agencies/me/application", json=data, headers=h)
    assert r.status_code == 201 and r.get_json()["status"] == "pending"
    assert r.get_json()["qualifications"][0]["has_file"] is True  # kept its scan


def test_suspend_hides_store_and_reinstate_restores_it(client):
    u = f.active_agency()
    f.offer(u)
    h_admin = f.token(client, f.admin())
    agency_id = u.agency.id
    assert client.get(f"/api/v1/agencies/{agency_id}").status_code == 200
    r = client.post(
        f"/api/v1/admin/agencies/{agency_id}/suspend", json={"reason": "投诉查实"}, headers=h_admin
    )
    assert r.status_code == 200
    assert client.get(f"/api/v1/agencies/{agency_id}").status_code == 404
    assert agency_id not in [a["id"] for a in client.get("/api/v1/agencies?per_page=100").get_json()]
    assert (
        client.post(f"/api/v1/admin/agencies/{agency_id}/reinstate", json={}, headers=h_admin).status_code
        == 200
    )
    assert client.get(f"/api/v1/agencies/{agency_id}").status_code == 200


def test_offer_rules(client):
    u = f.active_agency("C03")
    h = f.token(client, u)
    item = f.market_item("C03")
    guided = f.guided_item()
    cases = [
        ({"service_item_id": item.id, "price_fen": 0, "promised_days": 5}, "price_fen"),
        ({"service_item_id": item.id, "price_fen": 100, "promised_days": 0}, "promised_days"),
        (
            {"service_item_id": item.id, "price_min_fen": 500, "price_max_fen": 100, "promised_days": 5},
            "price_max_fen",
        ),
        ({"service_item_id": item.id, "discount_pct": 80, "promised_days": 5}, "price_mode"),
        (
            {"service_item_id": guided.id, "price_fen": 100, "promised_days": 5},
            "service_item_id",
        ),  # outside categories
        ({"service_item_id": 987654, "price_fen": 100, "promised_days": 5}, "service_item_id"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/agencies/me/offers", json=body, headers=h)
        assert r.status_code == 422, body
        assert field in r.get_json()["errors"], (body, r.get_json())
    assert client.get("/api/v1/agencies/me/offers", headers=h).get_json() == []
    # Saving the same item twice replaces the offer.
    client.post(
        "/api/v1/agencies/me/offers",
        json={"service_item_id": item.id, "price_fen": 100_000, "promised_days": 9},
        headers=h,
    )
    client.post(
        "/api/v1/agencies/me/offers",
        json={
            "service_item_id": item.id,
            "price_min_fen": 90_000,
            "price_max_fen": 120_000,
            "promised_days": 8,
        },
        headers=h,
    )
    offers = client.get("/api/v1/agencies/me/offers", headers=h).get_json()
    assert len(offers) == 1 and offers[0]["price_mode"] == "range" and offers[0]["low_fen"] == 90_000


def test_guided_price_ceiling(client):
    guided = f.guided_item()
    cat_code = guided.category.code
    u = f.active_agency(cat_code)
    h = f.token(client, u)
    above = {"service_item_id": guided.id, "price_fen": guided.guide_max_fen + 100, "promised_days": 3}
    r = client.post("/api/v1/agencies/me/offers", json=above, headers=h)
    assert r.status_code == 422 and "price_fen" in r.get_json()["errors"]
    r = client.post(
        "/api/v1/agencies/me/offers",
        json={"service_item_id": guided.id, "discount_pct": 85, "promised_days": 3},
        headers=h,
    )
    assert r.status_code == 201
    assert r.get_json()["high_fen"] == guided.guide_max_fen * 85 // 100


def test_expired_qualification_cannot_be_added(client):
    u = f.user("agency")
    h = f.token(client, u)
    body = {
        "name": "测绘资质",
        "level": "乙级",
        "number": "1",
        "issuer": "江苏省自然资源厅",
        "valid_until": (date.today() - timedelta(days=1)).isoformat(),
    }
    r = client.post("/api/v1/agencies/me/qualifications", json=body, headers=h)
    assert r.status_code == 422 and "valid_until" in r.get_json()["errors"]


def test_upload_rejects_fake_pdf_and_changes_nothing(client):
    u = f.user("agency")
    h = f.token(client, u)
    body = {
        "name": "测绘资质",
        "level": "乙级",
        "number": "1",
        "issuer": "江苏省自然资源厅",
        "valid_until": (date.today() + timedelta(days=30)).isoformat(),
    }
    qual = client.post("/api/v1/agencies/me/qualifications", json=body, headers=h).get_json()
    r = client.post(
        f"/api/v1/agencies/me/qualifications/{qual['id']}/file",
        data={"file": (io.BytesIO(b"<script>alert(1)</script>"), "scan.pdf")},
        headers=h,
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and "file" in r.get_json()["errors"]
    assert client.get("/api/v1/agencies/me", headers=h).get_json()["qualifications"][0]["has_file"] is False


def test_catalogue_api(client):
    cats = client.get("/api/v1/categories").get_json()
    assert len(cats) == 18 and all(c["items"] for c in cats)
    items = client.get(f"/api/v1/service-items?category_id={cats[0]['id']}").get_json()
    assert items and all(i["category_id"] == cats[0]["id"] for i in items)
    for i in client.get("/api/v1/service-items").get_json():
        assert i["fee_regime"] in ("guided", "market")
        assert (i["guide_min_fen"] is None) == (i["fee_regime"] == "market")
        assert i["standard_days"] > 0


def test_openapi_document_names_the_contract(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path in (
        "/api/v1/auth/register",
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/categories",
        "/api/v1/service-items",
        "/api/v1/agencies/me/application",
        "/api/v1/admin/applications",
        "/api/v1/admin/agencies/{agency_id}/approve",
        "/api/v1/admin/agencies/{agency_id}/reject",
        "/api/v1/agencies",
        "/api/v1/agencies/{agency_id}",
        "/api/v1/agencies/me/offers",
        "/api/v1/requests",
        "/api/v1/requests/{request_id}",
        "/api/v1/requests/{request_id}/bids",
        "/api/v1/bids/{bid_id}",
        "/api/v1/requests/{request_id}/selection",
        "/api/v1/requests/{request_id}/draw",
        "/api/v1/orders",
        "/api/v1/orders/{order_id}",
        "/api/v1/orders/{order_id}/progress",
        "/api/v1/orders/{order_id}/deliver",
        "/api/v1/orders/{order_id}/accept",
    ):
        assert path in paths, path
    assert client.get("/api/v1/docs").status_code == 200


def test_list_keyword_finds_agencies_by_service_and_trade_abbreviation(client):
    u = f.active_agency("C03")
    item = next(i for i in f.category("C03").items if "环境影响评价" in i.name)
    f.offer(u, item)
    other = f.active_agency("C08")
    f.offer(other, f.category("C08").items[0])
    for q in ("环评", item.name[-4:], u.agency.name):
        ids = [a["id"] for a in client.get(f"/api/v1/agencies?q={q}").get_json()]
        assert u.agency.id in ids and other.agency.id not in ids, q
    assert client.get("/api/v1/agencies?q=%25").get_json() == []  # LIKE wildcards are plain text


def test_no_approval_and_no_bidding_on_a_qualification_without_its_scan(client):
    """The API's one-call application may leave the scans for later; the review waits for them, and a
    qualification added later without a scan does not count for bidding."""
    agency_user, admin, enterprise = f.user("agency"), f.admin(), f.user("enterprise")
    cat = f.category("C03")
    h_agency, h_admin = f.token(client, agency_user), f.token(client, admin)
    f.api_evidence(client, h_agency)
    r = client.post("/api/v1/agencies/me/application", json=f.application([cat.id]), headers=h_agency)
    assert r.status_code == 201
    qual_id = r.get_json()["qualifications"][0]["id"]
    agency_id = r.get_json()["id"]

    r = client.post(f"/api/v1/admin/agencies/{agency_id}/approve", json={}, headers=h_admin)
    assert r.status_code == 409
    assert "环境影响评价编制单位信用平台登记" in r.get_json()["message"]  # the qualification without a scan
    assert client.get("/api/v1/me", headers=h_agency).get_json()["agency_status"] == "pending"

    client.post(
        f"/api/v1/agencies/me/qualifications/{qual_id}/file",
        data={"file": (io.BytesIO(f.PDF), "证书.pdf")},
        headers=h_agency,
        content_type="multipart/form-data",
    )
    r = client.post(f"/api/v1/admin/agencies/{agency_id}/approve", json={}, headers=h_admin)
    assert r.status_code == 200 and r.get_json()["status"] == "active"

    # Another category joined later, covered only by a qualification whose scan never came.
    other = f.category("C05")
    from marketplace.agencies.models import Agency

    agency = db.session.get(Agency, agency_id)
    agency.categories.append(other)
    db.session.commit()
    q = f.application([other.id])["qualifications"][0] | {"name": "测绘资质", "category_id": other.id}
    # a member's new qualification is a change under review: it does not count before approval either
    assert client.post("/api/v1/agencies/me/qualifications", json=q, headers=h_agency).status_code == 202
    item = next(i for i in other.items)
    req = f.published_request(enterprise, item=item, required_level=None)
    bid = {"price_fen": 10_000_000, "promised_days": 20, "plan": "组建项目组，现场踏勘后编制报告书。"}
    r = client.post(f"/api/v1/requests/{req.id}/bids", json=bid, headers=h_agency)
    assert r.status_code == 422
    assert "qualification" in r.get_json()["message"].lower() or "资质" in r.get_json()["message"]
