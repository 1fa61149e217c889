"""In a real browser: the enterprise pays an accepted order by bank transfer with a voucher file, the agency
opens the voucher and confirms receipt, and the order page shows it paid in full with nothing outstanding."""

from pathlib import Path

import pytest
from flask_babel import gettext

from tests import factories as f

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _login(browser, base, email, viewport=DESKTOP):
    page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    return page


def test_pay_by_bank_transfer_then_the_agency_confirms(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        enterprise, agency, order = f.accepted_order(price_fen=8_650_000)
        order_id, ent_email, agency_email = order.id, enterprise.email, agency.email
    with live_server.test_request_context("/"):
        paid_in_full = gettext("Paid in full")  # 已付清 once the catalogue carries it
    order_url = f"{base}/orders/{order_id}"

    page = _login(browser, base, ent_email)
    page.goto(order_url)
    panel = page.locator("[data-payment-panel]")
    assert panel.get_attribute("data-payment-status") == "unpaid"
    assert page.inner_text("[data-outstanding]") == "¥86,500.00"
    assert page.input_value("form[data-form=pay-offline] input[name=amount]") == "86500.00"
    page.fill("form[data-form=pay-offline] input[name=reference]", "ICBC20261122-88301")
    page.set_input_files(
        "form[data-form=pay-offline] input[name=voucher]",
        files=[{"name": "转账回单.pdf", "mimeType": "application/pdf", "buffer": f.PDF}],
    )
    panel.scroll_into_view_if_needed()
    shot(page, "30-payment-form")
    page.click("form[data-form=pay-offline] button[type=submit]")
    page.wait_for_selector("[data-payment-state=submitted]")
    assert page.inner_text("[data-awaiting]") == "¥86,500.00"
    assert page.locator("form[data-form=pay-offline]").count() == 0  # nothing left to pay meanwhile
    shot(page, "31-payment-submitted")
    phone = _login(browser, base, ent_email, PHONE)
    phone.goto(order_url)
    shot(phone, "32-payment-submitted-phone")

    agency_page = _login(browser, base, agency_email)
    agency_page.goto(order_url)
    with agency_page.expect_download() as download:
        agency_page.click("[data-voucher]")
    assert download.value.suggested_filename == "转账回单.pdf"
    assert Path(download.value.path()).read_bytes() == f.PDF
    shot(agency_page, "33-payment-to-confirm")
    agency_page.click("form[data-form=confirm-payment] button[type=submit]")
    confirm = agency_page.locator("[data-confirm]")  # 确认收款 asks first: the amount, what is final
    assert "¥86,500.00" in confirm.inner_text() and "以下操作不可撤销" in confirm.inner_text()
    assert agency_page.inner_text("[data-confirm-yes]") == "确认收款 ¥86,500.00"
    agency_page.click("[data-confirm-yes]")
    agency_page.wait_for_selector("[data-payment-state=paid]")
    assert agency_page.get_attribute("[data-payment-panel]", "data-payment-status") == "paid"
    assert agency_page.inner_text("[data-outstanding]") == "¥0.00"
    assert agency_page.inner_text("[data-paid]") == "¥86,500.00"
    assert agency_page.inner_text("[data-ledger-label]") == paid_in_full
    assert agency_page.get_attribute("[data-paid-percent]", "value") == "100"
    shot(agency_page, "34-payment-confirmed")

    page.reload()
    assert page.inner_text("[data-ledger-label]") == paid_in_full
    assert page.inner_text("[data-outstanding]") == "¥0.00"
    phone.reload()
    shot(phone, "35-payment-paid-phone")
