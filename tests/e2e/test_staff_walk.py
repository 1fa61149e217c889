"""In a real browser: a department (市生态环境局) logs in, lands on its staff desk, opens its trade's items,
is told why a guide range upside down is refused, saves a change as version 2 and sees it in the public
version history; a request published before keeps version 1."""

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.catalogue.models import ServiceItem
from marketplace.extensions import db
from tests import factories as f

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots_roles")


def test_department_edits_an_item_and_sees_its_version_history(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "C03-07"))  # 土壤污染状况调查
        req = f.published_request(item=item)
        department = f.staff("department", "320700", item.department)
        item_id, item_name, req_id, email = item.id, item.name, req.id, department.email
        days = item.standard_days

    SHOTS.mkdir(exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{base}/auth/login")
        page.fill("#email", email)
        page.fill("#password", f.PASSWORD)
        page.click("form.form button[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        assert "市生态环境局" in page.inner_text("[data-scope]")
        assert page.locator("[data-desk='fee_admin.audit']").count() == 0
        page.screenshot(path=str(SHOTS / f"staff-home-{width}.png"), full_page=True)
        page.goto(f"{base}/admin/catalogue/{item_id}")
        page.screenshot(path=str(SHOTS / f"item-edit-{width}.png"), full_page=True)
        context.close()

    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    page.click("[data-desk='catalogue_admin.items']")
    expect(page.locator(f"tr[data-item-id='{item_id}']")).to_have_count(1)
    assert page.locator("td", has_text="地质灾害危险性评估").count() == 0  # not its trade
    shot(page, "30-department-items")
    page.screenshot(path=str(SHOTS / "catalogue-desk-1366.png"), full_page=True)
    page.click(f"tr[data-item-id='{item_id}'] [data-link=edit]")

    # A guided price whose upper end is below the lower: refused beside the field, nothing saved.
    page.check("input[name=fee_regime][value=guided]")
    page.fill("input[name=guide_min]", "50000")
    page.fill("input[name=guide_max]", "20000")
    page.fill("textarea[name=note]", "试行政府指导价")
    page.click("form[data-form=item-edit] button[type=submit]")
    assert "区间上限不得低于下限" in page.inner_text("form[data-form=item-edit]")
    page.screenshot(path=str(SHOTS / "item-edit-refused-1366.png"), full_page=True)

    page.check("input[name=fee_regime][value=market]")
    page.fill("input[name=guide_min]", "")
    page.fill("input[name=guide_max]", "")
    page.fill("input[name=standard_days]", str(days - 3))
    page.fill("textarea[name=note]", "落实压缩中介服务时限要求。")
    page.click("form[data-form=item-edit] button[type=submit]")
    page.wait_for_url(f"{base}/catalogue/items/{item_id}#versions")
    history = page.inner_text("[data-versions]")
    assert "v2" in history and "v1" in history and "落实压缩中介服务时限要求。" in history
    assert page.locator("[data-version='2'] .tag-good").count() == 1  # v2 in force
    shot(page, "31-item-version-history")
    page.screenshot(path=str(SHOTS / "item-history-1366.png"), full_page=True)

    page.goto(f"{base}/requests/{req_id}")
    assert "事项版本 v1" in page.inner_text("[data-item-version]")  # published before: keeps version 1
    page.screenshot(path=str(SHOTS / "request-keeps-v1-1366.png"), full_page=True)
    with live_server.app_context():
        assert db.session.get(ServiceItem, item_id).standard_days == days - 3
        assert item_name in page.inner_text("main")
