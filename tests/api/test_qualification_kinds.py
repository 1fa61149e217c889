"""Qualifications match items, not just categories (issue 13 §3): the register of kinds, what items require,
and the one eligibility rule as bidding, the re-checks, the comparison, the stores and the API apply it."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import func, select

from marketplace.agencies import membership
from marketplace.agencies.models import Qualification
from marketplace.catalogue.models import ItemRequirement, QualificationKind, ServiceItem
from marketplace.common.messages import said
from marketplace.extensions import db
from marketplace.requests.bids import Bid, BidStatus
from marketplace.requests.models import RequestStatus, ServiceRequest
from tests import factories as f
from tests import timetravel
from tests.html import parse

PLAN = "组建项目组，现场踏勘后编制报告书。"


def item(code: str) -> ServiceItem:
    return db.session.scalar(select(ServiceItem).where(ServiceItem.code == code))


def licence(kind_code: str | None, level: str = "不分级", name: str | None = None, **over) -> dict:
    data = {
        "kind_code": kind_code,
        "name": name,
        "level": level,
        "number": f"{kind_code or 'YYZZ'}-0001",
        "issuer": "江苏省主管部门",
        "valid_until": (date.today() + timedelta(days=400)).isoformat(),
    }
    data.update(over)
    return data


def member(category_code: str, *licences: dict, admin=None):
    """An active member of one category holding exactly these licences (each with its scan)."""
    u = f.user("agency")
    cat = f.category(category_code)
    profile = {k: v for k, v in f.application([cat.id]).items() if k != "qualifications"}
    membership.update_profile(u, profile)
    for data in licences:
        membership.add_qualification(u, data, io.BytesIO(f.PDF), "证书.pdf")
    f.evidence(u)  # pledge, authorised person, a practitioner
    membership.submit_application(u)
    membership.decide(admin or f.admin(), u.agency.id, "approve")
    db.session.commit()
    return u


def cleaner_production_member(admin=None):
    """The issue's agency: only a 清洁生产审核 filing (and a business licence), a member of 环境评价类."""
    return member("C03", licence("QJSC"), licence(None, name="营业执照", category_id=None), admin=admin)


def bid_json(client, agency_user, req, price_fen=10_000_000):
    return client.post(
        f"/api/v1/requests/{req.id}/bids",
        json={"price_fen": price_fen, "promised_days": 20, "plan": PLAN},
        headers=f.token(client, agency_user),
    )


# --- the scenario -----------------------------------------------------------------------------------


def test_a_cleaner_production_filing_does_not_let_an_agency_bid_on_eia(client):
    eia = item("C03-01")  # 环境影响评价（报告书）: the 环评 credit-platform registration is required
    assert [r.kind.code for r in eia.requirements] == ["HPXY"]
    agency = cleaner_production_member()
    req = f.published_request(item=eia)

    r = bid_json(client, agency, req)
    assert r.status_code == 422
    body = r.get_json()
    assert "环境影响评价编制单位信用平台登记" in body["message"]
    assert body["errors"]["agency"] == [body["message"]]
    assert db.session.scalar(select(func.count()).select_from(Bid).where(Bid.request_id == req.id)) == 0

    # The same agency may take 清洁生产审核, whose rules require no licence: the category is enough.
    audit = item("C03-06")
    assert audit.requires_no_qualification and not audit.requirements
    r = bid_json(client, agency, f.published_request(item=audit))
    assert r.status_code == 201, r.get_json()


def test_the_comparison_never_shows_a_wrong_kind_as_valid(client):
    """A bid placed before the rule (here: written straight into the table) is shown as failing the check,
    naming the missing kind, is not selectable, and the selection passes over it."""
    admin, enterprise = f.admin(), f.user("enterprise")
    eia = item("C03-01")
    req = f.published_request(enterprise, item=eia, selection_method="direct")
    good = f.active_agency("C03", reviewer=admin)
    good_bid = f.bid(good, req, price_fen=12_000_000)
    wrong = cleaner_production_member(admin)
    legacy = Bid(
        request_id=req.id, agency_id=wrong.agency.id, price_fen=9_000_000, promised_days=20, plan=PLAN
    )
    db.session.add(legacy)
    db.session.commit()
    timetravel.past_deadline(req, clock=False)  # opened, not yet closed by the clock

    rows = client.get(f"/api/v1/requests/{req.id}/bids", headers=f.token(client, enterprise)).get_json()
    by_id = {row["bid"]["id"]: row for row in rows}
    check = by_id[legacy.id]["qualification_check"]
    assert check["ok"] is False
    assert [m["kind_code"] for m in check["missing"]] == ["HPXY"]
    assert by_id[good_bid.id]["qualification_check"]["ok"] is True
    assert (
        by_id[good_bid.id]["qualification_check"]["held"][0]["kind_name"]
        == "环境影响评价编制单位信用平台登记"
    )

    f.login(client, enterprise)
    page = parse(client.get(f"/requests/{req.id}/compare").get_data(as_text=True))
    # One column per bid: its cells carry the bid's id.
    column = [e for e in page.find_all("td") if e.attrs.get("data-bid-id") == str(legacy.id)]
    status = next(e for cell in column for e in cell.iter() if "data-bid-status" in e.attrs)
    assert status.attrs["data-bid-status"] == "unqualified"
    assert "有效" not in status.text()
    assert "环境影响评价编制单位信用平台登记" in " ".join(cell.text() for cell in column)
    good_column = [e for e in page.find_all("td") if e.attrs.get("data-bid-id") == str(good_bid.id)]
    assert "✓" in " ".join(cell.text() for cell in good_column)
    # Only the qualified bid may be picked.
    picks = [e.attrs.get("value") for e in page.find_all("input") if e.attrs.get("name") == "bid_id"]
    assert picks == [str(good_bid.id)]

    # It cannot be picked; the selection (closing the bidding first) records it as invalid, with the reason.
    h = f.token(client, enterprise)
    r = client.post(
        f"/api/v1/requests/{req.id}/selection",
        json={"bid_id": legacy.id, "reason": "报价最低，经验丰富"},
        headers=h,
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/requests/{req.id}/selection",
        json={"bid_id": good_bid.id, "reason": "资质齐全，方案完整"},
        headers=h,
    )
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    out = db.session.get(Bid, legacy.id)
    assert out.status == BidStatus.INVALID and "环境影响评价编制单位信用平台登记" in said(out.invalid_reason)


def test_the_selection_rechecks_bids_left_from_before_the_rule(client):
    """A request already being evaluated when the register came (its bids opened under the category rule): the
    selection takes only bids that meet the item's rule on the closing day."""
    admin, enterprise = f.admin(), f.user("enterprise")
    req = f.published_request(
        enterprise, item=item("C03-01"), selection_method="lowest_price", funding="social"
    )
    good = f.bid(f.active_agency("C03", reviewer=admin), req, price_fen=12_000_000)
    timetravel.past_deadline(req)
    assert db.session.get(ServiceRequest, req.id).status == RequestStatus.EVALUATING
    wrong = cleaner_production_member(admin)
    legacy = Bid(
        request_id=req.id, agency_id=wrong.agency.id, price_fen=9_000_000, promised_days=20, plan=PLAN
    )
    db.session.add(legacy)
    db.session.commit()

    r = client.post(f"/api/v1/requests/{req.id}/selection", json={}, headers=f.token(client, enterprise))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["winner_bid_id"] == good.id  # the cheaper bid of the wrong kind is out
    db.session.expire_all()
    assert db.session.get(Bid, legacy.id).status == BidStatus.INVALID
    assert legacy.id not in db.session.get(ServiceRequest, req.id).ranking


def test_closing_the_bidding_invalidates_a_wrong_kind(client):
    admin, enterprise = f.admin(), f.user("enterprise")
    req = f.published_request(enterprise, item=item("C03-01"), selection_method="direct")
    f.bid(f.active_agency("C03", reviewer=admin), req)
    wrong = cleaner_production_member(admin)
    legacy = Bid(
        request_id=req.id, agency_id=wrong.agency.id, price_fen=9_000_000, promised_days=20, plan=PLAN
    )
    db.session.add(legacy)
    db.session.commit()
    timetravel.past_deadline(req)  # the clock closes the bidding
    db.session.expire_all()
    closed = db.session.get(Bid, legacy.id)
    assert closed.status == BidStatus.INVALID
    assert db.session.get(ServiceRequest, req.id).status == RequestStatus.EVALUATING


# --- grades and validity ----------------------------------------------------------------------------------------


def test_a_grade_below_the_items_minimum_is_refused(client):
    boiler = item("C15-03")  # 锅炉压力容器监督检验: 特种设备检验检测机构核准, 乙级 or higher
    assert [(r.kind.code, r.min_level.value) for r in boiler.requirements] == [("TZSB", "乙级")]
    low = member("C15", licence("TZSB", "丙级"))
    high = member("C15", licence("TZSB", "甲级"))
    req = f.published_request(item=boiler)
    r = bid_json(client, low, req)
    assert r.status_code == 422
    assert "乙级" in r.get_json()["message"] and "丙级" in r.get_json()["message"]
    assert bid_json(client, high, req).status_code == 201
    # An item with a lower minimum takes the same 丙级 licence.
    assert bid_json(client, low, f.published_request(item=item("C15-01"))).status_code == 201


def test_the_requests_grade_raises_the_items_minimum_for_graded_kinds(client):
    survey = item("C08-01")  # 地形测绘: 测绘资质（工程测量）乙级
    b_grade = member("C08", licence("CHGC", "乙级"))
    assert bid_json(client, b_grade, f.published_request(item=survey)).status_code == 201
    r = bid_json(client, b_grade, f.published_request(item=survey, required_level="甲级"))
    assert r.status_code == 422 and "甲级" in r.get_json()["message"]
    # The wrong specialty of the same licence family does not count.
    property_survey = member("C08", licence("CHBDC", "甲级"))
    r = bid_json(client, property_survey, f.published_request(item=survey))
    assert r.status_code == 422 and "测绘资质（工程测量）" in r.get_json()["message"]


def test_an_expired_qualification_of_the_right_kind_is_refused(client):
    agency = member("C03", licence("HPXY"))
    req = f.published_request(item=item("C03-01"))
    timetravel.qualification_expired(agency.agency.qualifications[0])
    r = bid_json(client, agency, req)
    assert r.status_code == 422
    assert "环境影响评价编制单位信用平台登记" in r.get_json()["message"]


def test_no_qualification_items_are_open_to_the_category_only(client):
    agency = member("C06", licence(None, name="营业执照"))  # no licence of the register at all
    water = item("C06-02")  # 水土保持方案编制: the licence was abolished in 2017
    assert water.requires_no_qualification
    assert bid_json(client, agency, f.published_request(item=water)).status_code == 201
    # Outside its categories the agency still may not bid.
    r = bid_json(client, agency, f.published_request(item=item("C02-01")))
    assert r.status_code == 422


# --- the catalogue and the register in the API ---------------------------------------------------------------


def test_items_carry_their_requirements_and_the_register_is_listed(client):
    monitoring = item("C03-03")
    r = client.get(f"/api/v1/service-items/{monitoring.id}")
    body = r.get_json()
    assert body["required_qualifications"] == [
        {"kind_code": "CMA", "kind_name": "检验检测机构资质认定（CMA）", "min_level": "不分级"}
    ]
    assert body["requires_no_qualification"] is False
    energy = next(i for i in client.get("/api/v1/service-items").get_json() if i["code"] == "C02-01")
    assert energy["required_qualifications"] == [] and energy["requires_no_qualification"] is True
    cats = client.get("/api/v1/categories").get_json()
    surveying = next(i for c in cats for i in c["items"] if i["code"] == "C08-02")
    assert surveying["required_qualifications"][0]["kind_code"] == "CHBDC"

    kinds = client.get("/api/v1/catalogue/qualification-kinds").get_json()
    by_code = {k["code"]: k for k in kinds}
    assert by_code["HPXY"]["levels"] == ["不分级"] and by_code["HPXY"]["category_name"] == "环境评价类"
    assert by_code["CHGC"]["levels"] == ["甲级", "乙级"]
    assert by_code["CMA"]["category_id"] is None
    assert all(k["legal_basis"] for k in kinds)


def test_every_seeded_item_is_classified_once():
    items = db.session.scalars(select(ServiceItem)).all()
    for it in items:
        assert bool(it.requirements) != bool(it.requires_no_qualification), it.code
        for r in it.requirements:
            assert r.min_level.value in r.kind.levels, it.code
    assert db.session.scalar(select(func.count()).select_from(ItemRequirement)) >= 50
    assert db.session.scalar(select(func.count()).select_from(QualificationKind)) >= 25


# --- naming a kind: validation in the API and the form ------------------------------------------------------------


def test_the_api_checks_the_kind_and_its_grades(client):
    agency = f.user("agency")  # an applicant: a member's new licence would be a change under review
    h = f.token(client, agency)
    before = db.session.scalar(select(func.count()).select_from(Qualification))
    r = client.post("/api/v1/agencies/me/qualifications", json=licence("CHGC", "丙级"), headers=h)
    assert r.status_code == 422
    assert "甲级、乙级" in r.get_json()["errors"]["level"][0]
    r = client.post("/api/v1/agencies/me/qualifications", json=licence("NOPE"), headers=h)
    assert r.status_code == 422 and "kind_id" in r.get_json()["errors"]
    r = client.post("/api/v1/agencies/me/qualifications", json=licence(None, kind_id=999999), headers=h)
    assert r.status_code == 422 and "kind_id" in r.get_json()["errors"]
    assert db.session.scalar(select(func.count()).select_from(Qualification)) == before

    r = client.post("/api/v1/agencies/me/qualifications", json=licence("CHBDC", "乙级"), headers=h)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["kind_code"], body["name"], body["level"]) == (
        "CHBDC",
        "测绘资质（界线与不动产测绘）",
        "乙级",
    )

    # The one-call application checks the grades of every qualification too.
    applicant = f.user("agency")
    data = f.application([f.category("C08").id], qualifications=[licence("CHGC", "丙级")])
    r = client.post("/api/v1/agencies/me/application", json=data, headers=f.token(client, applicant))
    assert r.status_code == 422 and "qualifications.0.level" in r.get_json()["errors"]


def test_the_form_offers_the_register_and_refuses_a_grade_the_kind_lacks(client):
    agency = f.active_agency("C08")
    f.login(client, agency)
    page = client.get("/agency/qualifications").get_data(as_text=True)
    assert "测绘资质（工程测量）（甲级/乙级）" in page and "<optgroup" in page
    kind = db.session.scalar(select(QualificationKind).where(QualificationKind.code == "CHGC"))
    form = {
        "kind_id": str(kind.id),
        "name": "",
        "level": "丙级",
        "number": "乙测资字3201234",
        "issuer": "江苏省自然资源厅",
        "valid_until": (date.today() + timedelta(days=300)).isoformat(),
        "category_id": "0",
        "file": (io.BytesIO(f.PDF), "证书.pdf"),
    }
    count = len(agency.agency.qualifications)
    r = client.post("/agency/qualifications", data=form, content_type="multipart/form-data")
    assert r.status_code == 200
    assert "甲级、乙级" in r.get_data(as_text=True)
    db.session.expire_all()
    assert len(agency.agency.qualifications) == count

    form |= {"level": "乙级", "file": (io.BytesIO(f.PDF), "证书.pdf")}
    r = client.post("/agency/qualifications", data=form, content_type="multipart/form-data")
    assert r.status_code == 302
    db.session.expire_all()
    added = agency.agency.qualifications[-1]
    assert (added.kind_id, added.name, added.category_id) == (kind.id, kind.name, kind.category_id)


# --- pages -----------------------------------------------------------------------------------------------------


def test_item_and_store_pages_say_what_is_required_and_who_meets_it(client):
    eia = item("C03-01")
    page = client.get(f"/catalogue/items/{eia.id}").get_data(as_text=True)
    assert '<span class="block" data-kind="HPXY">环境影响评价编制单位信用平台登记</span>' in page
    energy = item("C02-01")
    assert "无资质要求" in client.get(f"/catalogue/items/{energy.id}").get_data(as_text=True)
    surveying = item("C08-01")
    assert "测绘资质（工程测量） 乙级及以上" in client.get(f"/catalogue/items/{surveying.id}").get_data(
        as_text=True
    )

    wrong = cleaner_production_member()
    f.offer(wrong, eia, price_fen=3_000_000)
    store = client.get(f"/agencies/{wrong.agency.id}").get_data(as_text=True)
    assert 'data-qual-check="fail"' in store and "环境影响评价编制单位信用平台登记" in store
    item_page = client.get(f"/catalogue/items/{eia.id}").get_data(as_text=True)
    assert 'data-qual-check="fail"' in item_page


def test_a_department_edit_replaces_an_items_requirements_against_the_register():
    from marketplace.catalogue import services as catalogue
    from marketplace.common.errors import Invalid

    monitoring = item("C03-04")  # 环境监测: CMA
    catalogue.replace_requirements(monitoring, [("CMA", "不分级"), ("HPXY", "不分级")])
    db.session.flush()
    db.session.expire_all()
    assert sorted(r.kind.code for r in item("C03-04").requirements) == ["CMA", "HPXY"]
    catalogue.replace_requirements(item("C03-04"), [], none_required=True)
    db.session.expire_all()
    assert item("C03-04").requirements == [] and item("C03-04").requires_no_qualification

    for needs, none, field in (
        ([("CHGC", "丙级")], False, "requirements.0.min_level"),
        ([("NOPE", "不分级")], False, "requirements.0.kind_code"),
        ([("CMA", "不分级")], True, "requirements"),
    ):
        try:
            catalogue.replace_requirements(item("C03-04"), needs, none_required=none)
        except Invalid as exc:
            assert field in exc.errors
        else:
            raise AssertionError(needs)


def test_the_list_for_one_item_shows_who_may_take_it(client):
    eia = item("C03-01")
    right, wrong = f.active_agency("C03"), cleaner_production_member()
    f.offer(right, eia, price_fen=3_000_000)
    f.offer(wrong, eia, price_fen=2_000_000)
    page = parse(client.get(f"/agencies/?service_item={eia.id}").get_data(as_text=True))
    cards = {c.find_all("h3")[0].text(): c for c in page.find_all("article", cls="agency-card")}
    assert "pass" in {e.attrs.get("data-qual-check") for e in cards[right.agency.name].iter()}
    assert "fail" in {e.attrs.get("data-qual-check") for e in cards[wrong.agency.name].iter()}
    assert client.get("/").status_code == 200  # the front page's cards have no item to check
