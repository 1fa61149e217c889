"""The pages that list the whole catalogue (/catalogue/, /fees/, the announcements' item filter) read it from
per-process copies (catalogue/facts.py, catalogue/outline.py, requests/pages.py `item_options`): kept between
requests, yet a committed write to a category or an item — through the ORM or plain SQL — shows on the very next
page, in both languages."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from marketplace.catalogue.models import Category, FeeRegime, ServiceItem
from marketplace.common.uow import unit_of_work
from marketplace.extensions import db
from tests.racing import committed


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    """An app that follows its writes (as in production), so that it keeps its copies between requests; its
    commits are real (tests/conftest.py's rolled-back session would bind to another database)."""
    app, close = committed(tmp_path_factory, CACHE_PAGE_SECONDS=60)
    yield app
    close()


def _reads_catalogue(app, client, url: str) -> tuple[str, list[str]]:
    """The page, and the statements it sent that read the catalogue's tables."""
    with app.app_context():
        engine = db.engine
    read: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if "FROM service_item" in statement or "FROM category" in statement:
            read.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        page = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert page.status_code == 200
    return page.get_data(as_text=True), read


def test_a_catalogue_change_shows_on_the_next_catalogue_and_fee_page(committed_app):
    app = committed_app
    with app.app_context():
        item = db.session.scalar(select(ServiceItem).order_by(ServiceItem.id))
        item_id, category_id, name = item.id, item.category_id, item.name
        original = (item.name_en, item.fee_regime, item.guide_min_fen, item.guide_max_fen, item.legal_basis)
        description = db.session.get(Category, category_id).description
        db.session.remove()
    zh, en = app.test_client(), app.test_client()
    en.get("/auth/lang/en")
    # the first pages load the copy; the next ones read no catalogue table (the copy is used, page cache or not)
    for n, url in enumerate(("/catalogue/", "/fees/", "/requests/")):
        assert name in _reads_catalogue(app, zh, f"{url}?k={n}")[0]
        assert name not in en.get(f"{url}?k=en{n}").get_data(as_text=True)  # the English names
        page, read = _reads_catalogue(app, zh, f"{url}?k=a{n}")
        assert name in page and not read
    try:
        with app.app_context(), unit_of_work():  # renamed and guided through the ORM
            item = db.session.get(ServiceItem, item_id)
            item.name, item.name_en, item.legal_basis = "测试事项（改名）", "Renamed item", "《新依据》"
            item.fee_regime, item.guide_min_fen, item.guide_max_fen = FeeRegime.GUIDED, 123_400, 567_800
        for n, url in enumerate(("/catalogue/", "/fees/", "/requests/")):
            page = zh.get(f"{url}?k=b{n}").get_data(as_text=True)
            assert "测试事项（改名）" in page and name not in page
            assert url == "/requests/" or "¥1,234.00–¥5,678.00" in page
            assert "Renamed item" in en.get(f"{url}?k=c{n}").get_data(as_text=True)
        picked = zh.get(f"/requests/?service_item={item_id}").get_data(as_text=True)
        assert f'<option value="{item_id}" selected>测试事项（改名）</option>' in picked
        assert "《新依据》" in zh.get("/catalogue/?k=d").get_data(as_text=True)
        with app.app_context(), unit_of_work():  # plain SQL
            db.session.execute(
                text("UPDATE category SET description = :d WHERE id = :i"),
                {"d": "新的类别说明", "i": category_id},
            )
            db.session.execute(
                text("UPDATE service_item SET guide_max_fen = :m WHERE id = :i"), {"m": 999_900, "i": item_id}
            )
        assert "新的类别说明" in zh.get("/catalogue/?k=e").get_data(as_text=True)
        assert "¥1,234.00–¥9,999.00" in zh.get("/fees/?k=f").get_data(as_text=True)
    finally:
        with app.app_context(), unit_of_work():
            item = db.session.get(ServiceItem, item_id)
            item.name = name
            item.name_en, item.fee_regime, item.guide_min_fen, item.guide_max_fen, item.legal_basis = original
            db.session.get(Category, category_id).description = description
    assert name in zh.get("/fees/?k=g").get_data(as_text=True)
