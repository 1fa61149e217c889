"""What services record for people — failure reasons, fall-back reasons, invalidated bids, order history lines —
is stored as a message code and shown in the viewer's language: Chinese by default, English with the English UI
(`/auth/lang/en`) or `Accept-Language: en` on the API. People's own words stay exactly as they wrote them."""

import json
import re

from sqlalchemy import update

from marketplace.agencies import membership
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderEvent
from marketplace.requests import services as requests
from marketplace.requests.bids import Bid
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel

HAN = re.compile(r"[\u4e00-\u9fff]")
EN = {"Accept-Language": "en"}
TOO_FEW_ZH = "有效报价 2 家，少于最低要求 3 家，流标。"
TOO_FEW_EN = "Valid bids: 2, fewer than the required minimum of 3; the request failed."


def _failed_for_too_few_bids():
    enterprise, admin = f.user("enterprise"), f.admin()
    req = f.published_request(enterprise, selection_method="lowest_price")
    for _ in range(2):
        f.bid(f.active_agency("C03", reviewer=admin), req)
    timetravel.past_deadline(req)
    return enterprise, req


def _stored(model, column: str, obj_id: int) -> str:
    db.session.expire_all()
    return getattr(db.session.get(model, obj_id), column)


def _assert_code(value: str) -> None:
    """A message code, not prose: a JSON object naming an English message id."""
    assert not HAN.search(json.loads(value)["$msg"]), value


def test_a_failed_request_says_why_in_the_viewers_language(client):
    enterprise, req = _failed_for_too_few_bids()
    stored = _stored(ServiceRequest, "failure_reason", req.id)
    _assert_code(stored)
    assert not HAN.search(stored)

    assert client.get(f"/api/v1/requests/{req.id}").get_json()["failure_reason"] == TOO_FEW_ZH
    assert client.get(f"/api/v1/requests/{req.id}", headers=EN).get_json()["failure_reason"] == TOO_FEW_EN

    page = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert TOO_FEW_ZH in page and "$msg" not in page
    client.get("/auth/lang/en")
    page = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert TOO_FEW_EN in page and TOO_FEW_ZH not in page


def test_rows_written_before_messages_show_as_they_are_beside_new_ones(client):
    enterprise, req = _failed_for_too_few_bids()
    legacy = "只有正常入驻的机构才能报价。"  # how closing the bidding used to record an invalid bid
    bid_id = db.session.query(Bid.id).filter_by(request_id=req.id).order_by(Bid.id).limit(1).scalar()
    db.session.execute(update(Bid).where(Bid.id == bid_id).values(status="invalid", invalid_reason=legacy))
    db.session.commit()
    h = {**f.token(client, enterprise), **EN}
    rows = client.get(f"/api/v1/requests/{req.id}/bids", headers=h).get_json()
    assert [row["bid"]["invalid_reason"] for row in rows if row["bid"]["id"] == bid_id] == [legacy]
    assert client.get(f"/api/v1/requests/{req.id}", headers=h).get_json()["failure_reason"] == TOO_FEW_EN
    f.login(client, enterprise)
    client.get("/auth/lang/en")
    page = client.get(f"/requests/{req.id}/compare").get_data(as_text=True)
    assert legacy in page and TOO_FEW_EN in page
    # A person's words that merely look like a code are words too.
    typed = '{"$msg": 1, "note": "见附件"}'
    db.session.execute(update(ServiceRequest).where(ServiceRequest.id == req.id).values(failure_reason=typed))
    db.session.commit()
    assert client.get(f"/api/v1/requests/{req.id}").get_json()["failure_reason"] == typed


def _selected(n=3):
    enterprise, admin = f.user("enterprise"), f.admin()
    req = f.published_request(enterprise, selection_method="lowest_price")
    agencies = [f.active_agency("C03", reviewer=admin) for _ in range(n)]
    bids = [f.bid(a, req, price_fen=10_000_000 + i * 1_000_000) for i, a in enumerate(agencies)]
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id)
    db.session.commit()
    timetravel.publicity_over(req)
    return enterprise, admin, req, agencies, bids


def test_a_declined_winner_keeps_its_own_words_inside_the_translated_reason(client):
    enterprise, admin, req, agencies, bids = _selected()
    order = orders.order_for_request(req.id)
    words = "人员安排不开，无法按期完成"
    r = client.post(
        f"/api/v1/orders/{order.id}/decline", json={"reason": words}, headers=f.token(client, agencies[0])
    )
    assert r.status_code == 200
    stored = _stored(ServiceRequest, "selection_reason", req.id)
    _assert_code(stored)
    assert json.loads(stored)["args"]["reason"] == words  # the agency's words, kept as a parameter

    assert client.get(f"/api/v1/requests/{req.id}").get_json()["selection_reason"] == f"中选机构放弃：{words}"
    english = f"The selected agency declined: {words}"
    assert client.get(f"/api/v1/requests/{req.id}", headers=EN).get_json()["selection_reason"] == english
    client.get("/auth/lang/en")
    assert english in client.get(f"/requests/{req.id}").get_data(as_text=True)


def test_a_long_decline_reason_is_shortened_to_fit_the_invalid_bid_column(client):
    enterprise, admin, req, agencies, bids = _selected()
    order = orders.order_for_request(req.id)
    words = "因公司人员调整，" + "项目组成员无法到位" * 50  # 500 characters
    orders.decline(agencies[0], order.id, words[:500])
    db.session.commit()  # PostgreSQL refuses anything longer than the column's 200 characters
    stored = _stored(Bid, "invalid_reason", bids[0].id)
    assert len(stored) <= 200
    _assert_code(stored)
    shown = client.get(
        f"/api/v1/requests/{req.id}/bids", headers={**f.token(client, enterprise), **EN}
    ).get_json()
    reason = next(row["bid"]["invalid_reason"] for row in shown if row["bid"]["id"] == bids[0].id)
    assert reason.startswith("The selected agency declined: 因公司人员调整，项目组成员") and reason.endswith(
        "…"
    )


def test_a_bid_invalidated_at_the_opening_records_the_rule_not_its_chinese_text(client):
    enterprise, admin = f.user("enterprise"), f.admin()
    req = f.published_request(enterprise, selection_method="lowest_price")
    agencies = [f.active_agency("C03", reviewer=admin) for _ in range(4)]
    bids = [f.bid(a, req) for a in agencies]
    membership.decide(admin, agencies[0].agency.id, "suspend", "资质证书过期未更新")
    db.session.commit()
    timetravel.past_deadline(req)
    stored = _stored(Bid, "invalid_reason", bids[0].id)
    assert _stored(Bid, "status", bids[0].id) == "invalid"
    _assert_code(stored)
    h = f.token(client, enterprise)

    def reason(headers):
        rows = client.get(f"/api/v1/requests/{req.id}/bids", headers=headers).get_json()
        return next(row["bid"]["invalid_reason"] for row in rows if row["bid"]["id"] == bids[0].id)

    assert reason(h) == "只有正常入驻的机构才能报价。"
    assert reason({**h, **EN}) == "Only active members may bid."
    f.login(client, enterprise)
    client.get("/auth/lang/en")
    assert "Only active members may bid." in client.get(f"/requests/{req.id}/compare").get_data(as_text=True)


def test_the_automatic_acceptance_line_in_both_languages(app, client):
    enterprise, agency, order = f.accepted_order(accept=False)
    timetravel.delivered_ago(order, app.config["MARKET_ACCEPTANCE_SECONDS"] + 1)
    db.session.expire_all()
    assert db.session.get(Order, order.id).auto_accepted
    line = db.session.query(OrderEvent).filter_by(order_id=order.id, kind="accept").one().text
    _assert_code(line)
    zh = "验收期满未提出异议，系统自动验收。"
    en = "The acceptance period ended without an objection; the system accepted the delivery."
    h = f.token(client, enterprise)

    def texts(headers):
        return [
            e["text"] for e in client.get(f"/api/v1/orders/{order.id}", headers=headers).get_json()["events"]
        ]

    assert zh in texts(h) and en in texts({**h, **EN})
    f.login(client, enterprise)
    assert zh in client.get(f"/orders/{order.id}").get_data(as_text=True)
    client.get("/auth/lang/en")
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert en in page and zh not in page


def test_a_contract_amendment_line_formats_its_money_when_shown(client):
    enterprise, agency, order = f.accepted_order(price_fen=10_000_000)
    orders.amend_contract(enterprise, order.id, 12_000_000, "增加一处监测点位")
    db.session.commit()
    line = db.session.query(OrderEvent).filter_by(order_id=order.id, kind="amend").one().text
    _assert_code(line)
    assert "¥" not in line  # amounts are stored as fen and formatted for the viewer
    h = f.token(client, enterprise)
    events = client.get(f"/api/v1/orders/{order.id}", headers={**h, **EN}).get_json()["events"]
    assert "¥100,000.00 → ¥120,000.00: 增加一处监测点位" in [e["text"] for e in events]
    f.login(client, enterprise)
    assert "¥100,000.00 → ¥120,000.00：增加一处监测点位" in client.get(f"/orders/{order.id}").get_data(
        as_text=True
    )


def test_a_suspended_winner_is_replaced_with_a_translated_reason(client):
    enterprise, admin, req, agencies, bids = _selected()
    order = orders.order_for_request(req.id)
    membership.decide(admin, agencies[0].agency.id, "suspend", "资质造假，暂停会员资格")
    db.session.commit()
    _assert_code(_stored(Order, "status_reason", order.id))
    _assert_code(_stored(ServiceRequest, "selection_reason", req.id))
    h = f.token(client, enterprise)
    body = client.get(f"/api/v1/orders/{order.id}", headers={**h, **EN}).get_json()
    assert body["status_reason"] == "The selected agency has been suspended or expelled"
    assert (
        client.get(f"/api/v1/orders/{order.id}", headers=h).get_json()["status_reason"]
        == "中选机构已被暂停或清退"
    )
    assert client.get(f"/api/v1/requests/{req.id}", headers=EN).get_json()["selection_reason"] == (
        "The selected agency has been suspended or expelled; the next in the ranking takes its place."
    )


def test_staff_belong_to_the_supervising_authority_in_either_language(client):
    f.login(client, f.admin())
    assert "监管部门" in client.get("/auth/account").get_data(as_text=True)
    client.get("/auth/lang/en")
    page = client.get("/auth/account").get_data(as_text=True)
    assert "Supervising authority" in page and "监管部门" not in page
