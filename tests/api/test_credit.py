"""Credit: the formula, grades and veto items, the lists and their consequences, expiry by the clock, appeals,
repairs, the rebuild, and who may do what (marketplace/credit/)."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from marketplace.common.clock import now
from marketplace.credit import ledger, rules, scores
from marketplace.credit.models import AgencyCredit, CreditAppeal, CreditEvent, CreditListEntry, EventStatus
from marketplace.extensions import db
from marketplace.requests import services as requests
from marketplace.requests.bids import Bid
from tests import factories as f
from tests import timetravel

FUTURE = (now() + timedelta(days=60)).date().isoformat()


def _credit(client, agency_id: int) -> dict:
    r = client.get(f"/api/v1/agencies/{agency_id}/credit")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _conduct(client, headers, agency_id: int, rule: str, note: str = "经审查发现问题，记录在案。"):
    return client.post(
        "/api/v1/admin/credit/events",
        json={"agency_id": agency_id, "rule": rule, "evidence": f"/agencies/{agency_id}", "note": note},
        headers=headers,
    )


def _counts() -> tuple:
    return tuple(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (CreditEvent, CreditListEntry, CreditAppeal, AgencyCredit)
    )


# --- the formula ------------------------------------------------------------------------------------------------


def test_formula_weights_sources_and_grades():
    assert rules.score({}) == 80.0 and rules.grade(80.0) == "B"
    # enterprise +20 (sub 100), department −30 (sub 50), market +5 (sub 85)
    assert rules.score({"enterprise": 20, "department": -30, "market": 5}) == 0.5 * 100 + 0.3 * 50 + 0.2 * 85
    assert rules.score({"enterprise": 500}) == 0.5 * 100 + 0.3 * 80 + 0.2 * 80  # capped at 100
    assert rules.score({"market": -500}) == 0.5 * 80 + 0.3 * 80  # floored at 0
    assert [rules.grade(s) for s in (95, 90, 89.9, 80, 70, 60, 59.9)] == ["A", "A", "B", "B", "C", "D", "E"]
    assert rules.grade(95, vetoes=1) == "D" and rules.grade(50, vetoes=1) == "E"  # a veto caps, never lifts
    assert rules.automatic_list(96, 0, 0) == "red" and rules.automatic_list(96, 0, 1) is None
    assert rules.automatic_list(49.9, 0, 3) == "black" and rules.automatic_list(85, 2, 2) == "black"


def test_market_events_are_itemised_and_explainable(client):
    enterprise, agency, order = f.accepted_order()
    data = _credit(client, agency.agency.id)
    assert {e["rule"] for e in data["events"]} == {"order_completed", "on_time"}
    assert data["points"]["market"] == 2 and data["score"] == 80.4 and data["grade"] == "B"
    assert sum(e["contribution"] for e in data["events"]) == round(data["score"] - 80, 2)
    assert all(e["evidence"] == f"/orders/{order.id}" for e in data["events"])
    # a replayed event never counts twice
    from marketplace.events import order_accepted

    order_accepted.send(order, actor=None, automatic=False)
    db.session.commit()
    assert _credit(client, agency.agency.id)["points"]["market"] == 2
    # the enterprise's rating: 5★ +2 in the enterprise source
    from marketplace.ratings import services as ratings

    ratings.rate_order(
        enterprise,
        order.id,
        {"overall": 5, "quality": 5, "timeliness": 5, "attitude": 5, "fee": 5, "compliance": 5},
    )
    db.session.commit()
    data = _credit(client, agency.agency.id)
    assert data["points"]["enterprise"] == 2 and data["score"] == 0.5 * 82 + 0.3 * 80 + 0.2 * 82
    # the public page explains it item by item
    page = client.get(f"/agencies/{agency.agency.id}/credit").get_data(as_text=True)
    assert page.count("data-event-id=") == 3 and "+1.00" in page and "+0.20" in page


def test_fee_violation_counts_and_is_withdrawn_when_dismissed(client):
    from marketplace.events import violation_changed

    agency = f.active_agency()

    item_id = f.market_item().id

    class Flag:  # the fee audit's flag, as the listeners read it
        id, agency_id, service_item_id = 991, agency.agency.id, item_id

    violation_changed.send(Flag(), delta=+1)
    assert scores.credit_rows([agency.agency.id])[agency.agency.id]["score"] == 78.0
    violation_changed.send(Flag(), delta=-1)
    event = scores.find_event(agency.agency.id, "fee_violation", "fee_flag", 991)
    assert event.status == EventStatus.WITHDRAWN
    assert scores.credit_rows([agency.agency.id])[agency.agency.id]["score"] == 80.0
    violation_changed.send(Flag(), delta=+1)  # confirmed again: counts again, still one event
    assert (
        event.status == EventStatus.COUNTED and db.session.get(AgencyCredit, agency.agency.id).score == 78.0
    )


def test_complaint_and_inspection_events_from_their_helpers(client):
    from marketplace.events import complaint_decided, inspection_item_failed

    agency = f.active_agency()
    a = agency.agency.id

    class Thing:
        id = 7
        number = "TS2026-000007"
        outcome = "投诉成立"

    complaint_decided.send(
        Thing(), upheld=True, consequences=["credit"], agency_id=a, request_id=None, points=-8, actor=None
    )
    complaint_decided.send(
        Thing(), upheld=False, consequences=["credit"], agency_id=a, request_id=None, points=-8, actor=None
    )
    inspection_item_failed.send(
        Thing(), agency_id=a, item="收费未公示", source="market", evidence="/inspections/1", actor=None
    )
    inspection_item_failed.send(
        Thing(), agency_id=a, item="档案不全", source="department", evidence="/inspections/1", actor=None
    )
    inspection_item_failed.send(
        Thing(), agency_id=a, item="档案不全", source="department", evidence="/inspections/1", actor=None
    )
    row = db.session.get(AgencyCredit, a)
    assert (row.department_points, row.market_points) == (-8 - 5, -5)


# --- veto, lists and their consequences ----------------------------------------------------------------------


def test_veto_caps_the_grade_and_two_vetoes_blacklist(client):
    supervisor = f.staff("supervisor")
    h = f.token(client, supervisor)
    agency = f.active_agency()
    a = agency.agency.id
    assert _conduct(client, h, a, "commendation").status_code == 201
    r = _conduct(client, h, a, "false_statement")
    assert r.status_code == 201 and r.get_json()["veto"] is True
    data = _credit(client, a)
    assert (
        data["score"] == 0.5 * 80 + 0.3 * (80 + 3 - 15) + 0.2 * 80 and data["grade"] == "D"
    )  # C capped at D
    assert client.get("/api/v1/blacklist").get_json() == []
    _conduct(client, h, a, "collusion")
    black = client.get("/api/v1/blacklist").get_json()
    assert [e["agency_id"] for e in black] == [a] and black[0]["automatic"] is True
    assert "一票否决项 2 项" in client.get("/credit/blacklist").get_data(
        as_text=True
    )  # the reason, translated


def test_blacklisted_agency_cannot_bid_and_its_pending_win_passes_on(client):
    supervisor, admin = f.staff("supervisor"), f.admin()
    owner = f.user("enterprise")
    first = f.active_agency(reviewer=admin)
    second = f.active_agency(reviewer=admin)
    req = f.published_request(owner, selection_method="lowest_price", funding="social")
    f.bid(first, req, price_fen=10_000_000)
    runner_up = f.bid(second, req, price_fen=12_000_000)
    timetravel.past_deadline(req)
    requests.select_winner(owner, req.id)
    db.session.commit()
    db.session.refresh(req)
    assert (
        req.status.value == "publicity"
        and db.session.get(Bid, req.winner_bid_id).agency_id == first.agency.id
    )

    h = f.token(client, supervisor)
    before = _counts()
    bad = {
        "agency_id": first.agency.id,
        "list": "black",
        "reason": "",
        "basis": "办法第二十条",
        "until": FUTURE,
    }
    r = client.post("/api/v1/admin/blacklist", json=bad, headers=h)
    assert r.status_code == 422 and "reason" in r.get_json()["errors"] and _counts() == before
    r = client.post(
        "/api/v1/admin/blacklist", json=bad | {"until": "2020-01-01", "reason": "伪造业绩"}, headers=h
    )
    assert r.status_code == 422 and "until" in r.get_json()["errors"] and _counts() == before
    r = client.post("/api/v1/admin/blacklist", json=bad | {"reason": "伪造业绩材料"}, headers=h)
    assert r.status_code == 201, r.get_json()
    db.session.expire_all()
    assert req.winner_bid_id == runner_up.id and req.status.value == "publicity"  # passed to the next bid
    # the public lists and the store's notice
    assert [e["agency_id"] for e in client.get("/api/v1/blacklist").get_json()] == [first.agency.id]
    store = client.get(f"/agencies/{first.agency.id}").get_data(as_text=True)
    assert 'data-listed="black"' in store
    # it cannot bid any more: a clear message, 422, nothing written
    other = f.published_request(owner)
    r = client.post(
        f"/api/v1/requests/{other.id}/bids",
        json={"price_fen": 10_000_000, "promised_days": 20, "plan": "组建项目组编制报告。"},
        headers=f.token(client, first),
    )
    assert r.status_code == 422 and "失信" in r.get_json()["message"]


def test_red_list_by_decision_and_expiry_by_the_clock(client):
    supervisor = f.staff("supervisor")
    h = f.token(client, supervisor)
    agency = f.active_agency()
    body = {
        "agency_id": agency.agency.id,
        "list": "red",
        "reason": "连续两年信用优秀",
        "basis": "办法第十五条",
        "until": FUTURE,
    }
    assert client.post("/api/v1/admin/blacklist", json=body, headers=h).status_code == 201
    assert client.post("/api/v1/admin/blacklist", json=body, headers=h).status_code == 409  # already listed
    red = client.get("/api/v1/redlist").get_json()
    assert red[0]["reason"] == "连续两年信用优秀" and red[0]["basis"] == "办法第十五条" and red[0]["until"]
    entry = db.session.get(CreditListEntry, red[0]["id"])
    timetravel.credit_listing_ended(entry, clock=False)
    assert client.get("/api/v1/redlist").get_json() == []  # reads compute "in force" from the dates
    assert entry.lifted_at is None
    timetravel.run_clock()
    db.session.expire_all()
    assert entry.lifted_at is not None and "period ended" in entry.lifted_why


def test_the_window_moves_on_with_the_clock(client):
    supervisor = f.staff("supervisor")
    agency = f.active_agency()
    event = f_conduct(supervisor, agency.agency.id, "misconduct")
    assert db.session.get(AgencyCredit, agency.agency.id).department_points == -5
    years = rules.window_years()
    old = now().replace(year=now().year - years - 1)
    db.session.execute(update(CreditEvent).where(CreditEvent.id == event.id).values(at=old))
    db.session.execute(
        update(AgencyCredit)
        .where(AgencyCredit.agency_id == agency.agency.id)
        .values(window_start=old - timedelta(days=1))
    )
    db.session.commit()
    timetravel.run_clock()
    db.session.expire_all()
    row = db.session.get(AgencyCredit, agency.agency.id)
    assert row.department_points == 0 and row.score == 80.0 and row.window_start == rules.window_start(now())


def f_conduct(supervisor, agency_id: int, rule: str):
    from marketplace.credit import services

    event = services.record_conduct(
        supervisor,
        {"agency_id": agency_id, "rule": rule, "evidence": "/agencies/1", "note": "检查发现问题。"},
    )
    db.session.commit()
    return event


# --- appeals and repairs -------------------------------------------------------------------------------------


def test_appeal_reverses_an_event_and_only_the_region_operator_decides(client):
    supervisor = f.staff("supervisor")
    agency, other = f.active_agency(), f.active_agency()
    event = f_conduct(supervisor, agency.agency.id, "misconduct")
    assert _credit(client, agency.agency.id)["score"] == 78.5
    url = f"/api/v1/agencies/me/credit-events/{event.id}/appeal"
    before = _counts()
    assert (
        client.post(url, json={"reason": "有误"}, headers=f.token(client, other)).status_code == 404
    )  # not its own
    assert client.post(url, json={"reason": "短"}, headers=f.token(client, agency)).status_code == 422
    assert _counts() == before
    r = client.post(
        url,
        data={
            "reason": "该记录所述情况不属实，附主管部门说明。",
            "evidence": (io.BytesIO(f.PDF), "说明.pdf"),
        },
        headers=f.token(client, agency),
    )
    assert (
        r.status_code == 201
        and r.get_json()["status"] == "pending"
        and r.get_json()["evidence"][0]["name"] == "说明.pdf"
    )
    appeal_id = r.get_json()["id"]
    assert (
        client.post(url, json={"reason": "再次申诉该记录"}, headers=f.token(client, agency)).status_code
        == 409
    )

    decide = f"/api/v1/admin/credit/appeals/{appeal_id}/uphold"
    opinion = {"opinion": "经核查异议成立，撤销该记录。"}
    for who in (
        f.staff("operator", "320500"),
        supervisor,
        agency,
    ):  # another region; the supervisor reads only
        assert client.post(decide, json=opinion, headers=f.token(client, who)).status_code == 403
    operator = f.staff("operator", "320100")
    assert client.post(decide, json={"opinion": ""}, headers=f.token(client, operator)).status_code == 422
    r = client.post(decide, json=opinion, headers=f.token(client, operator))
    assert r.status_code == 200 and r.get_json()["status"] == "upheld"
    data = _credit(client, agency.agency.id)
    assert (
        data["score"] == 80.0
        and data["events"][0]["status"] == "reversed"
        and not data["events"][0]["counts"]
    )
    assert client.post(decide, json=opinion, headers=f.token(client, operator)).status_code == 409


def test_appeal_period_and_positive_events(client):
    supervisor = f.staff("supervisor")
    agency = f.active_agency()
    event = f_conduct(supervisor, agency.agency.id, "misconduct")
    good = f_conduct(supervisor, agency.agency.id, "commendation")
    h = f.token(client, agency)
    r = client.post(
        f"/api/v1/agencies/me/credit-events/{good.id}/appeal", json={"reason": "无需申诉此项"}, headers=h
    )
    assert r.status_code == 409
    timetravel.credit_event_ago(event, 16, clock=False)
    r = client.post(
        f"/api/v1/agencies/me/credit-events/{event.id}/appeal", json={"reason": "逾期后的申诉"}, headers=h
    )
    assert r.status_code == 409 and "15" in r.get_json()["message"]


def test_credit_repair_after_the_period_with_a_commitment_letter(client):
    supervisor = f.staff("supervisor")
    agency = f.active_agency()
    event = f_conduct(supervisor, agency.agency.id, "misconduct")
    h = f.token(client, agency)
    form = {"event_id": str(event.id), "statement": "已完成整改并建立内部合规审查制度。"}
    r = client.post(
        "/api/v1/agencies/me/credit-repairs",
        data=form | {"letter": (io.BytesIO(f.PDF), "承诺书.pdf")},
        headers=h,
    )
    assert r.status_code == 409 and "90" in r.get_json()["message"]  # too early
    timetravel.credit_event_ago(event, 91, clock=False)
    r = client.post("/api/v1/agencies/me/credit-repairs", data=form, headers=h)
    assert r.status_code == 422 and "letter" in r.get_json()["errors"]
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    r = client.post(
        "/api/v1/agencies/me/credit-repairs", data=form | {"letter": (io.BytesIO(png), "a.png")}, headers=h
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/agencies/me/credit-repairs",
        data=form | {"letter": (io.BytesIO(f.PDF), "承诺书.pdf")},
        headers=h,
    )
    assert r.status_code == 201 and r.get_json()["status"] == "pending"
    operator = f.staff("operator")
    r = client.post(
        f"/api/v1/admin/credit/repairs/{r.get_json()['id']}/approve",
        json={"opinion": "整改到位，同意修复。"},
        headers=f.token(client, operator),
    )
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    db.session.expire_all()
    assert db.session.get(CreditEvent, event.id).status == EventStatus.REPAIRED
    assert db.session.get(AgencyCredit, agency.agency.id).score == 80.0


def test_repair_lifts_a_supervisors_blacklisting(client):
    from marketplace.credit import appeals, services

    supervisor, operator = f.staff("supervisor"), f.staff("operator")
    agency = f.active_agency()
    entry = services.list_agency(
        supervisor,
        {
            "agency_id": agency.agency.id,
            "list": "black",
            "reason": "虚假承诺",
            "basis": "平台管理办法第二十条",
            "until": FUTURE,
        },
    )
    db.session.commit()
    timetravel.credit_listed_ago(entry, 100)
    repair = appeals.apply_repair(
        agency,
        {"entry_id": entry.id, "statement": "已履行承诺并完成全部整改工作。"},
        (io.BytesIO(f.PDF), "承诺书.pdf"),
    )
    appeals.decide_repair(operator, repair.id, True, "整改到位，同意移出失信名单。")
    db.session.commit()
    assert scores.barred(agency.agency.id) is None and client.get("/api/v1/blacklist").get_json() == []


# --- the rebuild --------------------------------------------------------------------------------------------------


def test_rebuild_agrees_then_finds_an_edited_row(app, client):
    supervisor = f.staff("supervisor")
    enterprise, agency, order = f.accepted_order()
    f_conduct(supervisor, agency.agency.id, "false_statement")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["credit", "rebuild"])
    assert result.exit_code == 0 and "agree" in result.output, result.output
    db.session.execute(
        update(AgencyCredit)
        .where(AgencyCredit.agency_id == agency.agency.id)
        .values(market_points=7, score=99.0)
    )
    db.session.commit()
    report = ledger.rebuild()
    assert not report.agrees and report.differing[agency.agency.id]["market_points"] == (7, 2)
    result = runner.invoke(args=["credit", "rebuild", "--fix"])
    assert result.exit_code == 1 and "replaced" in result.output
    assert ledger.rebuild().agrees


# --- the selections use the credit score ---------------------------------------------------------------------------


def test_credit_shortlist_ranks_by_the_credit_score_and_records_it(client):
    supervisor = f.staff("supervisor")
    owner = f.user("enterprise")
    agencies = [f.active_agency() for _ in range(3)]
    f_conduct(supervisor, agencies[0].agency.id, "misconduct")
    f_conduct(supervisor, agencies[1].agency.id, "commendation")
    req = f.published_request(owner, selection_method="credit_shortlist", shortlist_size=2, funding="social")
    for i, a in enumerate(agencies):
        f.bid(a, req, price_fen=10_000_000 + i)
    timetravel.past_deadline(req)
    requests.select_winner(owner, req.id)
    db.session.commit()
    rows = {r["agency_id"]: r for r in req.draw_details["candidate_rows"]}
    assert (
        rows[agencies[0].agency.id]["credit_score"] == 78.5
        and rows[agencies[1].agency.id]["credit_grade"] == "B"
    )
    shortlisted = set(req.ranking[:2])
    assert {r["bid_id"] for r in rows.values() if r["agency_id"] != agencies[0].agency.id} == shortlisted
    draw = client.get(f"/requests/{req.id}/draw").get_data(as_text=True)
    assert 'data-grade="B"' in draw


def test_top_grade_first_in_the_public_list(client):
    supervisor = f.staff("supervisor")
    low, high = (
        f.active_agency(org_name="甲级信用较差咨询有限公司"),
        f.active_agency(org_name="乙级信用优良咨询有限公司"),
    )
    f_conduct(supervisor, low.agency.id, "forged_certificate")  # grade D
    ids = [a["id"] for a in client.get("/api/v1/agencies").get_json()]
    assert ids.index(high.agency.id) < ids.index(low.agency.id)
    page = client.get("/agencies/").get_data(as_text=True)
    assert page.index("乙级信用优良") < page.index("甲级信用较差")


def test_pages_render_for_their_people(client):
    supervisor, operator = f.staff("supervisor"), f.staff("operator")
    agency = f.active_agency()
    event = f_conduct(supervisor, agency.agency.id, "misconduct")
    for url in (
        "/credit/rules",
        "/credit/blacklist",
        "/credit/redlist",
        f"/agencies/{agency.agency.id}/credit",
    ):
        assert client.get(url).status_code == 200
    assert "信用评价规则" in client.get("/credit/rules").get_data(as_text=True)
    f.login(client, agency)
    page = client.get("/agency/credit").get_data(as_text=True)
    assert f'id="event-{event.id}"' in page and 'data-form="appeal"' in page
    r = client.post(f"/agency/credit/events/{event.id}/appeal", data={"reason": "短"})
    assert r.status_code == 422 and db.session.scalar(select(func.count(CreditAppeal.id))) == 0
    r = client.post(
        f"/agency/credit/events/{event.id}/appeal", data={"reason": "情况说明：该问题已整改完毕。"}
    )
    assert r.status_code == 302
    staff = client.application.test_client()
    f.login(staff, operator)
    desk = staff.get("/admin/credit/").get_data(as_text=True)
    assert "情况说明" in desk and 'data-form="decide-appeal"' in desk
    assert "credit_admin.desk" in str(
        staff.get("/admin/").get_data(as_text=True)
    ) or "/admin/credit/" in staff.get("/admin/").get_data(as_text=True)


def test_only_a_supervisor_of_the_agencys_region_lists_or_records(client):
    agency = f.active_agency()  # registered in 320105 (南京市建邺区)
    body = {
        "agency_id": agency.agency.id,
        "list": "black",
        "reason": "虚假承诺",
        "basis": "平台管理办法第二十条",
        "until": FUTURE,
    }
    before = _counts()
    for who in (
        f.staff("supervisor", "320500"),
        f.staff("operator"),
        f.staff("department", None, "市生态环境局"),
        agency,
    ):
        h = f.token(client, who)
        assert client.post("/api/v1/admin/blacklist", json=body, headers=h).status_code == 403
        assert _conduct(client, h, agency.agency.id, "collusion").status_code == 403
    assert client.post("/api/v1/admin/blacklist", json=body).status_code == 401
    h = f.token(client, f.staff("supervisor", "320100"))
    for bad in ({"list": "grey"}, {"agency_id": 999999}, {"until": "不是日期"}, {"extra": 1}):
        assert client.post("/api/v1/admin/blacklist", json=body | bad, headers=h).status_code == 422
    assert _conduct(client, h, agency.agency.id, "rating").status_code == 422  # not a conduct rule
    assert _counts() == before
    assert client.post("/api/v1/admin/blacklist", json=body, headers=h).status_code == 201
    listed = client.get("/api/v1/admin/blacklist", headers=h).get_json()
    assert [e["agency_id"] for e in listed] == [agency.agency.id]
    assert (
        client.get(
            "/api/v1/admin/blacklist", headers=f.token(client, f.staff("supervisor", "320500"))
        ).get_json()
        == []
    )


def test_bidders_barred_since_they_bid_are_left_out_at_the_close_and_at_the_selection(client):
    """A bidder black-listed (with an end date, or open-ended) or fallen to grade E after it bid loses its bid
    when the bidding closes; one black-listed between the close and the selection loses it at the selection.
    Each bid records the rule that barred it; the rest take part."""
    from marketplace.common.clock import local
    from marketplace.common.messages import said

    admin, owner = f.admin(), f.user("enterprise")
    dated, open_ended, bottom, late, clean = (f.active_agency(reviewer=admin) for _ in range(5))
    req = f.published_request(owner, selection_method="lowest_price", funding="social")
    bids = {
        u.agency.id: f.bid(u, req, price_fen=price)
        for u, price in (
            (dated, 9_000_000),
            (open_ended, 9_500_000),
            (bottom, 10_000_000),
            (late, 11_000_000),
            (clean, 12_000_000),
        )
    }
    until = now() + timedelta(days=90)
    scores.open_list(dated.agency.id, scores.ListKind.BLACK, "伪造业绩材料", until=until)
    scores.open_list(open_ended.agency.id, scores.ListKind.BLACK, "串通投标")
    fallen = db.session.get(AgencyCredit, bottom.agency.id) or AgencyCredit(
        agency_id=bottom.agency.id, window_start=now()
    )
    fallen.grade, fallen.grade_rank = "E", 4  # (as the ledger leaves an agency of the bottom grade)
    db.session.add(fallen)
    db.session.commit()
    timetravel.past_deadline(req)  # the clock closes the bidding
    db.session.expire_all()
    reasons = {
        a: (db.session.get(Bid, b.id).status.value, said(db.session.get(Bid, b.id).invalid_reason))
        for a, b in bids.items()
    }
    assert reasons[dated.agency.id] == (
        "invalid",
        said(scores.message(scores.BLACKLISTED, until=local(until).strftime("%Y-%m-%d")).encode()),
    )
    assert reasons[open_ended.agency.id] == (
        "invalid",
        said(scores.message(scores.BLACKLISTED_OPEN).encode()),
    )
    assert reasons[bottom.agency.id] == ("invalid", said(scores.message(scores.GRADE_E).encode()))
    assert reasons[late.agency.id][0] == reasons[clean.agency.id][0] == "active"

    scores.open_list(late.agency.id, scores.ListKind.BLACK, "转包违规")  # between the close and the selection
    db.session.commit()
    requests.select_winner(owner, req.id)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Bid, bids[late.agency.id].id).status.value == "invalid"
    assert db.session.get(Bid, req.winner_bid_id).agency_id == clean.agency.id


def test_the_clocks_question_of_moved_windows_reads_an_index():
    """Each clock pass asks which agencies' credit window began before the current one: answered from
    ix_agency_credit_window_start (migration 0046), not by reading every agency's row."""
    from marketplace.credit import services as credit
    from tests.plans import plan, statements

    f.active_agency()
    with statements(r"FROM agency_credit\s+WHERE agency_credit\.window_start") as seen:
        credit.due_ids()
    assert len(seen) == 1
    assert "ix_agency_credit_window_start" in plan(*seen[0]), plan(*seen[0])


def test_the_statistics_read_the_credit_figures_beside_them_in_one_statement(app):
    """Every card, store and comparison shows an agency's statistics with its credit score, grade and black-list
    mark: `stats_for` reads them in one statement (the credit's columns beside the running totals), and they are
    the credit's own figures (`figures_for`) — for a graded agency, a black-listed one, a newcomer with neither
    statistics nor a credit row yet, and an id no agency has."""
    from marketplace.stats.figures import EMPTY, stats_for
    from tests.plans import statements

    graded, listed, newcomer = (f.active_agency("C03").agency.id for _ in range(3))
    row = db.session.get(AgencyCredit, graded) or AgencyCredit(agency_id=graded, window_start=now())
    row.score, row.grade = 61.5, "C"
    db.session.add(row)
    scores.open_list(listed, scores.ListKind.BLACK, "串通投标")
    db.session.commit()
    db.session.execute(delete(AgencyCredit).where(AgencyCredit.agency_id == newcomer))
    ids = [graded, listed, newcomer, 987_654]
    with statements(r"agency_stats|agency_credit|credit_list_entry") as seen:
        figures = stats_for(ids)
    assert len(seen) == 1, [s for s, _ in seen]
    credit = scores.figures_for(ids)
    keys = ("credit_score", "credit_grade", "credit_blacklisted")
    assert {a: {k: figures[a][k] for k in keys} for a in ids} == credit
    assert credit[graded] == {"credit_score": 61.5, "credit_grade": "C", "credit_blacklisted": False}
    assert credit[listed]["credit_blacklisted"] and not credit[newcomer]["credit_blacklisted"]
    assert credit[newcomer]["credit_grade"] == credit[987_654]["credit_grade"] == rules.grade(rules.BASE)
    assert figures[987_654]["newcomer"] and figures[987_654]["completed_orders"] == EMPTY["completed_orders"]
