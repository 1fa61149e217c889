"""In a real browser, forms that fit the choice (issue 14): the request form shows the weights only for the
composite method and the shortlist size only for the credit shortlist; picking a service item shows its standard
days, guide range and the market's median price; ?agency= invites a store's agency, which after publication
finds the request marked 邀请 in its inbox and a bid form pre-filled with its store price; the offer form shows
only the chosen pricing mode's fields and no discount for a market-priced item."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests import factories as f

pytestmark = pytest.mark.e2e


def _login(page, base, email, password=f.PASSWORD):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


def test_request_form_fits_the_method_item_and_invitation(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        enterprise = f.user("enterprise", org_name="连云港徐圩新区管委会")
        invited = f.active_agency("C03", org_name="连云港华测环境咨询有限公司")
        guided = f.guided_item()
        market = f.market_item("C03")
        f.offer(invited, market, price_fen=26_800_000, promised_days=35)
        # one deal of the market-priced item: the form's median (¥250,000.00, 1 order)
        f.accepted_order(price_fen=25_000_000, agency=invited, service_item_id=market.id)
        ent_email, agency_email, agency_id = enterprise.email, invited.email, invited.agency.id
        guided_id, guided_days, market_id = guided.id, guided.standard_days, market.id
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()

    # 1. Method switch: weights only for composite, shortlist size only for the credit shortlist.
    _login(page, base, ent_email)
    page.goto(f"{base}/enterprise/requests/new?agency={agency_id}")
    weights = page.locator("[data-show-when='selection_method=composite']")
    shortlist = page.locator("[data-show-when='selection_method=credit_shortlist']")
    assert page.input_value("#selection_method") == "lowest_price"
    assert weights.is_hidden() and shortlist.is_hidden()
    page.select_option("#selection_method", "composite")
    assert weights.is_visible() and shortlist.is_hidden()
    page.select_option("#selection_method", "credit_shortlist")
    assert weights.is_hidden() and shortlist.is_visible()
    assert page.input_value("#required_level") == ""  # 请选择, no silent default

    # 2. Picking an item shows its facts, fetched from /api/v1/catalogue/items/{id}/facts.
    facts = page.locator("[data-item-facts]")
    assert facts.is_hidden()
    page.select_option("#service_item_id", str(guided_id))
    page.locator("[data-fact=days]", has_text=f"{guided_days} 天").wait_for()  # (the CSP forbids eval)
    assert "暂无成交" in page.inner_text("[data-fact=median]")  # the figures: tests/unit/test_forms_fit.py
    assert "至" in page.inner_text("[data-fact=guide]")
    page.select_option("#service_item_id", str(market_id))
    page.locator("[data-fact=guide]", has_text="市场调节价").wait_for()
    assert page.inner_text("[data-fact=median]") == "¥250,000.00（1 单）"

    # 3. The invitation from the store link, then publication.
    assert "邀请 连云港华测环境咨询有限公司 报价" in page.inner_text("[data-invitation]")
    page.select_option("#selection_method", "lowest_price")
    page.fill("#title", "徐圩新区化工园区配套管廊项目环境影响评价")
    page.fill("#project_code", "2026-320700-26-01-000888")
    page.fill("#scope", "编制环境影响报告书，配合完成技术评估、专家评审与审批。")
    page.fill("#ceiling", "300000")
    page.fill("#required_days", "40")
    page.select_option("select.region-level#region_code", "320700")
    page.select_option(".region-picker select[data-level='2']", "320703")
    page.select_option("#required_level", "any")
    deadline = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=10)).strftime("%Y-%m-%dT10:00")
    page.fill("#bid_deadline", deadline)
    shot(page, "h3-request-form")
    page.click("button[name=action][value=publish]")
    page.wait_for_url(re.compile(r"/requests/\d+$"))
    request_id = page.url.rsplit("/", 1)[1]
    page.click("form[action$='/auth/logout'] button")

    # 4. The invited agency: the bell, the inbox's 邀请 mark and a bid pre-filled with its store price.
    _login(page, base, agency_email)
    page.goto(f"{base}/agency/inbox")
    row = page.locator(f"li[data-request-id='{request_id}']")
    assert row.locator("[data-invited]").inner_text() == "邀请"
    page.goto(f"{base}/notifications")
    assert "连云港徐圩新区管委会 邀请贵机构" in page.inner_text("main")
    page.goto(f"{base}/requests/{request_id}")
    assert page.input_value("form[data-form=bid] input[name=price]") == "268000.00"
    assert "按本店报价预填" in page.inner_text("[data-prefilled]")

    # 5. The offer form: only the chosen mode's fields; no discount for a market-priced item.
    page.goto(f"{base}/agency/offers")
    form = page.locator("form[data-form=offer]")
    page.select_option("#service_item_id", str(market_id))
    discount = form.locator("input[name=price_mode][value=discount]")
    assert discount.is_hidden()
    assert form.locator("#price").is_visible() and form.locator("#price_min").is_hidden()
    form.locator("input[name=price_mode][value=range]").check()
    assert form.locator("#price").is_hidden() and form.locator("#price_min").is_visible()
    assert form.locator("#discount_pct").is_hidden()
