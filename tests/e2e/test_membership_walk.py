"""In a real browser: an agency registers and applies, an administrator approves, the agency opens its store,
and the public list and store page show the offer."""

import re

import pytest

from marketplace.auth import services as auth_services
from marketplace.catalogue.models import Category
from marketplace.common import uscc
from marketplace.extensions import db
from tests.factories import PDF, id_number

pytestmark = pytest.mark.e2e


# every required mark (`*`) shares a line with its label's last word (never wrapped onto a line alone)
STAR_ON_LABEL_LINE = """() => [...document.querySelectorAll('.label em.req')].every(em => {
  const range = document.createRange();
  range.selectNodeContents(em.parentElement.firstChild);
  const rects = range.getClientRects(), last = rects[rects.length - 1], star = em.getBoundingClientRect();
  return star.top < last.bottom && star.bottom > last.top;
})"""


def test_agency_joins_and_its_offer_is_public(live_server, browser, shot, tmp_path):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        auth_services.create_admin("reviewer@test.cn", "Admin12345")
        db.session.commit()
        category = db.session.query(Category).filter_by(code="C08").one()
        category_id, category_name = category.id, category.name
        item_id, item_name = category.items[0].id, category.items[0].name
    scan = tmp_path / "测绘资质证书.pdf"
    scan.write_bytes(PDF)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()

    # 1. Register as an agency; a wrong credit code is refused in Chinese first.
    page.goto(f"{base}/auth/register?role=agency")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.check("input[name=role][value=agency]")
    page.fill("#org_name", "南京恒远测绘地理信息有限公司")
    page.fill("#uscc", "91320100MA1XYW7Q01")  # wrong check digit
    page.fill("#contact_name", "钱立新")
    page.fill("#phone", "13912345678")
    page.fill("#email", "hengyuan@test.cn")
    page.fill("#password", "Abc12345")
    page.fill("#confirm", "Abc12345")
    page.click("form.form button[type=submit]")
    assert page.locator(".field .error").first.is_visible()
    assert re.search(r"[\u4e00-\u9fff]", page.locator(".field .error").first.inner_text())  # said in Chinese
    # what was typed is kept, except the passwords, which the page says; every `*` on its label's line
    assert (
        page.input_value("#org_name") == "南京恒远测绘地理信息有限公司"
        and page.input_value("#phone") == "13912345678"
    )
    assert page.input_value("#password") == "" and "密码" in page.inner_text("[data-password-note]")
    assert page.evaluate(STAR_ON_LABEL_LINE), "a required mark wrapped onto a line of its own"
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(STAR_ON_LABEL_LINE), "a required mark wrapped onto a line of its own at 390 px"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.fill("#uscc", uscc.make("91", "320100", "MA1XYW7Q0"))  # valid check digit
    page.fill("#password", "Abc12345")
    page.fill("#confirm", "Abc12345")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/agency/$"))
    assert page.get_attribute("[data-status]", "data-status") == "draft"

    # 2. Profile, categories, a qualification with its scan, then apply.
    page.click("nav.tabs a[href$='/agency/profile']")
    # the contact person and phone given at registration are carried into the profile
    assert (
        page.input_value("#contact_name") == "钱立新" and page.input_value("#contact_phone") == "13912345678"
    )
    page.fill("#legal_rep", "周建华")
    page.select_option("select.region-level#region_code", "320000")  # province → city → county
    page.select_option(".region-picker:not(.region-multi) select[data-level='2']", "320100")
    page.select_option(".region-picker:not(.region-multi) select[data-level='3']", "320105")
    page.fill("#contact_phone", "13912345678")
    page.check(f"input[name=category_ids][value='{category_id}']")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/agency/$"))
    page.goto(f"{base}/agency/qualifications")
    page.fill("#name", "测绘资质")
    page.select_option("#level", "乙级")
    page.fill("#number", "乙测资字32100123")
    page.fill("#issuer", "江苏省自然资源厅")
    page.fill("#valid_until", "2029-06-30")
    page.set_input_files("#file", str(scan))
    page.click("form.form button[type=submit]")
    assert "测绘资质" in page.inner_text("table")
    # The entry evidence: the signed pledge, the authorised person with the power of attorney, a practitioner.
    page.goto(f"{base}/agency/people")
    for kind in ("pledge", "authorisation"):
        page.set_input_files(f"form[action$='/agency/evidence/{kind}'] input[type=file]", str(scan))
        page.click(f"form[action$='/agency/evidence/{kind}'] button")
    page.fill("#authorised-name", "王晓东")
    page.fill("#authorised-id_number", id_number())
    page.fill("#authorised-phone", "13912345670")
    page.click("[data-form=authorised] button")
    page.fill("[data-form=practitioner] #name", "钱立新")
    page.fill("[data-form=practitioner] #id_number", id_number())
    page.fill("[data-form=practitioner] #registration", "注册测绘师")
    page.fill("[data-form=practitioner] #certificate_no", "CH2019320100123")
    page.set_input_files("[data-form=practitioner] #file", str(scan))
    page.click("[data-form=practitioner] button[type=submit]")
    assert "钱立新" in page.inner_text("#practitioners")
    page.goto(f"{base}/agency/")
    page.click("form[action$='/agency/apply'] button")
    assert page.get_attribute("[data-status]", "data-status") == "pending"
    shot(page, "01-agency-applied")
    page.click("form[action$='/auth/logout'] button")

    # 3. The administrator approves.
    page.goto(f"{base}/auth/login")
    page.fill("#email", "reviewer@test.cn")
    page.fill("#password", "Admin12345")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/applications"))
    page.click("text=南京恒远测绘地理信息有限公司")
    shot(page, "02-admin-review")
    page.click("form[action$='/approve'] button")
    page.click("[data-confirm-yes]")  # 审核通过 asks first
    assert page.get_attribute("[data-status]", "data-status") == "active"
    page.click("form[action$='/auth/logout'] button")

    # 4. The agency lists an offer.
    page.goto(f"{base}/auth/login")
    page.fill("#email", "hengyuan@test.cn")
    page.fill("#password", "Abc12345")
    page.click("form.form button[type=submit]")
    page.goto(f"{base}/agency/offers")
    page.select_option("#service_item_id", str(item_id))
    page.check("input[name=price_mode][value=fixed]")
    page.fill("#price", "18800")
    page.fill("#promised_days", "6")
    page.fill("#description", "含外业测量、内业成图及成果报告")
    page.click("#offer-form button[type=submit]")
    assert "¥18,800.00" in page.inner_text("table")
    page.click("form[action$='/auth/logout'] button")

    # 5. The public finds it in the list (filtered by category and region) and on the store page.
    page.goto(f"{base}/agencies/?category={category_id}&region=南京市")
    card = page.locator(".agency-card", has_text="南京恒远测绘地理信息有限公司")
    assert card.count() == 1
    shot(page, "03-public-list")
    card.click()
    text = page.inner_text("main")
    assert item_name in text and "¥18,800.00" in text and "测绘资质" in text and category_name in text
    assert "13912345678" not in page.content()  # contact details stay private
    shot(page, "04-store")

    # The store on a phone-width screen.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    mobile = phone.new_page()
    mobile.goto(page.url)
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    shot(mobile, "05-store-phone")
    phone.close()
    context.close()
