"""Input that would break or deceive: nesting bombs, oversized JSON, control and bidi characters."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from marketplace.agencies.models import Agency
from marketplace.auth.models import Enterprise
from marketplace.common.inputs import json_depth
from marketplace.common.text import clean_text, csv_cell
from marketplace.extensions import db
from marketplace.requests.models import ServiceRequest
from tests import factories as f


def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


@pytest.mark.parametrize(
    "path, depth",
    [("/api/v1/auth/token", 5_000), ("/api/v1/auth/register", 100_000), ("/auth/register", 100_000)],
)
def test_deeply_nested_json_is_refused_before_parsing(client, path, depth):
    r = client.post(path, data=_deep(depth), content_type="application/json")
    assert r.status_code == 400
    if path.startswith("/api/"):
        body = r.get_json()
        assert body["code"] == 400 and "32" in body["message"]


def test_nested_object_in_a_field_is_refused_too(client):
    payload = {"email": "a@b.cn", "password": {"x": None}}
    inner = payload["password"]
    for _ in range(40):
        inner["x"] = {"x": None}
        inner = inner["x"]
    r = client.post("/api/v1/auth/token", json=payload)
    assert r.status_code == 400 and r.get_json()["status"] == "Bad Request"


def test_json_within_the_limits_still_works(client):
    u = f.user("enterprise")
    r = client.post("/api/v1/auth/token", json={"email": u.email, "password": f.PASSWORD})
    assert r.status_code == 200


def test_oversized_json_is_413_with_the_usual_body(app, client):
    big = json.dumps({"email": "a@b.cn", "password": "x" * (app.config["MAX_JSON_BYTES"] + 10)})
    r = client.post("/api/v1/auth/token", data=big, content_type="application/json")
    assert r.status_code == 413
    assert r.get_json()["code"] == 413


def test_depth_counter_ignores_brackets_inside_strings():
    assert json_depth(b'{"a": "[[[[[[[[[[", "b": [1, {"c": "}}}"}]}', 32) == 3
    assert json_depth(b'"\\"[[["', 32) == 0
    assert json_depth(_deep(50), 32) == 33  # stops counting past the limit


def test_cleaner_removes_controls_and_bidi_and_normalises():
    assert clean_text("北京\u202e公司\x07") == "北京公司"
    assert clean_text("Cafe\u0301") == "Café"
    assert clean_text("第一行\n第二行\t完") == "第一行\n第二行\t完"
    assert clean_text("\x00\x00\x00\x00") == ""
    assert clean_text("a\u200bb\ufeff\u2066c\u2069") == "abc"


def test_registration_stores_clean_names_api(client):
    r = client.post(
        "/api/v1/auth/register",
        json={
            "email": "bidi@test.cn",
            "password": "Passw0rd!x",
            "role": "agency",
            "org_name": "南京\u202e司公限有询咨境环\x07",
            "uscc": f.new_uscc(),
        },
    )
    assert r.status_code == 201, r.get_json()
    name = db.session.scalar(
        select(Agency.name).join(Agency.user).where(Agency.user.has(email="bidi@test.cn"))
    )
    assert name == "南京司公限有询咨境环"
    assert r.get_json()["org_name"] == name


def test_registration_form_stores_clean_names_html(client):
    r = client.post(
        "/auth/register",
        data={
            "email": "form-bidi@test.cn",
            "password": "Passw0rd!x",
            "confirm": "Passw0rd!x",
            "role": "enterprise",
            "org_name": "Cafe\u0301\u202e 科技有限公司\x1b",
            "uscc": f.new_uscc(),
            "accept": "y",
        },
    )
    assert r.status_code in (200, 302)
    name = db.session.scalar(select(Enterprise.name).where(Enterprise.user.has(email="form-bidi@test.cn")))
    assert name == "Café 科技有限公司"


def test_a_title_of_nuls_is_refused_the_same_way_on_every_database(client):
    enterprise = f.user("enterprise")
    headers = f.token(client, enterprise)
    before = db.session.scalar(select(db.func.count(ServiceRequest.id)))
    r = client.post("/api/v1/requests", json=f.request_data(title="\x00\x00\x00\x00"), headers=headers)
    assert r.status_code == 422
    assert "title" in r.get_json()["errors"]
    assert db.session.scalar(select(db.func.count(ServiceRequest.id))) == before


def test_the_public_store_never_shows_a_bidi_override(client):
    agency_user = f.active_agency("C03")
    profile = {k: v for k, v in f.application([f.category().id]).items() if isinstance(v, str)}
    profile["intro"] = "专业\u202e团队\x07，十年经验"
    f.login(client, agency_user)
    r = client.post("/agency/profile", data=profile | {"category_ids": [str(f.category().id)]})
    assert r.status_code == 302
    agency = db.session.get(Agency, agency_user.agency.id)
    db.session.refresh(agency)
    assert agency.intro == "专业团队，十年经验"
    page = client.get(f"/agencies/{agency.id}").get_data(as_text=True)
    assert "专业团队" in page and "\u202e" not in page and "\x07" not in page


def test_passwords_are_kept_exactly_as_typed(client):
    odd = "Passw0rd!\u202e\x07"
    r = client.post(
        "/api/v1/auth/register",
        json={"email": "odd@test.cn", "password": odd, "role": "enterprise", "org_name": "某某有限公司",
              "uscc": f.new_uscc()},
    )  # fmt: skip
    assert r.status_code == 201
    assert (
        client.post("/api/v1/auth/token", json={"email": "odd@test.cn", "password": odd}).status_code == 200
    )
    wrong = client.post("/api/v1/auth/token", json={"email": "odd@test.cn", "password": "Passw0rd!"})
    assert wrong.status_code == 401


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("http://x.cn","点我")', "+86", "-1+2", "@SUM(A1)", "\tx", "\rx"]
)
def test_csv_cells_that_would_be_formulas_are_quoted(value):
    assert csv_cell(value) == "'" + value


def test_csv_cells_that_are_plain_stay_as_they_are():
    assert csv_cell("南京环评有限公司") == "南京环评有限公司"
    assert csv_cell(-5) == -5 and csv_cell(12) == 12
