"""/api/v1/agencies' rows are read as plain rows (agencies/listed.py): the JSON is byte for byte what
`AgencyRowOut` dumps of the agencies as ORM objects — several categories in the catalogue's order, service areas
by code, live and withdrawn offers, none — in the same order as the list's own loading gives them."""

from __future__ import annotations

import pytest
from flask import jsonify
from sqlalchemy import select

from marketplace.agencies import listed, services
from marketplace.agencies.models import Agency
from marketplace.agencies.schemas import AgencyRowOut
from marketplace.catalogue.models import Category
from marketplace.extensions import db
from marketplace.stats.figures import stats_for
from tests import factories as f
from tests.plans import plan, statements


def _reference(app, ids: list[int]) -> bytes:
    """The old way: the agencies as objects, dumped by the schema with their figures."""
    with app.test_request_context():
        agencies = [db.session.get(Agency, i) for i in ids]
        figures = stats_for(ids)
        for agency in agencies:
            agency.preloaded_stats = figures[agency.id]
        return jsonify(AgencyRowOut(many=True).dump(agencies)).get_data()


def test_the_rows_give_the_schemas_json(app, client):
    busy = f.active_agency("C03", org_name="列表测试甲咨询有限公司")
    f.active_agency("C03", org_name="列表测试乙咨询有限公司")  # no offer at all
    first = f.offer(busy)
    other = next(i for i in f.category("C03").items if i.id != first.service_item_id)
    withdrawn = f.offer(
        busy, other, price_fen=None, price_mode="range", price_min_fen=1000, price_max_fen=9000
    )
    agency = busy.agency
    extra = db.session.scalars(select(Category).order_by(Category.sort_order.desc())).first()
    agency.categories.append(extra)
    agency.service_area_codes = ["320506", "320000", "310000"]
    db.session.get(type(withdrawn), withdrawn.id).active = False
    db.session.commit()
    category = f.category("C03").id
    for query in ("", "?sort=rating", "?page_size=1&page=2", f"?category_id={category}", "?q=列表测试"):
        served = client.get(f"/api/v1/agencies{query}")
        assert served.status_code == 200
        ids = [row["id"] for row in served.get_json()]
        assert ids, query
        assert served.get_data() == _reference(app, ids)
    rows = {r["id"]: r for r in client.get("/api/v1/agencies?q=列表测试").get_json()}
    mine = rows[agency.id]
    assert mine["service_area_codes"] == ["310000", "320000", "320506"] and mine["offer_count"] == 1
    assert len(mine["categories"]) == 2


def test_the_list_orders_the_same_rows_as_before():
    """The API's loading keeps every listed agency, in the list's order (listing_page's own `load` as reference)."""
    for n in range(3):
        f.active_agency("C03", org_name=f"列表顺序{n}咨询有限公司")
    for sort in ("composite", "sales", "rating", "price", "speed"):
        flt = services.ListFilter(None, None, None, None, sort, None, None, None)
        old = services.listing_page(flt, per_page=50)
        new = services.listing_page(flt, per_page=50, load=listed.rows)
        assert [a.id for a in new.items] == [a.id for a in old.items] and old.items
        assert (new.total, new.next_cursor) == (old.total, old.next_cursor)


def test_a_store_loaded_at_once_gives_the_same_json(app, client):
    """/api/v1/agencies/<id> loads the agency with everything its JSON reads in one go (listed.load_store): the
    same JSON as the objects loaded one relationship at a time; hidden and unknown agencies stay 404."""
    from marketplace.agencies.schemas import AgencyStoreOut

    owner = f.active_agency("C03", org_name="店铺测试咨询有限公司")
    items = list(f.category("C03").items)
    f.offer(owner, items[0])
    f.offer(owner, items[1], price_fen=None, price_mode="range", price_min_fen=1000, price_max_fen=9000)
    agency = owner.agency
    agency_id = agency.id
    agency.service_area_codes = ["320506", "320000", "310000"]  # several of each collection: joined at once
    agency.categories.append(
        db.session.scalars(select(Category).order_by(Category.sort_order.desc())).first()
    )
    first = agency.qualifications[0]
    for n in (2, 3):
        db.session.add(
            type(first)(
                agency_id=agency_id,
                category_id=first.category_id,
                kind_id=None if n == 3 else first.kind_id,
                name=f"{first.name}{n}",
                level=first.level,
                number=f"{first.number}-{n}",
                issuer=first.issuer,
                valid_until=first.valid_until,
            )
        )
    db.session.commit()
    db.session.expire_all()
    served = client.get(f"/api/v1/agencies/{agency_id}")
    assert served.status_code == 200
    with app.test_request_context():
        expected = jsonify(AgencyStoreOut().dump(db.session.get(Agency, agency_id))).get_data()
    assert served.get_data() == expected
    body = served.get_json()
    assert len(body["offers"]) == 2 and len(body["qualifications"]) == 3 and len(body["categories"]) == 2
    assert body["service_area_codes"] == ["310000", "320000", "320506"]
    assert client.get("/api/v1/agencies/99999999").status_code == 404
    pending = f.pending_agency("C03", "店铺待审咨询有限公司")
    assert client.get(f"/api/v1/agencies/{pending.agency.id}").status_code == 404


def test_on_sqlite_a_store_reads_only_its_own_memberships(client):
    """SQLite materialises a joined many-to-many (agency_category JOIN category) whole before the outer join: the
    store's categories come in a statement of their own, so that no statement of the store scans every agency's
    memberships (175 ms at 100k agencies)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's own plan (PostgreSQL plans on statistics)")
    owner = f.active_agency("C03")
    with statements(r"(?i)^\s*SELECT") as seen:
        assert client.get(f"/api/v1/agencies/{owner.agency.id}").status_code == 200
    assert seen
    for statement, parameters in seen:
        chosen = plan(statement, parameters)
        assert "SCAN agency_category" not in chosen, (statement[:200], chosen)
