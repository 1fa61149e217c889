"""Time-driven transitions (the clock: `flask tick` / `flask clock`), illegal transitions (409, nothing
changes), objections, declines and disqualification passing the order to the next-ranked bid."""

from sqlalchemy import func, select

from marketplace.agencies import membership
from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.requests import services as requests
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel


def _selected(method="lowest_price", n=3):
    enterprise, admin = f.user("enterprise"), f.admin()
    req = f.published_request(enterprise, selection_method=method)
    agencies = [f.active_agency("C03", reviewer=admin) for _ in range(n)]
    bids = [f.bid(a, req, price_fen=10_000_000 + i * 1_000_000) for i, a in enumerate(agencies)]
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id)
    return enterprise, admin, req, agencies, bids


def _status(req_id):
    db.session.expire_all()
    return db.session.get(ServiceRequest, req_id).status


def test_tick_applies_due_transitions_without_anyone_visiting(app):
    enterprise, admin = f.user("enterprise"), f.admin()
    req = f.published_request(enterprise)
    for _ in range(3):
        f.bid(f.active_agency("C03", reviewer=admin), req)
    timetravel.past_deadline(req, clock=False)
    assert _status(req.id) == "bidding"  # the clock has not run yet
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0 and "1 requests" in result.output
    assert _status(req.id) == "evaluating"
    assert (
        db.session.scalar(
            select(func.count()).where(AuditEntry.action == "request.close", AuditEntry.object_id == req.id)
        )
        == 1
    )
    assert "0 requests" in app.test_cli_runner().invoke(args=["tick"]).output  # idempotent


def test_illegal_transitions_are_409_and_change_nothing(client):
    enterprise, admin, req, agencies, bids = _selected()
    h = f.token(client, enterprise)
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert client.post(f"/api/v1/requests/{req.id}/selection", json={}, headers=h).status_code == 409
    assert (
        client.post(f"/api/v1/requests/{req.id}/cancel", json={"reason": "不想要了"}, headers=h).status_code
        == 409
    )
    assert (
        client.patch(
            f"/api/v1/bids/{bids[0].id}", json={"price_fen": 1}, headers=f.token(client, agencies[0])
        ).status_code
        == 409
    )
    assert (
        client.delete(f"/api/v1/bids/{bids[0].id}", headers=f.token(client, agencies[0])).status_code == 409
    )
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before
    timetravel.publicity_over(req)
    order = orders.order_for_request(requests.get_request(enterprise, req.id).id)
    hw = f.token(client, agencies[0])
    assert (
        client.post(
            f"/api/v1/orders/{order.id}/deliver", json={"text": "还没开始就交付"}, headers=hw
        ).status_code
        == 409
    )
    assert client.post(f"/api/v1/orders/{order.id}/confirm", headers=hw).status_code == 200
    assert client.post(f"/api/v1/orders/{order.id}/confirm", headers=hw).status_code == 409
    assert client.post(f"/api/v1/orders/{order.id}/accept", headers=h).status_code == 409
    assert (
        client.post(f"/api/v1/orders/{order.id}/confirm", headers=h).status_code == 403
    )  # the enterprise cannot confirm


def test_deadline_yellow_red_and_auto_acceptance(app, client):
    enterprise, admin, req, agencies, bids = _selected()
    timetravel.publicity_over(req)
    requests.get_request(enterprise, req.id)
    order = orders.order_for_request(req.id)
    orders.confirm(agencies[0], order.id)
    h = f.token(client, enterprise)
    timetravel.order_elapsed(order, 0.5)
    assert client.get(f"/api/v1/orders/{order.id}", headers=h).get_json()["deadline_status"] == "ok"
    timetravel.order_elapsed(order, 0.85)
    assert client.get(f"/api/v1/orders/{order.id}", headers=h).get_json()["deadline_status"] == "yellow"
    timetravel.order_elapsed(order, 1.2)
    body = client.get(f"/api/v1/orders/{order.id}", headers=h).get_json()
    assert body["deadline_status"] == "red" and body["days_left"] < 0
    assert {"order.deadline_yellow", "order.deadline_red"} <= set(
        db.session.scalars(select(AuditEntry.action))
    )
    orders.deliver(agencies[0], order.id, "逾期交付报告")
    assert (
        client.get(f"/api/v1/orders/{order.id}", headers=h).get_json()["deadline_status"] == "red"
    )  # late stays late
    timetravel.delivered_ago(order, app.config["MARKET_ACCEPTANCE_SECONDS"] - 60)
    assert client.get(f"/api/v1/orders/{order.id}", headers=h).get_json()["status"] == "delivered"
    timetravel.delivered_ago(order, app.config["MARKET_ACCEPTANCE_SECONDS"] + 1)
    app.test_cli_runner().invoke(args=["tick"])
    db.session.expire_all()
    accepted = db.session.get(Order, order.id)
    assert accepted.status == "accepted" and accepted.auto_accepted


def test_decline_passes_to_the_next_ranked_bid(client):
    enterprise, admin, req, agencies, bids = _selected()
    timetravel.publicity_over(req)
    first = orders.order_for_request(requests.get_request(enterprise, req.id).id)
    assert first.agency_id == agencies[0].agency.id
    r = client.post(
        f"/api/v1/orders/{first.id}/decline",
        json={"reason": "人员安排不开，无法按期完成"},
        headers=f.token(client, agencies[0]),
    )
    assert r.status_code == 200 and r.get_json()["status"] == "declined"
    body = client.get(f"/api/v1/requests/{req.id}").get_json()
    assert body["status"] == "publicity" and body["winner"]["bid_id"] == bids[1].id  # a new publicity period
    timetravel.publicity_over(req)
    second = orders.order_for_request(requests.get_request(enterprise, req.id).id)
    assert (
        second.id != first.id
        and second.agency_id == agencies[1].agency.id
        and second.amount_fen == bids[1].price_fen
    )


def test_suspended_winner_is_replaced_before_the_order_starts():
    enterprise, admin, req, agencies, bids = _selected()
    timetravel.publicity_over(req)
    order = orders.order_for_request(requests.get_request(enterprise, req.id).id)
    membership.decide(admin, agencies[0].agency.id, "suspend", "资质造假，暂停会员资格")
    order = orders.get_order(enterprise, order.id)
    assert order.status == "cancelled"
    assert _status(req.id) == "publicity"
    assert db.session.get(ServiceRequest, req.id).winner_bid_id == bids[1].id


def test_objections_during_publicity(client):
    enterprise, admin, req, agencies, bids = _selected()
    loser = f.token(client, agencies[2])  # a bidder of this round: an interested party
    assert (
        client.post(
            f"/api/v1/requests/{req.id}/objections", json={"ground": "rules", "facts": "短"}, headers=loser
        ).status_code
        == 422
    )
    r = client.post(
        f"/api/v1/requests/{req.id}/objections",
        json={
            "ground": "qualification",
            "facts": "中选机构业绩材料存在造假嫌疑，所列三个项目业主均否认委托，请核查。",
        },
        headers=loser,
    )
    assert r.status_code == 201
    objection_id = r.get_json()["id"]
    # An open objection holds the order back even after publicity ends.
    timetravel.publicity_over(req)
    assert client.get(f"/api/v1/requests/{req.id}").get_json()["status"] == "publicity"
    assert (
        client.post(
            f"/api/v1/admin/objections/{objection_id}/resolve",
            json={"decision": "uphold", "outcome": "核查属实"},
            headers=loser,
        ).status_code
        == 403
    )
    r = client.post(
        f"/api/v1/admin/objections/{objection_id}/resolve",
        json={"decision": "uphold", "outcome": "经核查，业绩材料不实，异议成立。"},
        headers=f.token(client, admin),
    )
    assert r.status_code == 200 and r.get_json()["status"] == "upheld"
    body = client.get(f"/api/v1/requests/{req.id}").get_json()
    assert body["status"] == "publicity" and body["winner"]["bid_id"] == bids[1].id
    # A second objection, by the displaced winner (also a bidder of the round), is dismissed: publicity
    # continues and, once over, the order goes to the new winner.
    r = client.post(
        f"/api/v1/requests/{req.id}/objections",
        json={"ground": "calculation", "facts": "对递补结果有异议，递补机构的报价排名计算有误，请复核排名。"},
        headers=f.token(client, agencies[0]),
    )
    assert r.status_code == 201
    client.post(
        f"/api/v1/admin/objections/{r.get_json()['id']}/resolve",
        json={"decision": "dismiss", "outcome": "排名按公布规则产生，异议不成立。"},
        headers=f.token(client, admin),
    )
    timetravel.publicity_over(req)
    body = client.get(f"/api/v1/requests/{req.id}").get_json()
    assert body["status"] == "awarded"
    assert (
        client.get(f"/api/v1/orders/{body['order_id']}", headers=f.token(client, enterprise)).get_json()[
            "agency_id"
        ]
        == agencies[1].agency.id
    )
    # After publicity, no more objections.
    assert (
        client.post(
            f"/api/v1/requests/{req.id}/objections",
            json={"ground": "other", "facts": "公示期结束后提出的异议，理由是中选结果存在其他问题。"},
            headers=f.token(client, agencies[1]),
        ).status_code
        == 409
    )


def test_dispute_then_redeliver():
    enterprise, admin, req, agencies, bids = _selected()
    timetravel.publicity_over(req)
    order = orders.order_for_request(requests.get_request(enterprise, req.id).id)
    orders.confirm(agencies[0], order.id)
    orders.deliver(agencies[0], order.id, "提交初稿")
    orders.dispute(enterprise, order.id, "报告缺少大气环境影响预测章节")
    assert orders.get_order(enterprise, order.id).status == "disputed"
    orders.deliver(agencies[0], order.id, "补充大气预测章节后重新提交")
    orders.accept(enterprise, order.id)
    kinds = [e.kind for e in orders.get_order(enterprise, order.id).events]
    assert kinds == ["confirm", "deliver", "dispute", "deliver", "accept"]


def test_refused_delivery_changes_nothing_and_stores_nothing(app, client):
    import io
    from pathlib import Path

    enterprise, admin, req, agencies, bids = _selected()
    timetravel.publicity_over(req)
    order = orders.order_for_request(requests.get_request(enterprise, req.id).id)
    orders.confirm(agencies[0], order.id)
    folder = Path(app.config["UPLOAD_DIR"]) / orders.UPLOAD_KIND
    before = set(folder.glob("*")) if folder.exists() else set()
    r = client.post(
        f"/api/v1/orders/{order.id}/deliver",
        data={
            "text": "提交成果",
            "files": [(io.BytesIO(f.PDF), "ok.pdf"), (io.BytesIO(b"MZ fake"), "virus.pdf")],
        },
        headers=f.token(client, agencies[0]),
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and "files" in r.get_json()["errors"]
    assert (set(folder.glob("*")) if folder.exists() else set()) == before
    assert (
        client.get(f"/api/v1/orders/{order.id}", headers=f.token(client, enterprise)).get_json()["status"]
        == "in_progress"
    )


def test_bad_ids_and_keywords_are_harmless(client):
    enterprise, admin = f.user("enterprise"), f.admin()
    a = f.active_agency("C03", reviewer=admin)
    h = f.token(client, enterprise)
    twice = [
        {"agency_id": a.agency.id, "reason": "关联关系"},
        {"agency_id": a.agency.id, "reason": "关联关系"},
    ]
    r = client.post("/api/v1/requests", json=f.request_data(exclusions=twice), headers=h)
    assert r.status_code == 422 and "exclusions.1.agency_id" in r.get_json()["errors"]
    f.published_request(enterprise)
    assert client.get("/api/v1/requests?q=%25").get_json() == []
    huge = 10**20
    for path in (
        f"/api/v1/requests/{huge}",
        f"/api/v1/agencies/{huge}",
        f"/agencies/{huge}",
        f"/requests/{huge}",
        "/agencies/?page=99999999999999999999",
        "/api/v1/agencies?page=99999999999999999999",
    ):
        assert client.get(path).status_code == 404, path
