"""In a real browser, the heart of the market: post → three agencies bid (sealed) → deadline → compare →
select → publicity → order → progress → deliver → accept. Time moves by shifting dates, never by sleeping."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel

pytestmark = pytest.mark.e2e
PRICES = ["268000", "259500", "281000"]  # yuan


def _login(page, base, email, password=f.PASSWORD):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


def _logout(page):
    page.click("form[action$='/auth/logout'] button")


def test_post_bid_compare_select_order_accept(live_server, browser, shot, tmp_path):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        admin = f.admin()
        enterprise = f.user("enterprise", org_name="连云港徐圩新区管委会")
        agencies = [f.active_agency("C03", reviewer=admin) for _ in range(3)]
        item = f.market_item("C03")
        item_id, item_name = item.id, item.name
        ent_email, agency_emails = enterprise.email, [a.email for a in agencies]
        agency_names = [a.agency.name for a in agencies]
    report = tmp_path / "环评报告书.pdf"
    report.write_bytes(f.PDF)
    drawing = tmp_path / "管廊总平面图.dwg"
    drawing.write_bytes(b"AC1032\x00\x00\x00\x00\x00\x06\x01" + bytes(200))  # AutoCAD 2018's header
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()

    # 1. The enterprise posts and publishes the request.
    _login(page, base, ent_email)
    page.goto(f"{base}/enterprise/requests/new")
    page.fill("#title", "徐圩新区化工园区配套管廊项目环境影响评价")
    page.fill("#project_code", "2026-320700-26-01-000888")
    page.select_option("#service_item_id", str(item_id))
    page.fill("#scope", "编制环境影响报告书，配合完成技术评估、专家评审与审批。")
    page.fill("#ceiling", "300000")
    page.fill("#required_days", "40")
    # city, then county (static/js/regions.js builds the selects)
    page.select_option("select.region-level#region_code", "320700")
    page.select_option(".region-picker select[data-level='2']", "320703")
    page.select_option("#funding", "fiscal")
    page.select_option("#selection_method", "lowest_price")
    page.select_option("#required_level", "any")
    deadline = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=10)).strftime("%Y-%m-%dT10:00")
    page.fill("#bid_deadline", deadline)
    shot(page, "10-request-form")
    page.click("button[name=action][value=publish]")
    page.wait_for_url(re.compile(r"/requests/\d+$"))
    request_url = page.url
    request_id = int(request_url.rsplit("/", 1)[1])
    assert page.get_attribute("[data-status]", "data-status") == "bidding"
    with live_server.app_context():
        commitment = db.session.get(ServiceRequest, request_id).draw_commitment
    assert commitment in page.content() and item_name in page.inner_text("main")
    shot(page, "11-announcement")
    # 撤销公告 asks first (method and ceiling, what ends); going back changes nothing (the server checks too)
    page.fill("form[data-form=cancel] [name=reason]", "项目选址调整，暂停采购")
    page.click("form[data-form=cancel] button[type=submit]")
    confirm = page.locator("[data-confirm]")
    assert "撤销该公告？" in confirm.inner_text() and "以下操作不可撤销" in confirm.inner_text()
    assert "竞价选取" in confirm.inner_text() and "¥300,000.00" in confirm.inner_text()
    page.click("[data-confirm] a.btn")
    assert page.get_attribute("[data-status]", "data-status") == "bidding"
    _logout(page)

    # 2. Three agencies find it in their inbox and bid.
    for email, price in zip(agency_emails, PRICES, strict=True):
        _login(page, base, email)
        page.goto(f"{base}/agency/inbox")
        page.click(f"a[href$='/requests/{request_id}']")
        page.fill("form[data-form=bid] [name=price]", price)
        page.fill("form[data-form=bid] [name=promised_days]", "30")
        page.fill(
            "form[data-form=bid] [name=plan]", "组建环评项目组，现场踏勘、监测布点，30 日内提交报告书。"
        )
        page.click("form[data-form=bid] button[type=submit]")
        page.wait_for_selector("form[data-form=withdraw]")
        assert f"{int(price):,}" in page.inner_text("main")  # the agency sees its own bid
        for other in set(PRICES) - {price}:
            assert f"{int(other):,}" not in page.content()  # …and nobody else's
        _logout(page)

    # 3. Before the deadline the enterprise sees only the count.
    _login(page, base, ent_email)
    page.goto(request_url)
    html = page.content()
    assert not any(f"{int(p):,}" in html or p in html for p in PRICES)
    assert not any(name in html for name in agency_names)

    # 4. The deadline passes; the enterprise compares and selects.
    with live_server.app_context():
        timetravel.past_deadline(db.session.get(ServiceRequest, request_id))
    page.goto(request_url)
    assert page.get_attribute("[data-status]", "data-status") == "evaluating"
    page.click("a[data-link=compare]")
    table = page.inner_text("main")
    assert all(f"{int(p):,}" in table for p in PRICES) and all(n in table for n in agency_names)
    shot(page, "12-compare")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    mobile = phone.new_page()
    mobile.context.add_cookies(page.context.cookies())
    mobile.goto(page.url)
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 391
    shot(mobile, "13-compare-phone")
    phone.close()
    page.click("form[data-form=select] button[type=submit]")
    confirm = page.locator("[data-confirm]")  # 执行比选 asks first: the method, the bids, what is final
    assert "竞价选取" in confirm.inner_text() and "以下操作不可撤销" in confirm.inner_text()
    assert confirm.locator("dd").all_inner_texts()[-1] == "3"  # 有效报价数
    page.click("[data-confirm-yes]")
    page.wait_for_url(re.compile(rf"/requests/{request_id}$"))
    assert page.get_attribute("[data-status]", "data-status") == "publicity"
    assert agency_names[1] in page.inner_text("main")  # lowest price wins, named publicly
    page.click("a[data-link=draw]")
    assert commitment in page.content()
    scores = page.locator("[data-score]").all_inner_texts()  # 信用分 in one format: two decimals
    assert len(scores) == 3 and all(re.fullmatch(r"\d+\.\d\d", s) for s in scores), scores
    shot(page, "14-draw-proof")

    # 5. Publicity ends; the order exists.
    with live_server.app_context():
        timetravel.publicity_over(db.session.get(ServiceRequest, request_id))
    page.goto(request_url)
    assert page.get_attribute("[data-status]", "data-status") == "awarded"
    with live_server.app_context():
        order_id = orders.order_for_request(request_id).id
    _logout(page)

    # 6. The winner confirms, reports progress and delivers.
    _login(page, base, agency_emails[1])
    page.goto(f"{base}/orders/{order_id}")
    page.click("form[data-form=confirm] button[type=submit]")
    page.fill("form[data-form=progress] [name=text]", "完成现场踏勘与环境质量现状监测")
    page.fill("form[data-form=progress] [name=percent]", "40")
    page.click("form[data-form=progress] button[type=submit]")
    assert "完成现场踏勘" in page.inner_text("main")
    page.fill("form[data-form=deliver] [name=text]", "提交环境影响报告书（报批稿）")
    # the trades' formats: a drawing (DWG, checked by its content) beside the report
    page.set_input_files("form[data-form=deliver] [name=files]", [str(report), str(drawing)])
    page.click("form[data-form=deliver] button[type=submit]")
    assert page.get_attribute("[data-status]", "data-status") == "delivered"
    _logout(page)

    # 7. The enterprise accepts.
    _login(page, base, ent_email)
    page.goto(f"{base}/orders/{order_id}")
    assert "环评报告书.pdf" in page.inner_text("main") and "管廊总平面图.dwg" in page.inner_text("main")
    page.click("form[data-form=accept] button[type=submit]")
    page.click("[data-confirm-yes]")  # 确认验收 asks first
    assert page.get_attribute("[data-status]", "data-status") == "accepted"
    assert page.get_attribute("[data-deadline]", "data-deadline") == "ok"
    shot(page, "15-order-accepted")
