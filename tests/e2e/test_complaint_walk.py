"""In a real browser: an enterprise complains about an agency from its store, with an evidence file; the supervisor
accepts it on the complaint desk; the agency sees it (never the complainant's contact) and answers once with
evidence; the supervisor upholds it with a credit deduction; both sides see the outcome. A passer-by reports the
agency anonymously from its store. Screenshots at 1366 and 390 wide."""

from __future__ import annotations

import pytest

from marketplace.extensions import db
from tests import factories as f

pytestmark = pytest.mark.e2e
TEXT = "贵机构在“徐圩新区管廊环评”项目中以加急为由另行收取费用两万元，合同未约定，也未开具发票，请核查处理。"
ANSWER = "该费用系项目组加班产生，事先与业主口头沟通，我机构愿意退还并整改收费流程。"
OUTCOME = "经核查，该机构在合同价款之外收取加急费，违反收费规定，责令退还并扣减信用分10分。"
PHONE = "13912340000"


def _login(page, base, email):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


def _logout(page):
    page.click("form[action$='/auth/logout'] button")
    page.wait_for_load_state()


def _both_widths(page, name: str, shot) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    shot(page, f"complaint-{name}-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, f"complaint-{name}-390")
    page.set_viewport_size({"width": 1366, "height": 900})


def test_an_enterprise_complaint_is_answered_and_upheld(live_server, browser, shot, tmp_path):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        admin = f.admin()
        enterprise = f.user("enterprise", org_name="连云港徐圩新区管委会")
        agency = f.active_agency("C03", reviewer=admin, org_name="江苏清源环境科技有限公司")
        supervisor = f.staff("supervisor", "320100")  # the agency is registered in 南京 (320105)
        db.session.commit()
        agency_id, enterprise_email, agency_email = agency.agency.id, enterprise.email, agency.email
        supervisor_email = supervisor.email
    receipt, note = tmp_path / "加急费转账回单.pdf", tmp_path / "情况说明.pdf"
    receipt.write_bytes(f.PDF)
    note.write_bytes(f.PDF)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    store = f"{base}/agencies/{agency_id}"

    # 0. Before: a new member's credit, 80.0 and grade B, nothing itemised yet.
    page.goto(f"{store}/credit")
    assert page.inner_text("[data-credit-score]") == "80.00"
    assert page.locator(".section-head [data-grade]").first.get_attribute("data-grade") == "B"
    assert page.locator("tr[data-rule=complaint_upheld]").count() == 0

    # 1. The enterprise complains from the agency's store, with evidence; too short a text is refused first.
    _login(page, base, enterprise_email)
    page.goto(store)
    page.click("[data-link=complain-agency]")
    page.wait_for_load_state()
    form = page.locator("form[data-form=complaint]")
    form.locator("input[name=category][value=fee]").check()
    form.locator("[name=text]").fill("乱收费")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "请填写 20 至 3000 个字符" in page.inner_text("form[data-form=complaint]")
    form = page.locator("form[data-form=complaint]")
    assert form.locator("input[name=category][value=fee]").is_checked()
    form.locator("[name=text]").fill(TEXT)
    form.locator("[name=contact_name]").fill("刘建华")
    form.locator("[name=contact_phone]").fill(PHONE)
    form.locator("input[name=evidence]").set_input_files(str(receipt))
    _both_widths(page, "1-form", shot)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "已收到" in page.inner_text(".flash-success")
    number = page.inner_text("[data-number]")
    assert number.startswith("TS") and "待受理" in page.inner_text("h1")
    assert "加急费转账回单.pdf" in page.inner_text("#complaint")
    _both_widths(page, "2-filed", shot)
    _logout(page)

    # 2. The agency does not see it yet; the supervisor accepts it from the desk.
    _login(page, base, agency_email)
    page.goto(f"{base}/complaints/")
    assert number not in page.content()
    _logout(page)
    _login(page, base, supervisor_email)
    page.goto(f"{base}/admin/complaints")
    row = page.locator(f"tr[data-complaint='{number}']")
    assert "违规收费" in row.inner_text() and "连云港徐圩新区管委会" in row.inner_text()
    _both_widths(page, "3-desk", shot)
    row.locator("a").first.click()
    page.wait_for_load_state()
    assert PHONE in page.inner_text("[data-contact]")
    page.click("form[data-form=decide] button[value=accept]")
    page.wait_for_load_state()
    assert "已受理" in page.inner_text(".flash-success")
    _logout(page)

    # 3. The agency sees the complaint, never the contact, and answers once with evidence.
    _login(page, base, agency_email)
    page.goto(f"{base}/complaints/")
    assert "待答复" in page.inner_text(f"tr[data-complaint='{number}']")
    page.click(f"tr[data-complaint='{number}'] a")
    page.wait_for_load_state()
    assert PHONE not in page.content() and "刘建华" not in page.content()
    form = page.locator("form[data-form=answer]")
    form.locator("[name=answer]").fill(ANSWER)
    form.locator("input[name=evidence]").set_input_files(str(note))
    _both_widths(page, "4-answer-form", shot)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert ANSWER in page.inner_text("[data-answer]") and "情况说明.pdf" in page.inner_text("#answer")
    assert page.locator("form[data-form=answer]").count() == 0  # once only
    _logout(page)

    # 4. The supervisor upholds it with a credit deduction of 10 points.
    _login(page, base, supervisor_email)
    page.goto(f"{base}/complaints/{number}")
    decide = page.locator("form[data-form=decide]")
    decide.locator("[name=outcome]").fill(OUTCOME)
    decide.locator("input[name=consequences][value=credit]").check()
    decide.locator("input[name=points][value='10']").check()
    _both_widths(page, "5-decide", shot)
    decide.locator("button[value=uphold]").click()
    page.wait_for_load_state()
    assert "投诉成立" in page.inner_text("h1")
    _logout(page)

    # 5. Both sides see the outcome and its consequence.
    for email, name in ((enterprise_email, "6-outcome-enterprise"), (agency_email, "7-outcome-agency")):
        _login(page, base, email)
        page.goto(f"{base}/complaints/{number}")
        outcome = page.inner_text("[data-outcome]")
        assert OUTCOME in outcome and "扣减信用分" in outcome and "-10" in outcome
        _both_widths(page, name, shot)
        _logout(page)

    # 5b. The upheld complaint is an itemised credit event: −10 from the department's 30 %, so the score falls
    # from 80.00 to 77.00 and the grade from B to C, on the public credit page and on the store.
    page.goto(f"{store}/credit")
    assert page.inner_text("[data-credit-score]") == "77.00"
    assert page.locator(".section-head [data-grade]").first.get_attribute("data-grade") == "C"
    row = page.locator("tr[data-rule=complaint_upheld]")
    assert row.count() == 1 and "-10" in row.inner_text().replace("−", "-")
    assert row.locator("a").get_attribute("href") == f"/complaints/{number}"
    shot(page, "complaint-10-credit-after-1366")
    page.goto(store)
    assert page.locator("[data-grade]").first.get_attribute("data-grade") == "C"

    # 6. A passer-by reports the agency without an account; the receipt gives the number.
    page.goto(store)
    page.click("[data-link=report]")
    page.wait_for_load_state()
    form = page.locator("form[data-form=report]")
    form.locator("input[name=category][value=misconduct]").check()
    form.locator("[name=text]").fill("该机构出借资质给他人承接业务，报告签字人员从未到过项目现场。")
    _both_widths(page, "8-report-form", shot)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.inner_text("[data-report-filed] [data-number]").startswith("JB")
    _both_widths(page, "9-report-filed", shot)
    context.close()
