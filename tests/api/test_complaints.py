"""Complaints (投诉) and reports (举报) through the API: who may file what and when, the supervisor's transitions in
its area, the respondent's one answer, the consequences of an upheld complaint (a suspension and a selection
passed on really happen), anonymity (the contact details never reach the respondent or the public) and bad input
(a structured 422, nothing stored)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from marketplace import events
from marketplace.agencies.models import Agency
from marketplace.audit.models import AuditEntry
from marketplace.common.clock import now
from marketplace.complaints.models import Complaint, ComplaintFile
from marketplace.extensions import db
from marketplace.requests import services as requests
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel
from tests.kept import keep, load

TEXT = "该机构在服务过程中以加急为由另行收取费用两万元，未开具发票，也未在合同中约定，请依法查处。"
PHONE, EMAIL, NAME = "13912345678", "whistle@example.cn", "王明"


@pytest.fixture(scope="module", autouse=True)
def world(module_transaction):
    """An enterprise with a request under publicity (three bids), an accepted order with agency A; staff in the
    request's city (连云港 3207) and the agencies' city (南京 3201), and an operator. Built once for the module
    (tests/kept.py): each test reads it by id and runs in a savepoint undone after it."""
    admin = f.admin()
    enterprise = f.user("enterprise")
    a, b, c = (f.active_agency("C03", reviewer=admin) for _ in range(3))
    req = f.published_request(enterprise)
    f.bid(a, req, price_fen=10_000_000)
    f.bid(b, req, price_fen=11_000_000)
    f.bid(c, req, price_fen=12_000_000)
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id)
    db.session.commit()
    req = db.session.get(ServiceRequest, req.id)
    assert req.status == "publicity"
    _, _, order = f.accepted_order(enterprise=enterprise, agency=a, admin=admin)
    return keep(
        admin=admin,
        enterprise=enterprise,
        a=a,
        b=b,
        c=c,
        req=req,
        order=order,
        sup_lyg=f.staff("supervisor", "320700"),
        sup_nj=f.staff("supervisor", "320100"),
        operator_nj=f.staff("operator", "320100"),
        stranger=f.user("enterprise"),
    )


@pytest.fixture
def m(world):
    return load(world)


def h(client, u) -> dict:
    return f.token(client, u)


def _file(client, u, **over):
    body = {"target_type": "agency", "target_id": None, "category": "fee", "text": TEXT} | over
    return client.post("/api/v1/complaints", json=body, headers=h(client, u))


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Complaint))


def _agency_complaint(client, m, **over):
    r = _file(
        client,
        m.enterprise,
        target_id=m.a.agency.id,
        contact_name=NAME,
        contact_phone=PHONE,
        contact_email=EMAIL,
        **over,
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_an_enterprise_files_with_evidence_and_gets_a_number_and_deadlines(client, m):
    r = client.post(
        "/api/v1/complaints",
        data={
            "target_type": "agency",
            "target_id": str(m.a.agency.id),
            "category": "fee",
            "text": TEXT,
            "contact_phone": PHONE,
            "evidence": [(io.BytesIO(f.PDF), "收据.pdf"), (io.BytesIO(f.PNG), "聊天记录.png")],
        },
        headers=h(client, m.enterprise),
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["number"].startswith(f"TS{now().year}-") and len(body["number"]) == 13
    assert body["status"] == "received" and body["viewer"] == "complainant"
    assert body["respondent"]["id"] == m.a.agency.id and body["region_code"] == "320105"
    assert body["accept_due_at"] > body["filed_at"] and body["close_due_at"] is None
    assert [e["name"] for e in body["evidence"]] == ["收据.pdf", "聊天记录.png"]
    assert client.get(body["evidence"][0]["url"], headers=h(client, m.enterprise)).data == f.PDF
    second = _agency_complaint(client, m)
    assert int(second["number"][-6:]) == int(body["number"][-6:]) + 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "complaint.file"))
    assert entry is not None and PHONE not in str(entry.after)


def test_full_life_accept_answer_uphold_with_credit(client, m):
    seen = []

    def listen(sender, **kw):
        seen.append(kw)

    events.complaint_decided.connect(listen)
    try:
        body = _agency_complaint(client, m)
        cid = body["id"]
        # The respondent does not see it before acceptance.
        assert client.get(f"/api/v1/complaints/{cid}", headers=h(client, m.a)).status_code == 404
        r = client.post(f"/api/v1/complaints/{cid}/accept", headers=h(client, m.sup_nj))
        assert r.status_code == 200 and r.get_json()["status"] == "investigating"
        assert r.get_json()["close_due_at"] is not None
        assert set(r.get_json()["valid_consequences"]) == {"credit", "suspend"}
        r = client.post(
            f"/api/v1/complaints/{cid}/answer",
            data={
                "answer": "加急费系业主书面同意后收取，附业主签字确认单。",
                "evidence": [(io.BytesIO(f.PDF), "确认单.pdf")],
            },
            headers=h(client, m.a),
        )
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["answered_at"] and r.get_json()["viewer"] == "respondent"
        # Once only.
        again = client.post(
            f"/api/v1/complaints/{cid}/answer",
            json={"answer": "再补充一点说明材料。"},
            headers=h(client, m.a),
        )
        assert again.status_code == 409
        r = client.post(
            f"/api/v1/complaints/{cid}/uphold",
            json={"outcome": "经核查，确属违规收费，责令退还。", "consequences": ["credit"], "points": 10},
            headers=h(client, m.sup_nj),
        )
        assert r.status_code == 200, r.get_json()
        out = r.get_json()
        assert out["status"] == "upheld" and out["consequences"] == ["credit"] and out["points"] == -10
        assert seen[-1] == {
            "upheld": True,
            "consequences": ["credit"],
            "agency_id": m.a.agency.id,
            "request_id": None,
            "points": -10,
            "actor": seen[-1]["actor"],
        }
        # Both sides see the outcome.
        for who in (m.enterprise, m.a):
            got = client.get(f"/api/v1/complaints/{cid}", headers=h(client, who)).get_json()
            assert got["status"] == "upheld" and got["outcome"] == "经核查，确属违规收费，责令退还。"
        actions = set(
            db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "complaint"))
        )
        assert {"complaint.file", "complaint.accept", "complaint.answer", "complaint.uphold"} <= actions
    finally:
        events.complaint_decided.disconnect(listen)


def test_refuse_needs_a_reason_and_never_reaches_the_respondent(client, m):
    cid = _agency_complaint(client, m)["id"]
    r = client.post(f"/api/v1/complaints/{cid}/refuse", json={"reason": ""}, headers=h(client, m.sup_nj))
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    assert db.session.get(Complaint, cid).status == "received"
    r = client.post(
        f"/api/v1/complaints/{cid}/refuse",
        json={"reason": "投诉事项已由法院受理，不属于本部门处理范围。"},
        headers=h(client, m.sup_nj),
    )
    assert r.status_code == 200 and r.get_json()["status"] == "refused"
    assert client.get(f"/api/v1/complaints/{cid}", headers=h(client, m.enterprise)).get_json()[
        "refusal_reason"
    ]
    assert client.get(f"/api/v1/complaints/{cid}", headers=h(client, m.a)).status_code == 404
    assert client.post(f"/api/v1/complaints/{cid}/accept", headers=h(client, m.sup_nj)).status_code == 409


def test_dismiss_and_wrong_order_of_transitions(client, m):
    cid = _agency_complaint(client, m)["id"]
    sup = h(client, m.sup_nj)
    assert (
        client.post(f"/api/v1/complaints/{cid}/dismiss", json={"outcome": "不成立"}, headers=sup).status_code
        == 409
    )
    assert client.post(f"/api/v1/complaints/{cid}/accept", headers=sup).status_code == 200
    assert client.post(f"/api/v1/complaints/{cid}/accept", headers=sup).status_code == 409
    r = client.post(
        f"/api/v1/complaints/{cid}/dismiss", json={"outcome": "经调查，收费符合合同约定。"}, headers=sup
    )
    assert r.status_code == 200 and r.get_json()["status"] == "dismissed"
    assert (
        client.post(
            f"/api/v1/complaints/{cid}/answer",
            json={"answer": "迟到的答复内容说明。"},
            headers=h(client, m.a),
        ).status_code
        == 409
    )


def test_authorization_by_role_and_region(client, m):
    cid = _agency_complaint(client, m)["id"]  # about an agency registered in 南京 (320105)
    # A supervisor of another city does not even see it; an operator of its city reads it but cannot act.
    assert client.get(f"/api/v1/complaints/{cid}", headers=h(client, m.sup_lyg)).status_code == 404
    assert client.post(f"/api/v1/complaints/{cid}/accept", headers=h(client, m.sup_lyg)).status_code == 404
    assert client.get(f"/api/v1/complaints/{cid}", headers=h(client, m.operator_nj)).status_code == 200
    assert (
        client.post(f"/api/v1/complaints/{cid}/accept", headers=h(client, m.operator_nj)).status_code == 403
    )
    # The parties and strangers cannot decide; strangers cannot read.
    assert client.post(f"/api/v1/complaints/{cid}/accept", headers=h(client, m.enterprise)).status_code == 403
    assert client.get(f"/api/v1/complaints/{cid}", headers=h(client, m.stranger)).status_code == 404
    assert client.get(f"/api/v1/complaints/{cid}").status_code == 404
    # The admin holds every role; staff lists are scoped.
    assert client.post(f"/api/v1/complaints/{cid}/accept", headers=h(client, m.admin)).status_code == 200
    ids = lambda u: [c["id"] for c in client.get("/api/v1/complaints", headers=h(client, u)).get_json()]  # noqa: E731
    assert cid in ids(m.sup_nj) and cid in ids(m.operator_nj) and cid not in ids(m.sup_lyg)
    assert cid in ids(m.enterprise) and cid in ids(m.a) and cid not in ids(m.stranger)
    assert client.get("/api/v1/complaints").status_code == 401


def test_only_the_respondent_answers(client, m):
    cid = _agency_complaint(client, m)["id"]
    client.post(f"/api/v1/complaints/{cid}/accept", headers=h(client, m.sup_nj))
    body = {"answer": "我方已按合同约定履行全部义务。"}
    assert (
        client.post(
            f"/api/v1/complaints/{cid}/answer", json=body, headers=h(client, m.enterprise)
        ).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/complaints/{cid}/answer", json=body, headers=h(client, m.b)).status_code == 404
    )
    r = client.post(f"/api/v1/complaints/{cid}/answer", json={"answer": "短"}, headers=h(client, m.a))
    assert r.status_code == 422 and "answer" in r.get_json()["errors"]
    assert db.session.get(Complaint, cid).answered_at is None


def test_order_complaints_go_to_the_other_party(client, m):
    r = _file(client, m.a, target_type="order", target_id=m.order.id, category="other", text=TEXT)
    assert r.status_code == 201 and r.get_json()["respondent"] == {
        "type": "enterprise",
        "id": m.enterprise.enterprise.id,
        "name": m.enterprise.enterprise.name,
    }
    r = _file(client, m.enterprise, target_type="order", target_id=m.order.id, category="quality")
    assert r.status_code == 201 and r.get_json()["respondent"]["id"] == m.a.agency.id
    assert r.get_json()["region_code"] == "320703"  # the project's location
    # Not a party: as if the order did not exist.
    assert (
        _file(client, m.b, target_type="order", target_id=m.order.id, category="quality").status_code == 404
    )


def test_selection_window_and_who_may_complain(client, m):
    body = {"target_type": "selection", "target_id": m.req.id, "category": "unfair_selection"}
    assert _file(client, m.stranger, **body).status_code == 403  # not a bidder
    assert _file(client, f.active_agency("C03", reviewer=m.admin), **body).status_code == 403
    r = _file(client, m.b, **body)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["respondent"]["type"] == "enterprise"
    assert r.get_json()["agency_id"] == m.a.agency.id  # the winner is the agency concerned
    timetravel.publicity_over(m.req, clock=False)
    before = _count()
    r = _file(client, m.c, **body)
    assert r.status_code == 409 and _count() == before


def test_entry_decision_only_by_the_agency_within_its_window(client, m, monkeypatch):
    body = {"target_type": "agency", "target_id": m.b.agency.id, "category": "entry_decision"}
    assert _file(client, m.enterprise, **body).status_code == 403
    assert _file(client, m.b, **body).status_code == 201  # approved moments ago
    # The audit log is append-only: instead of moving the decision back, move the filing 20 days on.
    later = now() + timedelta(days=20)
    monkeypatch.setattr("marketplace.complaints.targets.now", lambda: later)
    body["target_id"] = m.c.agency.id
    assert _file(client, m.c, **body).status_code == 409
    # An agency cannot complain about itself otherwise.
    assert _file(client, m.c, target_id=m.c.agency.id).status_code == 403


def test_request_complaints_by_member_agencies(client, m):
    fresh = f.published_request(m.enterprise, title="灌南县化工园区安全评价")
    body = {"target_type": "request", "target_id": fresh.id, "category": "tailored"}
    assert _file(client, m.stranger, **body).status_code == 403
    r = _file(client, m.b, **body)
    assert r.status_code == 201 and r.get_json()["request_id"] == fresh.id


def test_upheld_complaint_suspends_the_agency(client, m):
    cid = _agency_complaint(client, m)["id"]
    sup = h(client, m.sup_nj)
    client.post(f"/api/v1/complaints/{cid}/accept", headers=sup)
    r = client.post(
        f"/api/v1/complaints/{cid}/uphold",
        json={"outcome": "多次违规收费，暂停会员资格。", "consequences": ["suspend", "credit"], "points": 20},
        headers=sup,
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["consequences"] == ["credit", "suspend"]
    db.session.expire_all()
    agency = db.session.get(Agency, m.a.agency.id)
    assert agency.status == "suspended"
    assert db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "agency.suspend")
    )


def test_upheld_selection_complaint_passes_to_the_next_bid(client, m):
    winner_before = m.req.winner_bid_id
    cid = _file(
        client, m.b, target_type="selection", target_id=m.req.id, category="unfair_selection"
    ).get_json()["id"]
    sup = h(client, m.sup_lyg)
    client.post(f"/api/v1/complaints/{cid}/accept", headers=sup)
    valid = client.get(f"/api/v1/complaints/{cid}", headers=sup).get_json()["valid_consequences"]
    assert set(valid) == {"credit", "suspend", "reselect", "reannounce"}
    bad = client.post(
        f"/api/v1/complaints/{cid}/uphold",
        json={"outcome": "评审过程存在问题。", "consequences": ["reselect", "reannounce"]},
        headers=sup,
    )
    assert bad.status_code == 422 and db.session.get(Complaint, cid).status == "investigating"
    r = client.post(
        f"/api/v1/complaints/{cid}/uphold",
        json={"outcome": "中选机构业绩材料不实，由排名第二的机构递补。", "consequences": ["reselect"]},
        headers=sup,
    )
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    req = db.session.get(ServiceRequest, m.req.id)
    assert req.status == "publicity" and req.winner_bid_id != winner_before
    assert req.winner_bid_id == req.ranking[1]


def test_upheld_request_complaint_fails_the_request(client, m):
    fresh = f.published_request(m.enterprise, title="灌南县化工园区安全评价")
    cid = _file(client, m.b, target_type="request", target_id=fresh.id, category="designated").get_json()[
        "id"
    ]
    sup = h(client, m.sup_lyg)
    client.post(f"/api/v1/complaints/{cid}/accept", headers=sup)
    r = client.post(
        f"/api/v1/complaints/{cid}/uphold",
        json={"outcome": "公告设置指定中介条件，责令重新发布。", "consequences": ["reannounce"]},
        headers=sup,
    )
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    assert db.session.get(ServiceRequest, fresh.id).status == "failed"


def test_consequences_must_fit_and_credit_needs_points(client, m):
    cid = _agency_complaint(client, m)["id"]
    sup = h(client, m.sup_nj)
    client.post(f"/api/v1/complaints/{cid}/accept", headers=sup)
    for body, field in (
        ({"outcome": "成立。成立。", "consequences": ["reselect"]}, "consequences"),
        ({"outcome": "成立。成立。", "consequences": ["credit"], "points": 7}, "points"),
        ({"outcome": "", "consequences": []}, "outcome"),
    ):
        r = client.post(f"/api/v1/complaints/{cid}/uphold", json=body, headers=sup)
        assert r.status_code == 422 and field in r.get_json()["errors"], r.get_json()
    c = db.session.get(Complaint, cid)
    assert c.status == "investigating" and c.outcome is None
    assert db.session.get(Agency, m.a.agency.id).status == "active"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"target_type": "building"}, "target_type"),
        ({"target_id": "abc"}, "target_id"),
        ({"target_id": 999999}, "target_id"),
        ({"category": "tailored"}, "category"),
        ({"category": "nonsense"}, "category"),
        ({"text": "太短"}, "text"),
        ({"text": 12345}, "text"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"contact_email": "nobody"}, "contact_email"),
    ],
)
def test_bad_input_is_a_structured_422_and_nothing_is_stored(client, m, body, field):
    before = _count()
    r = _file(client, m.enterprise, **({"target_id": m.a.agency.id} | body))
    assert r.status_code in (404, 422), r.get_json()
    assert field in r.get_json()["errors"], r.get_json()
    assert _count() == before


def test_a_file_that_is_not_a_document_is_refused(client, m):
    r = client.post(
        "/api/v1/complaints",
        data={
            "target_type": "agency",
            "target_id": str(m.a.agency.id),
            "category": "fee",
            "text": TEXT,
            "evidence": [(io.BytesIO(b"MZ\x90\x00 not a pdf"), "evidence.pdf")],
        },  # fmt: skip
        headers=h(client, m.enterprise),
    )
    assert r.status_code == 422 and "evidence" in r.get_json()["errors"]
    assert _count() == 0 and db.session.scalar(select(func.count()).select_from(ComplaintFile)) == 0
    assert client.post("/api/v1/complaints", data="x", headers=h(client, m.enterprise)).status_code == 422


def test_anonymous_report_keeps_the_contact_private(client, m):
    r = client.post(
        "/api/v1/reports",
        json={
            "target_type": "agency",
            "target_id": m.a.agency.id,
            "category": "misconduct",
            "text": "该机构出借资质给无资质人员编制报告，报告签字人员并未实际参与项目。",
            "contact_name": NAME,
            "contact_phone": PHONE,
            "contact_email": EMAIL,
        },
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["number"].startswith("JB") and set(body) == {
        "number",
        "kind",
        "status",
        "filed_at",
        "accept_due_at",
    }
    c = db.session.scalar(select(Complaint).where(Complaint.number == body["number"]))
    assert c.complainant_id is None and c.contact_phone == PHONE
    # Staff see the contact; after acceptance the respondent sees the report but never the contact.
    staff = client.get(f"/api/v1/complaints/{c.id}", headers=h(client, m.sup_nj)).get_json()
    assert staff["contact_phone"] == PHONE and staff["anonymous"] is True
    client.post(f"/api/v1/complaints/{c.id}/accept", headers=h(client, m.sup_nj))
    seen = client.get(f"/api/v1/complaints/{c.id}", headers=h(client, m.a))
    assert seen.status_code == 200
    listed = client.get("/api/v1/complaints", headers=h(client, m.a))
    for text in (seen.get_data(as_text=True), listed.get_data(as_text=True)):
        for secret in (PHONE, EMAIL, NAME):
            assert secret not in text
    assert c.number in listed.get_data(as_text=True)
    # The public: nothing.
    assert client.get(f"/api/v1/complaints/{c.id}").status_code == 404
    store = client.get(f"/agencies/{m.a.agency.id}")
    assert PHONE not in store.get_data(as_text=True)


def test_complaint_contact_is_hidden_from_the_respondent_too(client, m):
    cid = _agency_complaint(client, m)["id"]
    client.post(f"/api/v1/complaints/{cid}/accept", headers=h(client, m.sup_nj))
    got = client.get(f"/api/v1/complaints/{cid}", headers=h(client, m.a))
    text = got.get_data(as_text=True)
    assert got.get_json()["complainant_name"] == m.enterprise.enterprise.name
    assert PHONE not in text and EMAIL not in text and NAME not in text
    assert "contact_phone" not in got.get_json() and "complainant_id" not in got.get_json()
    mine = client.get(f"/api/v1/complaints/{cid}", headers=h(client, m.enterprise)).get_json()
    assert mine["contact_phone"] == PHONE


def test_logged_in_report_and_report_bad_input(client, m):
    r = client.post(
        "/api/v1/reports",
        json={
            "target_type": "request",
            "target_id": m.req.id,
            "text": "公告中的资格条件明显指向特定机构，存在量身定制。",
        },
        headers=h(client, m.stranger),
    )
    assert (
        r.status_code == 201
        and r.get_json()["viewer"] == "complainant"
        and r.get_json()["category"] == "other"
    )
    before = _count()
    assert (
        client.post("/api/v1/reports", json={"target_type": "agency", "target_id": m.a.agency.id}).status_code
        == 422
    )
    assert client.post("/api/v1/reports", json=[1, 2]).status_code == 422
    entry = {"target_type": "agency", "target_id": m.a.agency.id, "category": "entry_decision", "text": TEXT}
    assert client.post("/api/v1/reports", json=entry).status_code == 422  # the agency's own complaint only
    assert (
        client.post(
            "/api/v1/reports", json={"target_type": "order", "target_id": 424242, "text": TEXT}
        ).status_code
        == 404
    )
    assert _count() == before


def test_overdue_complaints_on_the_board_and_first_on_the_desk(client, m):
    late = _agency_complaint(client, m)["id"]
    fresh = _agency_complaint(client, m)["id"]
    db.session.execute(
        update(Complaint).where(Complaint.id == late).values(accept_due_at=now() - timedelta(days=1))
    )
    db.session.commit()
    rows = client.get("/api/v1/complaints", headers=h(client, m.sup_nj)).get_json()
    assert [r["id"] for r in rows][:2] == [late, fresh] and rows[0]["overdue"] is True
    overdue = client.get("/api/v1/complaints?status=overdue", headers=h(client, m.sup_nj)).get_json()
    assert [r["id"] for r in overdue] == [late]
    board = client.get("/api/v1/admin/deadlines?section=complaints", headers=h(client, m.sup_nj))
    assert board.status_code == 200 and [r["complaint"]["id"] for r in board.get_json()] == [late]
    assert client.get("/api/v1/complaints?status=bogus", headers=h(client, m.sup_nj)).status_code == 422


def test_outcome_figures_count_by_kind_and_status(client, m):
    from marketplace.complaints.access import outcome_figures

    cid = _agency_complaint(client, m)["id"]
    _agency_complaint(client, m)
    client.post(f"/api/v1/complaints/{cid}/accept", headers=h(client, m.sup_nj))
    figures = outcome_figures()
    assert figures["complaint"]["received"] == 1 and figures["complaint"]["investigating"] == 1
    assert sum(figures["report"].values()) == 0
    assert sum(outcome_figures("320700")["complaint"].values()) == 0  # the agency is registered in 南京
