"""Each staff role acts only inside its scope: the operator in its region (memberships, objections, comments),
the department in its region and trade (the department rating, its service items), the supervisor in its
region (fee audit, deadline board) and read-only elsewhere; enterprises and agencies reach no staff endpoint;
the administrator does everything. Service items are versioned and requests keep the version they used."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.catalogue.models import ServiceItem, ServiceItemVersion
from marketplace.extensions import db
from marketplace.fees.models import FeeFlag
from marketplace.ratings.models import DepartmentRating, Rating
from marketplace.requests import objections
from marketplace.requests import services as requests
from tests import factories as f
from tests import timetravel

ENV = "市生态环境局"  # the trade of C03 (environmental impact items)
LAND = "市自然资源和规划局"  # the trade of C07/C08/C09 items


CITY_CODES = {"苏州市": "320500", "南京市": "320100", "无锡市": "320200", "连云港市": "320700"}


def _pending_in(city: str | None) -> Agency:
    agency = f.pending_agency().agency
    if city is None:
        agency.region_code = None  # an agency registered nowhere yet
    else:
        agency.region_code = CITY_CODES[city]
    db.session.commit()
    return agency


def _application_ids(client, headers) -> set[int]:
    r = client.get("/api/v1/admin/applications", headers=headers, query_string={"page_size": 100})
    assert r.status_code == 200, r.get_json()
    return {row["agency_id"] for row in r.get_json()}


def _item(code: str) -> ServiceItem:
    return db.session.scalar(select(ServiceItem).where(ServiceItem.code == code))


def _versions(item_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ServiceItemVersion)
        .where(ServiceItemVersion.service_item_id == item_id)
    )


# --- operator: membership review inside its region ------------------------------------------------------------


def test_operator_reviews_memberships_only_in_its_region(client):
    suzhou, nanjing, nowhere = _pending_in("苏州市"), _pending_in("南京市"), _pending_in(None)
    assert (suzhou.region_code, nanjing.region_code) == ("320500", "320100")
    operator = f.staff("operator", "320500")
    h = f.token(client, operator)

    listed = _application_ids(client, h)
    assert suzhou.id in listed and nanjing.id not in listed and nowhere.id not in listed

    r = client.post(f"/api/v1/admin/agencies/{nanjing.id}/approve", json={}, headers=h)
    assert r.status_code == 403
    r = client.post(f"/api/v1/admin/agencies/{nanjing.id}/reject", json={}, headers=h)
    assert r.status_code == 403  # refused for the scope before the missing reason is even looked at
    assert db.session.get(Agency, nanjing.id).status == AgencyStatus.PENDING

    r = client.post(f"/api/v1/admin/agencies/{suzhou.id}/approve", json={}, headers=h)
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    assert db.session.get(Agency, suzhou.id).status == AgencyStatus.ACTIVE

    # An operator over the whole market area sees the agency registered nowhere; the city's does not.
    whole = f.token(client, f.staff("operator"))
    assert {nanjing.id, nowhere.id} <= _application_ids(client, whole)
    assert client.post(f"/api/v1/admin/agencies/{nowhere.id}/approve", json={}, headers=h).status_code == 403


def test_operator_pages_show_only_its_region(client):
    suzhou, nanjing = _pending_in("苏州市"), _pending_in("南京市")
    f.login(client, f.staff("operator", "320500"))
    page = client.get("/admin/applications").get_data(as_text=True)
    assert suzhou.name in page and nanjing.name not in page
    assert client.get(f"/admin/agencies/{nanjing.id}").status_code == 403
    review = client.get(f"/admin/agencies/{suzhou.id}").get_data(as_text=True)
    assert "data-read-only" not in review and "/approve" in review


# --- supervisor: read-only on the membership desk, its own fee audit ------------------------------------------


def test_supervisor_reads_memberships_but_cannot_decide(client):
    suzhou = _pending_in("苏州市")
    supervisor = f.staff("supervisor", "320500")
    h = f.token(client, supervisor)
    assert suzhou.id in _application_ids(client, h)
    r = client.post(f"/api/v1/admin/agencies/{suzhou.id}/approve", json={}, headers=h)
    assert r.status_code == 403
    assert db.session.get(Agency, suzhou.id).status == AgencyStatus.PENDING

    f.login(client, supervisor)
    review = client.get(f"/admin/agencies/{suzhou.id}").get_data(as_text=True)
    assert "data-read-only" in review and "/approve" not in review  # every action button hidden


def _flagged_request():
    """A request in 连云港市 (320700) whose opened bids raise fee flags (identical and abnormally low prices)."""
    admin = f.admin()
    a, b, c = (f.active_agency("C03", reviewer=admin) for _ in range(3))
    enterprise = f.user("enterprise")
    req = f.published_request(enterprise, ceiling_fen=30_000_000)
    f.bid(a, req, price_fen=20_000_000)
    f.bid(b, req, price_fen=20_000_000)
    f.bid(c, req, price_fen=9_000_000)
    timetravel.past_deadline(req)
    requests.get_request(enterprise, req.id)  # reading it closes the bidding
    db.session.commit()
    return req


def test_supervisor_sees_and_reviews_fee_flags_in_its_region_only(client):
    req = _flagged_request()
    flag_ids = set(db.session.scalars(select(FeeFlag.id).where(FeeFlag.request_id == req.id)))
    assert flag_ids

    inside = f.token(client, f.staff("supervisor", "320700"))
    r = client.get("/api/v1/admin/fee-audit", headers=inside)
    assert r.status_code == 200 and flag_ids <= {x["id"] for x in r.get_json()}

    outside = f.token(client, f.staff("supervisor", "320100"))
    r = client.get("/api/v1/admin/fee-audit", headers=outside)
    assert r.status_code == 200 and not flag_ids & {x["id"] for x in r.get_json()}
    flag_id = min(flag_ids)
    assert client.get(f"/api/v1/admin/fee-audit/{flag_id}", headers=outside).status_code == 403
    body = {"action": "dismiss", "note": "价格经核实合理，属正常竞争。"}
    assert (
        client.post(f"/api/v1/admin/fee-audit/{flag_id}/review", json=body, headers=outside).status_code
        == 403
    )
    assert db.session.get(FeeFlag, flag_id).status == "open"

    r = client.post(f"/api/v1/admin/fee-audit/{flag_id}/review", json=body, headers=inside)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "dismissed"

    # The fee audit is not the operator's desk.
    operator = f.token(client, f.staff("operator", "320700"))
    assert client.get("/api/v1/admin/fee-audit", headers=operator).status_code == 403


def test_deadline_board_and_order_list_follow_the_region(client):
    _, _, order = f.accepted_order(accept=False)  # delivered: the order is still under way, in 连云港市
    inside = f.token(client, f.staff("supervisor", "320700"))
    outside = f.token(client, f.staff("supervisor", "320100"))

    def board(h):
        r = client.get("/api/v1/admin/deadlines", headers=h)
        assert r.status_code == 200, r.get_json()
        return {row["order"]["id"] for row in r.get_json()}

    assert order.id in board(inside) and order.id not in board(outside)

    def orders(h):
        r = client.get("/api/v1/orders", headers=h, query_string={"page_size": 100})
        assert r.status_code == 200, r.get_json()
        return {o["id"] for o in r.get_json()}

    assert order.id in orders(inside) and order.id not in orders(outside)
    assert client.get(f"/api/v1/orders/{order.id}", headers=inside).status_code == 200
    assert client.get(f"/api/v1/orders/{order.id}", headers=outside).status_code == 404
    # A department sees its own trade's orders only.
    assert order.id in orders(f.token(client, f.staff("department", None, ENV)))
    assert order.id not in orders(f.token(client, f.staff("department", None, LAND)))
    # The operator is not the deadline board's desk.
    assert (
        client.get("/api/v1/admin/deadlines", headers=f.token(client, f.staff("operator"))).status_code == 403
    )


# --- department: the department rating and its trade's items --------------------------------------------------


def test_department_rates_orders_of_its_trade_in_its_region(client):
    _, _, order = f.accepted_order()  # C03 (市生态环境局), in 连云港市
    body = {"quality": 4, "timeliness": 5, "comment": "报告质量良好，按期提交。"}
    url = f"/api/v1/orders/{order.id}/department-rating"
    for refused in (
        f.staff("department", None, LAND),  # another trade
        f.staff("department", "320100", ENV),  # its trade, another city
        f.staff("operator"),  # not a department
        f.staff("supervisor"),
    ):
        r = client.post(url, json=body, headers=f.token(client, refused))
        assert r.status_code == 403, refused.role
    assert db.session.scalar(select(func.count()).select_from(DepartmentRating)) == 0

    r = client.post(url, json=body, headers=f.token(client, f.staff("department", "320700", ENV)))
    assert r.status_code == 201, r.get_json()
    assert (
        db.session.scalar(select(DepartmentRating.quality).where(DepartmentRating.order_id == order.id)) == 4
    )


def test_department_rating_form_shows_only_to_that_department(client):
    _, _, order = f.accepted_order()
    f.login(client, f.staff("department", None, LAND))
    assert client.get(f"/orders/{order.id}").status_code == 404  # not its trade's order
    client.get("/auth/logout")
    f.login(client, f.staff("department", None, ENV))
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-form="department-rate"' in page


def test_operator_hides_comments_in_its_region_only(client):
    enterprise, _, order = f.accepted_order()
    r = client.post(
        f"/api/v1/orders/{order.id}/rating",
        json={
            "overall": 1,
            "quality": 1,
            "timeliness": 1,
            "attitude": 1,
            "fee": 1,
            "compliance": 1,
            "comment": "骗子公司",
        },
        headers=f.token(client, enterprise),
    )
    assert r.status_code == 201, r.get_json()
    rating_id = r.get_json()["id"]
    url = f"/api/v1/admin/ratings/{rating_id}/hide"
    body = {"reason": "含侮辱性言辞"}
    for refused in (
        f.staff("operator", "320100"),
        f.staff("supervisor", "320700"),
        f.staff("department", None, ENV),
    ):
        assert client.post(url, json=body, headers=f.token(client, refused)).status_code == 403
    assert db.session.get(Rating, rating_id).hidden_reason is None
    r = client.post(url, json=body, headers=f.token(client, f.staff("operator", "320700")))
    assert r.status_code == 200, r.get_json()


def test_department_edits_its_trades_items_only(client):
    env, land = _item("C03-01"), _item("C07-01")
    assert (env.department, land.department) == (ENV, LAND)
    h = f.token(client, f.staff("department", "320700", ENV))
    change = {"standard_days": 45, "note": "依据新版审批时限调整标准时限。"}

    r = client.patch(f"/api/v1/admin/catalogue/items/{land.id}", json=change, headers=h)
    assert r.status_code == 403
    assert _versions(land.id) == 1

    r = client.patch(f"/api/v1/admin/catalogue/items/{env.id}", json=change, headers=h)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["version"] == 2 and r.get_json()["standard_days"] == 45
    db.session.expire_all()
    assert db.session.get(ServiceItem, env.id).standard_days == 45

    for refused in (f.staff("supervisor"), f.staff("operator")):
        r = client.patch(
            f"/api/v1/admin/catalogue/items/{env.id}", json=change, headers=f.token(client, refused)
        )
        assert r.status_code == 403
    assert _versions(env.id) == 2

    f.login(client, f.staff("department", None, ENV))
    assert client.get(f"/admin/catalogue/{land.id}").status_code == 403
    desk = client.get("/admin/catalogue/").get_data(as_text=True)
    assert env.name in desk and land.name not in desk


@pytest.mark.parametrize(
    "change, field",
    [
        ({"fee_regime": "guided", "guide_min_fen": 500_000, "guide_max_fen": 100_000}, "guide_max_fen"),
        ({"fee_regime": "guided"}, "guide_min_fen"),
        ({"standard_days": 0}, "standard_days"),
        ({"standard_days": "三十"}, "standard_days"),
        ({"legal_basis": "  "}, "legal_basis"),
        ({"note": ""}, "note"),
        ({}, "note"),  # nothing changed
    ],
)
def test_item_edits_are_validated_and_a_refusal_changes_nothing(client, change, field):
    env = _item("C03-02")
    body = {"note": "调整。", **change}
    r = client.patch(
        f"/api/v1/admin/catalogue/items/{env.id}",
        json=body,
        headers=f.token(client, f.staff("department", None, ENV)),
    )
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"]
    assert _versions(env.id) == 1
    db.session.expire_all()
    assert db.session.get(ServiceItem, env.id).fee_regime == "market"


# --- enterprises and agencies: no staff endpoint; the administrator: every one -------------------------------


def test_enterprises_and_agencies_reach_no_staff_endpoint(client):
    _, agency, order = f.accepted_order()
    pending = _pending_in("苏州市")
    env = _item("C03-01")
    calls = [
        ("get", "/api/v1/admin/applications", None),
        ("post", f"/api/v1/admin/agencies/{pending.id}/approve", {}),
        ("get", "/api/v1/admin/objections", None),
        ("get", "/api/v1/admin/fee-audit", None),
        ("get", "/api/v1/admin/deadlines", None),
        ("patch", f"/api/v1/admin/catalogue/items/{env.id}", {"standard_days": 9, "note": "试图修改"}),
        ("post", f"/api/v1/orders/{order.id}/department-rating", {"quality": 5, "timeliness": 5}),
    ]
    for user in (f.user("enterprise"), agency):
        h = f.token(client, user)
        for method, url, body in calls:
            r = getattr(client, method)(url, json=body, headers=h)
            assert r.status_code == 403, (user.role, url, r.status_code)
        f.login(client, user)
        for page in ("/admin/", "/admin/applications", "/admin/catalogue/", "/admin/deadlines"):
            assert client.get(page).status_code == 403, page
        client.get("/auth/logout")
    assert db.session.get(Agency, pending.id).status == AgencyStatus.PENDING
    assert _versions(env.id) == 1


def test_the_administrator_does_everything(client):
    _, _, order = f.accepted_order()
    pending = _pending_in("苏州市")
    admin = f.admin()
    h = f.token(client, admin)
    assert pending.id in _application_ids(client, h)
    assert client.post(f"/api/v1/admin/agencies/{pending.id}/approve", json={}, headers=h).status_code == 200
    r = client.post(
        f"/api/v1/orders/{order.id}/department-rating", json={"quality": 5, "timeliness": 4}, headers=h
    )
    assert r.status_code == 201
    land = _item("C07-01")
    r = client.patch(
        f"/api/v1/admin/catalogue/items/{land.id}",
        json={"standard_days": 25, "note": "统一时限。"},
        headers=h,
    )
    assert r.status_code == 200 and r.get_json()["version"] == 2
    assert client.get("/api/v1/admin/fee-audit", headers=h).status_code == 200
    assert client.get("/api/v1/admin/deadlines", headers=h).status_code == 200


def test_objections_desk_follows_the_region(client):
    admin, enterprise = f.admin(), f.user("enterprise")
    req = f.published_request(enterprise)  # 连云港市
    winner, loser, third = (f.active_agency("C03", reviewer=admin) for _ in range(3))
    f.bid(winner, req, price_fen=10_000_000)
    f.bid(loser, req, price_fen=11_000_000)
    f.bid(third, req, price_fen=12_000_000)
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id)
    db.session.commit()
    objection = objections.lodge_objection(
        loser,
        req.id,
        "qualification",
        "中选机构提交的业绩证明中有两个项目的业主单位均否认曾委托该机构，请核查。",
        [],
    )
    db.session.commit()

    def listed(h):
        r = client.get("/api/v1/admin/objections", headers=h)
        assert r.status_code == 200, r.get_json()
        return {o["id"] for o in r.get_json()}

    outside = f.token(client, f.staff("operator", "320100"))
    inside = f.token(client, f.staff("operator", "320700"))
    supervisor = f.token(client, f.staff("supervisor", "320700"))
    assert objection.id not in listed(outside)
    assert objection.id in listed(inside) and objection.id in listed(supervisor)
    body = {"decision": "dismiss", "outcome": "经核查，业绩材料真实有效。"}
    url = f"/api/v1/admin/objections/{objection.id}/resolve"
    assert client.post(url, json=body, headers=outside).status_code == 403
    assert client.post(url, json=body, headers=supervisor).status_code == 403
    r = client.post(url, json=body, headers=inside)
    assert r.status_code == 200, r.get_json()


# --- versions: requests keep the one they used -----------------------------------------------------------------


def test_a_request_keeps_the_item_version_it_was_published_under(client):
    item = f.guided_item()
    v1_range = (item.guide_min_fen, item.guide_max_fen)
    req = f.published_request(item=item, ceiling_fen=item.guide_max_fen)
    assert req.service_item_version.version == 1

    department = f.staff("department", None, item.department)
    r = client.patch(
        f"/api/v1/admin/catalogue/items/{item.id}",
        json={
            "guide_min_fen": v1_range[0] + 100_000,
            "guide_max_fen": v1_range[1] + 500_000,
            "standard_days": item.standard_days + 5,
            "note": "依据新版收费标准调整指导价区间。",
        },
        headers=f.token(client, department),
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["version"] == 2

    body = client.get(f"/api/v1/requests/{req.id}").get_json()
    assert body["service_item_version"] == 1
    assert (body["guide_min_fen"], body["guide_max_fen"]) == v1_range
    page = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert "data-item-version" in page and "v1" in page
    from marketplace.common.money import format_fen

    assert format_fen(v1_range[1]) in page and format_fen(v1_range[1] + 500_000) not in page

    newer = f.published_request(item=item, ceiling_fen=v1_range[1])
    assert client.get(f"/api/v1/requests/{newer.id}").get_json()["service_item_version"] == 2

    versions = client.get(f"/api/v1/catalogue/items/{item.id}/versions").get_json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["author"] == item.department and versions[1]["author"] is None
    assert versions[1]["guide_max_fen"] == v1_range[1]
    item_page = client.get(f"/catalogue/items/{item.id}").get_data(as_text=True)
    assert 'data-version="2"' in item_page and "依据新版收费标准调整指导价区间。" in item_page


def test_staff_home_greets_each_role_with_its_scope_and_desks(client):
    f.login(client, f.staff("department", "320500", ENV))
    page = client.get("/admin/").get_data(as_text=True)
    assert ENV in page and "苏州市" in page
    assert 'data-desk="catalogue_admin.items"' in page and 'data-desk="fee_admin.audit"' not in page
    client.get("/auth/logout")
    f.login(client, f.staff("supervisor"))
    page = client.get("/admin/").get_data(as_text=True)
    assert 'data-desk="fee_admin.audit"' in page and "data-read-only" in page


def test_department_keeps_the_model_contract_of_its_items(client):
    env = _item("C03-01")
    generic = client.get(f"/catalogue/items/{env.id}/model-contract?format=txt").get_data(as_text=True)
    text = "环境影响评价技术服务合同（示范文本）\n甲方：\n乙方：\n第一条 服务内容：编制环境影响报告书并通过审批。"
    change = {"model_contract": text, "note": "按本市环评合同示范文本更新。"}
    h = f.token(client, f.staff("department", None, ENV))
    r = client.patch(f"/api/v1/admin/catalogue/items/{env.id}", json=change, headers=h)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["model_contract"] == text and r.get_json()["version"] == 2
    shown = client.get(f"/catalogue/items/{env.id}/model-contract?format=txt").get_data(as_text=True)
    assert shown.replace("\r\n", "\n") == text and shown != generic
    # the first version keeps the text parties read before the change
    first = client.get(f"/api/v1/catalogue/items/{env.id}/versions").get_json()[-1]
    assert first["version"] == 1 and first["model_contract"] != text
    # another trade's department may not change it, and nothing changes
    other = f.token(client, f.staff("department", None, LAND))
    r = client.patch(
        f"/api/v1/admin/catalogue/items/{env.id}", json={**change, "model_contract": "x"}, headers=other
    )
    assert r.status_code == 403
    assert _versions(env.id) == 2
