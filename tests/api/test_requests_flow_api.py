"""The whole path through the API: post → three agencies bid → deadline → compare → select → publicity →
order → progress → deliver → accept; every transition in the audit log."""

import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from marketplace.requests import verify_draw
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel


def test_full_path(client):
    enterprise, admin = f.user("enterprise"), f.admin()
    agencies = [f.active_agency("C03", reviewer=admin) for _ in range(3)]
    h_ent = f.token(client, enterprise)
    h = [f.token(client, a) for a in agencies]

    r = client.post("/api/v1/requests", json=f.request_data(selection_method="random"), headers=h_ent)
    assert r.status_code == 201, r.get_json()
    req = r.get_json()
    assert req["status"] == "bidding" and len(req["draw_commitment"]) == 64 and req["bid_count"] == 0

    # The agencies find it in their inbox and bid.
    inbox = client.get("/api/v1/requests?mine=true", headers=h[0]).get_json()
    assert req["id"] in [x["id"] for x in inbox]
    prices = [21_000_000, 19_500_000, 20_000_000]
    bids = []
    for headers, price in zip(h, prices, strict=True):
        r = client.post(
            f"/api/v1/requests/{req['id']}/bids",
            json={"price_fen": price, "promised_days": 30, "plan": "组建项目组，现场踏勘后编制报告书。"},
            headers=headers,
        )
        assert r.status_code == 201, r.get_json()
        bids.append(r.get_json())
    assert client.get(f"/api/v1/requests/{req['id']}").get_json()["bid_count"] == 3

    # One agency revises, the history is kept.
    r = client.patch(f"/api/v1/bids/{bids[0]['id']}", json={"price_fen": 18_800_000}, headers=h[0])
    assert r.status_code == 200 and r.get_json()["version"] == 2
    assert [v["price_fen"] for v in r.get_json()["revisions"]] == [21_000_000, 18_800_000]

    # Sealed: the enterprise cannot compare before the deadline.
    assert client.get(f"/api/v1/requests/{req['id']}/bids", headers=h_ent).status_code == 409
    timetravel.past_deadline(db.session.get(ServiceRequest, req["id"]))
    assert client.get(f"/api/v1/requests/{req['id']}").get_json()["status"] == "evaluating"
    late = client.post(
        f"/api/v1/requests/{req['id']}/bids",
        json={"price_fen": 100, "promised_days": 3, "plan": "迟到的报价不应被接受。"},
        headers=h[1],
    )
    assert late.status_code == 409

    rows = client.get(f"/api/v1/requests/{req['id']}/bids", headers=h_ent).get_json()
    assert sorted(row["bid"]["price_fen"] for row in rows) == [18_800_000, 19_500_000, 20_000_000]
    assert all("stats" in row and "price_ratio" in row for row in rows)

    r = client.post(f"/api/v1/requests/{req['id']}/selection", json={}, headers=h_ent)
    assert r.status_code == 200, r.get_json()
    selection = r.get_json()
    assert selection["method"] == "random" and selection["publicity_ends_at"]
    assert client.post(f"/api/v1/requests/{req['id']}/selection", json={}, headers=h_ent).status_code == 409

    record = client.get(f"/api/v1/requests/{req['id']}/draw").get_json()
    assert record["winner_bid_id"] == selection["winner_bid_id"]
    assert [c["bid_id"] for c in record["candidates"]] == sorted(b["id"] for b in bids)
    assert verify_draw.verify(record)

    timetravel.publicity_over(db.session.get(ServiceRequest, req["id"]))
    announced = client.get(f"/api/v1/requests/{req['id']}").get_json()
    assert announced["status"] == "awarded" and announced["order_id"]
    order_id = announced["order_id"]
    winner_idx = [b["id"] for b in bids].index(selection["winner_bid_id"])
    h_win = h[winner_idx]
    loser = h[(winner_idx + 1) % 3]

    assert client.get(f"/api/v1/orders/{order_id}", headers=loser).status_code == 404
    order = client.get(f"/api/v1/orders/{order_id}", headers=h_ent).get_json()
    assert order["status"] == "awaiting" and order["deadline_status"] == "ok"
    assert client.post(f"/api/v1/orders/{order_id}/accept", headers=h_ent).status_code == 409
    order = client.post(f"/api/v1/orders/{order_id}/confirm", headers=h_win).get_json()
    assert order["status"] == "in_progress" and order["due_at"]
    r = client.post(
        f"/api/v1/orders/{order_id}/progress",
        json={"text": "完成现场踏勘与资料收集", "percent": 30},
        headers=h_win,
    )
    assert r.status_code == 201
    r = client.post(
        f"/api/v1/orders/{order_id}/deliver",
        data={"text": "提交报告书终稿", "files": (io.BytesIO(f.PDF), "报告书.pdf")},
        headers=h_win,
        content_type="multipart/form-data",
    )
    assert r.status_code == 200 and r.get_json()["status"] == "delivered"
    file_url = next(e for e in r.get_json()["events"] if e["kind"] == "deliver")["files"][0]["url"]
    assert client.get(file_url, headers=h_ent).data.startswith(b"%PDF")
    assert client.get(file_url, headers=loser).status_code == 404
    order = client.post(f"/api/v1/orders/{order_id}/accept", headers=h_ent).get_json()
    assert order["status"] == "accepted" and not order["auto_accepted"]
    assert [o["id"] for o in client.get("/api/v1/orders", headers=h_win).get_json()] == [order_id]

    actions = set(db.session.scalars(select(AuditEntry.action)))
    for expected in (
        "request.create", "request.publish", "bid.submit", "bid.revise", "request.close", "request.select",
        "request.award", "order.create", "order.confirm", "order.progress", "order.deliver", "order.accept",
    ):  # fmt: skip
        assert expected in actions, expected


def test_request_validation_and_drafts(client):
    enterprise = f.user("enterprise")
    h = f.token(client, enterprise)
    bad = f.request_data(
        ceiling_fen=0,
        floor_fen=5,
        region_code="火星",
        selection_method="coin",
        bid_deadline="tomorrow",
        funding="gift",
    )
    r = client.post("/api/v1/requests", json=bad, headers=h)
    assert r.status_code == 422
    assert {"ceiling_fen", "region_code", "selection_method", "bid_deadline", "funding"} <= set(
        r.get_json()["errors"]
    )
    soon = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    r = client.post("/api/v1/requests", json=f.request_data(bid_deadline=soon), headers=h)
    assert r.status_code == 422 and "bid_deadline" in r.get_json()["errors"]
    r = client.post(
        "/api/v1/requests",
        json=f.request_data(selection_method="composite", weights={"price": 90, "credit": 20}),
        headers=h,
    )
    assert r.status_code == 422 and "weights" in r.get_json()["errors"]
    # A draft can be edited and is invisible to others until published.
    r = client.post("/api/v1/requests", json=f.request_data(bid_deadline=soon, publish=False), headers=h)
    assert r.status_code == 201 and r.get_json()["status"] == "draft"
    draft_id = r.get_json()["id"]
    assert client.get(f"/api/v1/requests/{draft_id}").status_code == 404
    assert draft_id not in [x["id"] for x in client.get("/api/v1/requests").get_json()]
    assert (
        client.post(f"/api/v1/requests/{draft_id}/publish", headers=h).status_code == 422
    )  # deadline too soon
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    assert (
        client.patch(
            f"/api/v1/requests/{draft_id}",
            json={"bid_deadline": later, "title": "修改后的标题：某项目环评"},
            headers=h,
        ).status_code
        == 200
    )
    r = client.post(f"/api/v1/requests/{draft_id}/publish", headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "bidding"
    assert (
        client.patch(
            f"/api/v1/requests/{draft_id}", json={"title": "发布后不能再改标题"}, headers=h
        ).status_code
        == 409
    )
    assert client.get(f"/api/v1/requests/{draft_id}").get_json()["title"] == "修改后的标题：某项目环评"


def test_who_may_bid(client):
    enterprise, admin = f.user("enterprise"), f.admin()
    excluded = f.active_agency("C03", reviewer=admin)
    outsider = f.active_agency("C08", reviewer=admin)
    pending = f.pending_agency("C03")
    good = f.active_agency("C03", reviewer=admin)
    req = f.published_request(
        enterprise,
        exclusions=[{"agency_id": excluded.agency.id, "reason": "与项目业主存在关联关系"}],
        floor_fen=5_000_000,
        required_level="乙级",
    )
    body = {"price_fen": 20_000_000, "promised_days": 30, "plan": "组建项目组，现场踏勘后编制报告书。"}
    for u in (excluded, outsider, pending):
        r = client.post(f"/api/v1/requests/{req.id}/bids", json=body, headers=f.token(client, u))
        assert r.status_code == 422 and "agency" in r.get_json()["errors"], u.email
    assert (
        client.post(
            f"/api/v1/requests/{req.id}/bids", json=body, headers=f.token(client, enterprise)
        ).status_code
        == 403
    )
    hg = f.token(client, good)
    for bad, field in (
        ({"price_fen": 30_000_001}, "price_fen"),
        ({"price_fen": 4_999_999}, "price_fen"),
        ({"promised_days": 41}, "promised_days"),
        ({"plan": "短"}, "plan"),
    ):
        r = client.post(f"/api/v1/requests/{req.id}/bids", json=body | bad, headers=hg)
        assert r.status_code == 422 and field in r.get_json()["errors"], bad
    assert client.post(f"/api/v1/requests/{req.id}/bids", json=body, headers=hg).status_code == 201
    assert (
        client.post(f"/api/v1/requests/{req.id}/bids", json=body, headers=hg).status_code == 409
    )  # one live bid
    # Withdraw and bid again: same row, new version, all kept.
    bid_id = client.get("/api/v1/agencies/me/bids", headers=hg).get_json()[0]["id"]
    assert client.delete(f"/api/v1/bids/{bid_id}", headers=hg).get_json()["status"] == "withdrawn"
    assert client.get(f"/api/v1/requests/{req.id}").get_json()["bid_count"] == 0
    r = client.post(f"/api/v1/requests/{req.id}/bids", json=body | {"price_fen": 19_000_000}, headers=hg)
    assert (
        r.status_code == 201
        and r.get_json()["id"] == bid_id
        and [v["action"] for v in r.get_json()["revisions"]] == ["submit", "withdraw", "resubmit"]
    )


def test_the_announcement_list_costs_the_same_few_queries_whatever_its_length(client, app):
    """Bid counts, winners and orders come for the whole page at once, never one query per row."""
    from sqlalchemy import event

    from marketplace.extensions import db

    enterprise = f.user("enterprise")
    admin = f.admin()
    agency = f.active_agency("C03", reviewer=admin)

    def queries_for(path: str) -> int:
        seen = []
        listener = lambda *args, **kw: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    for _ in range(2):
        f.bid(agency, f.published_request(enterprise))
    few = queries_for("/api/v1/requests?page_size=100")
    for _ in range(8):
        f.bid(agency, f.published_request(enterprise))
    many = queries_for("/api/v1/requests?page_size=100")
    assert many <= few + 2, (few, many)  # 10 announcements cost what 2 did (give or take a lazy load)


def test_a_first_bid_reads_back_neither_its_versions_nor_its_practitioners(client, app):
    """The market's commonest write: a first bid is made whole before it is stored (its first version, the
    practitioners it names), so nothing of it is read back afterwards, and the credit bar (black list, bottom
    grade) is one statement. The answer still carries its versions."""
    from sqlalchemy import event

    agency = f.active_agency("C03")
    req = f.published_request()
    h = f.token(client, agency)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        r = client.post(
            f"/api/v1/requests/{req.id}/bids",
            json={"price_fen": 18_000_000, "promised_days": 30, "plan": "现场踏勘后编制报告表。"},
            headers=h,
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert [(v["version"], v["price_fen"]) for v in body["revisions"]] == [(1, 18_000_000)]
    reads = [s for s in statements if s.startswith("SELECT")]
    assert not [s for s in reads if "FROM bid_revision" in s or "FROM practitioner" in s], reads
    assert len([s for s in reads if "credit_list_entry" in s or "agency_credit" in s]) == 1, reads
    assert len([s for s in statements if s.startswith("INSERT INTO bid_revision")]) == 1


def test_an_agencys_bids_are_paged_newest_first_in_the_api_and_on_its_desk(client):
    """An agency of a national market bids thousands of times: its own bids come a page at a time (the API's
    `page` / `page_size` and X-Pagination; 20 a page on the desk), each with its versions and announcement."""
    import json

    agency = f.active_agency("C03")
    requests = [f.published_request(title=f"南京江北新区{i:02d}号地块环境影响评价") for i in range(22)]
    bids = [f.bid(agency, r) for r in requests]
    h = f.token(client, agency)
    r = client.get("/api/v1/agencies/me/bids?page_size=5&page=2", headers=h)
    assert r.status_code == 200
    assert [b["id"] for b in r.get_json()] == [b.id for b in reversed(bids)][5:10]
    assert json.loads(r.headers["X-Pagination"])["total"] == 22
    assert all(b["revisions"] and b["revisions"][0]["version"] == 1 for b in r.get_json())

    f.login(client, agency)
    first = client.get("/agency/bids").get_data(as_text=True)
    shown = [b.id for b in bids if f'data-bid-id="{b.id}"' in first]
    assert shown == [b.id for b in bids][2:]  # the newest 20
    assert "南京江北新区21号地块环境影响评价" in first and 'href="/agency/bids?page=2"' in first
    second = client.get("/agency/bids?page=2").get_data(as_text=True)
    assert [b.id for b in bids if f'data-bid-id="{b.id}"' in second] == [b.id for b in bids][:2]
