"""Where a form's errors land: a bad value is explained beside its own field (in the field's error element), in
Chinese, whether the form or the service found it — not only in a flash at the top — and nothing is saved."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from marketplace.agencies.models import Offer
from marketplace.auth.models import User
from marketplace.extensions import db
from marketplace.requests.bids import Bid
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests.html import field_errors, flashes

CORRECT = "请按提示修改标注的内容。"  # "Please correct the marked fields."
NOT_YUAN = "请输入以元为单位的金额，如 12000 或 12000.50。"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _request_form(item_id: int, **over) -> dict:
    deadline = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=10)
    data = {
        "title": "徐圩新区化工园区配套管廊项目环境影响评价",
        "project_code": "2026-320700-26-01-000888",
        "service_item_id": str(item_id),
        "scope": "编制环境影响报告书，配合完成技术评估、专家评审与审批。",
        "ceiling": "300000",
        "floor": "",
        "required_level": "any",
        "region_code": "320703",
        "required_days": "40",
        "funding": "fiscal",
        "selection_method": "lowest_price",
        "bid_deadline": deadline.strftime("%Y-%m-%dT10:00"),
        "action": "publish",
    }
    return data | over


def test_request_form_errors_stand_beside_their_fields(client):
    enterprise = f.user("enterprise")
    item = f.market_item()
    f.login(client, enterprise)
    before = _count(ServiceRequest)

    # Found by the service's rules (floor above ceiling): placed on the yuan field, not the fen key.
    r = client.post("/enterprise/requests/new", data=_request_form(item.id, floor="400000"))
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert field_errors(page, "floor") == ["最低限价不得高于最高限价。"]
    assert field_errors(page, "ceiling") == [] and field_errors(page, "title") == []
    assert CORRECT in flashes(page)

    # Found by the form (not an amount) and by the service (a deadline too soon) in one submission.
    soon = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    page = client.post(
        "/enterprise/requests/new", data=_request_form(item.id, ceiling="12.345", bid_deadline=soon)
    ).get_data(as_text=True)
    assert field_errors(page, "ceiling") == [NOT_YUAN]
    assert field_errors(page, "bid_deadline") == ["截止时间须为机构留出至少 24 小时的报价时间。"]
    assert field_errors(page, "floor") == []
    assert _count(ServiceRequest) == before


def test_bid_form_errors_stand_beside_their_fields(client):
    admin = f.admin()
    agency = f.active_agency("C03", reviewer=admin)
    req = f.published_request(ceiling_fen=30_000_000)
    f.login(client, agency)

    r = client.post(
        f"/requests/{req.id}/bid", data={"price": "300000.01", "promised_days": "30", "plan": "短"}
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert field_errors(page, "price", form="bid") == ["报价高于该需求的最高限价。"]
    assert field_errors(page, "plan", form="bid") == ["请用 10 至 5000 个字符说明服务方案。"]
    assert field_errors(page, "promised_days", form="bid") == []

    page = client.post(
        f"/requests/{req.id}/bid",
        data={"price": "二十万", "promised_days": "30", "plan": "组建项目组现场踏勘。"},
    ).get_data(as_text=True)
    assert field_errors(page, "price", form="bid") == [NOT_YUAN]
    assert CORRECT in flashes(page)
    assert _count(Bid) == 0


def test_offer_form_errors_stand_beside_their_fields(client):
    agency = f.active_agency("C03")
    item = f.market_item("C03")
    f.login(client, agency)

    page = client.post(
        "/agency/offers",
        data={"service_item_id": item.id, "price_mode": "fixed", "price": "12.345", "promised_days": "五天"},
    ).get_data(as_text=True)
    assert field_errors(page, "price") == [NOT_YUAN]
    assert field_errors(page, "promised_days") == ["须为整数。"]

    # Found by the service, under its fen name (price_max_fen), shown on the yuan field.
    page = client.post(
        "/agency/offers",
        data={
            "service_item_id": item.id,
            "price_mode": "range",
            "price_min": "20000",
            "price_max": "10000",
            "promised_days": "5",
        },
    ).get_data(as_text=True)
    assert field_errors(page, "price_max") == ["最高价不得低于最低价。"]
    assert field_errors(page, "price_min") == []
    assert _count(Offer) == 0


def _registration(**over) -> dict:
    data = {
        "role": "enterprise",
        "org_name": "连云港某某置业有限公司",
        "uscc": f.new_uscc(),
        "email": "boss@y.cn",
        "password": "abc12345",
        "confirm": "abc12345",
    }
    return data | over


def test_registration_errors_stand_beside_their_fields(client):
    good = f.new_uscc()
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    page = client.post("/auth/register", data=_registration(uscc=wrong, confirm="abc12346")).get_data(
        as_text=True
    )
    assert field_errors(page, "confirm") == ["两次输入的密码不一致。"]
    page = client.post("/auth/register", data=_registration(uscc=wrong)).get_data(as_text=True)
    assert field_errors(page, "uscc") == ["统一社会信用代码有误：校验码（最后一位）错误。"]
    assert field_errors(page, "email") == []

    taken = f.user("enterprise")
    before = _count(User)
    page = client.post("/auth/register", data=_registration(email=taken.email)).get_data(as_text=True)
    assert field_errors(page, "email") == ["该邮箱已注册。"]
    assert field_errors(page, "uscc") == []
    assert _count(User) == before


def test_a_refused_membership_decision_explains_itself_beside_the_reason(client):
    u = f.pending_agency()
    f.login(client, f.admin())
    action = f"/admin/agencies/{u.agency.id}/reject"
    page = client.post(action, data={"reason": ""}, follow_redirects=True).get_data(as_text=True)
    assert field_errors(page, "reason", form={"action": action}) == ["请填写理由。"]
