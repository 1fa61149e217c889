"""Accessibility (GB/T 37668-2019 信息无障碍, WCAG 2.1 AA basics) in a real browser.

axe-core, vendored from its npm package (tests/data/axe-core), runs over the main pages of each role on one
prepared market (tests/market.py) and the test fails on any serious or critical violation, naming the rule, the
page and the elements. The same walk checks what axe alone does not: the skip link is the first Tab stop and
moves focus to the content, focus is visibly drawn, refused forms announce their errors (aria-invalid,
aria-describedby pointing at the message, an alert), the comparison table is reachable by keyboard and lets the
focus go on, and <html lang> follows the language (zh-Hans / en).

One live server, one browser, a context per role.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from marketplace.auth.models import User
from marketplace.extensions import db
from tests import factories as f
from tests import market as market_builder
from tests import timetravel

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parent.parent / "data" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
COMPARED_TITLE = "无障碍比选：海州区排水管网改造工程可行性研究"


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture(scope="module")
def market(live_server):
    with live_server.app_context():
        m = market_builder.build()
        # A round past its deadline with two bids: the owner's comparison table and selection form.
        compared = f.published_request(_user(m.owner_email), title=COMPARED_TITLE)
        f.bid(_user(m.bidder.email), compared, price_fen=5_000_000)
        f.bid(_user(m.co_bidder.email), compared, price_fen=5_400_000)
        timetravel.past_deadline(compared)
        db.session.commit()
        return m, compared.id


def _axe(page, label: str, found: list[str]) -> None:
    """Run axe on the page as it is; add each serious or critical violation to `found`."""
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        TAGS,
    )
    for v in result["violations"]:
        if v["impact"] in BLOCKING:
            targets = "; ".join(" ".join(n["target"]) for n in v["nodes"][:6])
            found.append(f"{label}: [{v['impact']}] {v['id']} ({len(v['nodes'])}×) — {targets}")


def _audit(page, base: str, path: str, found: list[str], label: str = "") -> None:
    response = page.goto(base + path)
    assert response is not None and response.status < 400, f"{path}: HTTP {response and response.status}"
    _axe(page, path + label, found)


def _context(browser):
    # CSP (script-src 'self') would refuse the injected axe; the pages themselves are unchanged.
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", bypass_csp=True)
    context.add_init_script(path=str(AXE))
    context.set_default_timeout(90_000)  # a first search may build its index; a busy machine is slow
    return context


def _login(context, base: str, email: str):
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    assert "/auth/login" not in page.url, f"{email} could not log in"
    return page


def _focused(page) -> dict:
    """What has the keyboard focus, and whether a focus indicator is drawn on it (or on its box)."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          const s = getComputedStyle(el);
          const box = el.closest('.header-search');
          const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
                       || (box && getComputedStyle(box).boxShadow !== 'none');
          return {tag: el.tagName, link: el.dataset.link || '', id: el.id, cls: el.className, ring};
        }"""
    )


def _announced_errors(page, form: str) -> list[str]:
    """The names of the fields in `form` marked invalid whose aria-describedby points at a shown message."""
    return page.evaluate(
        """sel => [...document.querySelectorAll(sel + ' [aria-invalid=true]')].filter(el => {
             const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
             return ids.some(id => { const d = document.getElementById(id);
                                     return d && d.textContent.trim() && d.querySelector('.error'); });
           }).map(el => el.getAttribute('name') || el.id)""",
        form,
    )


def test_every_role_main_pages_pass_axe_and_keyboard_checks(live_server, browser, market, shot):
    m, compared_id = market
    base = live_server.config["LIVE_URL"]
    found: list[str] = []

    # --- Anonymous visitors --------------------------------------------------------------------------------
    ctx = _context(browser)
    page = ctx.new_page()
    _audit(page, base, "/", found)
    assert page.get_attribute("html", "lang") == "zh-Hans"
    # The skip link is the first Tab stop, visibly focused, and takes the focus to the main content.
    page.keyboard.press("Tab")
    first = _focused(page)
    assert first["link"] == "skip" and first["ring"], f"first Tab stop: {first}"
    shot(page, "a11y-skip-link")
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main", "the skip link did not move the focus to <main>"
    # Focus stays visible along the header: every stop draws a ring.
    page.goto(base + "/")
    for _ in range(6):
        page.keyboard.press("Tab")
        stop = _focused(page)
        assert stop["ring"], f"no visible focus on {stop}"
    for path in (
        "/agencies/",
        f"/agencies/{m.rival.agency_id}",
        "/catalogue/",
        f"/catalogue/items/{m.item_id}",
        "/requests/",
        f"/requests/{m.publicity_request_id}",
        "/fees/",
        "/credit/redlist",
        f"/agencies/{m.rival.agency_id}/credit",
        "/stats/",
        "/search?q=环评",
        "/auth/register",
        "/auth/login",
    ):
        _audit(page, base, path, found)
    # A refused login is announced as an alert.
    page.fill("#email", m.owner_email)
    page.fill("#password", "wrong-password")
    page.click("form.form button[type=submit]")
    assert page.locator(".flash[role=alert]").count() == 1, "the refused login was not announced"
    # A registration sent empty: each refused field says so and points at its message.
    page.goto(base + "/auth/register")
    page.click("form.form button[type=submit]")
    invalid = _announced_errors(page, "form.form")
    assert {"email", "password"} <= set(invalid), f"errors not tied to their fields: {invalid}"
    assert page.locator("[role=alert]").count() >= 1
    shot(page, "a11y-register-refused")
    _axe(page, "/auth/register (refused)", found)
    # In English the page says so.
    page.goto(f"{base}/auth/lang/en?next=/")
    assert page.get_attribute("html", "lang") == "en"
    _axe(page, "/ (English)", found)
    ctx.close()

    # --- The enterprise --------------------------------------------------------------------------------------
    ctx = _context(browser)
    page = _login(ctx, base, m.owner_email)
    for path in ("/enterprise/", f"/orders/{m.done_order_id}", f"/orders/{m.delivered_order_id}"):
        _audit(page, base, path, found)
    _audit(page, base, "/enterprise/requests/new", found)
    page.click("form[data-form=request] button[value=publish]")
    assert "title" in _announced_errors(page, "form[data-form=request]"), "the refused request form's errors"
    _axe(page, "/enterprise/requests/new (refused)", found)
    # The comparison table: reached by Tab (its scroll box is focusable), and Tab goes on past it.
    _audit(page, base, f"/requests/{compared_id}/compare", found)
    reached = False
    for _ in range(80):
        page.keyboard.press("Tab")
        if "compare-wrap" in _focused(page)["cls"]:
            reached = True
            break
    assert reached, "the comparison table cannot be reached by keyboard"
    shot(page, "a11y-compare-focused")
    page.keyboard.press("Tab")
    assert "compare-wrap" not in _focused(page)["cls"], "the keyboard is trapped in the comparison table"
    # On a phone, tables wider than the screen scroll in their box, and each such box is a Tab stop.
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/orders/", f"/requests/{compared_id}/compare"):
        _audit(page, base, path, found, " (390 px)")
        unreachable = page.evaluate(
            """() => [...document.querySelectorAll('.table-wrap')]
                 .filter(b => b.scrollWidth > b.clientWidth + 1 && b.tabIndex < 0).length"""
        )
        assert unreachable == 0, (
            f"{path} at 390 px: {unreachable} scrolling table(s) not reachable by keyboard"
        )
    ctx.close()

    # --- An agency: desk, offers, a bid form (the rival has not bid on the sealed round), inbox ----------------
    ctx = _context(browser)
    page = _login(ctx, base, m.rival.email)
    for path in ("/agency/", "/agency/offers", f"/requests/{m.sealed_request_id}", "/agency/inbox"):
        _audit(page, base, path, found)
    ctx.close()

    # --- Staff --------------------------------------------------------------------------------------------------
    ctx = _context(browser)
    page = _login(ctx, base, m.admin_email)
    for path in (
        "/admin/",
        "/admin/applications",
        f"/admin/agencies/{m.rival.agency_id}",
        "/admin/fee-audit/",
        f"/admin/fee-audit/{m.flag_id}",
        "/admin/deadlines",
        "/admin/complaints",
    ):
        _audit(page, base, path, found)
    ctx.close()

    assert not found, "serious or critical accessibility violations:\n" + "\n".join(found)
