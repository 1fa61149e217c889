"""In a real browser: an enterprise publishes a request → the matching agency sees it under its bell and in its
mail (read from a loopback SMTP server after the clock sent the outbox), opens it from the notifications page,
follows another request (关注) and marks everything read."""

import shutil
from pathlib import Path

import pytest

from marketplace.extensions import db
from tests import factories as f
from tests import timetravel
from tests.e2e.conftest import ARTIFACTS, SHOTS_WANTED
from tests.smtp import body, smtp_server

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots_notify")


def _login(page, base, email):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")


def test_a_matching_request_reaches_the_bell_and_the_mailbox(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with smtp_server() as (inbox, port):
        live_server.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, NOTIFY_SITE_URL=base)
        try:
            with live_server.app_context():
                admin = f.admin()
                agency = f.active_agency("C03", reviewer=admin, org_name="江苏苏环环境科技有限公司")
                elsewhere = f.active_agency("C03", reviewer=admin)
                elsewhere.agency.service_area_codes = ["110000"]
                db.session.commit()
                timetravel.run_clock()  # the approval mails go out
                inbox.messages.clear(), inbox.recipients.clear()
                enterprise = f.user("enterprise")
                req = f.published_request(enterprise, title="连云港徐圩新区管廊项目环境影响评价")
                other = f.published_request(enterprise, title="盐城滨海港区防洪评价")
                timetravel.run_clock()  # the clock sends the outbox after the commit
                agency_email, elsewhere_email = agency.email, elsewhere.email
                req_id, other_id = req.id, other.id

            mails = inbox.to(agency_email)
            subjects = [m["Subject"] for m in mails]
            assert any("连云港徐圩新区管廊项目环境影响评价" in s for s in subjects), subjects
            mail = next(m for m in mails if "管廊" in m["Subject"])
            assert "与贵机构业务匹配的新公告" in body(mail) and f"{base}/requests/{req_id}" in body(mail)
            assert inbox.to(elsewhere_email) == []  # outside its service area

            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            page = context.new_page()
            _login(page, base, agency_email)
            page.goto(f"{base}/")
            bell = page.locator("a.bell")
            assert bell.locator("[data-unread]").inner_text() == "3"  # approval + two announcements
            SHOTS.mkdir(exist_ok=True)
            shot(page, "notify_bell_desktop")
            page.screenshot(
                path=str(SHOTS / "bell_1366.png"), clip={"x": 0, "y": 0, "width": 1366, "height": 200}
            )
            bell.click()
            assert page.url.endswith("/notifications")
            items = page.locator("[data-notification-id]")
            assert items.count() == 3
            assert "连云港徐圩新区管廊项目环境影响评价" in page.locator(
                ".notice-unread"
            ).first.inner_text() or any("管廊" in t for t in page.locator(".notice-unread").all_inner_texts())
            shot(page, "notify_page_desktop")
            page.screenshot(path=str(SHOTS / "page_1366.png"), full_page=True)

            # Open the announcement from its notification: it becomes read and the bell counts one less.
            row = page.locator("[data-notification-id]", has_text="管廊")
            row.locator("[data-open]").click()
            assert page.url.endswith(f"/requests/{req_id}")
            assert page.locator("a.bell [data-unread]").inner_text() == "2"

            # Follow the other request: a POST from its page.
            page.goto(f"{base}/requests/{other_id}")
            page.click("form[data-form=watch] button")
            assert "已关注" in page.locator("#watch").inner_text()

            # Phone width: the bell and the list still fit.
            phone = browser.new_context(
                viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True
            )
            mobile = phone.new_page()
            _login(mobile, base, agency_email)
            mobile.goto(f"{base}/notifications")
            assert mobile.locator("a.bell [data-unread]").is_visible()
            width = mobile.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, width
            shot(mobile, "notify_page_phone")
            mobile.screenshot(path=str(SHOTS / "page_390.png"), full_page=True)
            phone.close()

            page.goto(f"{base}/notifications")
            with page.expect_navigation():  # the page after the POST's redirect, not the one before it
                page.click("form[data-form=read-all] button")
            assert page.locator("a.bell [data-unread]").count() == 0
            assert page.locator(".notice-unread").count() == 0
            page.goto(f"{base}/notifications/preferences")
            page.uncheck("input[name=mail_new_request]")
            page.click("form[data-form=preferences] button[type=submit]")
            assert not page.locator("input[name=mail_new_request]").is_checked()
            shot(page, "notify_preferences_desktop")
            page.screenshot(path=str(SHOTS / "preferences_1366.png"), full_page=True)
            context.close()
        finally:
            live_server.config.update(MAIL_SERVER=None)
    for name in ("notify_bell_desktop", "notify_page_desktop", "notify_page_phone") if SHOTS_WANTED else ():
        shutil.copy(ARTIFACTS / f"{name}.png", SHOTS / f"{name}.png")
