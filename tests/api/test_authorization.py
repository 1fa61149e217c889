"""Every role against every protected page and endpoint: the right ones get 401/403/404, nothing leaks."""

import io

import pytest

from tests import factories as f
from tests.kept import keep, load


@pytest.fixture(scope="module", autouse=True)
def kept_world(module_transaction):
    """anonymous, enterprise, agency (active, owner), other agency, admin — and one pending applicant. Built once
    for the module (tests/kept.py): each test reads it by id and runs in a savepoint undone after it."""
    admin = f.admin()
    owner = f.active_agency(reviewer=admin)
    f.offer(owner)
    return keep(
        admin=admin,
        enterprise=f.user("enterprise"),
        agency=owner,
        other_agency=f.active_agency(reviewer=admin),
        pending=f.pending_agency(),
    )


@pytest.fixture
def world(kept_world):
    return vars(load(kept_world))


def _headers(client, world, role):
    return {} if role == "anonymous" else f.token(client, world[role])


ROLES = ["anonymous", "enterprise", "agency", "other_agency", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_admin_endpoints_only_for_admins(client, world, role):
    h = _headers(client, world, role)
    pending_id = world["pending"].agency.id
    expected = {"anonymous": 401, "admin": 200}.get(role, 403)
    assert client.get("/api/v1/admin/applications", headers=h).status_code == expected
    r = client.post(f"/api/v1/admin/agencies/{pending_id}/approve", json={}, headers=h)
    assert r.status_code == expected
    if role != "admin":
        assert (
            client.get("/api/v1/agencies/me", headers=_headers(client, world, "pending")).get_json()["status"]
            == "pending"
        )


@pytest.mark.parametrize("role", ROLES)
def test_agency_endpoints_only_for_agencies(client, world, role):
    h = _headers(client, world, role)
    r = client.post(
        "/api/v1/agencies/me/offers",
        json={"service_item_id": f.market_item().id, "price_fen": 100, "promised_days": 3},
        headers=h,
    )
    expected = {"anonymous": 401, "enterprise": 403, "admin": 403}.get(role, 201)
    assert r.status_code == expected
    r = client.post("/api/v1/agencies/me/application", json=f.application([f.category().id]), headers=h)
    assert r.status_code == {"anonymous": 401, "enterprise": 403, "admin": 403}.get(
        role, 409
    )  # active members cannot re-apply


@pytest.mark.parametrize("role", ROLES)
def test_qualification_scans_only_for_owner_and_admin(client, world, role):
    qual = world["agency"].agency.qualifications[0]
    h = _headers(client, world, role)
    r = client.get(f"/api/v1/qualifications/{qual.id}/file", headers=h)
    if role in ("agency", "admin"):
        assert r.status_code == 200 and r.data.startswith(b"%PDF")
    else:
        assert r.status_code == 404  # not 403: others may not even learn the file exists
    # The web download obeys the same rule.
    if role != "anonymous":
        f.login(client, world[role])
    r = client.get(f"/agencies/qualifications/{qual.id}/file")
    assert r.status_code == (200 if role in ("agency", "admin") else 404)


@pytest.mark.parametrize("role", ROLES)
def test_one_agency_cannot_touch_anothers_things(client, world, role):
    target = world["agency"].agency
    qual_id, offer_id = target.qualifications[0].id, target.offers[0].id
    h = _headers(client, world, role)
    r = client.delete(f"/api/v1/agencies/me/offers/{offer_id}", headers=h)
    assert r.status_code == {"anonymous": 401, "enterprise": 403, "admin": 403, "agency": 204}.get(role, 404)
    r = client.post(
        f"/api/v1/agencies/me/qualifications/{qual_id}/file",
        data={"file": (io.BytesIO(f.PNG), "x.png")},
        headers=h,
        content_type="multipart/form-data",
    )
    assert r.status_code == {"anonymous": 401, "enterprise": 403, "admin": 403, "agency": 200}.get(role, 404)


@pytest.mark.parametrize("role", ROLES)
def test_hidden_stores_are_404_except_for_owner_and_admin(client, world, role):
    pending = world["pending"].agency
    h = _headers(client, world, role)
    r = client.get(f"/api/v1/agencies/{pending.id}", headers=h)
    assert r.status_code == (200 if role == "admin" else 404)
    assert (
        client.get(f"/api/v1/agencies/{pending.id}", headers=f.token(client, world["pending"])).status_code
        == 200
    )


def test_public_store_never_shows_private_details(client, world):
    agency = world["agency"].agency
    for role in ("anonymous", "enterprise", "other_agency"):
        body = client.get(f"/api/v1/agencies/{agency.id}", headers=_headers(client, world, role)).get_json()
        text = str(body)
        assert agency.contact_phone not in text and "file_url" not in text and "file_name" not in text
        if role != "anonymous":
            f.login(client, world[role])
        page = client.get(f"/agencies/{agency.id}").get_data(as_text=True)
        assert agency.contact_phone not in page
        assert f"/agencies/qualifications/{agency.qualifications[0].id}/file" not in page
        client.post("/auth/logout")


PAGES = {
    "/agency/": {"agency": 200, "other_agency": 200, "enterprise": 403, "admin": 403},
    "/agency/offers": {"agency": 200, "other_agency": 200, "enterprise": 403, "admin": 403},
    "/agency/qualifications": {"agency": 200, "other_agency": 200, "enterprise": 403, "admin": 403},
    "/admin/applications": {"admin": 200, "agency": 403, "other_agency": 403, "enterprise": 403},
}


@pytest.mark.parametrize("role", ROLES)
def test_protected_pages(client, world, role):
    if role != "anonymous":
        assert f.login(client, world[role]).status_code == 302
    for path, expected in PAGES.items():
        r = client.get(path)
        if role == "anonymous":
            assert r.status_code == 302 and "/auth/login" in r.headers["Location"], path
        else:
            assert r.status_code == expected[role], (path, role)
    pending_id = world["pending"].agency.id
    r = client.get(f"/admin/agencies/{pending_id}")
    assert r.status_code == {"anonymous": 302, "admin": 200}.get(role, 403)
    r = client.post(f"/admin/agencies/{pending_id}/approve", data={"confirm": "yes"})
    if role == "admin":
        assert r.status_code == 302
    else:
        assert r.status_code in (302, 403)
        assert (
            client.get("/api/v1/agencies/me", headers=f.token(client, world["pending"])).get_json()["status"]
            == "pending"
        )


@pytest.mark.parametrize("role", ROLES)
def test_request_bid_and_order_endpoints_by_role(client, world, role):
    from tests import timetravel

    owner = f.user("enterprise")
    req = f.published_request(owner)
    h = _headers(client, world, role)
    r = client.post("/api/v1/requests", json=f.request_data(), headers=h)
    assert r.status_code == {"anonymous": 401, "enterprise": 201}.get(role, 403)
    body = {"price_fen": 1_000_000, "promised_days": 10, "plan": "按规范编制并按期交付。"}
    r = client.post(f"/api/v1/requests/{req.id}/bids", json=body, headers=h)
    assert r.status_code == {"anonymous": 401, "enterprise": 403, "admin": 403}.get(role, 201)
    # Another enterprise's request: not theirs to select, edit or compare.
    assert client.post(f"/api/v1/requests/{req.id}/selection", json={}, headers=h).status_code == {
        "anonymous": 401
    }.get(role, 403 if role != "enterprise" else 404)
    assert client.post(f"/api/v1/requests/{req.id}/cancel", json={"reason": "x"}, headers=h).status_code == {
        "anonymous": 401
    }.get(role, 403 if role != "enterprise" else 404)
    timetravel.past_deadline(req)
    r = client.get(f"/api/v1/requests/{req.id}/bids", headers=h)
    assert r.status_code == {"anonymous": 401, "admin": 200}.get(role, 403)
    assert client.get("/api/v1/orders", headers=h).status_code == (401 if role == "anonymous" else 200)


@pytest.mark.parametrize("role", ["anonymous", "enterprise", "agency"])
@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/admin/fee-audit/1/review", {"action": 7, "note": ["x"]}),
        ("/api/v1/admin/objections/1/resolve", {"decision": None}),
        ("/api/v1/admin/agencies/1/reject", {"reason": {"a": 1}}),
        ("/api/v1/admin/ratings/1/hide", []),
    ],
)
def test_malformed_input_to_admin_endpoints_is_401_or_403_not_422(client, world, role, path, body):
    """Authorize before validating: a stranger learns nothing about what the input should look like."""
    r = client.post(path, json=body, headers=_headers(client, world, role))
    assert r.status_code == (401 if role == "anonymous" else 403), r.get_json()
    assert "errors" not in r.get_json()


@pytest.mark.parametrize("role", ["enterprise", "agency"])
def test_admin_pages_refuse_non_admins_before_reading_the_form(client, world, role):
    f.login(client, world[role])
    r = client.post("/admin/fee-audit/1/review", data={"action": "nonsense"})
    assert r.status_code == 403
    anonymous = client.application.test_client()
    r = anonymous.post("/admin/objections/1/resolve", data={})
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
