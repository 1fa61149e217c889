"""In a real browser: the account page lists where one is logged in; changing the password logs the phone out
and keeps this browser; "log out everywhere" ends this one too."""

import pytest

from tests import factories as f

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "N3w-passw0rd"


def _login(browser, base, email, viewport=DESKTOP, **context):
    page = browser.new_context(viewport=viewport, locale="zh-CN", **context).new_page()
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    return page


def test_sessions_password_change_and_logging_out_everywhere(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        email = f.active_agency().email

    phone = _login(browser, base, email, PHONE, user_agent=IPHONE)
    page = _login(browser, base, email)
    page.click("[data-link=account]")
    assert page.url.endswith("/auth/account")
    rows = page.locator("tr[data-session]")
    assert rows.count() == 2
    current = page.locator("tr[data-session=current]")
    assert "本设备" in current.inner_text() and "127.0.0.1" in current.inner_text()
    assert "Safari · iPhone" in page.locator("tr[data-session=other]").inner_text()
    shot(page, "60-account")
    phone.goto(f"{base}/auth/account")
    assert phone.locator("tr[data-session=current]").count() == 1
    shot(phone, "61-account-phone")

    page.fill("#current_password", f.PASSWORD)
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    page.click("[data-section=password] button[type=submit]")
    assert "密码已修改" in page.inner_text(".flashes")
    assert page.locator("tr[data-session]").count() == 1  # only this browser is left
    phone.reload()
    assert "/auth/login" in phone.url  # the phone was logged out
    shot(page, "62-account-password-changed")

    page.click("form.logout-everywhere button[type=submit]")
    assert "/auth/login" in page.url and "已退出所有设备" in page.inner_text(".flashes")
    page.goto(f"{base}/auth/account")
    assert "/auth/login" in page.url
