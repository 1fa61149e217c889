"""In a real browser (issue 14: staff tools and English, trust in the footer): the footer's organiser, help line and
ICP number lead to the help and rules pages; an agency reports an abusive comment and the operator hides it from
the moderation list, then restores it; the operator previews a scan inline (PDF viewer in the page) and sees no
department rating form, which the department does; in English the catalogue, plurals and colons read as English."""

import pytest
from playwright.sync_api import expect

from marketplace.extensions import db
from marketplace.ratings import services as ratings
from tests import factories as f

pytestmark = pytest.mark.e2e


def _login(page, base: str, email: str) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")


def test_footer_help_moderation_scans_department_form_and_english(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        enterprise, agency, order = f.accepted_order()
        rating = ratings.rate_order(
            enterprise, order.id, dict.fromkeys(ratings.SCORES, 1) | {"comment": "骗子公司，一群垃圾"}
        )
        db.session.commit()
        pending = f.pending_agency()
        operator = f.staff("operator", pending.agency.region_code)
        city_operator = f.staff("operator", "320700")  # the order's city
        department = f.staff("department", "320700", "市生态环境局")
        ids = {"order": order.id, "rating": rating.id, "pending": pending.agency.id}
        emails = {"agency": agency.email, "operator": operator.email, "city": city_operator.email}
        dept_email = department.email
        organiser, hotline = live_server.config["SITE_ORGANISER"], live_server.config["SITE_HOTLINE"]

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()

    # the footer: trust settings, help per role, the three rules pages
    page.goto(f"{base}/")
    footer = page.locator("footer")
    assert organiser in footer.inner_text() and hotline in footer.inner_text()
    assert page.locator("[data-icp] a").get_attribute("href").startswith("https://beian.miit.gov.cn")
    page.click("footer [data-link=help]")
    roles = page.locator("[data-help-role]").evaluate_all("els => els.map(e => e.dataset.helpRole)")
    assert {"enterprise", "agency", "operator", "department", "supervisor"} <= set(roles)  # a guide per role
    page.click("[data-help-role=enterprise]")
    assert page.locator(".help-step").count() >= 5
    page.click(".help-step [data-help-link='enterprise.new_request']")
    assert "/auth/login" in page.url  # a real page: publishing asks the visitor to log in first
    for link, marker in (
        ("selection-rules", "[data-method=average_price]"),
        ("credit-rules", "table[data-grades]"),
        ("fee-rules", "[data-rule=abnormally_low]"),
    ):
        page.goto(f"{base}/")
        page.click(f"footer [data-link={link}]")
        expect(page.locator(marker)).to_have_count(1)
    shot(page, "h5-01-fee-rules")

    # the agency reports the comment; the operator of the order's city hides it, then restores it
    _login(page, base, emails["agency"])
    page.goto(f"{base}/orders/{ids['order']}")
    page.fill("form[data-form=report-comment] input[name=text]", "评价含辱骂用语")
    page.click("form[data-form=report-comment] button[type=submit]")
    expect(page.locator("[data-reported]")).to_have_count(1)
    context.clear_cookies()
    _login(page, base, emails["city"])
    page.goto(f"{base}/admin/")
    page.click("[data-desk='rating_admin.moderation_list']")
    # the staff bar names the moderation list too, marked as the page the operator is on
    assert "active" in page.get_attribute("nav.staffnav a[data-link=ratings-moderation]", "class")
    card = page.locator(f"[data-rating-id='{ids['rating']}']")
    assert card.get_attribute("data-reported") == "1"
    card.locator("input[name=text]").fill("含侮辱性言辞")
    card.locator("[data-action=hide]").click()
    page.click("[data-view=hidden]")
    card = page.locator(f"[data-rating-id='{ids['rating']}']")
    assert card.get_attribute("data-hidden") == "1"
    shot(page, "h5-02-moderation-hidden")
    card.locator("input[name=text]").fill("复核后恢复显示")
    with page.expect_navigation():  # the list after the POST's redirect, not the one before it
        card.locator("[data-action=restore]").click()
    assert page.locator(f"[data-rating-id='{ids['rating']}']").count() == 0  # no longer among the hidden

    # the operator sees the order's rating panel but not the department's form; the department does
    page.goto(f"{base}/orders/{ids['order']}")
    assert page.locator("[data-rating-panel]").count() == 1
    assert page.locator("form[data-form=department-rate]").count() == 0
    context.clear_cookies()
    _login(page, base, dept_email)
    page.goto(f"{base}/orders/{ids['order']}")
    assert page.locator("form[data-form=department-rate]").count() == 1

    # the membership reviewer previews a scan in the page: served inline as a PDF
    context.clear_cookies()
    _login(page, base, emails["operator"])
    page.goto(f"{base}/admin/agencies/{ids['pending']}")
    preview = page.locator("[data-scan-pdf]").first
    preview.locator("summary").click()
    src = preview.locator("iframe").get_attribute("src")
    response = page.request.get(f"{base}{src}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    assert "audit_action" not in page.content() and "agency.apply" not in page.inner_text("main")
    shot(page, "h5-03-scan-preview")

    # English: catalogue names, plurals and ASCII colons
    page.goto(f"{base}/auth/lang/en?next=/catalogue/")
    assert "Environmental impact assessment (report)" in page.inner_text("main")
    page.goto(f"{base}/agencies/")
    assert "1 rating" in page.inner_text("main") and "1 ratings" not in page.inner_text("main")
    assert "Organiser:" in page.inner_text("footer")
    context.close()
