"""/api/v1/favourites: an enterprise user's 收藏 — listed with grade and rating, kept and forgotten idempotently,
refused to everyone else, documented in the OpenAPI document."""

from marketplace.agencies import membership
from marketplace.extensions import db
from tests import factories as f


def test_an_enterprise_keeps_and_forgets_favourites_idempotently(client):
    admin = f.admin()
    kept = f.active_agency(org_name="江苏恒信工程造价咨询有限公司", reviewer=admin)
    other = f.active_agency(reviewer=admin)
    buyer = f.user("enterprise")
    h = f.token(client, buyer)
    assert client.get("/api/v1/favourites", headers=h).get_json() == []

    for _ in range(2):  # a replayed PUT changes nothing
        r = client.put(f"/api/v1/favourites/{kept.agency.id}", headers=h)
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["agency_id"] == kept.agency.id
    client.put(f"/api/v1/favourites/{other.agency.id}", headers=h)
    rows = client.get("/api/v1/favourites", headers=h).get_json()
    assert [r["agency_id"] for r in rows] == [other.agency.id, kept.agency.id]  # newest first
    row = rows[1]
    assert row["name"] == "江苏恒信工程造价咨询有限公司" and row["status"] == "active"
    assert {"credit_grade", "avg_rating", "ratings_count", "completed_orders"} <= set(row["stats"])
    assert row["stats"]["completed_orders"] == 0 and row["stats"]["avg_rating"] is None

    # per user: another account of the market sees its own (none)
    assert client.get("/api/v1/favourites", headers=f.token(client, f.user("enterprise"))).get_json() == []

    for _ in range(2):
        assert client.delete(f"/api/v1/favourites/{kept.agency.id}", headers=h).status_code == 204
    assert [r["agency_id"] for r in client.get("/api/v1/favourites", headers=h).get_json()] == [
        other.agency.id
    ]

    # a kept agency that is suspended stays listed, saying so; it cannot be newly kept
    membership.decide(admin, other.agency.id, "suspend", "资质证书过期未及时更新")
    db.session.commit()
    assert client.get("/api/v1/favourites", headers=h).get_json()[0]["status"] == "suspended"
    client.delete(f"/api/v1/favourites/{other.agency.id}", headers=h)
    assert client.put(f"/api/v1/favourites/{other.agency.id}", headers=h).status_code == 404


def test_favourites_are_for_enterprise_users_only(client):
    agency = f.active_agency()
    pending = f.pending_agency()
    assert client.get("/api/v1/favourites").status_code == 401
    assert client.put(f"/api/v1/favourites/{agency.agency.id}").status_code == 401
    h_agency = f.token(client, agency)
    one = f"/api/v1/favourites/{agency.agency.id}"
    for method, path in ((client.get, "/api/v1/favourites"), (client.put, one), (client.delete, one)):
        r = method(path, headers=h_agency)
        assert r.status_code == 403 and r.get_json()["message"], path
    h = f.token(client, f.user("enterprise"))
    for missing in (999_999, pending.agency.id):  # none, or not a member yet
        r = client.put(f"/api/v1/favourites/{missing}", headers=h)
        assert r.status_code == 404 and r.get_json()["message"]
    assert client.get("/api/v1/favourites", headers=h).get_json() == []


def test_favourites_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/favourites"]
    assert {"put", "delete"} <= set(paths["/api/v1/favourites/{agency_id}"])
