"""One money limit for every amount the market takes — a store offer, a request's ceiling and floor, a contract
amendment — and the form that says it: ¥20 million (common/money.MAX_FEN), on SQLite and PostgreSQL alike, with
the reason beside the field. (Before, offers and requests stopped at ¥100 million and amendments at ¥10 billion,
beyond what PostgreSQL's 32-bit money columns hold: such amounts met a database error instead of the rule.)"""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.agencies.models import Offer
from marketplace.common.clock import local, now
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests.html import field_errors

pytestmark = pytest.mark.sqlite  # also run on SQLite, the embedded default (tests/run.sh)

LIMIT = 2_000_000_000  # ¥20,000,000.00 in fen
LARGE = 1_500_000_000  # ¥15 million: large for an intermediary service, but allowed


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_request_ceiling_may_reach_the_limit_and_not_pass_it(client):
    enterprise = f.user("enterprise")
    h = f.token(client, enterprise)
    for ceiling in (LARGE, LIMIT):
        r = client.post("/api/v1/requests", json=f.request_data(ceiling_fen=ceiling), headers=h)
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["ceiling_fen"] == ceiling
    before = _count(ServiceRequest)
    r = client.post("/api/v1/requests", json=f.request_data(ceiling_fen=LIMIT + 1), headers=h)
    assert r.status_code == 422 and "ceiling_fen" in r.get_json()["errors"]
    assert _count(ServiceRequest) == before


def test_a_store_offer_may_be_large_but_not_above_the_limit(client):
    agency = f.active_agency("C03", reviewer=f.admin())
    item = f.market_item()
    h = f.token(client, agency)
    offer = {"service_item_id": item.id, "promised_days": max(1, item.standard_days - 5)}
    r = client.post("/api/v1/agencies/me/offers", json=offer | {"price_fen": LIMIT + 1}, headers=h)
    assert r.status_code == 422 and "price_fen" in r.get_json()["errors"]
    assert _count(Offer) == 0
    r = client.post("/api/v1/agencies/me/offers", json=offer | {"price_fen": LARGE}, headers=h)
    assert r.status_code in (200, 201), r.get_json()
    assert r.get_json()["price_fen"] == LARGE


def test_a_contract_amendment_above_the_limit_is_refused(client):
    enterprise, _agency, order = f.accepted_order(price_fen=10_000_000)
    url, h = f"/api/v1/orders/{order.id}/amend", f.token(client, enterprise)
    r = client.post(url, json={"amount_fen": LIMIT + 1, "reason": "补充协议：金额录入"}, headers=h)
    assert r.status_code == 422 and "amount_fen" in r.get_json()["errors"]
    assert db.session.get(Order, order.id).amount_fen == 10_000_000
    r = client.post(url, json={"amount_fen": LARGE, "reason": "补充协议：扩大评价范围"}, headers=h)
    assert r.status_code == 200 and r.get_json()["amount_fen"] == LARGE


def test_the_form_says_the_limit_beside_the_amount(client):
    enterprise = f.user("enterprise")
    item = f.market_item()
    f.login(client, enterprise)
    form = {
        "title": "徐圩新区化工园区配套管廊项目环境影响评价",
        "project_code": "2026-320700-26-01-000888",
        "service_item_id": str(item.id),
        "scope": "编制环境影响报告书，配合完成技术评估、专家评审与审批。",
        "ceiling": "20000000.01",
        "region": "连云港市",
        "required_days": "40",
        "funding": "fiscal",
        "selection_method": "lowest_price",
        "bid_deadline": local(now() + timedelta(days=10)).strftime("%Y-%m-%dT10:00"),
        "action": "publish",
    }
    page = client.post("/enterprise/requests/new", data=form).get_data(as_text=True)
    assert field_errors(page, "ceiling") == ["请填写 ¥0.01 至 ¥20,000,000.00 之间的金额。"]
    assert _count(ServiceRequest) == 0
