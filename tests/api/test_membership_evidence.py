"""Entry evidence (承诺书, 被授权人 with 授权委托书, 执业人员), ID numbers masked except to staff, the review deadline
in working days on both sides and on the supervisor's board, and the public admission list (入驻公示)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from marketplace.agencies import membership
from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.agencies.roster import Practitioner
from marketplace.common.clock import LOCAL_TZ, now
from marketplace.common.workdays import add_working_days, due_after
from marketplace.extensions import db
from tests import factories as f


def _draft_with_profile(category_code: str = "C03"):
    u = f.user("agency")
    cat = f.category(category_code)
    membership.update_profile(u, {k: v for k, v in f.application([cat.id]).items() if k != "qualifications"})
    membership.add_qualification(u, f.application([cat.id])["qualifications"][0], io.BytesIO(f.PDF), "q.pdf")
    db.session.commit()
    return u, cat


# --- the application needs the evidence ----------------------------------------------------------------------


def test_api_application_is_refused_without_pledge_authorised_person_and_practitioner(client):
    u = f.user("agency")
    h = f.token(client, u)
    r = client.post("/api/v1/agencies/me/application", json=f.application([f.category().id]), headers=h)
    assert r.status_code == 422
    problems = " ".join(r.get_json()["errors"]["application"])
    assert "承诺书" in problems and "被授权人" in problems and "执业人员" in problems
    assert client.get("/api/v1/me", headers=h).get_json()["agency_status"] == "draft"
    # nothing of the refused call was kept
    assert db.session.get(Agency, u.agency.id).legal_rep is None


def test_application_is_refused_until_a_practitioner_with_a_scan_is_added(client):
    u, _cat = _draft_with_profile()
    h = f.token(client, u)
    for kind in ("pledge", "authorisation"):
        r = client.post(
            f"/api/v1/agencies/me/documents/{kind}",
            data={"file": (io.BytesIO(f.PDF), "x.pdf")},
            headers=h,
            content_type="multipart/form-data",
        )
        assert r.status_code == 200
    person = {"name": "李娜", "id_number": f.id_number(), "phone": "13800000001"}
    assert client.put("/api/v1/agencies/me/authorised-person", json=person, headers=h).status_code == 200

    def apply():
        return client.post("/api/v1/agencies/me/application", json=f.application([_cat.id]), headers=h)

    r = apply()
    assert r.status_code == 422
    assert r.get_json()["errors"]["application"] == ["请至少添加一名执业人员。"]
    made = client.post("/api/v1/agencies/me/practitioners", json=f.practitioner_data(), headers=h).get_json()
    assert made["status"] == "pending" and made["change_id"] is None
    r = apply()
    assert r.status_code == 422 and "证书扫描件" in r.get_json()["errors"]["application"][0]
    client.post(
        f"/api/v1/agencies/me/practitioners/{made['id']}/file",
        data={"file": (io.BytesIO(f.PDF), "c.pdf")},
        headers=h,
        content_type="multipart/form-data",
    )
    r = apply()
    assert r.status_code == 201 and r.get_json()["status"] == "pending"
    assert r.get_json()["practitioners"][0]["status"] == "pending"


def test_web_application_is_refused_with_clear_chinese_messages(client):
    u, _cat = _draft_with_profile()
    f.login(client, u)
    page = client.get("/agency/").get_data(as_text=True)
    assert "承诺书" in page and "执业人员" in page
    r = client.post("/agency/apply", data={}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "请上传签章的承诺书" in text or "承诺书" in text
    assert db.session.get(Agency, u.agency.id).status == AgencyStatus.DRAFT


def test_fake_scans_and_bad_id_numbers_are_422_and_change_nothing(client):
    u, _cat = _draft_with_profile()
    h = f.token(client, u)
    r = client.post(
        "/api/v1/agencies/me/documents/pledge",
        data={"file": (io.BytesIO(b"<html>not a scan</html>"), "pledge.pdf")},
        headers=h,
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and "file" in r.get_json()["errors"]
    assert db.session.get(Agency, u.agency.id).pledge_file_key is None
    good = f.id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")  # wrong check character
    r = client.post("/api/v1/agencies/me/practitioners", json=f.practitioner_data(id_number=bad), headers=h)
    assert r.status_code == 422 and "id_number" in r.get_json()["errors"]
    r = client.post("/api/v1/agencies/me/practitioners", json=f.practitioner_data(years=99), headers=h)
    assert r.status_code == 422 and "years" in r.get_json()["errors"]
    r = client.post("/api/v1/agencies/me/practitioners", json={"name": "王五"}, headers=h)
    assert r.status_code == 422
    assert db.session.scalars(select(Practitioner).where(Practitioner.agency_id == u.agency.id)).all() == []
    r = client.put(
        "/api/v1/agencies/me/authorised-person",
        json={"name": "李", "id_number": "123", "phone": "x"},
        headers=h,
    )
    assert r.status_code == 422 and {"id_number", "phone"} <= set(r.get_json()["errors"])


def test_only_agencies_add_practitioners(client):
    body = f.practitioner_data()
    assert client.post("/api/v1/agencies/me/practitioners", json=body).status_code == 401
    h = f.token(client, f.user("enterprise"))
    assert client.post("/api/v1/agencies/me/practitioners", json=body, headers=h).status_code == 403
    assert client.get("/api/v1/agencies/me/practitioners", headers=h).status_code == 403


# --- masking -------------------------------------------------------------------------------------------------------


def test_id_numbers_are_masked_for_the_agency_and_the_public_and_full_for_staff(client):
    u = f.pending_agency()
    person = u.agency.practitioners[0]
    full, authorised = person.id_number, u.agency.authorised_id_number
    masked = full[:4] + "*" * 10 + full[-4:]
    h_agency, h_admin = f.token(client, u), f.token(client, f.admin())

    mine = client.get("/api/v1/agencies/me/practitioners", headers=h_agency).get_json()
    assert mine[0]["id_number"] == masked
    me = client.get("/api/v1/agencies/me", headers=h_agency).get_data(as_text=True)
    assert full not in me and authorised not in me and masked in me

    apps = client.get("/api/v1/admin/applications", headers=h_admin).get_json()
    row = next(a for a in apps if a["agency_id"] == u.agency.id)
    assert row["practitioners"][0]["id_number"] == full and row["authorised_id_number"] == authorised

    f.login(client, u)
    page = client.get("/agency/people").get_data(as_text=True)
    assert masked in page and full not in page and authorised not in page
    client.post("/auth/logout")
    f.login(client, f.admin())
    review = client.get(f"/admin/agencies/{u.agency.id}").get_data(as_text=True)
    assert full in review and authorised in review

    # once a member, the public store shows no ID number at all
    membership.decide(f.admin(), u.agency.id, "approve")
    db.session.commit()
    for text in (
        client.get(f"/api/v1/agencies/{u.agency.id}").get_data(as_text=True),
        f.user("enterprise") and client.get(f"/agencies/{u.agency.id}").get_data(as_text=True),
    ):
        assert full[-4:] + '"' not in text and full not in text and authorised not in text


def test_staff_and_the_agency_download_a_practitioner_scan_others_get_404(client):
    u = f.pending_agency()
    person = u.agency.practitioners[0]
    path = f"/api/v1/practitioners/{person.id}/file"
    assert client.get(path, headers=f.token(client, u)).status_code == 200
    assert client.get(path, headers=f.token(client, f.admin())).status_code == 200
    assert client.get(path, headers=f.token(client, f.active_agency())).status_code == 404
    assert client.get(path).status_code == 404
    doc = f"/api/v1/agencies/{u.agency.id}/documents/pledge"
    assert client.get(doc, headers=f.token(client, u)).status_code == 200
    assert client.get(doc, headers=f.token(client, f.user("enterprise"))).status_code == 404


# --- review deadline in working days ----------------------------------------------------------------------------------


def test_review_deadline_skips_weekends_and_official_holidays():
    friday = date(2026, 11, 27)
    assert add_working_days(friday, 2) == date(2026, 12, 1)  # Monday, Tuesday
    assert add_working_days(date(2026, 11, 30), 2) == date(2026, 12, 2)
    # National Day 2026: 1–7 October off; Saturday 10 October is a working day (调休)
    assert add_working_days(date(2026, 9, 30), 2) == date(2026, 10, 9)
    assert add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    # a year the holiday calendar does not know yet: weekends only
    assert add_working_days(date(2027, 1, 8), 2) == date(2027, 1, 12)
    # the end of the day in Beijing: a Friday-evening submission (UTC still Friday) is due Tuesday 23:59:59
    due = due_after(datetime(2026, 11, 27, 10, 0, tzinfo=UTC), 2)
    assert due.astimezone(LOCAL_TZ).date() == date(2026, 12, 1) and due.astimezone(LOCAL_TZ).hour == 23


def test_application_carries_its_review_deadline_seen_by_both_sides(app, client):
    u = f.pending_agency()
    agency = db.session.get(Agency, u.agency.id)
    expected = due_after(agency.submitted_at, app.config["MARKET_REVIEW_WORKING_DAYS"])
    assert agency.review_due_at == expected
    day = expected.astimezone(LOCAL_TZ).strftime("%Y-%m-%d")
    assert client.get("/api/v1/agencies/me", headers=f.token(client, u)).get_json()["review_due_at"]
    f.login(client, u)
    assert f"审核时限：{day}" in client.get("/agency/").get_data(as_text=True)
    client.post("/auth/logout")
    f.login(client, f.admin())
    assert f"审核时限：{day}" in client.get(f"/admin/agencies/{agency.id}").get_data(as_text=True)


def test_overdue_application_is_red_on_the_list_and_on_the_supervisors_board(client):
    late, fresh = (
        f.pending_agency(org_name="超时未审环境有限公司"),
        f.pending_agency(org_name="按时审核环境有限公司"),
    )
    db.session.get(Agency, late.agency.id).review_due_at = now() - timedelta(days=1)
    db.session.commit()
    supervisor = f.staff("supervisor")
    rows = client.get(
        "/api/v1/admin/deadlines?section=memberships", headers=f.token(client, supervisor)
    ).get_json()
    assert [(r["kind"], r["agency_id"]) for r in rows] == [("application", late.agency.id)]
    assert rows[0]["deadline_status"] == "red" and rows[0]["days_overdue"] >= 1
    assert (
        client.get("/api/v1/admin/deadlines?section=bogus", headers=f.token(client, supervisor)).status_code
        == 422
    )
    # a department account reviews no membership
    h_dep = f.token(client, f.staff("department", department="生态环境"))
    assert client.get("/api/v1/admin/deadlines?section=memberships", headers=h_dep).status_code == 403

    f.login(client, f.admin())
    board = client.get("/admin/deadlines").get_data(as_text=True)
    section = board.split('data-section="overdue-memberships"')[1].split("</section>")[0]
    assert "超时未审环境有限公司" in section and "按时审核环境有限公司" not in section
    listing = client.get("/admin/applications").get_data(as_text=True)
    row = listing.split(f'data-agency="{late.agency.id}"')[0].rsplit("<tr", 1)[1]
    assert "overdue" in row
    other = listing.split(f'data-agency="{fresh.agency.id}"')[0].rsplit("<tr", 1)[1]
    assert "overdue" not in other


# --- 入驻公示 ---------------------------------------------------------------------------------------------------------


def test_admission_list_shows_recent_members_and_nothing_private(client):
    recent = f.active_agency(org_name="新近入驻评价有限公司")
    older = f.active_agency(org_name="早已入驻评价有限公司")
    waiting = f.pending_agency(org_name="尚在审核评价有限公司")
    db.session.get(Agency, older.agency.id).approved_at = now() - timedelta(days=45)
    db.session.commit()
    rows = client.get("/api/v1/agencies/admitted").get_json()
    names = [r["name"] for r in rows]
    assert "新近入驻评价有限公司" in names and "早已入驻评价有限公司" not in names
    assert "尚在审核评价有限公司" not in names
    row = next(r for r in rows if r["id"] == recent.agency.id)
    assert set(row) == {"id", "name", "region_code", "region", "categories", "approved_at"}
    names90 = [r["name"] for r in client.get("/api/v1/agencies/admitted?days=90").get_json()]
    assert "早已入驻评价有限公司" in names90
    assert client.get("/api/v1/agencies/admitted?days=0").status_code == 422
    page = client.get("/agencies/admitted").get_data(as_text=True)
    assert "新近入驻评价有限公司" in page and "早已入驻评价有限公司" not in page
    assert recent.agency.authorised_id_number not in page and recent.email not in page
    assert waiting.agency.name not in page


def test_admission_list_is_paged_newest_first(client, monkeypatch):
    from marketplace.home import agencies as pages

    made = [f.active_agency(org_name=f"分页入驻{n}评价有限公司") for n in range(3)]
    for hours, agency in enumerate(made):  # the last made was admitted first
        db.session.get(Agency, agency.agency.id).approved_at = now() - timedelta(hours=1 + hours)
    db.session.commit()
    newest_first = [a.agency.id for a in made]
    first = client.get("/api/v1/agencies/admitted?page_size=2")
    assert [r["id"] for r in first.get_json()] == newest_first[:2]
    assert '"total": 3' in first.headers["X-Pagination"].replace('"total":3', '"total": 3')
    second = client.get("/api/v1/agencies/admitted?page_size=2&page=2").get_json()
    assert [r["id"] for r in second] == newest_first[2:]
    monkeypatch.setattr(pages, "ADMITTED_PER_PAGE", 2)  # the page size, to page three rows
    html = client.get("/agencies/admitted").get_data(as_text=True)
    assert [n for n in ("分页入驻0", "分页入驻1", "分页入驻2") if n in html] == ["分页入驻0", "分页入驻1"]
    assert 'class="pager"' in html and "page=2" in html
    html2 = client.get("/agencies/admitted?page=2").get_data(as_text=True)
    assert "分页入驻2" in html2 and "分页入驻0" not in html2
