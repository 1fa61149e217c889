"""Every GET route of the application as concrete URLs, and the five viewers who fetch them.

For the tests that must hold for every page and every API resource (sealed bids stay sealed, reading changes
nothing): a route is covered the day it is added. Each route argument is filled from the prepared market
(tests/market.py) through ARGUMENTS below, the one place that maps argument names to ids; a route with an
argument that is not there fails loudly ("add an id for <name>") instead of being skipped.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

from flask import Flask

from tests import factories as f
from tests.market import Market

# Endpoints left out, with the reason.
SKIPPED = {
    "static": "files served from disk, not the market's data",
    "auth.set_language": "the language switch: sets a cookie and redirects back",
}
DOCS_ASSETS = "api-docs."  # flask-smorest's documentation assets (the OpenAPI document itself is kept)
KEPT_DOCS = {"api-docs.openapi_json"}

# Route argument name -> the ids (or keys) to fill it with. Every GET route is fetched with every combination.
ARGUMENTS: dict[str, Callable[[Market], list]] = {
    "agency_id": lambda m: [m.bidder.agency_id, m.rival.agency_id],
    "qualification_id": lambda m: [m.bidder.qualification_id, m.rival.qualification_id],
    "offer_id": lambda m: [m.offer_id],
    "request_id": lambda m: [m.sealed_request_id, m.publicity_request_id, m.draft_request_id],
    "bid_id": lambda m: [m.sealed_bid_id, m.other_sealed_bid_id],
    "order_id": lambda m: [m.done_order_id, m.running_order_id, m.delivered_order_id],
    "contract_id": lambda m: [m.contract_id],
    "key": lambda m: [
        m.delivered_file_key,
        m.appeal_file_key,
    ],  # a delivered file; a credit appeal's evidence
    "payment_id": lambda m: [m.payment_id],
    "rating_id": lambda m: [m.rating_id],
    "flag_id": lambda m: [m.flag_id],
    "objection_id": lambda m: [m.objection_id],
    "item_id": lambda m: [m.item_id, m.guided_item_id],
    "category_id": lambda m: [m.category_id],
    "practitioner_id": lambda m: [m.practitioner_id],
    "change_id": lambda m: [m.change_id],
    "kind": lambda m: ["pledge", "authorisation"],
    "task_id": lambda m: [m.inspection_id, m.planned_inspection_id],
    "appeal_id": lambda m: [m.appeal_id],
    "repair_id": lambda m: [m.repair_id],
    "month": lambda m: [_this_month()],
    "report_id": lambda m: [m.report_id],
    "number": lambda m: [m.complaint_number],
    "complaint_id": lambda m: [m.complaint_id],
    "file_id": lambda m: m.complaint_file_ids,
    "role": lambda m: ["enterprise", "agency", "operator", "department", "supervisor"],  # /help/<role>
}

# Extra query strings worth fetching besides the bare URL: the ones that take a page down another path.
QUERIES: dict[str, Callable[[Market], list[dict]]] = {
    "requests.index": lambda m: [{"q": "管廊"}],
    "requests-api.list_requests": lambda m: [{"q": "管廊"}, {"mine": "true"}],
    "search.index": lambda m: [{"q": "管廊"}, {"q": "环评"}],
    "search-api.search": lambda m: [{"q": "管廊"}, {"q": "环评"}],
    "agency_admin.applications": lambda m: [{"status": "all"}],
    "agency_workspace.offers": lambda m: [{"item": m.item_id}],
    "orders.index": lambda m: [{"status": "live"}, {"payment": "due"}, {"payment": "pending"}],
    "orders-api.list_orders": lambda m: [{"payment": "due"}, {"payment": "paid"}],
    "change_admin.change_list": lambda m: [{"status": "all"}],
    "supervision-api.deadlines": lambda m: [{"section": "memberships"}],
    "catalogue.model_contract": lambda m: [{"format": "txt"}],
    "inspections.index": lambda m: [{"status": "closed"}, {"agency_id": m.rival.agency_id}],
    "opendata-api.releases": lambda m: [{"month": _this_month()}],
    "opendata-api.heads": lambda m: [{"days": 366}],
    "reports.index": lambda m: [{"region": "320700"}],
    "reports-api.stats": lambda m: [{"region": "320703"}],
    "complaint_admin.desk": lambda m: [{"status": "overdue"}, {"kind": "report", "category": "fee"}],
    "complaints-api.list_complaints": lambda m: [{"status": "open"}],
    "complaint_reports.new_report": lambda m: [{"target_type": "agency", "target_id": m.rival.agency_id}],
    "rating_admin.moderation_list": lambda m: [
        {"view": v} for v in ("reported", "hidden", "recent", "low", "all")
    ],
    "agencies.qualification_file": lambda m: [{"inline": "1"}],
    "agencies.practitioner_file": lambda m: [{"inline": "1"}],
    "change_admin.change_file": lambda m: [{"inline": "1"}],
}


def _this_month() -> str:
    from marketplace.common.clock import local, now

    return local(now()).strftime("%Y-%m")


VIEWERS = ("anonymous", "owner", "bidder", "rival", "admin")


class MissingId(AssertionError):
    pass


@dataclass(frozen=True)
class Url:
    endpoint: str
    rule: str
    path: str  # with its query string
    args: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")


def skipped(endpoint: str) -> bool:
    return endpoint in SKIPPED or (endpoint.startswith(DOCS_ASSETS) and endpoint not in KEPT_DOCS)


def get_rules(app: Flask) -> list:
    """Every rule that answers GET, pages and API alike, but the skipped ones."""
    rules = [r for r in app.url_map.iter_rules() if "GET" in (r.methods or ()) and not skipped(r.endpoint)]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


def build_urls(app: Flask, m: Market, more: dict[str, list] | None = None) -> list[Url]:
    """Every GET route with every combination of its arguments' ids (ARGUMENTS, plus `more` ids by name)."""
    more = more or {}
    for rule in get_rules(app):
        for name in sorted(rule.arguments):
            if name not in ARGUMENTS:
                raise MissingId(
                    f"add an id for <{name}> to ARGUMENTS in tests/routes.py "
                    f"(needed by GET {rule.rule}, endpoint {rule.endpoint})"
                )
    stale = sorted(set(QUERIES) - {r.endpoint for r in app.url_map.iter_rules()})
    assert not stale, f"QUERIES in tests/routes.py names endpoints that no longer exist: {stale}"
    adapter = app.url_map.bind("localhost")
    urls = []
    for rule in get_rules(app):
        names = sorted(rule.arguments)
        extra = QUERIES.get(rule.endpoint, lambda _m: [])(m)
        for combo in itertools.product(*([*ARGUMENTS[n](m), *more.get(n, [])] for n in names)):
            values = dict(zip(names, combo, strict=True))
            for query in [{}, *extra]:
                path = adapter.build(rule.endpoint, values | query, method="GET")
                urls.append(Url(rule.endpoint, rule.rule, path, values))
    return urls


# --- the five viewers ----------------------------------------------------------------------------------------


class Browser:
    """One test client per viewer: logged in for the pages (session cookie) and holding a bearer token for the
    API. Anonymous has neither."""

    def __init__(self, app: Flask, m: Market) -> None:
        accounts = {
            "owner": m.owner_email,
            "bidder": m.bidder.email,
            "rival": m.rival.email,
            "admin": m.admin_email,
        }
        self.clients = {}
        self.headers = {}
        for viewer in VIEWERS:
            client = app.test_client()
            headers = {}
            if viewer in accounts:
                who = SimpleNamespace(email=accounts[viewer])
                assert f.login(client, who).status_code == 302, f"{viewer} could not log in"
                headers = f.token(client, who)
            self.clients[viewer], self.headers[viewer] = client, headers

    def get(self, viewer: str, url: Url):
        return self.clients[viewer].get(url.path, headers=self.headers[viewer] if url.api else {})


_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def readable(response) -> str:
    """The body as a person or a program would read it: HTML entities and JSON \\u escapes undone."""
    text = html.unescape(response.get_data().decode("utf-8", errors="replace"))
    return _UNICODE_ESCAPE.sub(lambda x: chr(int(x.group(1), 16)), text)


@dataclass(frozen=True)
class Page:
    status: int
    text: str  # readable(response)


@dataclass(frozen=True)
class Walk:
    """Every URL fetched by every viewer in one market: the leak tests share it (one walk instead of one each)."""

    m: Market
    urls: list[Url]
    pages: dict[tuple[str, Url], Page]
    unpublished_ids: list[
        int
    ]  # an announcement under review and a returned one (review.unpublished_requests)

    def items(self):
        for url in self.urls:
            for viewer in VIEWERS:
                yield viewer, url, self.pages[(viewer, url)]


def walk(app: Flask) -> Walk:
    """The market, plus two announcements the public must not see (one under review, one returned), walked with
    announcement review on, as a real market has it."""
    from tests import market, review

    m = market.build()
    before = app.config["MARKET_REVIEW_ANNOUNCEMENTS"]
    app.config["MARKET_REVIEW_ANNOUNCEMENTS"] = 1
    try:
        unpublished = review.unpublished_requests(m)
        urls = build_urls(app, m, {"request_id": unpublished})
        browser = Browser(app, m)
        pages = {}
        for url in urls:
            for viewer in VIEWERS:
                r = browser.get(viewer, url)
                pages[(viewer, url)] = Page(r.status_code, readable(r))
    finally:
        app.config["MARKET_REVIEW_ANNOUNCEMENTS"] = before
    return Walk(m, urls, pages, unpublished)
