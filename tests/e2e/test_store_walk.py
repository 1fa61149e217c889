"""In a real browser, a buyer's walk through the stores (issue 14): the store's tabs, 收藏 from a store then seen on
the enterprise's desk, the list's filters applying on change (no 筛选 click), and 邀请报价 carrying ?agency=."""

import re

import pytest

from marketplace.extensions import db
from tests import factories as f

pytestmark = pytest.mark.e2e


def test_store_tabs_favourite_filters_and_invite(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        admin = f.admin()
        item = f.market_item("C03")
        agency = f.active_agency("C03", reviewer=admin, org_name="江苏清源环境工程咨询有限公司")
        f.offer(agency, item, price_fen=8_600_000)
        enterprise = f.user("enterprise")
        db.session.commit()
        aid, name, ent_email = agency.agency.id, agency.agency.name, enterprise.email
        item_id, category_id = item.id, item.category_id

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    page.fill("#email", ent_email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")

    # the store's tabs: server-rendered pages, one selected at a time
    page.goto(f"{base}/agencies/{aid}")
    tabs = page.get_by_role("tab")
    assert tabs.all_inner_texts()[0].startswith("首页") and tabs.count() == 4
    assert page.get_attribute("[role=tab][aria-selected=true]", "data-tab") == "home"
    # the five dimension averages in the store's head (as Taobao's DSR): 质量/时效/态度/收费/规范
    dims = page.locator("[data-dimensions] [data-dimension] dt").all_inner_texts()
    assert dims == ["质量", "时效", "态度", "收费", "规范"]
    page.get_by_role("tab", name=re.compile("资质")).click()
    page.wait_for_url(re.compile(r"tab=qualifications"))
    assert page.get_attribute("[role=tab][aria-selected=true]", "data-tab") == "qualifications"
    # verified, with the date
    assert re.search(r"已核验 \d{4}-\d{2}-\d{2}", page.inner_text("[role=tabpanel]"))
    page.get_by_role("tab", name=re.compile("全部服务")).click()
    page.wait_for_url(re.compile(r"tab=services"))
    assert page.locator("[role=tabpanel] .offer-card").count() == 1
    shot(page, "store-services-tab")

    # 收藏 from the store, then on the desk with an 邀请报价 link
    page.click(f"button[data-favourite='{aid}']")
    assert page.get_attribute(f"button[data-favourite='{aid}']", "aria-pressed") == "true"
    page.goto(f"{base}/enterprise/")
    row = page.locator(f"[data-favourite-row='{aid}']")
    assert name in row.inner_text()
    assert (
        row.locator("a[data-link=invite]").get_attribute("href") == f"/enterprise/requests/new?agency={aid}"
    )
    shot(page, "desk-favourites")

    # 邀请报价 in the store carries the agency (and the item on an offer card) to the request form
    page.goto(f"{base}/agencies/{aid}")
    page.click("a[data-link=invite-agency]")
    page.wait_for_url(re.compile(r"/enterprise/requests/new\?agency=" + str(aid) + "$"))
    page.goto(f"{base}/agencies/{aid}")
    href = page.get_attribute(".offer-card a[data-link=invite]", "href")
    assert href == f"/enterprise/requests/new?item={item_id}&agency={aid}"

    # 发布需求 on the home hero; on a catalogue item 发布需求 and 邀请报价 beside each offering agency, pre-filled
    page.goto(f"{base}/")
    assert page.get_attribute(".hero a[data-link=post-request]", "href") == "/enterprise/requests/new"
    page.goto(f"{base}/catalogue/items/{item_id}")
    assert page.get_attribute(f"a[data-link=invite][href$='agency={aid}']", "href") == href
    page.click("a[data-link=post-request]")
    page.wait_for_url(re.compile(rf"/enterprise/requests/new\?item={item_id}$"))
    assert page.input_value("#service_item_id") == str(item_id)

    # the list's filters apply on change: choosing a category, then an item, reloads without pressing 筛选
    page.goto(f"{base}/agencies/")
    assert page.is_disabled("select[name=service_item]")
    with page.expect_navigation():
        page.select_option("select[name=category]", str(category_id))
    assert f"category={category_id}" in page.url
    with page.expect_navigation():
        page.select_option("select[name=service_item]", str(item_id))
    assert f"service_item={item_id}" in page.url
    assert name in page.inner_text(".agency-grid")
    assert page.get_attribute(f"button[data-favourite='{aid}']", "aria-pressed") == "true"
    shot(page, "list-filtered-by-item")
    context.close()
