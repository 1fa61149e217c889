"""A live server on a fresh database of its own, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from marketplace.extensions import db
from tests.conftest import build_app

ARTIFACTS = Path(__file__).resolve().parent.parent / "_artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # A navigation keeps its frame's document host instead of building a new one (Chromium's RenderDocument): the
    # same pages, laid out and run alike, for about a quarter less of Chromium's CPU per page load (measured on
    # this 2-core machine: ~330 → ~250 ms over 60 loads of the list and announcement pages, alternating browsers).
    "--disable-features=RenderDocument",
]


SHOTS_WANTED = os.environ.get("E2E_SHOTS") == "1"


@pytest.fixture(scope="session", autouse=True)
def screenshots_only_when_asked():
    """Screenshots are for people (README, reviewing a page), not assertions, and a full-page one costs seconds on
    a busy 2-core machine: the walks take theirs only with E2E_SHOTS=1 (`E2E_SHOTS=1 make test`)."""
    if SHOTS_WANTED:
        yield
        return
    from playwright.sync_api import Locator, Page

    kept = Page.screenshot, Locator.screenshot
    Page.screenshot = Locator.screenshot = lambda self, *args, **kwargs: b""
    yield
    Page.screenshot, Locator.screenshot = kept


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    app, drop = build_app(tmp_path_factory)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


@pytest.fixture(scope="session")
def browser():
    """One Chromium per test process, shared by its browser modules (each test opens contexts of its own);
    starting Playwright and Chromium costs 2–3 s, once per module before."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _close_what_the_test_opened(request):
    """The shared browser keeps no page of an earlier test open (nor its memory, nor its timers)."""
    yield
    if "browser" in request.fixturenames:
        for context in request.getfixturevalue("browser").contexts:
            context.close()


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take
