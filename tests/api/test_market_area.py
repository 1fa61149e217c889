"""A market set to one county (MARKET_AREA_CODE=330482, Pinghu): agencies come from anywhere in China and serve
the areas they choose; projects must lie inside Pinghu; lists filter by any level of the tree."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from marketplace.agencies.models import Agency
from marketplace.extensions import db
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests.conftest import build_app
from tests.html import field_errors


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app, drop = build_app(tmp_path_factory, MARKET_AREA_CODE="330482")
    yield app
    with app.app_context():
        db.engine.dispose()
    drop()


@pytest.fixture
def client(app):
    return app.test_client()


def _apply(client, headers, category_id, **over):
    f.api_evidence(client, headers)
    r = client.post(
        "/api/v1/agencies/me/application", json=f.application([category_id], **over), headers=headers
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    r = client.post(
        f"/api/v1/agencies/me/qualifications/{body['qualifications'][0]['id']}/file",
        data={"file": (io.BytesIO(f.PDF), "证书.pdf")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.get_json()
    return body


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_shanghai_agency_serving_pinghu_is_admitted_and_bids(client):
    admin, enterprise = f.admin(), f.user("enterprise")
    cat = f.category("C03")
    agency_user = f.user("agency")
    h_agency, h_admin, h_ent = (
        f.token(client, agency_user),
        f.token(client, admin),
        f.token(client, enterprise),
    )
    body = _apply(client, h_agency, cat.id, region_code="310104", service_area_codes=["330482"])
    assert body["region_code"] == "310104" and body["region_name"] == "徐汇区" and body["region"] == "徐汇区"
    assert body["service_area_codes"] == ["330482"]
    r = client.post(f"/api/v1/admin/agencies/{body['id']}/approve", json={}, headers=h_admin)
    assert r.status_code == 200, r.get_json()

    r = client.post("/api/v1/requests", json=f.request_data(region_code="330482"), headers=h_ent)
    assert r.status_code == 201, r.get_json()
    req = r.get_json()
    assert (req["region_code"], req["region_name"], req["region"]) == ("330482", "平湖市", "平湖市")
    inbox = client.get("/api/v1/requests?mine=true", headers=h_agency).get_json()
    assert req["id"] in [x["id"] for x in inbox]
    bid = {"price_fen": 20_000_000, "promised_days": 30, "plan": "组建项目组，现场踏勘后编制报告书。"}
    r = client.post(f"/api/v1/requests/{req['id']}/bids", json=bid, headers=h_agency)
    assert r.status_code == 201, r.get_json()

    # The public list finds it by any level that overlaps its service area; not by Shanghai, where it sits.
    for region in ("330000", "330400", "330482", "平湖市"):
        found = client.get(f"/api/v1/agencies?region={region}").get_json()
        assert body["id"] in [a["id"] for a in found], region
    for region in ("310000", "330481", "320000"):
        found = client.get(f"/api/v1/agencies?region={region}").get_json()
        assert body["id"] not in [a["id"] for a in found], region


def test_an_agency_not_serving_the_project_may_not_bid(client):
    admin, enterprise = f.admin(), f.user("enterprise")
    cat = f.category("C03")
    far = f.user("agency")
    h_far = f.token(client, far)
    body = _apply(client, h_far, cat.id, region_code="320105", service_area_codes=["320000", "330481"])
    f.token(client, admin)
    client.post(f"/api/v1/admin/agencies/{body['id']}/approve", json={}, headers=f.token(client, admin))
    req = f.published_request(enterprise, region_code="330482")
    assert req.id not in [x["id"] for x in client.get("/api/v1/requests?mine=true", headers=h_far).get_json()]
    bid = {"price_fen": 20_000_000, "promised_days": 30, "plan": "组建项目组，现场踏勘后编制报告书。"}
    r = client.post(f"/api/v1/requests/{req.id}/bids", json=bid, headers=h_far)
    assert r.status_code == 422
    assert "service areas" in r.get_json()["message"] or "服务区域" in r.get_json()["message"]
    # Serving the whole province (Zhejiang) covers Pinghu.
    agency = db.session.get(Agency, body["id"])
    agency.service_area_codes = ["330000"]
    db.session.commit()
    assert client.post(f"/api/v1/requests/{req.id}/bids", json=bid, headers=h_far).status_code == 201


def test_a_project_outside_pinghu_is_refused_and_nothing_is_stored(client):
    enterprise = f.user("enterprise")
    h = f.token(client, enterprise)
    before = _count(ServiceRequest)
    for code in ("330481", "320703", "330400", "330000", "999999", "abc"):
        r = client.post("/api/v1/requests", json=f.request_data(region_code=code), headers=h)
        assert r.status_code == 422, code
        assert "region_code" in r.get_json()["errors"], code
    missing = f.request_data()
    missing.pop("region_code")
    r = client.post("/api/v1/requests", json=missing, headers=h)
    assert r.status_code == 422 and "region_code" in r.get_json()["errors"]
    assert _count(ServiceRequest) == before


def test_the_old_region_name_is_still_accepted(client):
    enterprise = f.user("enterprise")
    h = f.token(client, enterprise)
    data = f.request_data(region="平湖市")
    data.pop("region_code")
    r = client.post("/api/v1/requests", json=data, headers=h)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["region_code"] == "330482"
    data["region"] = "海宁市"  # a real place, but outside this market
    r = client.post("/api/v1/requests", json=data, headers=h)
    assert r.status_code == 422 and "region_code" in r.get_json()["errors"]


def test_the_request_form_refuses_a_place_outside_the_area(client):
    enterprise = f.user("enterprise")
    f.login(client, enterprise)
    page = client.get("/enterprise/requests/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="330482"' in html and "330481" not in html  # only the area is offered
    before = _count(ServiceRequest)
    data = {
        "title": "平湖经济技术开发区管廊项目环境影响评价",
        "project_code": "2026-330482-26-01-000001",
        "service_item_id": str(f.market_item().id),
        "scope": "编制环境影响报告书并配合完成技术评估与审批。",
        "ceiling": "300000",
        "required_days": "40",
        "region_code": "330481",
        "funding": "fiscal",
        "selection_method": "lowest_price",
        "required_level": "any",
        "bid_deadline": (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=10)).strftime(
            "%Y-%m-%dT10:00"
        ),
        "action": "publish",
    }
    page = client.post("/enterprise/requests/new", data=data).get_data(as_text=True)
    assert field_errors(page, "region_code") == ["项目须位于本市场区域（浙江省嘉兴市平湖市）之内。"]
    assert _count(ServiceRequest) == before
    page = client.post("/enterprise/requests/new", data=data | {"region_code": "330482"})
    assert page.status_code == 302, field_errors(page.get_data(as_text=True), "region_code")
    assert _count(ServiceRequest) == before + 1
