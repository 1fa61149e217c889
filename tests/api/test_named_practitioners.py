"""Service items that require named practitioners (安全评价: two 注册安全工程师): the bid names them from the
agency's approved practitioners — pending ones (a change under review), foreign ones and too few are refused —
sealed with the bid until the deadline, then shown on the comparison with their IDs masked."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from marketplace.agencies.roster import Practitioner, PractitionerStatus
from marketplace.catalogue.models import ServiceItem
from marketplace.extensions import db
from marketplace.requests.bids import Bid
from tests import factories as f
from tests import timetravel

SAFETY = "注册安全工程师"
PLAN = "组建安全评价项目组，现场勘查后编制安全预评价报告。"


@pytest.fixture
def safety():
    admin = f.admin()
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "C04-01"))
    assert item.required_practitioners == 2 and item.practitioner_registration == SAFETY  # seeded by 0017
    bidder = f.active_agency(
        "C04", reviewer=admin, org_name="安评甲技术有限公司", practitioners=2, registration=SAFETY
    )
    rival = f.active_agency(
        "C04", reviewer=admin, org_name="安评乙技术有限公司", practitioners=2, registration=SAFETY
    )
    enterprise = f.user("enterprise")
    req = f.published_request(
        enterprise, item=item, required_level=None, title="灌南化工园区仓储项目安全预评价"
    )
    return {
        "admin": admin,
        "bidder": bidder,
        "rival": rival,
        "enterprise": enterprise,
        "req": req,
        "item": item,
    }


def _ids(user) -> list[int]:
    stmt = select(Practitioner.id).where(Practitioner.agency_id == user.agency.id).order_by(Practitioner.id)
    return list(db.session.scalars(stmt))


def _bid(client, req, h, ids):
    body = {"price_fen": 10_000_000, "promised_days": 20, "plan": PLAN}
    if ids is not None:
        body["practitioner_ids"] = ids
    return client.post(f"/api/v1/requests/{req.id}/bids", json=body, headers=h)


def test_bids_must_name_enough_approved_own_practitioners(client, safety):
    req, bidder, rival = safety["req"], safety["bidder"], safety["rival"]
    h = f.token(client, bidder)
    mine, theirs = _ids(bidder), _ids(rival)
    r = client.post(
        "/api/v1/agencies/me/practitioners", json=f.practitioner_data(registration=SAFETY), headers=h
    )
    pending = r.get_json()["id"]  # a change under review
    r = _bid(client, req, h, [mine[0], pending])
    assert r.status_code == 422 and "尚未通过审核" in r.get_json()["errors"]["practitioner_ids"][0]
    for ids in (None, [], mine[:1], [mine[0], theirs[0]], [mine[0], 99999], ["x"]):
        r = _bid(client, req, h, ids)
        assert r.status_code == 422, (ids, r.get_json())
        assert any(k.startswith("practitioner_ids") for k in r.get_json()["errors"])
    assert db.session.scalars(select(Bid).where(Bid.request_id == req.id)).all() == []
    r = _bid(client, req, h, mine)
    assert r.status_code == 201
    assert [p["id"] for p in r.get_json()["practitioners"]] == mine
    # a revision keeps them unless it names others; it may not drop below the requirement
    bid_id = r.get_json()["id"]
    assert client.patch(f"/api/v1/bids/{bid_id}", json={"price_fen": 9_000_000}, headers=h).status_code == 200
    assert len(db.session.get(Bid, bid_id).practitioners) == 2
    r = client.patch(f"/api/v1/bids/{bid_id}", json={"practitioner_ids": mine[:1]}, headers=h)
    assert r.status_code == 422


def test_practitioners_of_the_wrong_registration_do_not_count(client, safety):
    other = f.active_agency("C04", practitioners=2)  # 环境影响评价工程师, not 注册安全工程师
    h = f.token(client, other)
    r = _bid(client, safety["req"], h, _ids(other))
    assert r.status_code == 422
    f.login(client, other)
    page = client.get(f"/requests/{safety['req'].id}").get_data(as_text=True)
    assert "注册安全工程师" in page and "执业人员" in page  # the eligibility problem says why


def test_a_pending_practitioner_does_not_count_until_its_change_is_approved(client, safety):
    one = f.active_agency("C04", practitioners=1, registration=SAFETY)
    h = f.token(client, one)
    r = client.post(
        "/api/v1/agencies/me/practitioners", json=f.practitioner_data(registration=SAFETY), headers=h
    )
    assert r.status_code == 201 and r.get_json()["status"] == "pending"
    pending_id, change_id = r.get_json()["id"], r.get_json()["change_id"]
    r = _bid(client, safety["req"], h, _ids(one))
    assert r.status_code == 422 and "2 名已审核通过的执业人员" in r.get_json()["message"]
    client.post(
        f"/api/v1/agencies/me/changes/{change_id}/file",
        data={"file": (io.BytesIO(f.PDF), "c.pdf")},
        headers=h,
        content_type="multipart/form-data",
    )
    assert (
        client.post(
            f"/api/v1/admin/changes/{change_id}/approve", headers=f.token(client, safety["admin"])
        ).status_code
        == 200
    )
    assert db.session.get(Practitioner, pending_id).status == PractitionerStatus.APPROVED
    assert _bid(client, safety["req"], h, _ids(one)).status_code == 201


def test_named_practitioners_are_sealed_until_the_deadline_then_compared_with_masked_ids(client, safety):
    req, bidder = safety["req"], safety["bidder"]
    people = db.session.scalars(
        select(Practitioner).where(Practitioner.agency_id == bidder.agency.id).order_by(Practitioner.id)
    ).all()  # in the order the bid shows them
    assert _bid(client, req, f.token(client, bidder), [p.id for p in people]).status_code == 201
    names = [p.name for p in people] + [p.certificate_no for p in people]
    h_ent = f.token(client, safety["enterprise"])
    for who, h in (("anonymous", {}), ("enterprise", h_ent), ("rival", f.token(client, safety["rival"]))):
        for path in (f"/api/v1/requests/{req.id}", f"/api/v1/requests/{req.id}/bids"):
            text = client.get(path, headers=h).get_data(as_text=True)
            assert not any(n in text for n in people[0].certificate_no.split()), (who, path)
    f.login(client, safety["enterprise"])
    assert not any(n in client.get(f"/requests/{req.id}").get_data(as_text=True) for n in names[2:])
    assert client.get(f"/requests/{req.id}/compare").status_code in (302, 403, 409)

    timetravel.past_deadline(req)
    rows = client.get(f"/api/v1/requests/{req.id}/bids", headers=h_ent).get_json()
    named = rows[0]["bid"]["practitioners"]
    assert [(p["name"], p["certificate_no"]) for p in named] == [(p.name, p.certificate_no) for p in people]
    assert all(
        p["id_number"] == x.id_number[:4] + "*" * 10 + x.id_number[-4:]
        for p, x in zip(named, people, strict=True)
    )
    page = client.get(f"/requests/{req.id}/compare").get_data(as_text=True)
    for person in people:
        assert person.name in page and person.certificate_no in page
        assert person.id_number not in page and person.masked_id in page


def test_the_bid_form_lists_approved_practitioners_and_submits_them(client, safety):
    req, bidder = safety["req"], safety["bidder"]
    f.login(client, bidder)
    page = client.get(f"/requests/{req.id}").get_data(as_text=True)
    mine = _ids(bidder)
    assert all(f'value="{i}"' in page for i in mine) and "拟派执业人员" in page
    form = {"price": "100000", "promised_days": "20", "plan": PLAN, "practitioner_ids": [str(mine[0])]}
    r = client.post(f"/requests/{req.id}/bid", data=form)
    assert "至少 2 名" in r.get_data(as_text=True)
    assert db.session.scalar(select(Bid).where(Bid.request_id == req.id)) is None
    form["practitioner_ids"] = [str(i) for i in mine]
    assert client.post(f"/requests/{req.id}/bid", data=form).status_code == 302
    bid = db.session.scalar(select(Bid).where(Bid.request_id == req.id))
    assert [p.id for p in bid.practitioners] == mine


def test_a_bid_whose_named_practitioner_left_is_invalid_at_the_deadline(client, safety):
    req, bidder = safety["req"], safety["bidder"]
    h = f.token(client, bidder)
    mine = _ids(bidder)
    bid_id = _bid(client, req, h, mine).get_json()["id"]
    # the agency has a third 注册安全工程师 approved, then one of the named two leaves (approved removal)
    r = client.post(
        "/api/v1/agencies/me/practitioners", json=f.practitioner_data(registration=SAFETY), headers=h
    )
    change_id = r.get_json()["change_id"]
    client.post(
        f"/api/v1/agencies/me/changes/{change_id}/file",
        data={"file": (io.BytesIO(f.PDF), "c.pdf")},
        headers=h,
        content_type="multipart/form-data",
    )
    h_admin = f.token(client, safety["admin"])
    assert client.post(f"/api/v1/admin/changes/{change_id}/approve", headers=h_admin).status_code == 200
    r = client.post(
        "/api/v1/agencies/me/changes",
        json={"kind": "practitioner", "action": "remove", "practitioner_id": mine[0]},
        headers=h,
    )
    assert (
        client.post(f"/api/v1/admin/changes/{r.get_json()['id']}/approve", headers=h_admin).status_code == 200
    )
    timetravel.past_deadline(req)
    db.session.expire_all()
    bid = db.session.get(Bid, bid_id)
    assert bid.status.value == "invalid" and "no longer" in bid.invalid_reason
