"""In a real browser: a surveying agency names the kind of its licence (a grade the kind lacks is refused in
Chinese), the item page says what the rules require, and the store shows the check beside each offer."""

import re

import pytest
from sqlalchemy import select

from marketplace.agencies import offers as offer_services
from marketplace.catalogue.models import ServiceItem
from marketplace.extensions import db
from tests import factories as f

pytestmark = pytest.mark.e2e


def test_an_agency_names_its_licence_kind_and_the_item_page_shows_the_requirement(
    live_server, browser, shot, tmp_path
):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        agency = f.active_agency("C08")  # holds 测绘资质（工程测量）甲级
        survey = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "C08-02"))  # 房产测绘
        offer_services.save_offer(
            agency, {"service_item_id": survey.id, "price_fen": 3_000_000, "promised_days": 10}
        )
        db.session.commit()
        email, agency_id, survey_id = agency.email, agency.agency.id, survey.id
        energy_id = db.session.scalar(select(ServiceItem.id).where(ServiceItem.code == "C02-01"))
    scan = tmp_path / "测绘资质证书.pdf"
    scan.write_bytes(f.PDF)

    for width, height, tag in ((1366, 900, "desktop"), (390, 844, "phone")):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        # The item page: 房产测绘 requires the 界线与不动产测绘 specialty, 乙级 or higher.
        page.goto(f"{base}/catalogue/items/{survey_id}")
        requirement = page.locator("dd[data-requirement]")
        assert "测绘资质（界线与不动产测绘） 乙级及以上" in requirement.inner_text()
        # The offering agency holds the other specialty: the check fails beside its offer.
        assert (
            "缺少：测绘资质（界线与不动产测绘）" in page.locator("[data-qual-check=fail]").first.inner_text()
        )
        shot(page, f"quals-item-{tag}")
        page.goto(f"{base}/catalogue/items/{energy_id}")
        assert "无资质要求" in page.locator("dd[data-requirement]").inner_text()
        context.close()

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/agency/$"))

    # Add the missing specialty; first with a grade it is not issued in.
    page.goto(f"{base}/agency/qualifications")
    page.select_option("#kind_id", label="测绘资质（界线与不动产测绘）（甲级/乙级）")
    page.select_option("#level", "丙级")
    page.fill("#number", "乙测资字32100456")
    page.fill("#issuer", "江苏省自然资源厅")
    page.fill("#valid_until", "2029-06-30")
    page.set_input_files("#file", str(scan))
    page.click("form.form button[type=submit]")
    error = page.locator(".field.has-error .error").first
    assert "甲级、乙级" in error.inner_text()
    page.select_option("#level", "乙级")
    page.set_input_files("#file", str(scan))
    page.click("form.form button[type=submit]")
    # A member's new licence is a change under review: it counts once the operator approves it.
    assert "变更审核" in page.locator(".flash-success").inner_text()
    with live_server.app_context():
        from marketplace.agencies import changes
        from marketplace.agencies.roster import MembershipChange

        change_id = db.session.scalar(
            select(MembershipChange.id).where(MembershipChange.agency_id == agency_id)
        )
        changes.approve(f.admin(), change_id)
        db.session.commit()
    page.goto(f"{base}/agency/qualifications")
    table = page.locator("table").first.inner_text()
    assert "测绘资质（界线与不动产测绘）" in table
    shot(page, "quals-workspace")

    # Now the store and the item page show the check passing.
    page.goto(f"{base}/agencies/{agency_id}")
    assert "测绘资质（界线与不动产测绘） 乙级" in page.locator("[data-qual-check=pass]").first.inner_text()
    shot(page, "quals-store")
    page.goto(f"{base}/catalogue/items/{survey_id}")
    assert page.locator("[data-qual-check=fail]").count() == 0
    context.close()
