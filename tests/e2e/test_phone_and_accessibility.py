"""Every page at a phone's width, and the main pages' accessibility, in a real browser: one live server on one
prepared market (tests/market.py, every route's ids) and one browser for both sweeps (each built its own before;
a market, a server and a browser cost a busy 2-core machine seconds each).

Phone first, at 390 px: no page is wider than the phone, for any role; the menu button opens the whole navigation
with and without JavaScript; the bottom tab bar leads to each role's destinations; the comparison scrolls sideways
under a sticky column of dimension names; the home page stays under three screens. Every GET page of the URL map
(tests/routes.py) is fetched for each role; the ones that role may read (HTML, 200) are opened at 390 px and
measured, one browser context per role.

Accessibility (GB/T 37668-2019 信息无障碍, WCAG 2.1 AA basics): axe-core, vendored from its npm package
(tests/data/axe-core), runs over the main pages of each role (a context per role) and the test fails on any
serious or critical violation, naming the rule, the page and the elements. The same walk checks what axe alone
does not: the skip link is the first Tab stop and moves focus to the content, focus is visibly drawn, refused
forms announce their errors (aria-invalid, aria-describedby pointing at the message, an alert), the comparison
table is reachable by keyboard and lets the focus go on, and <html lang> follows the language (zh-Hans / en).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace.auth.models import User
from marketplace.catalogue.models import ServiceItem
from marketplace.extensions import db
from tests import factories as f
from tests import market, routes, timetravel

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
SHOTS = Path("/tmp/shots_h6")

# The elements that stick out of the viewport, outermost first (an element whose parent fits): the culprits.
WIDEST = """() => {
  const w = 390, out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= w + 1) continue;
    const p = el.parentElement.getBoundingClientRect();
    if (p.right > w + 1 && el.parentElement !== document.body) continue;
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    out.push(`${name} (right edge ${Math.round(r.right)} px, width ${Math.round(r.width)} px): ` +
      (el.innerText || '').trim().slice(0, 60).replace(/\\s+/g, ' '));
  }
  return out.slice(0, 3);
}"""
NOT_PAGES = {"home.favicon", "home.healthz"}  # answers for browsers and monitors, not pages
FITS = "document.documentElement.scrollWidth <= 390"


@pytest.fixture(scope="module")
def phone_market(live_server):
    """The prepared market, staff of every role, and a request past its deadline with three bids to compare."""
    with live_server.app_context():
        m = market.build()
        item = db.session.get(ServiceItem, m.item_id)
        people = {
            "operator": f.staff("operator").email,
            "department": f.staff("department", None, item.department).email,
            "supervisor": f.staff("supervisor").email,
        }
        owner = db.session.scalar(db.select(User).where(User.email == m.owner_email))
        req = f.published_request(
            owner, item=item, title="连云港市徐圩新区石化产业基地配套道路工程环境影响评价报告书编制"
        )
        for who, price in ((m.bidder, 18_800_000), (m.co_bidder, 21_500_000), (m.rival, 19_960_000)):
            agency = db.session.get(User, who.user_id)
            f.bid(
                agency,
                req,
                price_fen=price,
                plan="现场踏勘、监测布点、模型预测后编制报告书，并配合专家评审。",
            )
        timetravel.past_deadline(req)
        compare_id = req.id
        urls = [u for u in routes.build_urls(live_server, m) if not u.api and u.endpoint not in NOT_PAGES]
    accounts = {
        "anonymous": None,
        "enterprise": m.owner_email,
        "agency": m.rival.email,
        "admin": m.admin_email,
        **people,
    }
    return {"market": m, "accounts": accounts, "urls": urls, "compare_id": compare_id}


def _context(browser, base: str, email: str | None, **options):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True, **options)
    if email:
        r = context.request.post(
            f"{base}/auth/login", form={"email": email, "password": f.PASSWORD}, max_redirects=0
        )
        assert r.status == 302, f"{email} could not log in"
    return context


def _readable(app, email: str | None, paths: list[str], files: set[str]) -> list[str]:
    """The pages this viewer may read (HTML answered 200), asked in-process: redirects, refusals and files are
    other tests' business. A path answered with a file (200, not HTML) joins `files`: no role is asked it again."""
    client = app.test_client()
    if email:
        assert f.login(client, SimpleNamespace(email=email)).status_code == 302
    found = []
    for path in paths:
        answer = client.get(path)
        if answer.status_code == 200 and answer.mimetype == "text/html":
            found.append(path)
        elif answer.status_code == 200:
            files.add(path)
    return found


def test_no_page_is_wider_than_a_phone_for_any_role(live_server, browser, phone_market):
    """Each page is measured once, by the first role that may read it (public pages by the anonymous visitor;
    a staff page by the administrator unless only a narrower role may read it), and every role's home page,
    since the header differs by role."""
    base = live_server.config["LIVE_URL"]
    wide, measured, files = [], set(), set()
    for role, email in phone_market["accounts"].items():
        # (No request is intercepted: a route on the context stops every request of every page at Playwright's
        # driver, ~100 ms of CPU per page here, and the pages' few images are small and part of the layout.)
        context = _context(browser, base, email)
        page = context.new_page()
        unmeasured = [u.path for u in phone_market["urls"] if u.path not in measured and u.path not in files]
        for path in ["/", *_readable(live_server, email, unmeasured, files)]:
            page.goto(base + path, wait_until="domcontentloaded", timeout=120_000)
            measured.add(path)
            if not page.evaluate(FITS):
                width = page.evaluate("document.documentElement.scrollWidth")
                wide.append(f"{role} {path}: {width} px wide; {page.evaluate(WIDEST)}")
        context.close()
    assert len(measured) > 90, f"only {len(measured)} pages were measured"
    assert not wide, "pages wider than a 390 px phone:\n" + "\n".join(wide)


def test_the_menu_button_opens_every_link_with_and_without_javascript(live_server, browser, phone_market):
    base = live_server.config["LIVE_URL"]
    enterprise = phone_market["accounts"]["enterprise"]
    for js in (False, True):
        context = _context(browser, base, enterprise, java_script_enabled=js)
        page = context.new_page()
        page.goto(base + "/")
        nav = page.locator("#site-nav")
        assert not nav.is_visible(), "the navigation is folded away on a phone"
        for link in ("contracts", "workspace", "credit", "stats"):
            assert page.locator(f"#site-nav a[data-link={link}]").count() == 1
        button = page.locator(".menu-btn")
        if js:
            assert button.evaluate("b => b.tagName") == "BUTTON"
            assert button.get_attribute("aria-expanded") == "false"
        button.click()
        assert nav.is_visible()
        for label in ("收费公示", "我的工作台", "订单"):
            link = nav.get_by_role("link", name=label, exact=True)
            assert link.is_visible() and link.bounding_box()["x"] + link.bounding_box()["width"] <= 390
        assert page.locator("a[data-link=account]").is_visible()
        assert page.locator(".bell").is_visible()
        assert page.evaluate(FITS)
        if js:
            assert button.get_attribute("aria-expanded") == "true"
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / "menu-phone.png"))
            page.keyboard.press("Escape")
            assert not nav.is_visible() and button.get_attribute("aria-expanded") == "false"
        else:
            button.click()
            assert not nav.is_visible()
        context.close()

    # Wide screens: the bars as they were, no menu button, no tab bar.
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    page.goto(base + "/fees/")
    assert page.locator("#site-nav").is_visible() and not page.locator(".menu-btn").is_visible()
    assert not page.locator(".tabbar").is_visible()
    page.context.close()


def test_the_tab_bar_leads_each_role_to_its_destinations(live_server, browser, phone_market):
    base = live_server.config["LIVE_URL"]
    accounts = phone_market["accounts"]
    landing = {"enterprise": "/enterprise/", "agency": "/agency/", "supervisor": "/admin/"}
    for role in ("anonymous", "enterprise", "agency", "supervisor"):
        context = _context(browser, base, accounts[role])
        page = context.new_page()
        page.goto(base + "/agencies/")
        bar = page.locator(".tabbar")
        assert bar.is_visible() and bar.bounding_box()["y"] + bar.bounding_box()["height"] == pytest.approx(
            844, abs=1
        )
        tabs = bar.locator("a").evaluate_all("links => links.map(a => a.dataset.tab)")
        if role == "anonymous":
            assert tabs == ["home", "agencies", "requests", "fees", "login"]
        else:
            assert tabs == ["home", "agencies", "requests", "workspace", "mine"]
            page.click(".tabbar [data-tab=workspace]")
            page.wait_for_url(f"{base}{landing[role]}**")
            assert page.locator(".tabbar [data-tab=workspace]").get_attribute("aria-current") == "page"
        assert page.locator(".tabbar [data-tab=agencies]").count() == 1
        context.close()


def test_filters_comparison_and_home_fit_a_phone(live_server, browser, phone_market):
    base = live_server.config["LIVE_URL"]
    context = _context(browser, base, phone_market["accounts"]["enterprise"])
    page = context.new_page()
    SHOTS.mkdir(exist_ok=True)

    # The price band of the agency list fits inside the filter panel.
    page.goto(base + "/agencies/")
    panel = page.locator("form.filters").bounding_box()
    for name in ("price_min", "price_max"):
        box = page.locator(f"input[name={name}]").bounding_box()
        assert box["x"] >= panel["x"] and box["x"] + box["width"] <= panel["x"] + panel["width"]
    assert page.evaluate(FITS)

    # The comparison: wider than the phone, it scrolls inside its frame; the dimension names stay at the left.
    page.goto(f"{base}/requests/{phone_market['compare_id']}/compare")
    wrap = page.locator(".compare-wrap")
    assert wrap.evaluate("w => w.scrollWidth > w.clientWidth"), "three bids should not fit a phone"
    assert page.evaluate(FITS)
    dim = page.locator(".compare tbody th.dim").first
    before = dim.bounding_box()["x"]
    first_bid = page.locator(".compare tbody tr").first.locator("td").first
    bid_before = first_bid.bounding_box()["x"]
    wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
    assert dim.bounding_box()["x"] == pytest.approx(before, abs=1), "the dimension names scrolled away"
    assert first_bid.bounding_box()["x"] < bid_before - 100, "the bids did not scroll"
    wrap.evaluate("w => { w.scrollLeft = 0; }")
    page.screenshot(path=str(SHOTS / "compare-phone.png"), full_page=True)

    # The item fee page: prices of hundreds of thousands of yuan, and their ranges, stay inside their tiles.
    with live_server.app_context():
        for price in (8_961_200, 20_983_400):
            f.accepted_order(price_fen=price)
        timetravel.run_clock()  # the fee figures are kept rows the clock makes
        item_id = f.market_item().id
    page.goto(f"{base}/fees/items/{item_id}")
    assert page.locator(".fee-stats [data-fee=count]").inner_text() != "0"
    spilt = page.evaluate(
        "[...document.querySelectorAll('.fee-stats li')]"
        ".filter(li => li.scrollWidth > li.clientWidth + 1).map(li => li.innerText)"
    )
    assert not spilt, f"figures wider than their tiles: {spilt}"
    assert page.evaluate(FITS)

    # The home page: under three screens tall.
    for who in (None, phone_market["accounts"]["enterprise"]):
        ctx = _context(browser, base, who)
        home = ctx.new_page()
        home.goto(base + "/")
        assert home.locator(".hero a[data-link=post-request]").is_visible(), (
            "发布需求 is missing from the hero"
        )
        screens = home.evaluate("document.documentElement.scrollHeight / window.innerHeight")
        assert screens < 3, f"the home page is {screens:.2f} screens tall at 390 px"
        ctx.close()
    context.close()


# --- accessibility: axe-core and the keyboard, each role's main pages ------------------------------------------

AXE = Path(__file__).resolve().parent.parent / "data" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
COMPARED_TITLE = "无障碍比选：海州区排水管网改造工程可行性研究"


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture(scope="module")
def a11y_market(live_server, phone_market):
    """The same market, and a round past its deadline with two bids: the owner's comparison table and selection
    form."""
    m = phone_market["market"]
    with live_server.app_context():
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


def _axe_context(browser):
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
    """The names of the fields in `form` marked invalid whose aria-describedby points at a shown message — once the
    refused form is back (the click returns when the POST is sent, not when its answer arrived: on a busy
    machine the old page was read)."""
    page.locator(f"{form} [aria-invalid=true]").first.wait_for()
    return page.evaluate(
        """sel => [...document.querySelectorAll(sel + ' [aria-invalid=true]')].filter(el => {
             const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
             return ids.some(id => { const d = document.getElementById(id);
                                     return d && d.textContent.trim() && d.querySelector('.error'); });
           }).map(el => el.getAttribute('name') || el.id)""",
        form,
    )


def test_every_role_main_pages_pass_axe_and_keyboard_checks(live_server, browser, a11y_market, shot):
    m, compared_id = a11y_market
    base = live_server.config["LIVE_URL"]
    found: list[str] = []

    # --- Anonymous visitors --------------------------------------------------------------------------------
    ctx = _axe_context(browser)
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
    expect(page.locator(".flash[role=alert]")).to_have_count(1)  # the refused login is announced
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
    ctx = _axe_context(browser)
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
    ctx = _axe_context(browser)
    page = _login(ctx, base, m.rival.email)
    for path in ("/agency/", "/agency/offers", f"/requests/{m.sealed_request_id}", "/agency/inbox"):
        _audit(page, base, path, found)
    ctx.close()

    # --- Staff --------------------------------------------------------------------------------------------------
    ctx = _axe_context(browser)
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
