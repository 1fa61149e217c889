"""The catalogue's API answers are kept as JSON per process (catalogue/published.py): served without reading the
tables again, yet a committed write to any table they read — category, service_item, service_item_requirement,
qualification_kind; through the ORM or plain SQL; in this process or another — shows on the next request."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from marketplace.catalogue.models import Category, ItemRequirement, QualificationKind, ServiceItem
from marketplace.catalogue.published import TABLES
from marketplace.common.uow import unit_of_work
from marketplace.extensions import db
from tests.conftest import build_app
from tests.unit.test_many_machines import _close, _second


@pytest.fixture(autouse=True)
def _transaction():
    """These apps commit for real, on a database of their own."""
    yield


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """Two workers of one machine sharing its cache folder, following their writes (the kept statistics on) but
    with no page cache, so that every request is made (as the benchmark's verdict)."""
    folder = tmp_path_factory.mktemp("cache")
    kept = {"CACHE_DIR": str(folder), "STATS_FRESH_SECONDS": 300}
    first, drop = build_app(tmp_path_factory, CACHE_PAGE_SECONDS=0, **kept)
    second = _second(first, tmp_path_factory, **kept)
    yield first, second
    _close(first, second)
    drop()


def _write(app, sql: str, **values) -> None:
    with app.app_context(), unit_of_work():
        db.session.execute(text(sql), values)


def _item_with_requirement(app) -> tuple[int, int, int, int]:
    """(item id, its category's id, the kind it requires, that kind's category id)."""
    with app.app_context():
        row = db.session.execute(
            select(
                ServiceItem.id,
                ServiceItem.category_id,
                ItemRequirement.kind_id,
                QualificationKind.category_id,
            )
            .join(ItemRequirement, ItemRequirement.service_item_id == ServiceItem.id)
            .join(QualificationKind, QualificationKind.id == ItemRequirement.kind_id)
            .where(QualificationKind.category_id.is_not(None))
            .order_by(ServiceItem.id)
        ).first()
        db.session.remove()
    return tuple(row)


def _urls(item_id: int, category_id: int) -> list[str]:
    return [
        "/api/v1/categories",
        "/api/v1/service-items",
        f"/api/v1/service-items?category_id={category_id}",
        f"/api/v1/service-items/{item_id}",
        "/api/v1/catalogue/qualification-kinds",
    ]


def _reads(app, client, urls: list[str]) -> list[str]:
    """The catalogue tables' statements the requests ran."""
    with app.app_context():
        engine = db.engine
    seen = []

    def note(_conn, _cursor, statement, *_args):
        if any(f"FROM {table}" in statement or f"JOIN {table}" in statement for table in TABLES):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        for url in urls:
            assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def test_the_answers_are_kept_and_a_write_to_each_table_shows_at_once_in_every_worker(two_workers):
    first, second = two_workers
    a, b = first.test_client(), second.test_client()
    item_id, category_id, kind_id, kind_category_id = _item_with_requirement(first)
    urls = _urls(item_id, category_id)
    before = {url: a.get(url).get_data() for url in urls}
    assert all(b.get(url).get_data() == before[url] for url in urls)
    assert not _reads(first, a, urls)  # kept: no catalogue table read again

    def item(client):
        return client.get(f"/api/v1/service-items/{item_id}").get_json()

    def kind(client):
        kinds = client.get("/api/v1/catalogue/qualification-kinds").get_json()
        return next(k for k in kinds if k["id"] == kind_id)

    def listed(client, url):
        body = client.get(url).get_json()
        items = [i for c in body for i in c["items"]] if url.endswith("categories") else body
        return next(i for i in items if i["id"] == item_id)

    # service_item, plain SQL, written through the first worker
    _write(first, "UPDATE service_item SET legal_basis = :v WHERE id = :i", v="《测试条例》第一条", i=item_id)
    for client in (a, b):
        assert item(client)["legal_basis"] == "《测试条例》第一条"
        for url in urls[:3]:
            assert listed(client, url)["legal_basis"] == "《测试条例》第一条"

    # category, through the ORM of the second worker: the categories and the register's trade names
    with second.app_context(), unit_of_work():
        db.session.get(Category, kind_category_id).name = "测试行业（改名）"
    for client in (a, b):
        assert kind(client)["category_name"] == "测试行业（改名）"
        names = [c["name"] for c in client.get("/api/v1/categories").get_json()]
        assert "测试行业（改名）" in names

    # qualification_kind, through the ORM: the register and the items' requirements
    with first.app_context(), unit_of_work():
        db.session.get(QualificationKind, kind_id).name = "测试资质（改名）"
    for client in (a, b):
        assert kind(client)["name"] == "测试资质（改名）"
        assert "测试资质（改名）" in [r["kind_name"] for r in item(client)["required_qualifications"]]

    # service_item_requirement, plain SQL through the second worker: the requirement is gone
    _write(
        second,
        "DELETE FROM service_item_requirement WHERE service_item_id = :i AND kind_id = :k",
        i=item_id,
        k=kind_id,
    )
    for client in (a, b):
        assert kind_id not in [r["kind_code"] for r in item(client)["required_qualifications"]]
        assert "测试资质（改名）" not in [r["kind_name"] for r in item(client)["required_qualifications"]]
        assert "测试资质（改名）" not in [
            r["kind_name"] for r in listed(client, "/api/v1/categories")["required_qualifications"]
        ]
    for url in urls:  # (the answers not asked for since the last write are made again once)
        assert a.get(url).get_data() == b.get(url).get_data()
    assert not _reads(first, a, urls) and not _reads(second, b, urls)  # kept again


def test_unknown_ids_are_answered_but_never_kept(two_workers):
    first, _ = two_workers
    client = first.test_client()
    assert client.get("/api/v1/service-items/999999").status_code == 404
    assert client.get("/api/v1/service-items?category_id=999999").get_json() == []
    reads = _reads(first, client, ["/api/v1/service-items?category_id=999999"])
    assert reads  # made again: an empty answer is not kept
    assert (
        client.get("/api/v1/service-items?category_id=0").get_data()
        == client.get("/api/v1/service-items").get_data()
    )


def test_the_fee_overview_keeps_the_items_names_not_their_figures(two_workers):
    """/api/v1/fees (fees/published.py) keeps the items' names and guide ranges, never the winning prices."""
    first, second = two_workers
    a, b = first.test_client(), second.test_client()
    item_id = _item_with_requirement(first)[0]

    def entry(client):
        return next(e for e in client.get("/api/v1/fees").get_json() if e["service_item_id"] == item_id)

    entry(a), entry(b)
    _write(
        second,
        "UPDATE service_item SET name = :n, guide_max_fen = 123456 WHERE id = :i",
        n="测试事项",
        i=item_id,
    )
    for client in (a, b):
        assert entry(client)["service_item_name"] == "测试事项" and entry(client)["guide_max_fen"] == 123456
    _write(first, "DELETE FROM fee_item_summary WHERE service_item_id = :i AND scope = ''", i=item_id)
    _write(
        first,
        "INSERT INTO fee_item_summary (service_item_id, scope, count, median_fen, min_fen, max_fen, p25_fen, p75_fen,"
        " amount_sum_fen, ceiling_sum_fen, above_guide, below_guide, monthly)"
        " VALUES (:i, '', 5, 100, 100, 100, 100, 100, 500, 0, 0, 0, '{}')",
        i=item_id,
    )
    for client in (a, b):
        assert entry(client)["winning"]["count"] == 5
    _write(
        second, "UPDATE fee_item_summary SET count = 6 WHERE service_item_id = :i AND scope = ''", i=item_id
    )
    for client in (a, b):
        assert entry(client)["winning"]["count"] == 6
