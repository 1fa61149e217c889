"""In a real browser: the request form's cascading selects (city → county inside the market's area), the
agency profile's registered region (province → city → county, anywhere) and service areas (a multi-pick), and
the announcement list filtered by a city. Without JavaScript the same fields are a plain select / text box."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from marketplace.agencies.models import Agency
from marketplace.extensions import db
from marketplace.requests.models import ServiceRequest
from tests import factories as f

pytestmark = pytest.mark.e2e


def _login(page, base, email, password=f.PASSWORD):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


def test_pick_the_project_location_and_the_service_areas(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        enterprise = f.user("enterprise", org_name="苏州市吴中区城乡建设局")
        agency = f.user("agency", org_name="上海徐汇环境科技有限公司")
        item_id = f.market_item("C03").id
        ent_email, agency_email, agency_id = enterprise.email, agency.email, agency.agency.id
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()

    # 1. The enterprise picks 苏州市 → 吴中区: the county list appears only after the city is chosen.
    _login(page, base, ent_email)
    page.goto(f"{base}/enterprise/requests/new")
    page.fill("#title", "吴中经济技术开发区污水管网工程环境影响评价")
    page.fill("#project_code", "2026-320506-26-01-000321")
    page.select_option("#service_item_id", str(item_id))
    page.fill("#scope", "编制环境影响报告表，配合完成技术评估与审批。")
    page.fill("#ceiling", "150000")
    page.fill("#required_days", "30")
    cities = page.locator(".region-picker select[data-level='1'] option")
    assert cities.count() == 14  # — 请选择 — and Jiangsu's 13 cities (the market's area)
    assert page.locator(".region-picker select[data-level='2']").count() == 0
    page.select_option("select.region-level#region_code", "320500")
    page.select_option(".region-picker select[data-level='2']", "320506")
    page.select_option("#funding", "fiscal")
    page.select_option("#selection_method", "lowest_price")
    page.select_option("#required_level", "any")
    deadline = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=10)).strftime("%Y-%m-%dT10:00")
    page.fill("#bid_deadline", deadline)
    shot(page, "40-request-region")
    page.click("button[name=action][value=publish]")
    page.wait_for_url(re.compile(r"/requests/\d+$"))
    request_id = int(page.url.rsplit("/", 1)[1])
    assert "江苏省苏州市吴中区" in page.inner_text("main")
    with live_server.app_context():
        assert db.session.get(ServiceRequest, request_id).region_code == "320506"

    # 2. The public list filtered by Suzhou finds it; by Nanjing it does not.
    page.goto(f"{base}/requests/")
    page.select_option(".filters .region-picker select[data-level='1']", "320500")
    page.click(".filters button[type=submit]")
    page.wait_for_load_state()
    assert "region=320500" in page.url
    assert "吴中经济技术开发区" in page.inner_text("main")
    shot(page, "43-requests-filtered-by-city")
    page.goto(f"{base}/requests/?region=320100")
    assert "吴中经济技术开发区" not in page.inner_text("main")
    page.click("form[action$='/auth/logout'] button")

    # 3. An agency from Shanghai: registered in 徐汇区, serving 苏州市 and 上海市.
    _login(page, base, agency_email)
    page.goto(f"{base}/agency/profile")
    page.fill("#legal_rep", "陈立新")
    page.select_option("select.region-level#region_code", "310000")
    page.select_option(".region-picker:not(.region-multi) select[data-level='2']", "310104")
    multi = page.locator(".region-multi")
    multi.locator("select[data-level='1']").select_option("320000")
    multi.locator("select[data-level='2']").select_option("320500")
    multi.locator("button.region-add").click()
    multi.locator("select[data-level='1']").select_option("310000")
    multi.locator("button.region-add").click()
    assert multi.locator(".region-chips li").count() == 2
    page.check("input[name=category_ids]>> nth=0")
    shot(page, "41-agency-service-areas")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/agency/$"))
    with live_server.app_context():
        saved = db.session.get(Agency, agency_id)
        assert saved.region_code == "310104"
        assert saved.service_area_codes == ["310000", "320500"]
    assert "上海市徐汇区" in page.inner_text("main")

    # 4. On a phone the selects wrap and stay usable.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    _login(phone, base, ent_email)
    phone.goto(f"{base}/enterprise/requests/new")
    phone.select_option("select.region-level#region_code", "320200")
    phone.wait_for_selector(".region-picker select[data-level='2']")
    shot(phone, "42-request-region-phone")


def test_without_javascript_the_fields_are_plain(live_server, browser):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        enterprise = f.user("enterprise")
        email = enterprise.email
    page = browser.new_context(java_script_enabled=False, locale="zh-CN").new_page()
    _login(page, base, email)
    page.goto(f"{base}/enterprise/requests/new")
    options = page.locator("select#region_code option")
    assert options.count() > 100  # every city and county of Jiangsu in one list
    assert page.locator("select#region_code option[value='320506']").count() == 1
