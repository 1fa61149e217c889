"""Who is told what, event by event: objections, contracts, extensions, bank transfers, ratings, and the supervision
events sent with the keyword arguments documented in events.py (their features are built elsewhere; here the
events are sent with plain objects carrying the documented attributes)."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from marketplace import events
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.notifications import services
from marketplace.notifications.models import Notification
from marketplace.orders import contracts
from marketplace.orders import services as orders
from marketplace.payments import services as payments
from marketplace.ratings import services as ratings
from marketplace.requests import objections
from marketplace.requests import services as requests
from tests import factories as f
from tests import timetravel

FACTS = "中选机构的资质证书在报价截止前已过期，不符合资格条件，请核查。"


def _texts(user, kind: str) -> list[str]:
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id, Notification.kind == kind)
        .order_by(Notification.id)
    )
    return [services.text_of(n) for n in rows]


@pytest.fixture
def step_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "MARKET_CONTRACT_STEP", True)


def test_objection_lodged_and_decided():
    enterprise, admin = f.user("enterprise"), f.admin()
    winner, loser = f.active_agency("C03", reviewer=admin), f.active_agency("C03", reviewer=admin)
    req = f.published_request(enterprise, selection_method="direct")
    win = f.bid(winner, req, price_fen=10_000_000)
    f.bid(loser, req, price_fen=11_000_000)
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id, win.id, "技术方案最优，团队经验丰富")
    db.session.commit()
    objection = objections.lodge_objection(loser, req.id, "qualification", FACTS)
    db.session.commit()
    assert any("收到异议" in t for t in _texts(enterprise, "objection"))
    assert any("收到异议" in t for t in _texts(winner, "objection"))
    assert _texts(loser, "objection") == []  # it lodged it
    objections.resolve_objection(admin, objection.id, False, "经核查，资质证书在有效期内，异议不成立。")
    db.session.commit()
    [told] = _texts(loser, "objection")
    assert "异议不成立" in told and "资质证书在有效期内" in told


def test_contract_uploaded_confirmed_and_rejected(step_on):
    enterprise = f.user("enterprise")
    agency = f.active_agency("C03")
    req = f.published_request(enterprise, selection_method="direct")
    bid = f.bid(agency, req)
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id, bid.id, "技术方案最优，团队经验丰富")
    db.session.commit()
    timetravel.publicity_over(req)
    order = orders.order_for_request(req.id)
    assert any("请上传签约合同" in t for t in _texts(enterprise, "contract"))
    today = now().date()
    terms = {
        "code": "HT-2026-0158",
        "amount_fen": order.amount_fen,
        "start_date": today,
        "end_date": today + timedelta(days=60),
    }
    contracts.upload_contract(agency, order.id, terms, (io.BytesIO(f.PDF), "合同.pdf"))
    db.session.commit()
    assert any("等待您确认" in t for t in _texts(enterprise, "contract"))
    contracts.reject_contract(enterprise, order.id, "合同金额与报价不一致，请核对")
    db.session.commit()
    assert any("合同被退回" in t and "请核对" in t for t in _texts(agency, "contract"))
    contracts.upload_contract(agency, order.id, terms, (io.BytesIO(f.PDF), "合同.pdf"))
    contracts.confirm_contract(enterprise, order.id)
    db.session.commit()
    assert any("服务计时开始" in t for t in _texts(agency, "contract"))
    assert any("已开始服务" in t for t in _texts(agency, "order"))


def test_extension_asked_and_decided():
    enterprise, agency, order = f.accepted_order(accept=False)
    from marketplace.orders.models import Order, OrderStatus

    db.session.execute(
        Order.__table__.update().where(Order.id == order.id).values(status=OrderStatus.IN_PROGRESS.value)
    )
    db.session.commit()
    db.session.expire_all()
    due = (db.session.get(Order, order.id).due_at + timedelta(days=10)).date()
    ext = contracts.request_extension(agency, order.id, due, "专家评审会延期，需补充监测数据")
    db.session.commit()
    assert any("申请将订单" in t and "补充监测数据" in t for t in _texts(enterprise, "order"))
    contracts.approve_extension(enterprise, order.id, ext.id)
    db.session.commit()
    assert any("已获同意" in t for t in _texts(agency, "order"))


def test_bank_transfer_registered_confirmed_and_rejected():
    enterprise, agency, order = f.accepted_order(price_fen=12_000_000)
    first = payments.record_offline(enterprise, order.id, reference="HX20261122-0001", amount_fen=2_000_000)
    db.session.commit()
    assert any("请在款项到账后确认" in t and "¥20,000.00" in t for t in _texts(agency, "payment"))
    payments.reject_offline(agency, first.id, "查无此笔款项，请核对流水号")
    db.session.commit()
    assert any("未到账" in t and "请核对流水号" in t for t in _texts(enterprise, "payment"))
    second = payments.record_offline(enterprise, order.id, reference="HX20261122-0002")
    payments.confirm_offline(agency, second.id)
    db.session.commit()
    assert any("已确认收到" in t and "¥120,000.00" in t for t in _texts(enterprise, "payment"))


def test_rating_received():
    enterprise, agency, order = f.accepted_order()
    data = {k: 5 for k in ("overall", "quality", "timeliness", "attitude", "fee", "compliance")}
    ratings.rate_order(enterprise, order.id, data | {"comment": "报告质量高"})
    db.session.commit()
    assert any("5 / 5" in t for t in _texts(agency, "rating"))


def test_auto_acceptance_tells_both_parties():
    enterprise, agency, order = f.accepted_order(accept=False)
    timetravel.delivered_ago(order, 15 * 24 * 3600)
    assert any("自动验收" in t for t in _texts(enterprise, "order"))
    assert any("自动验收" in t for t in _texts(agency, "order"))


# --- supervision events, as documented in events.py ----------------------------------------------------------------


def test_complaint_events_reach_complainant_and_respondent():
    enterprise, agency = f.user("enterprise"), f.active_agency("C03")
    complaint = SimpleNamespace(
        id=7,
        number="TS202611300007",
        complainant_id=enterprise.id,
        respondent_agency_id=agency.agency.id,
        respondent_enterprise_id=None,
        refusal_reason=None,
        outcome="经调查，中介机构未按承诺时限提交成果，投诉成立。",
    )
    events.complaint_filed.send(complaint, actor=enterprise)
    events.complaint_status_changed.send(complaint, before="received", after="investigating", actor=None)
    events.complaint_answered.send(complaint, actor=agency)
    events.complaint_decided.send(
        complaint,
        upheld=True,
        consequences=["credit"],
        agency_id=agency.agency.id,
        request_id=None,
        points=10,
        actor=None,
    )
    db.session.commit()
    mine = _texts(enterprise, "complaint")
    theirs = _texts(agency, "complaint")
    assert not any("已收到" in t for t in mine)  # the complainant filed it itself
    assert (
        any("已受理" in t for t in mine)
        and any("已答复" in t for t in mine)
        and any("投诉 TS202611300007 成立" in t for t in mine)
    )
    # the respondent hears of it once accepted, never at filing (it may not read it before, nor a refused one)
    assert not any("涉及您" in t for t in theirs)
    assert any("已受理" in t for t in theirs) and any("成立" in t for t in theirs)
    assert not any("已答复" in t for t in theirs)


def test_credit_events_reach_the_agency():
    agency = f.active_agency("C03")
    agency_id = agency.agency.id
    events.credit_event_recorded.send(SimpleNamespace(agency_id=agency_id, points=-10), actor=None)
    events.credit_grade_changed.send(agency_id, before="B", after="C")
    entry = SimpleNamespace(agency_id=agency_id, reason="一年内两次超期交付")
    events.credit_listed.send(entry, agency_id=agency_id, kind="black", actor=None)
    events.credit_unlisted.send(entry, agency_id=agency_id, kind="black", why="信用修复已通过", actor=None)
    events.credit_appeal_decided.send(SimpleNamespace(agency_id=agency_id), upheld=True, actor=None)
    events.credit_repair_decided.send(SimpleNamespace(agency_id=agency_id), approved=True, actor=None)
    db.session.commit()
    told = _texts(agency, "credit")
    assert len(told) == 6 and "信用修复申请已通过" in told[5]
    assert (
        "-10" in told[0]
        and "由 B 变为 C" in told[1]
        and "失信黑名单" in told[2]
        and "信用修复已通过" in told[3]
    )


def test_inspection_events_reach_the_drawn_agencies():
    drawn, not_drawn = f.active_agency("C03"), f.active_agency("C03")
    task = SimpleNamespace(
        id=3, title="2026年第四季度环评机构双随机抽查", targets=[SimpleNamespace(agency_id=drawn.agency.id)]
    )
    events.inspection_drawn.send(task, actor=None)
    events.inspection_closed.send(task, actor=None)
    db.session.commit()
    assert len(_texts(drawn, "inspection")) == 2 and _texts(not_drawn, "inspection") == []
