"""GET /api/v1/search and the /search page, as a visitor uses them."""

import json

import pytest
from sqlalchemy import select

from marketplace.catalogue.models import ServiceItem
from marketplace.extensions import db
from tests import factories as f
from tests.unit.test_search import fresh_index


@pytest.fixture(autouse=True)
def index_dir(app, tmp_path_factory, tmp_path, monkeypatch):
    return fresh_index(app, tmp_path_factory, tmp_path, monkeypatch)


def _environmental_agency(name="江苏碧水蓝天环境科技有限公司"):
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.name == "环境影响评价（报告书）"))
    u = f.active_agency("C03")
    f.offer(u, item)
    u.agency.name = name
    db.session.commit()
    return u.agency, item


def test_search_returns_hits_of_every_kind_with_links(client):
    agency, item = _environmental_agency()
    req = f.published_request(title="海州湾风电场升压站项目环境影响评价")
    r = client.get("/api/v1/search", query_string={"q": "环评", "per_page": 50})
    assert r.status_code == 200
    hits = r.get_json()
    assert {"type", "id", "title", "snippet", "url", "region", "score"} <= set(hits[0])
    found = {(h["type"], h["id"]): h for h in hits}
    assert found[("agency", agency.id)]["url"] == f"/agencies/{agency.id}"
    assert (
        found[("agency", agency.id)]["region"] == "建邺区"
    )  # registered in 南京市建邺区 (tests/factories.py)
    assert found[("service", item.id)]["url"] == f"/catalogue/items/{item.id}"
    assert found[("request", req.id)]["url"] == f"/requests/{req.id}"
    assert hits == sorted(hits, key=lambda h: -h["score"])
    counts = json.loads(r.headers["X-Search-Counts"])
    assert counts["agency"] >= 1 and counts["service"] >= 2 and counts["request"] >= 1
    assert r.headers["X-Search-Mode"] == "exact"
    typo = client.get("/api/v1/search", query_string={"q": "环平"})
    assert typo.headers["X-Search-Mode"] == "corrected"
    assert json.loads(typo.headers["X-Search-Corrected"]) == "环评"
    # Every link works for a visitor.
    for key in (("agency", agency.id), ("service", item.id), ("request", req.id)):
        assert client.get(found[key]["url"]).status_code == 200


def test_type_filter_and_pagination(client):
    r = client.get("/api/v1/search", query_string={"q": "测绘", "type": "service", "per_page": 3})
    assert r.status_code == 200
    hits = r.get_json()
    assert len(hits) == 3 and {h["type"] for h in hits} == {"service"}
    pagination = json.loads(r.headers["X-Pagination"])
    assert pagination["page"] == 1 and pagination["total"] >= 7 and pagination["next_page"] == 2
    second = client.get(
        "/api/v1/search", query_string={"q": "测绘", "type": "service", "page": 2, "page_size": 3}
    )
    assert not {h["id"] for h in hits} & {h["id"] for h in second.get_json()}
    past = client.get("/api/v1/search", query_string={"q": "测绘", "page": 500})
    assert past.status_code == 200 and past.get_json() == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "环" * 101},
        {"q": "环评", "type": "bid"},
        {"q": "环评", "per_page": 101},
    ],
)
def test_bad_queries_get_a_structured_422(client, params):
    r = client.get("/api/v1/search", query_string=params)
    assert r.status_code == 422
    body = r.get_json()
    assert body["code"] == 422 and body["errors"]


def test_sealed_bids_and_contacts_are_never_searchable(client):
    req = f.published_request()
    f.bid(f.active_agency("C03"), req, plan="麒麟专属报价策略与现场踏勘方案")
    for q in ("麒麟", "13800000000", "张建国"):
        assert client.get("/api/v1/search", query_string={"q": q}).get_json() == [], q


def test_openapi_documents_the_search(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    op = spec["paths"]["/api/v1/search"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"q", "type", "page", "per_page"}
    assert "X-Pagination" in op["responses"]["200"]["headers"]


def test_search_page_tabs_counts_highlights_and_links(client):
    agency, item = _environmental_agency("江苏碧水蓝天环评咨询有限公司")
    page = client.get("/search", query_string={"q": "环评"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-type="agency"' in html and 'data-type="service"' in html and 'data-type="request"' in html
    assert f'href="/agencies/{agency.id}"' in html and f'href="/catalogue/items/{item.id}"' in html
    assert "江苏碧水蓝天<mark>环评</mark>咨询有限公司" in html
    assert 'value="环评"' in html  # the header box keeps the query

    only = client.get("/search", query_string={"q": "环评", "type": "service"}).get_data(as_text=True)
    assert f'href="/catalogue/items/{item.id}"' in only and f'href="/agencies/{agency.id}"' not in only


def test_search_page_without_query_typo_and_nothing(client):
    assert client.get("/search").status_code == 200
    fuzzy = client.get("/search", query_string={"q": "环平"}).get_data(as_text=True)
    assert "search-fuzzy" in fuzzy and "<mark>环境影响评价</mark>（报告书）" in fuzzy
    nothing = client.get("/search", query_string={"q": "zzqqxx"})
    assert nothing.status_code == 200 and "search-empty" in nothing.get_data(as_text=True)
    assert client.get("/search", query_string={"q": "环" * 101}).status_code == 422
    xss = client.get("/search", query_string={"q": "<script>alert(1)</script>"}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in xss


def test_header_and_home_search_boxes_lead_to_the_search_page(client):
    home = client.get("/").get_data(as_text=True)
    assert home.count('action="/search"') == 2
