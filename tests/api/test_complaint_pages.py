"""The complaint pages through the test client: the links from the store, the announcement and the order; filing
with evidence; the respondent's page without the contact details; the supervisor's decisions; the desk's
overdue rows first; the public report form without an account; the deadline board's section."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from marketplace.agencies.models import Agency
from marketplace.common.clock import now
from marketplace.complaints.models import Complaint
from marketplace.extensions import db
from marketplace.requests import services as requests
from tests import factories as f
from tests import timetravel
from tests.kept import keep, load

TEXT = "该机构在服务过程中以加急为由另行收取费用两万元，未开具发票，也未在合同中约定，请依法查处。"
PHONE, EMAIL = "13987654321", "secret-reporter@example.cn"


@pytest.fixture(scope="module", autouse=True)
def world(module_transaction):
    """Built once for the module (tests/kept.py): each test reads it by id and runs in a savepoint undone after
    it."""
    admin = f.admin()
    enterprise = f.user("enterprise")
    agency = f.active_agency("C03", reviewer=admin)
    other = f.active_agency("C03", reviewer=admin)
    req = f.published_request(enterprise)
    f.bid(agency, req, price_fen=10_000_000)
    f.bid(other, req, price_fen=11_000_000)
    f.bid(f.active_agency("C03", reviewer=admin), req, price_fen=12_000_000)
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id)
    return keep(
        admin=admin,
        enterprise=enterprise,
        agency=agency,
        other=other,
        req=req,
        supervisor=f.staff("supervisor", "320100"),
        operator=f.staff("operator", "320100"),
    )


@pytest.fixture
def m(world):
    return load(world)


def _client(app, u=None):
    c = app.test_client()
    if u is not None:
        assert f.login(c, u).status_code == 302
    return c


def _file(app, m) -> Complaint:
    c = _client(app, m.enterprise)
    r = c.post(
        f"/complaints/new?target_type=agency&target_id={m.agency.agency.id}",
        data={
            "category": "fee",
            "text": TEXT,
            "contact_name": "赵敏",
            "contact_phone": PHONE,
            "contact_email": EMAIL,
            "evidence": [(io.BytesIO(f.PDF), "收据.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    return db.session.scalar(select(Complaint).order_by(Complaint.id.desc()))


def test_links_to_complain_and_report(app, m):
    store = f"/agencies/{m.agency.agency.id}"
    anon = _client(app).get(store).get_data(as_text=True)
    assert "/reports/new?target_type=agency" in anon and "complain-agency" not in anon
    assert 'data-link="complain-agency"' in _client(app, m.enterprise).get(store).get_data(as_text=True)
    own = _client(app, m.agency).get(store).get_data(as_text=True)
    assert 'data-link="complain-entry"' in own and 'data-link="complain-agency"' not in own
    page = _client(app, m.other).get(f"/requests/{m.req.id}").get_data(as_text=True)
    assert 'data-link="complain-selection"' in page and 'data-link="complain-request"' in page
    assert 'data-link="complain-selection"' not in _client(app, m.enterprise).get(
        f"/requests/{m.req.id}"
    ).get_data(as_text=True)
    _, _, order = f.accepted_order(enterprise=m.enterprise, agency=m.agency, admin=m.admin)
    assert 'data-link="complain-order"' in _client(app, m.enterprise).get(f"/orders/{order.id}").get_data(
        as_text=True
    )


def test_the_form_refuses_bad_input_beside_the_fields(app, m):
    c = _client(app, m.enterprise)
    r = c.post(
        f"/complaints/new?target_type=agency&target_id={m.agency.agency.id}",
        data={"category": "fee", "text": "太短", "contact_email": "nope"},
    )
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "20" in body and "3000" in body and db.session.scalar(select(Complaint)) is None
    assert c.get("/complaints/new").status_code == 404
    assert _client(app).get("/complaints/").status_code == 302  # log in first


def test_file_accept_answer_uphold_through_the_pages(app, m):
    complaint = _file(app, m)
    mine = _client(app, m.enterprise).get(f"/complaints/{complaint.number}").get_data(as_text=True)
    assert complaint.number in mine and "收据.pdf" in mine and PHONE not in mine  # staff-only box
    # The agency sees nothing before acceptance.
    agency = _client(app, m.agency)
    assert agency.get(f"/complaints/{complaint.number}").status_code == 404
    sup = _client(app, m.supervisor)
    assert sup.get(f"/complaints/{complaint.number}").get_data(as_text=True).count(PHONE) == 1
    r = sup.post(f"/admin/complaints/{complaint.id}/decide", data={"action": "accept"})
    assert r.status_code == 302
    page = agency.get(f"/complaints/{complaint.number}").get_data(as_text=True)
    assert 'data-form="answer"' in page and PHONE not in page and EMAIL not in page and "赵敏" not in page
    assert complaint.number in agency.get("/complaints/").get_data(as_text=True)
    r = agency.post(
        f"/complaints/{complaint.number}/answer",
        data={
            "answer": "加急费系业主书面同意后收取，附确认单。",
            "evidence": [(io.BytesIO(f.PDF), "确认单.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    # An operator reads but cannot decide.
    op = _client(app, m.operator)
    assert "data-read-only" in op.get(f"/complaints/{complaint.number}").get_data(as_text=True)
    assert (
        op.post(
            f"/admin/complaints/{complaint.id}/decide", data={"action": "dismiss", "outcome": "不成立的"}
        ).status_code
        == 403
    )
    r = sup.post(
        f"/admin/complaints/{complaint.id}/decide",
        data={
            "action": "uphold",
            "outcome": "经核查确属违规收费。",
            "consequences": ["credit", "suspend"],
            "points": "20",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Agency, m.agency.agency.id).status == "suspended"
    for who in (m.enterprise, m.agency):
        page = _client(app, who).get(f"/complaints/{complaint.number}").get_data(as_text=True)
        assert "经核查确属违规收费。" in page and 'data-consequence="credit"' in page and "-20" in page


def test_decision_errors_stay_on_the_page(app, m):
    complaint = _file(app, m)
    sup = _client(app, m.supervisor)
    r = sup.post(f"/admin/complaints/{complaint.id}/decide", data={"action": "refuse", "reason": ""})
    assert r.status_code == 422 and 'data-form="decide"' in r.get_data(as_text=True)
    assert db.session.get(Complaint, complaint.id).status == "received"


def test_the_desk_puts_overdue_first_in_red(app, m):
    first = _file(app, m)
    late = _file(app, m)
    db.session.execute(
        update(Complaint).where(Complaint.id == late.id).values(accept_due_at=now() - timedelta(days=2))
    )
    db.session.commit()
    page = _client(app, m.supervisor).get("/admin/complaints").get_data(as_text=True)
    assert page.index(late.number) < page.index(first.number)
    assert 'data-overdue="yes"' in page and "row-overdue" in page
    only = _client(app, m.supervisor).get("/admin/complaints?status=overdue").get_data(as_text=True)
    assert late.number in only and first.number not in only
    board = _client(app, m.supervisor).get("/admin/deadlines").get_data(as_text=True)
    assert 'data-section="overdue-complaints"' in board and late.number in board
    assert _client(app, m.enterprise).get("/admin/complaints").status_code == 403
    home = _client(app, m.supervisor).get("/admin/").get_data(as_text=True)
    assert "/admin/complaints" in home


def test_anonymous_report_through_the_public_form(app, m):
    anon = _client(app)
    form = anon.get(f"/reports/new?target_type=agency&target_id={m.agency.agency.id}")
    assert form.status_code == 200 and 'data-form="report"' in form.get_data(as_text=True)
    assert "data-no-target" in anon.get("/reports/new").get_data(as_text=True)
    r = anon.post(
        f"/reports/new?target_type=agency&target_id={m.agency.agency.id}",
        data={
            "category": "misconduct",
            "text": "该机构出借资质给他人，报告签字人员并未实际参与项目编制。",
            "contact_phone": PHONE,
        },
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/reports/filed")
    receipt = anon.get("/reports/filed").get_data(as_text=True)
    report = db.session.scalar(select(Complaint).where(Complaint.kind == "report"))
    assert report.number in receipt and report.complainant_id is None and report.contact_phone == PHONE
    # The respondent, once it is accepted, sees neither who reported nor the contact.
    _client(app, m.supervisor).post(f"/admin/complaints/{report.id}/decide", data={"action": "accept"})
    page = _client(app, m.agency).get(f"/complaints/{report.number}").get_data(as_text=True)
    assert PHONE not in page and "data-complainant" in page
    assert _client(app).get(f"/complaints/{report.number}").status_code == 302


def test_the_form_is_not_offered_to_those_who_may_not_complain(app, m):
    url = f"/complaints/new?target_type=selection&target_id={m.req.id}"
    assert _client(app, m.other).get(url).status_code == 200  # a bidder, during publicity
    refused = _client(app, m.enterprise).get(url)
    assert refused.status_code == 403 and "只有参与本轮报价的机构可以投诉选取结果" in refused.get_data(
        as_text=True
    )
    timetravel.publicity_over(m.req, clock=False)
    assert _client(app, m.other).get(url).status_code == 409
