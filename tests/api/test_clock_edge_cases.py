"""The clock's harder cases: a qualification that lapses between bidding and the deadline, a direct pick whose
winner declines (the selection reopens), a winner suspended during publicity (the next-ranked bid takes its
place when publicity ends). Time moves by shifting dates; the clock runs through tests/timetravel.py:run_clock."""

from sqlalchemy import select

from marketplace.agencies import membership
from marketplace.audit.models import AuditEntry
from marketplace.common.messages import said
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.requests import services as requests
from marketplace.requests.bids import Bid
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel

NO_VALID_QUALIFICATION = (
    "本事项要求有效的环境影响评价编制单位信用平台登记，您没有在有效期内且已上传扫描件的该类资质。"
)


def _request(req_id: int) -> ServiceRequest:
    db.session.expire_all()
    return db.session.get(ServiceRequest, req_id)


def _orders(req_id: int) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.request_id == req_id).order_by(Order.id)))


def test_a_qualification_lapsing_before_the_deadline_invalidates_the_bid_at_opening(client):
    admin, enterprise = f.admin(), f.user("enterprise")
    req = f.published_request(enterprise, selection_method="lowest_price")
    agencies = [f.active_agency("C03", reviewer=admin) for _ in range(4)]
    prices = [9_000_000, 10_000_000, 11_000_000, 12_000_000]  # the lapsing one is the cheapest
    bids = [f.bid(a, req, price_fen=p) for a, p in zip(agencies, prices, strict=True)]
    lapsing = agencies[0]
    timetravel.qualification_expired(lapsing.agency.qualifications[0])  # after bidding, before the deadline
    assert db.session.get(Bid, bids[0].id).status == "active"  # nothing happens before the deadline

    timetravel.past_deadline(req)
    timetravel.run_clock()

    assert _request(req.id).status == "evaluating"  # three valid bids remain: enough
    lapsed = db.session.get(Bid, bids[0].id)
    assert (lapsed.status, said(lapsed.invalid_reason)) == ("invalid", NO_VALID_QUALIFICATION)
    assert [db.session.get(Bid, b.id).status for b in bids[1:]] == ["active"] * 3
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "bid.invalidate", AuditEntry.object_id == bids[0].id)
    )
    assert entry is not None and said(entry.after["reason"]) == NO_VALID_QUALIFICATION
    # The enterprise sees why, beside the bid; the selection passes over it although it was the cheapest.
    h = f.token(client, enterprise)
    rows = client.get(f"/api/v1/requests/{req.id}/bids", headers=h).get_json()
    shown = next(row["bid"] for row in rows if row["bid"]["id"] == bids[0].id)
    assert (shown["status"], shown["invalid_reason"]) == ("invalid", NO_VALID_QUALIFICATION)
    r = client.post(f"/api/v1/requests/{req.id}/selection", json={}, headers=h)
    assert r.status_code == 200, r.get_json()
    assert _request(req.id).winner_bid_id == bids[1].id
    assert bids[0].id not in _request(req.id).ranking


def test_a_direct_pick_whose_winner_declines_goes_back_to_the_enterprise(client):
    admin, enterprise = f.admin(), f.user("enterprise")
    req = f.published_request(enterprise, selection_method="direct")
    first, second = f.active_agency("C03", reviewer=admin), f.active_agency("C03", reviewer=admin)
    bid_first = f.bid(first, req, price_fen=15_000_000)
    bid_second = f.bid(second, req, price_fen=16_000_000)
    timetravel.past_deadline(req)
    timetravel.run_clock()
    h = f.token(client, enterprise)
    r = client.post(
        f"/api/v1/requests/{req.id}/selection",
        json={"bid_id": bid_first.id, "reason": "方案最完整，团队有同类项目经验"},
        headers=h,
    )
    assert r.status_code == 200, r.get_json()
    timetravel.publicity_over(req)
    timetravel.run_clock()
    declined = orders.order_for_request(req.id)
    assert (_request(req.id).status, declined.agency_id) == ("awarded", first.agency.id)

    r = client.post(
        f"/api/v1/orders/{declined.id}/decline",
        json={"reason": "人员调整，无法按期完成"},
        headers=f.token(client, first),
    )
    assert r.status_code == 200 and r.get_json()["status"] == "declined"

    # A direct pick is the enterprise's to make again: no automatic runner-up, back to evaluating.
    req_now = _request(req.id)
    assert (req_now.status, req_now.winner_bid_id, req_now.publicity_ends_at) == ("evaluating", None, None)
    assert said(req_now.selection_reason) == "中选机构放弃：人员调整，无法按期完成"
    assert db.session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == "request.reopen_selection", AuditEntry.object_id == req.id
        )
    )
    assert db.session.get(Bid, bid_first.id).status == "invalid"
    body = client.get(f"/api/v1/requests/{req.id}", headers=h).get_json()
    assert body["status"] == "evaluating" and body["winner"] is None
    # The bid that declined cannot be picked again; the other one can.
    r = client.post(
        f"/api/v1/requests/{req.id}/selection",
        json={"bid_id": bid_first.id, "reason": "再次选择原中选机构"},
        headers=h,
    )
    assert r.status_code == 422 and "bid_id" in r.get_json()["errors"]
    r = client.post(
        f"/api/v1/requests/{req.id}/selection",
        json={"bid_id": bid_second.id, "reason": "原中选机构放弃，改选报价次优的机构"},
        headers=h,
    )
    assert r.status_code == 200, r.get_json()
    assert _request(req.id).status == "publicity"
    timetravel.publicity_over(req)
    timetravel.run_clock()
    assert _request(req.id).status == "awarded"
    made = _orders(req.id)
    assert [(o.agency_id, o.amount_fen, o.status) for o in made] == [
        (first.agency.id, 15_000_000, "declined"),
        (second.agency.id, 16_000_000, "awaiting"),
    ]


def test_a_winner_suspended_during_publicity_is_replaced_when_publicity_ends():
    admin, enterprise = f.admin(), f.user("enterprise")
    req = f.published_request(enterprise, selection_method="lowest_price")
    agencies = [f.active_agency("C03", reviewer=admin) for _ in range(3)]
    bids = [f.bid(a, req, price_fen=10_000_000 + i * 1_000_000) for i, a in enumerate(agencies)]
    timetravel.past_deadline(req)
    timetravel.run_clock()
    requests.select_winner(enterprise, req.id)
    assert _request(req.id).winner_bid_id == bids[0].id
    first_end = _request(req.id).publicity_ends_at

    membership.decide(admin, agencies[0].agency.id, "suspend", "资质证书涉嫌造假，暂停会员资格")
    assert _request(req.id).status == "publicity"  # nothing happens until publicity ends
    timetravel.publicity_over(req)
    timetravel.run_clock()

    # The award passes to the next-ranked bid, under a new publicity period; no order for the suspended one.
    req_now = _request(req.id)
    assert (req_now.status, req_now.winner_bid_id) == ("publicity", bids[1].id)
    assert req_now.publicity_ends_at > first_end
    assert said(req_now.selection_reason) == "中选机构已不具备资格（状态变更），由排名下一位递补。"
    out = db.session.get(Bid, bids[0].id)
    assert (out.status, said(out.invalid_reason)) == ("invalid", said(req_now.selection_reason))
    assert _orders(req.id) == []
    timetravel.publicity_over(req)
    timetravel.run_clock()
    assert _request(req.id).status == "awarded"
    assert [(o.agency_id, o.amount_fen) for o in _orders(req.id)] == [(agencies[1].agency.id, 11_000_000)]
