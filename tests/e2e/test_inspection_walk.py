"""In a real browser: a supervisor registers inspectors, plans a random inspection with the trade's default
checklist, draws it; the standalone verifier, run as a separate process against the live server, agrees (and
refuses a tampered copy); the findings are recorded (one failed item, an evidence file) and the inspection closed;
the public page shows the results. Screenshots at 1366 and 390 pixels wide."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests import factories as f
from tests.e2e.conftest import SHOTS_WANTED

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path("/tmp/shots_inspections")
INSPECTORS = [("李建华", "32070018010031"), ("陈晓东", "32070019020117"), ("王丽萍", "32070020030208")]


def _shots(browser, url: str, name: str, cookies) -> None:
    """The page at desktop and phone width, logged in as the walk's user (with E2E_SHOTS=1: the screenshots
    are for people, and these extra page loads assert nothing)."""
    if not SHOTS_WANTED:
        return
    SHOTS.mkdir(exist_ok=True)
    for width in (1366, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        context.add_cookies(cookies)
        page = context.new_page()
        page.goto(url)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        context.close()


def _verify(source: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "marketplace.requests.verify_draw", source],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_supervisor_draws_verifies_records_and_publishes(live_server, browser, shot, tmp_path):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        names = sorted(f.active_agency("C03").agency.name for _ in range(3))
        supervisor = f.staff("supervisor")
        email = supervisor.email

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")

    # The desk, then the register.
    page.goto(f"{base}/admin/")
    page.click("a[href='/admin/inspections']")
    page.click("text=检查人员名录")
    for name, number in INSPECTORS:
        page.fill("#name", name)
        page.fill("#department", "市生态环境局")
        page.fill("#certificate_no", number)
        page.click("form[data-form=inspector] button[type=submit]")
        assert "已列入名录" in page.inner_text("body")
    assert page.locator("tr[data-inspector-id]").count() == 3
    # The same certificate twice: refused beside its field.
    page.fill("#name", "重复")
    page.fill("#department", "市生态环境局")
    page.fill("#certificate_no", INSPECTORS[0][1])
    page.click("form[data-form=inspector] button[type=submit]")
    assert "该执法证号已在名录中" in page.inner_text("form[data-form=inspector]")
    _shots(browser, f"{base}/admin/inspectors", "register", context.cookies())

    # Plan: the category's default checklist is loaded, then trimmed to three items.
    page.goto(f"{base}/admin/inspections")
    page.click("a[data-link=new-inspection]")
    page.fill("#title", "2026年环评机构双随机抽查")
    page.select_option("#category_id", label="C03 环境评价类")
    page.click("button[data-action=load-checklist]")
    checklist = page.input_value("#checklist").splitlines()
    assert "营业执照、资质证书在有效期内且与入驻信息一致" in checklist and len(checklist) >= 5
    assert page.input_value("#title") == "2026年环评机构双随机抽查"  # kept across the reload
    page.fill("#checklist", "\n".join(checklist[:3]))
    page.fill("#agency_count", "2")
    page.fill("#inspectors_per_agency", "2")
    _shots(browser, page.url, "plan", context.cookies())
    page.click("form[data-form=inspection] button[type=submit]:not([formmethod])")
    commitment = page.inner_text("[data-commitment]").strip()
    assert len(commitment) == 64
    task_id = int(page.url.rstrip("/").split("/")[-1])

    # The public page shows the plan and the commitment before the draw, no seed.
    public = context.new_page()
    public.goto(f"{base}/inspections/{task_id}")
    assert public.inner_text("[data-commitment]").strip() == commitment
    assert public.locator("[data-seed]").count() == 0 and "尚未抽取" in public.inner_text("body")

    page.click("form[data-form=draw] button")
    assert "抽取完成" in page.inner_text("body")
    assert page.locator("section.inspection-agency").count() == 2

    # The standalone verifier, as a separate process, against the live server: it agrees.
    url = f"{base}/api/v1/inspections/{task_id}/draw"
    run = _verify(url)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "VERIFIED" in run.stdout and "inspectors" in run.stdout
    # …and refuses a tampered copy (the first two agencies swapped).
    record = json.load(urllib.request.urlopen(url))  # noqa: S310 (the test's own server)
    record["agencies"] = record["agencies"][::-1]
    record["assignments"] = record["assignments"][::-1]
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    run = _verify(str(tampered))
    assert run.returncode == 1 and "NOT VERIFIED" in run.stdout

    # Findings: the first agency fails the second item; an evidence file; the second passes everything.
    first, second = page.locator("section.inspection-agency").all()
    first_id = first.get_attribute("data-agency-id")
    first.locator("input[name=passed-0][value=pass]").check()
    first.locator("input[name=passed-1][value=fail]").check()
    first.locator("input[name=passed-2][value=pass]").check()
    first.locator("button[type=submit]").first.click()
    assert "不合格事项请说明" in page.inner_text(f"#agency-{first_id}")  # the failed item needs notes
    first = page.locator(f"#agency-{first_id}")
    first.locator("input[name=notes-1]").fill("抽查项目实际收费高于店铺公示价格18%")
    first.locator("textarea[name=notes]").fill("责令限期整改")
    first.locator("form[data-form=findings] button[type=submit]").click()
    assert "已录入" in page.inner_text("body")
    pdf = tmp_path / "现场检查记录.pdf"
    pdf.write_bytes(f.PDF)
    page.locator(f"#agency-{first_id} input[type=file]").set_input_files(str(pdf))
    page.locator(f"#agency-{first_id} form[data-form=evidence] button").click()
    assert page.locator(f"#agency-{first_id} a[data-evidence]").inner_text() == "现场检查记录.pdf"
    assert page.locator("form[data-form=close] button").is_disabled()

    second_id = second.get_attribute("data-agency-id")
    second = page.locator(f"#agency-{second_id}")
    for i in range(3):
        second.locator(f"input[name=passed-{i}][value=pass]").check()
    second.locator("form[data-form=findings] button[type=submit]").click()
    _shots(browser, page.url, "desk", context.cookies())
    page.click("form[data-form=close] button")

    # The public page: the results, the failed item, how to verify; no evidence file.
    assert page.url.endswith(f"/inspections/{task_id}")
    body = page.inner_text("body")
    assert "结果已公开" in body and "抽查项目实际收费高于店铺公示价格18%" in body and "责令限期整改" in body
    assert page.locator("tr[data-finding=fail]").count() == 1
    assert page.locator("tr[data-finding=pass]").count() == 5
    assert "现场检查记录" not in body
    assert f"verify_draw {url}" in page.inner_text("[data-verify-command]")
    assert sum(n in body for n in names) == 2
    shot(page, "inspection-published")
    _shots(browser, page.url, "public", [])
    _shots(browser, f"{base}/inspections/", "list", [])

    # Still verified after closing.
    assert _verify(url).returncode == 0
    context.close()
