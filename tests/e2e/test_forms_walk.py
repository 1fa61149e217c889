"""In a real browser, forms that fit: 确认验收 asks first on its own page and acts on 确认; the rating stars are
picked by mouse and by keyboard; the file button says 选择文件 and shows the chosen file's name; a date is typed
as YYYY-MM-DD (a text box, not Chromium's English date picker) and a wrong one is refused in Chinese."""

import pytest

from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.ratings.models import Rating
from tests import factories as f

pytestmark = pytest.mark.e2e


def _log_in(page, base, email):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


def test_confirm_then_rate_with_stars_and_the_chinese_file_button_and_dates(
    live_server, browser, shot, tmp_path
):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        enterprise, agency, order = f.accepted_order(accept=False, price_fen=4_560_000)
        order_id, ent_email, agency_email = order.id, enterprise.email, agency.email

    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    _log_in(page, base, ent_email)
    page.goto(f"{base}/orders/{order_id}")

    # 确认验收 asks first: the page names the amount and what cannot be undone; 返回 changes nothing
    page.click("form[action$='/accept'] button[type=submit]")
    panel = page.locator("[data-confirm]")
    assert "¥45,600.00" in panel.inner_text() and "不可撤销" in panel.inner_text()
    shot(page, "forms-01-confirm-acceptance")
    page.click("[data-confirm] a.btn")
    with live_server.app_context():
        assert db.session.get(Order, order_id).status == "delivered"
    page.click("form[action$='/accept'] button[type=submit]")
    page.click("[data-confirm-yes]")
    page.wait_for_selector("[data-rating-panel]")
    with live_server.app_context():
        assert db.session.get(Order, order_id).status == "accepted"

    # stars: a click on the fourth star lights four; the keyboard moves along a row
    rate = page.locator("form[data-form=rate]")
    row = rate.locator("[data-stars=overall]")
    row.locator(".star-label").nth(3).click()
    assert rate.locator("input[name=overall][value='4']").is_checked()
    lit = row.locator(".star-label").evaluate_all("els => els.map(e => getComputedStyle(e).color)")
    assert lit[0] == lit[3] != lit[4]  # four orange, the fifth grey
    assert row.locator(".star-word[data-score='4']").is_visible()
    rate.locator("input[name=quality][value='1']").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert rate.locator("input[name=quality][value='3']").is_checked()
    for name in ("timeliness", "attitude", "fee", "compliance"):
        rate.locator(f"[data-stars={name}] .star-label").nth(4).click()
    tops = rate.locator(".star-pick").evaluate_all("els => els.map(e => e.getBoundingClientRect().left)")
    assert len(set(tops)) == 1  # the six rows' stars start in one column
    shot(page, "forms-02-rating-stars")
    rate.locator("button[type=submit]").click()
    assert page.get_attribute("[data-rating]", "data-rating") == "4"
    with live_server.app_context():
        assert db.session.query(Rating).filter_by(order_id=order_id).one().quality == 3

    # the agency's qualification form: 选择文件 and YYYY-MM-DD
    page.context.clear_cookies()
    _log_in(page, base, agency_email)
    page.goto(f"{base}/agency/qualifications")
    form = page.locator("form.form[enctype]").last
    native = form.locator("[data-file-button] input[type=file]")
    box = native.bounding_box()
    assert box["width"] <= 1 and box["height"] <= 1  # hidden visually, still in the page
    choose = form.locator("[data-file-button] .file-choose")
    assert choose.inner_text() == "选择文件" and choose.is_visible()
    assert form.locator("[data-file-name]").inner_text() == "未选择文件"
    scan = tmp_path / "测绘资质证书.pdf"
    scan.write_bytes(f.PDF)
    with page.expect_file_chooser() as chooser:
        choose.click()  # the Chinese button opens the browser's file chooser
    chooser.value.set_files(str(scan))
    assert form.locator("[data-file-name]").inner_text() == "测绘资质证书.pdf"
    day = form.locator("input[name=valid_until]")
    assert day.get_attribute("type") == "text" and day.get_attribute("placeholder") == "YYYY-MM-DD"
    form.locator("input[name=number]").fill("甲测资字32000001")
    form.locator("input[name=issuer]").fill("江苏省自然资源厅")
    day.fill("2028-13-01")
    form.locator("button[type=submit]").click()
    error = page.locator(".field.has-error", has=page.locator("input[name=valid_until]"))
    assert "请按 YYYY-MM-DD 填写日期" in error.inner_text()
    assert page.locator("input[name=number]").input_value() == "甲测资字32000001"  # the rest is kept
    shot(page, "forms-03-file-button-and-date")
