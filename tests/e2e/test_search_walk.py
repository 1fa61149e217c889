"""Search in a browser, on each backend (SEARCH_BACKEND=postgres only when the suite runs on PostgreSQL):
without an index the page says it is being built (nothing is built on the request); once `search reindex`
built it, the header's box finds the item and the agency, title matches first, the tabs count each kind;
a suspended agency disappears after the commit."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, select

from marketplace.agencies import membership
from marketplace.catalogue.models import ServiceItem
from marketplace.extensions import db
from marketplace.search import backends
from marketplace.search.models import SearchDocument
from tests import factories as f

pytestmark = pytest.mark.e2e
NAMES = {"whoosh": "江苏澄湖环境科技有限公司", "postgres": "江苏莫愁环境科技有限公司"}


@pytest.mark.parametrize("backend", ["whoosh", "postgres"])
def test_search_waits_for_its_index_then_finds_and_follows(live_server, browser, shot, backend, tmp_path):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        if backend == "postgres" and db.engine.dialect.name != "postgresql":
            pytest.skip(
                "SEARCH_BACKEND=postgres needs PostgreSQL: runs in the PostgreSQL pass of `make test`"
            )
        live_server.config["SEARCH_BACKEND"] = backend
        live_server.config["SEARCH_INDEX_DIR"] = str(Path(tmp_path) / "index")  # no Whoosh index yet
        db.session.execute(delete(SearchDocument))  # nor a PostgreSQL one
        admin = f.admin()
        item = db.session.scalar(select(ServiceItem).where(ServiceItem.name == "环境影响评价（报告书）"))
        u = f.active_agency(
            "C03",
            reviewer=admin,
            org_name=f"江苏{ {'whoosh': '澄湖', 'postgres': '莫愁'}[backend] }环境科技有限公司",
        )
        f.offer(u, item)
        db.session.commit()
        agency_id, agency_name = u.agency.id, u.agency.name

    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    response = page.goto(f"{base}/search?q=环评")
    assert response.status == 503
    assert "搜索索引正在建立" in page.inner_text("main")
    shot(page, f"40-search-index-building-{backend}")

    with live_server.app_context():
        report = backends.reindex()  # as `flask search reindex` (or the clock) does
        assert report.counts["agency"] >= 1 and report.counts["service"] >= 80

    page.goto(base + "/")
    page.fill("form.header-search input[name=q]", "环评")
    page.click("form.header-search button[type=submit]")
    page.wait_for_url(re.compile(r"/search\?"))
    hits = page.locator(".search-hit")
    assert hits.first.get_attribute("data-type") == "service"  # the item the word stands for comes first
    assert "环境影响评价" in hits.first.inner_text()
    agencies_tab = page.locator(".search-tabs a[data-type=agency]")
    assert int(agencies_tab.locator("small").inner_text()) >= 1
    agencies_tab.click()
    expect(page.locator(f".search-hit[data-type=agency][data-id='{agency_id}']")).to_have_count(1)
    assert agency_name in page.inner_text(".search-results")
    # the agency's hit is the list's card: rating (none yet), completed orders and the lowest price
    card = page.locator(f".search-hit[data-type=agency][data-id='{agency_id}']")
    assert "暂无评价" in card.locator(f"[data-agency-stats='{agency_id}']").inner_text()
    assert "0 单" in card.locator(f"[data-agency-stats='{agency_id}']").inner_text()
    assert re.fullmatch(r"¥[\d,]+\.\d\d", card.locator(".agency-card-figures .price").inner_text())
    shot(page, f"41-search-agencies-{backend}")

    with live_server.app_context():
        membership.decide(f.admin(), agency_id, "suspend", reason="资质审查")
        db.session.commit()  # the index follows the commit
    page.reload()
    assert page.locator(f".search-hit[data-type=agency][data-id='{agency_id}']").count() == 0
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/search?q=测绘")
    assert page.locator(".search-hit").count() >= 5  # the surveying items (测绘) and the rest
    shot(page, f"42-search-phone-{backend}")
    page.context.close()
