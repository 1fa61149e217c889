"""Announcement review (MARKET_REVIEW_ANNOUNCEMENTS): a published request waits for the operator of its region,
who approves it (public, bidding starts) or returns it with an opinion the enterprise fixes; fiscally funded
requests above the procurement threshold are refused; items that serve a project approval need the project's
approval document. Requests under review are nobody's business but the enterprise's and the reviewers'."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from marketplace import events
from marketplace.extensions import db
from marketplace.requests.models import RequestReview, ServiceRequest
from tests import factories as f
from tests.review import THRESHOLD, plain_item, submitted_request

LYG = "320700"  # 连云港市: the factories' requests lie there


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(ServiceRequest))


def _post_with_document(client, h, **over) -> dict:
    """Create a draft, upload its approval document, submit it: as an integration would."""
    r = client.post("/api/v1/requests", json=f.request_data(publish=False, **over), headers=h)
    assert r.status_code == 201, r.get_json()
    rid = r.get_json()["id"]
    r = client.post(
        f"/api/v1/requests/{rid}/approval-document",
        data={"file": (io.BytesIO(f.PDF), "立项批复.pdf")},
        headers=h,
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.get_json()
    r = client.post(f"/api/v1/requests/{rid}/publish", headers=h)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_publish_waits_for_review_then_approval_opens_the_bidding(client, review_on):
    enterprise, operator = f.user("enterprise"), f.staff("operator", LYG)
    agency = f.active_agency("C03")
    h, h_op, h_ag = f.token(client, enterprise), f.token(client, operator), f.token(client, agency)
    published = []
    events.request_published.connect(receiver := lambda req, **_: published.append(req.id))
    try:
        req = _post_with_document(client, h)
        assert req["status"] == "review" and req["published_at"] is None and req["draw_commitment"] is None
        assert req["submitted_at"] and [x["action"] for x in req["reviews"]] == ["submit"]
        assert published == []
        # Not public: not listed, not readable, not biddable, not in the agency's inbox.
        assert req["id"] not in [x["id"] for x in client.get("/api/v1/requests").get_json()]
        assert client.get(f"/api/v1/requests/{req['id']}").status_code == 404
        assert client.get(f"/api/v1/requests/{req['id']}", headers=h_ag).status_code == 404
        assert client.get(f"/requests/{req['id']}").status_code == 404
        assert client.get(f"/api/v1/requests/{req['id']}/draw").status_code == 404
        bid = {"price_fen": 20_000_000, "promised_days": 30, "plan": "组建项目组，现场踏勘后编制报告书。"}
        assert client.post(f"/api/v1/requests/{req['id']}/bids", json=bid, headers=h_ag).status_code == 404
        assert req["id"] not in [
            x["id"] for x in client.get("/api/v1/requests?mine=true", headers=h_ag).get_json()
        ]
        # The operator sees it in the queue, with the approval document.
        queue = client.get("/api/v1/admin/requests/review", headers=h_op).get_json()
        assert [x["id"] for x in queue] == [req["id"]]
        assert queue[0]["approval_document"]["name"] == "立项批复.pdf"

        r = client.post(f"/api/v1/admin/requests/{req['id']}/approve", headers=h_op)
        assert r.status_code == 200, r.get_json()
        approved = r.get_json()
        assert (
            approved["status"] == "bidding"
            and approved["published_at"]
            and len(approved["draw_commitment"]) == 64
        )
        assert [x["action"] for x in approved["reviews"]] == ["submit", "approve"]
        assert published == [req["id"]]
    finally:
        events.request_published.disconnect(receiver)
    # Public now, and open for bids; the approval document stays private.
    public = client.get(f"/api/v1/requests/{req['id']}").get_json()
    assert public["status"] == "bidding" and "approval_document" not in public and "reviews" not in public
    assert req["id"] in [x["id"] for x in client.get("/api/v1/requests").get_json()]
    assert client.post(f"/api/v1/requests/{req['id']}/bids", json=bid, headers=h_ag).status_code == 201
    assert client.get(f"/api/v1/requests/{req['id']}/approval-document").status_code == 404
    assert client.get(f"/api/v1/requests/{req['id']}/approval-document", headers=h_ag).status_code == 404
    for who in (h, h_op):
        r = client.get(f"/api/v1/requests/{req['id']}/approval-document", headers=who)
        assert r.status_code == 200 and r.data == f.PDF
    assert client.post(f"/api/v1/admin/requests/{req['id']}/approve", headers=h_op).status_code == 409


def test_returned_with_an_opinion_the_enterprise_fixes_and_resubmits(client, review_on):
    enterprise, operator = f.user("enterprise"), f.staff("operator", LYG)
    h, h_op = f.token(client, enterprise), f.token(client, operator)
    req = _post_with_document(client, h, scope="编制环境影响报告书，须由某某品牌监测设备完成现场监测。")
    opinion = "资质要求与事项不符，请删除指定品牌的表述"

    r = client.post(f"/api/v1/admin/requests/{req['id']}/return", json={"opinion": opinion}, headers=h_op)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "returned"
    mine = client.get(f"/api/v1/requests/{req['id']}", headers=h).get_json()
    assert mine["status"] == "returned" and mine["review_opinion"] == opinion
    assert [(x["action"], x["opinion"]) for x in mine["reviews"]] == [("submit", None), ("return", opinion)]
    assert client.get(f"/api/v1/requests/{req['id']}").status_code == 404  # still not public
    page = client.get(f"/requests/{req['id']}")
    assert page.status_code == 404
    f.login(client, enterprise)
    for path in (f"/requests/{req['id']}", "/enterprise/", f"/enterprise/requests/{req['id']}/edit"):
        assert opinion in client.get(path).get_data(as_text=True), path

    # The enterprise fixes it (a returned request is editable like a draft) and submits again.
    fixed = "编制环境影响报告书并配合完成技术评估与审批。"
    r = client.patch(f"/api/v1/requests/{req['id']}", json={"scope": fixed}, headers=h)
    assert r.status_code == 200, r.get_json()
    r = client.post(f"/api/v1/requests/{req['id']}/publish", headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "review"
    assert r.get_json()["review_opinion"] is None
    # Under review it cannot be edited.
    assert (
        client.patch(f"/api/v1/requests/{req['id']}", json={"scope": fixed * 2}, headers=h).status_code == 409
    )
    r = client.post(f"/api/v1/admin/requests/{req['id']}/approve", headers=h_op)
    assert r.status_code == 200 and r.get_json()["scope"] == fixed
    assert [x["action"] for x in r.get_json()["reviews"]] == ["submit", "return", "submit", "approve"]


def test_only_the_operator_of_the_region_reviews(client, review_on):
    req = submitted_request()
    outsiders = [
        f.user("enterprise"),
        f.active_agency("C03"),
        f.staff("operator", "320500"),  # 苏州市: another city
        f.staff("supervisor", LYG),
        f.staff("department", LYG, department="生态环境"),
    ]
    for user in outsiders:
        h = f.token(client, user)
        assert client.post(f"/api/v1/admin/requests/{req.id}/approve", headers=h).status_code == 403, (
            user.email
        )
        r = client.post(f"/api/v1/admin/requests/{req.id}/return", json={"opinion": "请补充材料"}, headers=h)
        assert r.status_code == 403, user.email
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).status == "review"
    # The queue of an operator elsewhere does not hold it; the city's, the province's and the whole market's do.
    h_far = f.token(client, f.staff("operator", "320500"))
    assert client.get("/api/v1/admin/requests/review", headers=h_far).get_json() == []
    for region in (LYG, "320000", None):
        h_op = f.token(client, f.staff("operator", region))
        assert [x["id"] for x in client.get("/api/v1/admin/requests/review", headers=h_op).get_json()] == [
            req.id
        ]
    h_admin = f.token(client, f.admin())
    assert client.post(f"/api/v1/admin/requests/{req.id}/approve", headers=h_admin).status_code == 200


def test_returning_needs_an_opinion(client, review_on):
    req = submitted_request()
    h_op = f.token(client, f.staff("operator", LYG))
    for body in ({}, {"opinion": ""}, {"opinion": "  改 "}):
        r = client.post(f"/api/v1/admin/requests/{req.id}/return", json=body, headers=h_op)
        assert r.status_code == 422 and "opinion" in r.get_json()["errors"], body
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).status == "review"
    assert (
        db.session.scalar(
            select(func.count()).select_from(RequestReview).where(RequestReview.request_id == req.id)
        )
        == 1
    )


def test_approval_is_refused_when_the_deadline_is_too_close(client, review_on, app):
    req = submitted_request()
    h_op = f.token(client, f.staff("operator", LYG))
    row = db.session.get(ServiceRequest, req.id)
    row.bid_deadline = datetime.now(UTC) + timedelta(hours=3)  # the minimum is one day
    db.session.commit()
    r = client.post(f"/api/v1/admin/requests/{req.id}/approve", headers=h_op)
    assert r.status_code == 409 and "退回" in r.get_json()["message"]
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).status == "review"
    # Returned, the enterprise moves the deadline and submits again; then it can be approved.
    client.post(
        f"/api/v1/admin/requests/{req.id}/return", json={"opinion": "投标截止时间过近，请顺延"}, headers=h_op
    )
    h = {"Authorization": f.token(client, row.enterprise.user)["Authorization"]}
    later = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    assert (
        client.patch(f"/api/v1/requests/{req.id}", json={"bid_deadline": later}, headers=h).status_code == 200
    )
    assert client.post(f"/api/v1/requests/{req.id}/publish", headers=h).status_code == 200
    assert client.post(f"/api/v1/admin/requests/{req.id}/approve", headers=h_op).status_code == 200


def test_with_review_off_publishing_opens_the_bidding_at_once(client):
    h = f.token(client, f.user("enterprise"))
    r = client.post("/api/v1/requests", json=f.request_data(), headers=h)
    assert r.status_code == 201 and r.get_json()["status"] == "bidding"
    assert r.get_json()["reviews"] == [] and r.get_json()["published_at"]


def test_review_on_a_request_without_its_document_is_refused(client, review_on):
    h = f.token(client, f.user("enterprise"))
    before = _count()
    r = client.post("/api/v1/requests", json=f.request_data(), headers=h)
    assert r.status_code == 422 and "approval_document" in r.get_json()["errors"]
    assert _count() == before  # refused: nothing saved
    r = client.post("/api/v1/requests", json=f.request_data(publish=False), headers=h)
    rid = r.get_json()["id"]
    assert r.get_json()["approval_document_required"] is True
    assert client.post(f"/api/v1/requests/{rid}/publish", headers=h).status_code == 422
    assert client.get(f"/api/v1/requests/{rid}", headers=h).get_json()["status"] == "draft"
    # Not a scan: refused by content.
    r = client.post(
        f"/api/v1/requests/{rid}/approval-document",
        data={"file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "批复.pdf")},
        headers=h,
        content_type="multipart/form-data",
    )
    assert r.status_code == 422
    # An item that serves no project approval needs none.
    r = client.post("/api/v1/requests", json=f.request_data(item=plain_item()), headers=h)
    assert r.status_code == 201 and r.get_json()["status"] == "review"
    assert r.get_json()["approval_document_required"] is False


def test_project_code_must_be_the_platform_code_for_project_items(client):
    h = f.token(client, f.user("enterprise"))
    r = client.post("/api/v1/requests", json=f.request_data(project_code="XM-2026-001"), headers=h)
    assert r.status_code == 422 and "project_code" in r.get_json()["errors"]
    r = client.post(
        "/api/v1/requests", json=f.request_data(item=plain_item(), project_code="XM-2026-001"), headers=h
    )
    assert r.status_code == 201


def test_fiscal_requests_above_the_procurement_threshold_are_refused(client, review_on):
    enterprise = f.user("enterprise")
    h = f.token(client, enterprise)
    before = _count()
    for publish in (True, False):
        r = client.post(
            "/api/v1/requests", json=f.request_data(ceiling_fen=THRESHOLD + 100, publish=publish), headers=h
        )
        assert r.status_code == 422, r.get_json()
        body = r.get_json()
        assert "政府采购" in body["message"] and "1,000,000.00" in body["message"]
        assert "ceiling_fen" in body["errors"]
    assert _count() == before
    # At the threshold, or socially funded, it is the marketplace's.
    assert (
        client.post(
            "/api/v1/requests", json=f.request_data(ceiling_fen=THRESHOLD, publish=False), headers=h
        ).status_code
        == 201
    )
    r = client.post(
        "/api/v1/requests",
        json=f.request_data(ceiling_fen=THRESHOLD * 3, funding="social", publish=False),
        headers=h,
    )
    assert r.status_code == 201
    # Turning a draft fiscal above the threshold is refused too, and changes nothing.
    rid = r.get_json()["id"]
    assert client.patch(f"/api/v1/requests/{rid}", json={"funding": "fiscal"}, headers=h).status_code == 422
    assert client.get(f"/api/v1/requests/{rid}", headers=h).get_json()["funding"] == "social"


def test_the_review_desk_pages(client, review_on):
    req = submitted_request(title="连云港徐圩新区危废处置中心项目环境影响评价")
    operator, far = f.staff("operator", LYG), f.staff("operator", "320500")
    f.login(client, far)
    assert req.title not in client.get("/admin/announcements/").get_data(as_text=True)
    assert client.get(f"/admin/announcements/{req.id}").status_code == 404
    assert client.get(f"/requests/{req.id}").status_code == 404
    client.post("/auth/logout")
    f.login(client, operator)
    page = client.get("/admin/announcements/").get_data(as_text=True)
    assert req.title in page and "data-waiting" in page
    assert 'data-link="announcement-review"' in client.get("/").get_data(as_text=True)
    detail = client.get(f"/admin/announcements/{req.id}").get_data(as_text=True)
    assert "立项批复.pdf" in detail and req.scope in detail
    r = client.post(f"/admin/announcements/{req.id}/return", data={"opinion": ""})
    assert r.status_code == 422
    r = client.post(f"/admin/announcements/{req.id}/approve", data={"confirm": "yes"})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).status == "bidding"
    client.post("/auth/logout")
    assert client.get(f"/requests/{req.id}").status_code == 200
    assert req.title in client.get("/requests/").get_data(as_text=True)


def test_search_finds_an_announcement_only_once_approved(
    client, review_on, app, tmp_path_factory, tmp_path, monkeypatch
):
    from tests.unit.test_search import fresh_index

    fresh_index(app, tmp_path_factory, tmp_path, monkeypatch)
    req = submitted_request(title="灌云县临港产业区防波堤工程海洋环境影响评价")

    def found() -> bool:
        hits = client.get("/api/v1/search", query_string={"q": "防波堤", "type": "request"}).get_json()
        return req.id in [h["id"] for h in hits]

    assert not found()
    h_op = f.token(client, f.staff("operator", LYG))
    assert client.post(f"/api/v1/admin/requests/{req.id}/approve", headers=h_op).status_code == 200
    assert found()


def test_the_request_form_submits_with_the_approval_document(client, review_on):
    from tests.html import field_errors
    from tests.unit.test_form_errors import _request_form

    enterprise = f.user("enterprise")
    item = f.market_item()
    f.login(client, enterprise)
    before = _count()
    # Without the document, or fiscally funded above the threshold: the error stands beside its field, nothing saved.
    page = client.post("/enterprise/requests/new", data=_request_form(item.id)).get_data(as_text=True)
    assert field_errors(page, "approval_document") and _count() == before
    page = client.post(
        "/enterprise/requests/new",
        data=_request_form(item.id, ceiling="1000000.01", approval_document=(io.BytesIO(f.PDF), "批复.pdf")),
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "政府采购" in " ".join(field_errors(page, "ceiling")) and _count() == before
    r = client.post(
        "/enterprise/requests/new",
        data=_request_form(item.id, approval_document=(io.BytesIO(f.PDF), "立项批复.pdf")),
        content_type="multipart/form-data",
    )
    assert r.status_code == 302 and _count() == before + 1
    req = db.session.scalar(select(ServiceRequest).order_by(ServiceRequest.id.desc()))
    assert req.status == "review" and req.approval_document["name"] == "立项批复.pdf"
    # Under review it cannot be edited; withdrawn, it was never public and stays so.
    r = client.get(f"/enterprise/requests/{req.id}/edit")
    assert r.status_code == 302
    assert (
        client.post(
            f"/enterprise/requests/{req.id}/cancel", data={"reason": "", "confirm": "yes"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).status == "cancelled"
    client.post("/auth/logout")
    assert client.get(f"/requests/{req.id}").status_code == 404
    assert req.title not in client.get("/requests/").get_data(as_text=True)


def test_the_deadline_board_counts_announcements_waiting(client, review_on):
    from marketplace.requests import review

    f.login(client, f.admin())
    page = client.get("/admin/deadlines").get_data(as_text=True)
    assert 'data-count="announcements">0<' in page
    submitted_request()
    submitted_request(region_code="320506")
    page = client.get("/admin/deadlines").get_data(as_text=True)
    assert 'data-count="announcements">2<' in page
    # Counted in the staff account's own area (the board is the supervisors' once roles are scoped).
    assert review.waiting_in_area(f.staff("supervisor", LYG))[0] == 1
    assert review.waiting_in_area(f.staff("supervisor", "320000"))[0] == 2
