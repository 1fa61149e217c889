"""Change review (变更审核): a member's changes to qualifications, legal representative and practitioners count
only once an operator of its region approves them; rejection keeps the old values and tells the agency why."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import select

from marketplace.agencies.models import Agency, Qualification
from marketplace.agencies.roster import ChangeStatus, MembershipChange, Practitioner, PractitionerStatus
from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from tests import factories as f


def _qualification(**over) -> dict:
    body = {
        "name": "工程咨询单位乙级资信",
        "level": "乙级",
        "number": "乙232026010001",
        "issuer": "江苏省工程咨询协会",
        "valid_until": (date.today() + timedelta(days=700)).isoformat(),
    }
    return body | over


def _upload(client, path: str, h: dict, data: bytes = f.PDF):
    return client.post(
        path, data={"file": (io.BytesIO(data), "scan.pdf")}, headers=h, content_type="multipart/form-data"
    )


def test_practitioner_change_is_pending_until_approved_then_applied_with_an_audit_entry(client):
    member = f.active_agency()  # in 南京市 (320100)
    h = f.token(client, member)
    r = client.post(
        "/api/v1/agencies/me/changes",
        json={"kind": "practitioner", "action": "add", "practitioner": f.practitioner_data(name="赵敏")},
        headers=h,
    )
    assert r.status_code == 201, r.get_json()
    change = r.get_json()
    assert change["status"] == "pending" and change["review_due_at"]
    people = client.get("/api/v1/agencies/me/practitioners", headers=h).get_json()
    newcomer = next(p for p in people if p["name"] == "赵敏")
    assert newcomer["status"] == "pending"
    assert _upload(client, f"/api/v1/agencies/me/changes/{change['id']}/file", h).status_code == 200

    operator = f.staff("operator", "320100")
    h_op = f.token(client, operator)
    listed = client.get("/api/v1/admin/changes", headers=h_op).get_json()
    assert [c["id"] for c in listed] == [change["id"]]
    r = client.post(f"/api/v1/admin/changes/{change['id']}/approve", headers=h_op)
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    assert db.session.get(Practitioner, newcomer["id"]).status == PractitionerStatus.APPROVED
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "membership_change")
    )
    assert {"membership_change.submit", "membership_change.approve"} <= set(actions)
    # decided once only
    assert client.post(f"/api/v1/admin/changes/{change['id']}/approve", headers=h_op).status_code == 409


def test_rejected_legal_rep_change_keeps_the_old_value_and_shows_the_reason(client):
    member = f.active_agency()
    h = f.token(client, member)
    old = member.agency.legal_rep
    r = client.post(
        "/api/v1/agencies/me/changes", json={"kind": "legal_rep", "legal_rep": "周新民"}, headers=h
    )
    assert r.status_code == 201
    change_id = r.get_json()["id"]
    assert db.session.get(Agency, member.agency.id).legal_rep == old  # not before approval
    # one pending legal-rep change at a time
    r = client.post("/api/v1/agencies/me/changes", json={"kind": "legal_rep", "legal_rep": "吴刚"}, headers=h)
    assert r.status_code == 409

    h_op = f.token(client, f.admin())
    r = client.post(f"/api/v1/admin/changes/{change_id}/reject", json={}, headers=h_op)
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    reason = "未提交法定代表人变更登记通知书"
    r = client.post(f"/api/v1/admin/changes/{change_id}/reject", json={"reason": reason}, headers=h_op)
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"
    assert db.session.get(Agency, member.agency.id).legal_rep == old
    mine = client.get("/api/v1/agencies/me/changes", headers=h).get_json()
    assert mine[0]["status"] == "rejected" and mine[0]["reason"] == reason
    f.login(client, member)
    page = client.get("/agency/changes").get_data(as_text=True)
    assert reason in page and "未通过" in page


def test_approved_legal_rep_change_applies(client):
    member = f.active_agency()
    h = f.token(client, member)
    change_id = client.post(
        "/api/v1/agencies/me/changes", json={"kind": "legal_rep", "legal_rep": "周新民"}, headers=h
    ).get_json()["id"]
    assert (
        client.post(
            f"/api/v1/admin/changes/{change_id}/approve", headers=f.token(client, f.admin())
        ).status_code
        == 200
    )
    assert db.session.get(Agency, member.agency.id).legal_rep == "周新民"


def test_a_members_profile_form_files_a_legal_rep_change_instead_of_saving_it(client):
    member = f.active_agency()
    old = member.agency.legal_rep
    f.login(client, member)
    form = {
        k: v
        for k, v in f.application([f.category().id]).items()
        if k not in ("qualifications", "category_ids")
    }
    form["legal_rep"] = "钱学明"
    r = client.post("/agency/profile", data=form, follow_redirects=True)
    assert r.status_code == 200 and "变更审核" in r.get_data(as_text=True)
    assert db.session.get(Agency, member.agency.id).legal_rep == old
    pending = db.session.scalars(
        select(MembershipChange).where(MembershipChange.agency_id == member.agency.id)
    ).all()
    assert [(c.kind.value, c.payload["legal_rep"]) for c in pending] == [("legal_rep", "钱学明")]


def test_qualification_change_needs_its_scan_and_counts_only_once_approved(client):
    member = f.active_agency()
    h = f.token(client, member)
    before = len(member.agency.qualifications)
    r = client.post("/api/v1/agencies/me/qualifications", json=_qualification(), headers=h)
    assert r.status_code == 202
    change_id = r.get_json()["id"]
    assert len(db.session.get(Agency, member.agency.id).qualifications) == before
    h_op = f.token(client, f.admin())
    r = client.post(f"/api/v1/admin/changes/{change_id}/approve", headers=h_op)
    assert r.status_code == 409 and "扫描件" in r.get_json()["message"]
    assert (
        _upload(client, f"/api/v1/agencies/me/changes/{change_id}/file", h, b"not a scan").status_code == 422
    )
    assert _upload(client, f"/api/v1/agencies/me/changes/{change_id}/file", h).status_code == 200
    assert client.post(f"/api/v1/admin/changes/{change_id}/approve", headers=h_op).status_code == 200
    quals = db.session.scalars(select(Qualification).where(Qualification.agency_id == member.agency.id)).all()
    added = next(q for q in quals if q.name == "工程咨询单位乙级资信")
    assert len(quals) == before + 1 and added.file_key is not None


def test_removal_of_a_qualification_waits_for_review(client):
    member = f.active_agency()
    h = f.token(client, member)
    # a second one first (approved), so that one may go
    change_id = client.post(
        "/api/v1/agencies/me/changes",
        json={"kind": "qualification", "action": "add", "qualification": _qualification()},
        headers=h,
    ).get_json()["id"]
    _upload(client, f"/api/v1/agencies/me/changes/{change_id}/file", h)
    h_op = f.token(client, f.admin())
    client.post(f"/api/v1/admin/changes/{change_id}/approve", headers=h_op)
    first = member.agency.qualifications[0].id
    r = client.delete(f"/api/v1/agencies/me/qualifications/{first}", headers=h)
    assert r.status_code == 202
    assert db.session.get(Qualification, first) is not None
    assert client.post(f"/api/v1/admin/changes/{r.get_json()['id']}/approve", headers=h_op).status_code == 200
    db.session.expire_all()
    assert db.session.get(Qualification, first) is None


def test_bad_change_input_is_422_and_changes_nothing(client):
    member = f.active_agency()
    h = f.token(client, member)
    for body in (
        {"kind": "colour"},
        {"kind": "practitioner", "action": "add", "practitioner": {"name": "x", "id_number": "1"}},
        {"kind": "qualification", "action": "add", "qualification": {"name": ""}},
        {"kind": "legal_rep", "legal_rep": ""},
        {"kind": "practitioner", "action": "remove", "practitioner_id": "seven"},
    ):
        r = client.post("/api/v1/agencies/me/changes", json=body, headers=h)
        assert r.status_code == 422, (body, r.get_json())
    r = client.post(
        "/api/v1/agencies/me/changes",
        json={"kind": "practitioner", "action": "remove", "practitioner_id": 999999},
        headers=h,
    )
    assert r.status_code == 404
    assert db.session.scalars(select(MembershipChange)).all() == []
    assert (
        len(db.session.scalars(select(Practitioner).where(Practitioner.agency_id == member.agency.id)).all())
        == 1
    )


def test_who_may_propose_and_decide_changes(client):
    member = f.active_agency()  # 南京市 320100
    other = f.active_agency()
    h = f.token(client, member)
    change_id = client.post(
        "/api/v1/agencies/me/changes", json={"kind": "legal_rep", "legal_rep": "周新民"}, headers=h
    ).get_json()["id"]
    # other agencies do not see it; draft agencies file no changes; enterprises are not agencies
    assert (
        client.get(f"/api/v1/agencies/me/changes/{change_id}", headers=f.token(client, other)).status_code
        == 404
    )
    draft = f.user("agency")
    r = client.post(
        "/api/v1/agencies/me/changes",
        json={"kind": "legal_rep", "legal_rep": "周新民"},
        headers=f.token(client, draft),
    )
    assert r.status_code == 409
    h_ent = f.token(client, f.user("enterprise"))
    assert (
        client.post(
            "/api/v1/agencies/me/changes", json={"kind": "legal_rep", "legal_rep": "a"}, headers=h_ent
        ).status_code
        == 403
    )
    # the admin desk: agencies and anonymous are turned away, non-operators and other regions may not decide
    assert client.get("/api/v1/admin/changes", headers=f.token(client, other)).status_code == 403
    assert client.get("/api/v1/admin/changes").status_code == 401
    for staff in (
        f.staff("supervisor"),
        f.staff("department", department="生态环境"),
        f.staff("operator", "320500"),
    ):
        hs = f.token(client, staff)
        assert client.post(f"/api/v1/admin/changes/{change_id}/approve", headers=hs).status_code == 403
        assert (
            client.post(
                f"/api/v1/admin/changes/{change_id}/reject", json={"reason": "x"}, headers=hs
            ).status_code
            == 403
        )
    suzhou = client.get("/api/v1/admin/changes", headers=f.token(client, f.staff("operator", "320500")))
    assert suzhou.status_code == 200 and suzhou.get_json() == []
    assert db.session.get(MembershipChange, change_id).status == ChangeStatus.PENDING
    # the operator of the province decides
    h_prov = f.token(client, f.staff("operator", "320000"))
    assert client.post(f"/api/v1/admin/changes/{change_id}/approve", headers=h_prov).status_code == 200


def test_operator_pages_list_and_decide_changes_overdue_in_red(client):
    from marketplace.common.clock import now

    member = f.active_agency(org_name="变更待审测绘有限公司")
    h = f.token(client, member)
    change_id = client.post(
        "/api/v1/agencies/me/changes", json={"kind": "legal_rep", "legal_rep": "周新民"}, headers=h
    ).get_json()["id"]
    db.session.get(MembershipChange, change_id).review_due_at = now() - timedelta(hours=2)
    db.session.commit()
    f.login(client, f.staff("operator", "320100"))
    listing = client.get("/admin/changes").get_data(as_text=True)
    row = listing.split(f'data-change="{change_id}"')[0].rsplit("<tr", 1)[1]
    assert "overdue" in row
    detail = client.get(f"/admin/changes/{change_id}").get_data(as_text=True)
    assert "周新民" in detail and "审核时限" in detail
    r = client.post(f"/admin/changes/{change_id}/reject", data={"reason": ""})
    assert r.status_code == 422 and "请填写理由" in r.get_data(as_text=True)
    r = client.post(f"/admin/changes/{change_id}/approve", data={})
    assert r.status_code == 302
    assert db.session.get(Agency, member.agency.id).legal_rep == "周新民"
    rows = client.get(
        "/api/v1/admin/deadlines?section=memberships", headers=f.token(client, f.admin())
    ).get_json()
    assert rows == []
