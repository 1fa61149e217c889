"""In a real browser: anyone reads the audit chain's daily hashes and the open-data page; a supervisor opens the
audit log from the staff desk, filters it by action and by object, reads the actions in words (desktop and
phone); an entry then edited directly in the database is named by `flask audit verify`."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, text

from marketplace.audit import chain
from marketplace.audit.models import AuditEntry
from marketplace.common.clock import local, now
from marketplace.extensions import db
from tests import factories as f

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots_opendata")


def _login(page, base, email):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def test_public_hashes_and_the_supervisors_audit_log(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        _, agency, order = f.accepted_order()
        supervisor = f.staff("supervisor")
        order_id, email, agency_email = order.id, supervisor.email, agency.email
        head_seq, head_hash = chain.current_head(db.session())
        db.session.remove()
    SHOTS.mkdir(exist_ok=True)
    month = local(now()).strftime("%Y-%m")

    for width, height in ((1366, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{base}/transparency/audit")
        assert page.inner_text("[data-head-hash]").strip() == head_hash
        assert (
            page.locator(f"tr[data-day='{local(now()).date().isoformat()}'] [data-hash]").inner_text()
            == head_hash
        )
        assert "每日哈希值" in page.inner_text("h1")
        page.screenshot(path=str(SHOTS / f"audit-heads-{width}.png"), full_page=True)
        page.goto(f"{base}/opendata/")
        assert page.locator(f"li[data-month='{month}'] a[download]").count() == 1
        page.screenshot(path=str(SHOTS / f"opendata-{width}.png"), full_page=True)

        _login(page, base, email)
        page.click("[data-desk='audit_admin.entries']")
        page.wait_for_url(f"{base}/admin/audit")
        assert "验收通过" in page.inner_text("[data-audit-entries]")
        page.select_option("select[name=action]", "order.deliver")
        page.click("[data-audit-filters] button[type=submit]")
        page.wait_for_url(re.compile(r"action=order\.deliver"))  # the filtered page, not the one before it
        rows = page.locator("tr[data-entry-id]")
        expect(rows).to_have_count(1)
        assert "交付成果" in rows.first.inner_text()
        assert agency_email in rows.first.inner_text()
        page.screenshot(path=str(SHOTS / f"audit-viewer-filtered-{width}.png"), full_page=True)
        page.goto(f"{base}/admin/audit?object_type=service_order&object_id={order_id}")
        text_ = page.inner_text("[data-audit-entries]")
        assert "生成订单" in text_ and "验收通过" in text_ and "订单" in text_
        page.screenshot(path=str(SHOTS / f"audit-viewer-order-{width}.png"), full_page=True)
        context.close()

    # Someone with database access rewrites an entry: the command names it.
    with live_server.app_context():
        victim = db.session.scalar(select(AuditEntry).where(AuditEntry.seq == head_seq - 2))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            db.session.execute(text("DROP TRIGGER audit_log_no_update"))
        db.session.execute(
            text("UPDATE audit_log SET after = :a WHERE id = :id"),
            {"a": '{"amount_fen": 1}', "id": victim.id},
        )
        db.session.commit()
        result = live_server.test_cli_runner().invoke(args=["audit", "verify"])
        assert result.exit_code == 1
        assert f"(id {victim.id}) was changed" in result.output
        db.session.remove()
