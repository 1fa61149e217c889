"""Objections (异议) during publicity: only the round's bidders may object, once each, with a ground, a statement of
facts and private evidence; administrators decide by a time limit (overdue is computed, never stored); the public
sees that objections exist, their status and outcome, and nothing of the objector or its statement."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.agencies import membership
from marketplace.audit.models import AuditEntry
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.requests import bidding, objections
from marketplace.requests import services as requests
from marketplace.requests.bids import Bid
from marketplace.requests.models import Objection, ObjectionGround, ServiceRequest
from tests import factories as f
from tests import timetravel
from tests.kept import keep, load

FACTS = "中选机构提交的业绩证明中有两个项目的业主单位均否认曾委托该机构，请核查其业绩材料的真实性。"
PUBLIC_FIELDS = {"id", "request_id", "status", "outcome", "created_at", "decide_by", "overdue", "resolved_at"}


@pytest.fixture(scope="module", autouse=True)
def world(module_transaction):
    """A fiscally funded request under publicity: three valid bids, one invalidated at opening (the agency was
    suspended before the deadline), one withdrawn before the deadline; plus people who did not bid. Built once
    for the module (tests/kept.py): each test reads it by id and runs in a savepoint undone after it."""
    enterprise, admin = f.user("enterprise"), f.admin()
    req = f.published_request(enterprise)
    winner, loser, third, invalidated, withdrawn, stranger = (
        f.active_agency("C03", reviewer=admin) for _ in range(6)
    )
    f.bid(winner, req, price_fen=10_000_000)
    f.bid(loser, req, price_fen=11_000_000)
    f.bid(third, req, price_fen=12_000_000)
    f.bid(invalidated, req, price_fen=9_000_000)
    gone = f.bid(withdrawn, req, price_fen=9_500_000)
    bidding.withdraw_bid(withdrawn, gone.id)
    membership.decide(admin, invalidated.agency.id, "suspend", "资质证书被吊销，暂停会员资格")
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id)
    req = db.session.get(ServiceRequest, req.id)
    assert req.status == "publicity"
    assert db.session.scalar(select(Bid.status).where(Bid.agency_id == invalidated.agency.id)) == "invalid"
    return keep(
        req=req,
        enterprise=enterprise,
        admin=admin,
        winner=winner,
        loser=loser,
        third=third,
        invalidated=invalidated,
        withdrawn=withdrawn,
        stranger=stranger,
        other_enterprise=f.user("enterprise"),
    )


@pytest.fixture
def market(world):
    return load(world)


def _lodge(client, req_id, headers, ground="qualification", facts=FACTS, **kw):
    return client.post(
        f"/api/v1/requests/{req_id}/objections",
        json={"ground": ground, "facts": facts},
        headers=headers,
        **kw,
    )


def _count(req_id) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Objection).where(Objection.request_id == req_id)
    )


# --- who may object ------------------------------------------------------------------------------------------


def test_only_the_rounds_bidders_may_object(client, market):
    req = market.req
    for who in ("stranger", "withdrawn", "enterprise", "other_enterprise", "admin"):
        for _ in range(2):  # the probe's stranger lodged five in a row; none gets through now
            r = _lodge(client, req.id, f.token(client, getattr(market, who)))
            assert r.status_code == 403, (who, r.get_json())
            body = r.get_json()
            assert body["code"] == 403 and body["status"] == "Forbidden"
            assert "参与本轮报价的机构" in body["message"], body
    assert _lodge(client, req.id, {}).status_code == 401
    assert _count(req.id) == 0
    # The award does not wait for anything a non-party sent.
    timetravel.publicity_over(req)
    assert client.get(f"/api/v1/requests/{req.id}").get_json()["status"] == "awarded"


def test_valid_and_invalidated_bidders_and_the_winner_are_interested_parties(client, market):
    for who in ("loser", "invalidated", "winner"):
        r = _lodge(client, market.req.id, f.token(client, getattr(market, who)))
        assert r.status_code == 201, (who, r.get_json())
        assert r.get_json()["agency_id"] == getattr(market, who).agency.id
    assert _count(market.req.id) == 3


def test_once_per_party_per_round(client, market):
    h = f.token(client, market.loser)
    assert _lodge(client, market.req.id, h).status_code == 201
    again = _lodge(client, market.req.id, h, ground="procedure")
    assert again.status_code == 409
    assert "只能提出一次" in again.get_json()["message"]
    # Even with bad input the answer is about the one objection already lodged, and nothing changes.
    assert _lodge(client, market.req.id, h, facts="短").status_code == 409
    assert _count(market.req.id) == 1


def test_the_database_holds_one_objection_per_party_and_request(market):
    """The unique constraint is the last word when two lodgings race past the service's check."""
    values = {
        "request_id": market.req.id,
        "user_id": market.loser.id,
        "agency_id": market.loser.agency.id,
        "ground": ObjectionGround.OTHER,
        "facts": FACTS,
        "decide_by": now(),
    }
    db.session.add(Objection(**values))
    db.session.flush()
    nested = db.session.begin_nested()
    with pytest.raises(IntegrityError):
        db.session.add(Objection(**values))
        db.session.flush()
    nested.rollback()


def test_a_new_round_is_a_new_chance_to_object(client):
    """Each republished round is its own request: a party that objected in round 1 may object in round 2."""
    enterprise, admin = f.user("enterprise"), f.admin()
    a, b = f.active_agency("C03", reviewer=admin), f.active_agency("C03", reviewer=admin)
    req = f.published_request(enterprise, funding="social")
    f.bid(a, req, price_fen=10_000_000)
    f.bid(b, req, price_fen=11_000_000)
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id)
    # b objects, upheld: b takes the place; a (its bid now invalid) objects, upheld: nobody is left, 流标.
    for party in (b, a):
        objection = objections.lodge_objection(party, req.id, "qualification", FACTS)
        objections.resolve_objection(admin, objection.id, True, "经核查属实，异议成立。")
    assert db.session.get(ServiceRequest, req.id).status == "failed"
    later = (now() + timedelta(days=3)).isoformat()
    round2 = requests.republish(enterprise, req.id, later)
    f.bid(a, round2, price_fen=10_000_000)
    f.bid(b, round2, price_fen=11_000_000)
    timetravel.past_deadline(round2)
    requests.select_winner(enterprise, round2.id)
    assert _lodge(client, round2.id, f.token(client, b)).status_code == 201
    assert _lodge(client, round2.id, f.token(client, b)).status_code == 409


# --- what an objection must say --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"facts": FACTS}, "ground"),
        ({"ground": "不服", "facts": FACTS}, "ground"),
        ({"ground": ["rules"], "facts": FACTS}, "ground"),
        ({"ground": "rules", "facts": "中选机构资质不符，请核查。"}, "facts"),  # 13 characters
        ({"ground": "rules", "facts": " " * 30}, "facts"),
        ({"ground": "rules", "facts": "这" * 2001}, "facts"),
        ({"ground": "rules", "facts": 12345678901234567890123}, "facts"),
        ({"ground": "rules"}, "facts"),
    ],
)
def test_a_reason_of_substance(client, market, body, field):
    r = client.post(
        f"/api/v1/requests/{market.req.id}/objections", json=body, headers=f.token(client, market.loser)
    )
    assert r.status_code == 422, r.get_json()
    expected = {"ground": "请选择异议理由。", "facts": "请用 20 至 2000 个字符陈述事实。"}
    assert r.get_json()["errors"] == {field: [expected[field]]}
    assert _count(market.req.id) == 0


def test_twenty_characters_are_enough(client, market):
    facts = "中选机构资格条件不符，其资质证书已过期。"
    assert len(facts) == 20
    assert _lodge(client, market.req.id, f.token(client, market.loser), facts=facts).status_code == 201


def _multipart(ground="calculation", facts=FACTS, files=()):
    data = {"ground": ground, "facts": facts}
    data["evidence"] = [(io.BytesIO(content), name) for name, content in files]
    return data


def test_evidence_is_checked_before_anything_is_stored(client, app, market):
    folder = Path(app.config["UPLOAD_DIR"]) / objections.UPLOAD_KIND
    before = set(folder.glob("*")) if folder.exists() else set()
    h = f.token(client, market.loser)
    url = f"/api/v1/requests/{market.req.id}/objections"
    four = [(f"证据{i}.pdf", f.PDF) for i in range(4)]
    bad = [("评分表.pdf", f.PDF), ("伪装.pdf", b"MZ\x90\x00 not a pdf at all")]
    for files in (four, bad):
        r = client.post(url, data=_multipart(files=files), headers=h, content_type="multipart/form-data")
        assert r.status_code == 422 and "evidence" in r.get_json()["errors"], r.get_json()
    assert _count(market.req.id) == 0
    assert (set(folder.glob("*")) if folder.exists() else set()) == before


def test_multipart_with_evidence_only_the_objector_and_administrators_may_download(client, market):
    h = f.token(client, market.loser)
    r = client.post(
        f"/api/v1/requests/{market.req.id}/objections",
        data=_multipart(files=[("评分计算表.pdf", f.PDF), ("现场照片.png", f.PNG)]),
        headers=h,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["ground"] == "calculation" and body["facts"] == FACTS
    assert [e["name"] for e in body["evidence"]] == ["评分计算表.pdf", "现场照片.png"]
    url = body["evidence"][0]["url"]
    for who in (market.loser, market.admin):
        got = client.get(url, headers=f.token(client, who))
        assert got.status_code == 200 and got.data == f.PDF
    for who in (market.third, market.winner, market.enterprise, market.stranger):
        assert client.get(url, headers=f.token(client, who)).status_code == 404
    assert client.get(url).status_code == 404
    # The same on the pages: the objector's browser session may download it, others may not.
    page_url = url.replace("/api/v1/requests/", "/requests/")
    f.login(client, market.loser)
    assert client.get(page_url).data == f.PDF
    client.post("/auth/logout")
    f.login(client, market.third)
    assert client.get(page_url).status_code == 404


# --- who sees what ----------------------------------------------------------------------------------------------


def test_the_public_sees_that_objections_exist_and_their_outcome_but_not_who_or_why(client, market):
    h = f.token(client, market.loser)
    objection_id = _lodge(client, market.req.id, h).get_json()["id"]
    objections.resolve_objection(market.admin, objection_id, False, "经核查，业绩材料真实，异议不成立。")
    url = f"/api/v1/requests/{market.req.id}/objections"
    viewers = {
        "anonymous": {},
        **{k: f.token(client, getattr(market, k)) for k in ("enterprise", "winner", "third", "stranger")},
    }
    for who, headers in viewers.items():
        (row,) = client.get(url, headers=headers).get_json()
        assert set(row) == PUBLIC_FIELDS, who
        assert row["status"] == "dismissed" and row["outcome"] == "经核查，业绩材料真实，异议不成立。"
        text = client.get(url, headers=headers).get_data(as_text=True)
        assert FACTS not in text and market.loser.agency.name not in text, who
    for who in (market.loser, market.admin):
        (row,) = client.get(url, headers=f.token(client, who)).get_json()
        assert row["facts"] == FACTS and row["agency_name"] == market.loser.agency.name
        assert row["ground"] == "qualification"


def test_the_page_offers_the_form_only_to_parties_and_says_who_may_object(client, market):
    page = f"/requests/{market.req.id}"
    for who in ("stranger", "enterprise", "withdrawn", "admin"):
        f.login(client, getattr(market, who))
        html = client.get(page).get_data(as_text=True)
        assert 'data-form="objection"' not in html, who
        assert "只有参与本轮报价的机构（利害关系人）可以提出异议" in html, who
        client.post("/auth/logout")
    html = client.get(page).get_data(as_text=True)
    assert 'data-form="objection"' not in html and "利害关系人" in html
    f.login(client, market.invalidated)
    html = client.get(page).get_data(as_text=True)
    assert 'data-form="objection"' in html and 'enctype="multipart/form-data"' in html
    assert "中选机构资格条件不符" in html  # the grounds to choose from


def test_the_html_form_lodges_with_evidence_and_refuses_strangers(client, market):
    page = f"/requests/{market.req.id}"
    f.login(client, market.stranger)
    r = client.post(f"{page}/objections", data=_multipart(), content_type="multipart/form-data")
    assert r.status_code == 403
    assert "只有参与本轮报价的机构" in r.get_data(as_text=True)
    client.post("/auth/logout")
    assert _count(market.req.id) == 0

    f.login(client, market.loser)
    r = client.post(f"{page}/objections", data=_multipart(facts="太短了"), content_type="multipart/form-data")
    assert r.status_code == 422 and "请用 20 至 2000 个字符陈述事实" in r.get_data(as_text=True)
    r = client.post(
        f"{page}/objections",
        data=_multipart(files=[("评分计算表.pdf", f.PDF)]),
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    objection = db.session.scalar(select(Objection).where(Objection.request_id == market.req.id))
    assert objection.agency_id == market.loser.agency.id and objection.evidence[0]["name"] == "评分计算表.pdf"
    html = client.get(page).get_data(as_text=True)
    assert FACTS in html and "评分计算表.pdf" in html  # the objector sees its statement and files
    assert 'data-form="objection"' not in html and "本机构已在本轮提出异议" in html
    assert "处理时限" in html
    client.post("/auth/logout")
    f.login(client, market.enterprise)  # the request's owner sees that it exists, not what it says
    html = client.get(page).get_data(as_text=True)
    assert 'data-objection="open"' in html and FACTS not in html and "评分计算表.pdf" not in html


# --- the decision's time limit ----------------------------------------------------------------------------------


def test_decide_by_follows_the_setting(client, app, market):
    old = app.config["MARKET_OBJECTION_DECISION_SECONDS"]
    assert old == 3 * 24 * 3600
    r = _lodge(client, market.req.id, f.token(client, market.loser))
    row = db.session.get(Objection, r.get_json()["id"])
    assert abs((row.decide_by - row.created_at) - timedelta(days=3)) < timedelta(seconds=5)
    app.config["MARKET_OBJECTION_DECISION_SECONDS"] = 3600
    try:
        row = objections.lodge_objection(market.third, market.req.id, "other", FACTS)
    finally:
        app.config["MARKET_OBJECTION_DECISION_SECONDS"] = old
    assert abs((row.decide_by - row.created_at) - timedelta(hours=1)) < timedelta(seconds=5)


def test_an_undecided_objection_past_its_time_is_overdue_everywhere_without_a_write(client, market):
    late = objections.lodge_objection(market.loser, market.req.id, "calculation", FACTS)
    fresh = objections.lodge_objection(market.third, market.req.id, "procedure", FACTS + "另有程序问题。")
    decided = objections.lodge_objection(market.invalidated, market.req.id, "other", FACTS + "其他问题。")
    objections.resolve_objection(market.admin, decided.id, False, "经核查，异议不成立。")
    ids = (late.id, fresh.id, decided.id)
    db.session.execute(  # their decide-by time passed a day ago
        update(Objection)
        .where(Objection.id.in_([late.id, decided.id]))
        .values(decide_by=now() - timedelta(days=1))
    )
    db.session.commit()
    before = {o.id: (o.status, o.updated_at) for o in db.session.scalars(select(Objection))}
    audit = db.session.scalar(select(func.count()).select_from(AuditEntry))
    admin = f.token(client, market.admin)

    rows = client.get("/api/v1/admin/objections", headers=admin).get_json()
    assert [r["id"] for r in rows] == [late.id, fresh.id]  # the overdue one first; decided ones are gone
    assert [r["overdue"] for r in rows] == [True, False]
    public = client.get(f"/api/v1/requests/{market.req.id}/objections").get_json()
    assert {r["id"]: r["overdue"] for r in public} == {late.id: True, fresh.id: False, decided.id: False}

    board = client.get("/api/v1/admin/deadlines", query_string={"section": "objections"}, headers=admin)
    assert board.status_code == 200
    (row,) = board.get_json()
    assert row["objection"]["id"] == late.id and row["deadline_status"] == "red"
    assert -1.1 < row["days_left"] < -0.9
    assert isinstance(
        client.get("/api/v1/admin/deadlines", headers=admin).get_json(), list
    )  # orders as before
    bad = client.get("/api/v1/admin/deadlines", query_string={"section": "x"}, headers=admin)
    assert bad.status_code == 422
    assert (
        client.get(
            "/api/v1/admin/deadlines",
            query_string={"section": "objections"},
            headers=f.token(client, market.loser),
        ).status_code
        == 403
    )

    f.login(client, market.admin)
    html = client.get("/admin/objections").get_data(as_text=True)
    assert html.index(f'data-objection-id="{late.id}"') < html.index(f'data-objection-id="{fresh.id}"')
    assert f'id="objection-{late.id}" data-objection-id="{late.id}" data-overdue="yes"' in html
    assert f'data-objection-id="{fresh.id}" data-overdue="no"' in html
    assert "逾期未处理" in html
    html = client.get("/admin/deadlines").get_data(as_text=True)
    section = html[html.index('data-section="overdue-objections"') :]
    section = section[: section.index("</section>")]
    assert "逾期未处理的异议" in section
    assert f'data-objection-id="{late.id}"' in section and f'data-objection-id="{fresh.id}"' not in section
    html = client.get(f"/requests/{market.req.id}").get_data(as_text=True)
    assert html.count("data-overdue") == 1 and "逾期未处理" in html

    # Reading all of that changed nothing: overdue is computed from the clock.
    db.session.expire_all()
    after = {o.id: (o.status, o.updated_at) for o in db.session.scalars(select(Objection))}
    assert after == before and set(ids) <= set(after)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit


def test_the_objection_form_is_protected_by_csrf(app, client, market):
    f.login(client, market.loser)
    page = f"/requests/{market.req.id}"
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = client.post(f"{page}/objections", data=_multipart(), content_type="multipart/form-data")
        assert r.status_code == 400 and _count(market.req.id) == 0
        html = client.get(page).get_data(as_text=True)
        form = html[html.index('data-form="objection"') :]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        data = _multipart(files=[("评分计算表.pdf", f.PDF)]) | {"csrf_token": token}
        r = client.post(f"{page}/objections", data=data, content_type="multipart/form-data")
        assert r.status_code == 302 and _count(market.req.id) == 1
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
