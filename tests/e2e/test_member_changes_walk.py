"""In a real browser: a member agency submits a new practitioner for change review, the operator of its region
approves it on the change desk, and the agency sees it approved; the deadline shows on both sides."""

import re

import pytest

from marketplace.auth import services as auth_services
from marketplace.auth.models import Role
from marketplace.extensions import db
from tests import factories as f

pytestmark = pytest.mark.e2e


def _login(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


def test_member_submits_a_practitioner_and_the_operator_approves_it(live_server, browser, shot, tmp_path):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        member = f.active_agency(
            "C04", org_name="南京安衡安全技术有限公司", practitioners=2, registration="注册安全工程师"
        )
        agency_email = member.email
        auth_services.create_staff("yunying@test.cn", "Oper12345", Role.OPERATOR, "320100")
        db.session.commit()
    scan = tmp_path / "注册证书.pdf"
    scan.write_bytes(f.PDF)
    full_id = f.id_number(region="320104", born="19880716")

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()

    # 1. The member adds a practitioner: it is a change under review, not yet counted.
    _login(page, base, agency_email, f.PASSWORD)
    page.goto(f"{base}/agency/people")
    assert "变更审核" in page.inner_text(".flash-info")
    page.fill("[data-form=practitioner] #name", "孙志远")
    page.fill("[data-form=practitioner] #id_number", full_id)
    page.fill("[data-form=practitioner] #registration", "注册安全工程师")
    page.fill("[data-form=practitioner] #certificate_no", "AQ2021320100456")
    page.fill("[data-form=practitioner] #years", "6")
    page.set_input_files("[data-form=practitioner] #file", str(scan))
    page.click("[data-form=practitioner] button[type=submit]")
    row = page.locator("#practitioners tr", has_text="孙志远")
    assert row.locator("[data-status]").get_attribute("data-status") == "pending"
    assert full_id not in page.content() and full_id[-4:] in row.inner_text()  # masked for the agency itself
    page.goto(f"{base}/agency/changes")
    change_row = page.locator("[data-table=changes] tr", has_text="孙志远")
    assert "审核时限：" in change_row.inner_text()
    shot(page, "member-change-01-submitted")
    page.click("form[action$='/auth/logout'] button")

    # 2. The operator of 南京市 approves it on the change desk.
    _login(page, base, "yunying@test.cn", "Oper12345")
    page.goto(f"{base}/admin/changes")
    page.click("text=南京安衡安全技术有限公司")
    page.wait_for_url(re.compile(r"/admin/changes/\d+$"))
    assert page.inner_text("[data-id-number]") == full_id  # staff see the full ID number
    assert "审核时限：" in page.inner_text("[data-due]")
    shot(page, "member-change-02-operator")
    page.click("[data-form=approve] button")
    page.wait_for_url(re.compile(r"/admin/changes$"))
    assert "孙志远" not in page.inner_text("main")  # no longer pending
    page.click("form[action$='/auth/logout'] button")

    # 3. The member sees it approved.
    _login(page, base, agency_email, f.PASSWORD)
    page.goto(f"{base}/agency/people")
    row = page.locator("#practitioners tr", has_text="孙志远")
    assert row.locator("[data-status]").get_attribute("data-status") == "approved"
    page.goto(f"{base}/agency/changes")
    assert page.locator("[data-table=changes] [data-status]").first.get_attribute("data-status") == "approved"
    shot(page, "member-change-03-approved")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    mobile = phone.new_page()
    _login(mobile, base, agency_email, f.PASSWORD)
    mobile.goto(f"{base}/agency/people")
    shot(mobile, "member-change-04-people-phone")
    phone.close()
    context.close()
