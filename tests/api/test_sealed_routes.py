"""Sealed bids on every route: before the deadline no page, API resource, file or error message shows a bid's
price (in any format), its bidder or its plan, whoever asks: the public, the request's enterprise, another
agency, an administrator — and the bidder itself sees only its own bid. The routes come from the application's
URL map (tests/routes.py), so a route is checked the day it is added; test_sealed_bids.py holds the finer
checks of particular pages.

The complaint and contract privacy checks, and the one for announcements under review or returned, read the same
walk of every route (the `route_walk` fixture), so they live in this module: the test command gives each module
to one worker, and the walk is made once."""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest
from flask import Flask

from tests import market, review, routes
from tests.market import (
    CEILING,
    OTHER_PLAN,
    OTHER_SEALED_PRICE,
    PLAN,
    SEALED_CODE,
    SEALED_PRICE,
    SEALED_TITLE,
)

pytestmark = pytest.mark.sqlite  # also run on SQLite, the embedded default (tests/run.sh)

# Where agencies are listed as such: every member's name and credit code are public there.
AGENCY_LISTS = {
    "home.index",
    "agencies.index",
    "agencies-api.list_agencies",
    "search.index",
    "search-api.search",
    "agency_admin.applications",
    "agencies.admitted",  # 入驻公示: the members admitted lately
    "agencies-api.admitted",
    "enterprise.new_request",  # the request form's exclusion (回避) picker lists every member
    "enterprise.edit_request",
    # Random inspections list the drawn members (and, once closed, their results) with no word of any bid.
    "inspections.show",
    "inspections-api.public_detail",
    "inspection_admin.task",
    "inspections-api.staff_detail",
}
# Pages about one agency (the `agency_id` in the URL): its name is public there, never the requests it bid on.
AGENCY_PAGES = {
    "agencies.store",
    "agencies-api.store",
    "ratings-api.agency_ratings",
    "agency_admin.review",
    "agency_credit.agency_credit",  # its credit record
    "credit-api.agency_credit",
}
# Where the bidding agency reads its own bids: its inbox and list of bids, and the sealed request's page.
OWN_BID_LISTS = {"agency_bidding.inbox", "agency_bidding.my_bids", "requests-api.my_bids"}
OWN_BID_REQUEST_PAGES = {"requests.detail"}


class Needle(NamedTuple):
    label: str
    pattern: re.Pattern
    literal: str  # in every text the pattern matches: looked for first (~1,700 pages × ~40 needles)

    def search(self, text: str) -> bool:
        return self.literal in text and self.pattern.search(text) is not None


def _number(label: str, literal: str) -> Needle:
    """A number not glued to other digits or letters (so it is not found inside a hash or a longer number)."""
    return Needle(label, re.compile(rf"(?<![0-9A-Za-z]){re.escape(literal)}(?![0-9A-Za-z])"), literal)


def price_needles(fen: int) -> list[Needle]:
    yuan, cents = divmod(fen, 100)
    ratio = round(fen / CEILING, 4)
    forms = {
        "fen": str(fen),
        "yuan with separators and decimals": f"{yuan:,}.{cents:02d}",
        "yuan with decimals": f"{yuan}.{cents:02d}",
        "yuan with separators": f"{yuan:,}",
        "whole yuan": str(yuan),
        "ten-thousands of yuan": f"{yuan / 10_000:.4g}万",
        "share of the ceiling": str(ratio),
        "percent of the ceiling": f"{ratio * 100:.2f}%",
    }
    return [_number(f"price {fen} as {name} ({text})", text) for name, text in forms.items()]


def _literal(label: str, text: str) -> Needle:
    return Needle(f"{label} ({text})", re.compile(re.escape(text)), text)


def bid_id_needle(bid_id: int) -> Needle:
    pattern = re.compile(rf'"bid_id":\s*{bid_id}(?![0-9])')
    return Needle(f"the bid's id in JSON (bid_id {bid_id})", pattern, '"bid_id":')


def plan_needles(plan: str) -> list[Needle]:
    return [_literal("plan", plan), _literal("start of the plan", plan[:5])]


def identity_needles(agency: market.Agency) -> list[Needle]:
    return [
        _literal("bidder's name", agency.name),
        _literal("bidder's trade name", agency.name[:3]),
        _literal("bidder's credit code", agency.uscc),
    ]


ASSOCIATION = [
    _literal("the sealed request's title", SEALED_TITLE[:4]),
    _literal("its project code", SEALED_CODE),
]


def shows_own_bid(url: routes.Url, m: market.Market) -> bool:
    return url.endpoint in OWN_BID_LISTS or (
        url.endpoint in OWN_BID_REQUEST_PAGES and url.args.get("request_id") == m.sealed_request_id
    )


def about(url: routes.Url, agency: market.Agency) -> bool:
    return url.endpoint in AGENCY_PAGES and url.args.get("agency_id") == agency.agency_id


def needles(m: market.Market, viewer: str, url: routes.Url) -> list[Needle]:
    """What this viewer must not find on this URL. The bidder may see its own bid where it reads its bids, and
    its own name anywhere; nobody may see the other bid; names are public only where agencies are listed."""
    out = []
    for agency, price, plan, bid_id in (
        (m.bidder, SEALED_PRICE, PLAN, m.sealed_bid_id),
        (m.co_bidder, OTHER_SEALED_PRICE, OTHER_PLAN, m.other_sealed_bid_id),
    ):
        own = viewer == "bidder" and agency == m.bidder
        if own and shows_own_bid(url, m):
            continue
        out += price_needles(price) + plan_needles(plan) + [bid_id_needle(bid_id)]
        if own:
            continue
        if not (url.endpoint in AGENCY_LISTS or about(url, agency)):
            out += identity_needles(agency)
        if about(url, agency):
            out += ASSOCIATION
    return out


def test_no_route_reveals_a_sealed_bid_to_anyone_before_the_deadline(app, route_walk):
    m, urls = route_walk.m, route_walk.urls
    leaks, errors, own_pages = [], [], []
    for viewer, url, page in route_walk.items():
        if page.status >= 500:
            errors.append(f"{viewer} GET {url.path} → {page.status}")
        for needle in needles(m, viewer, url):
            if needle.search(page.text):
                leaks.append(f"{viewer} GET {url.path} → {page.status}: {needle.label}")
        if viewer == "bidder" and shows_own_bid(url, m):
            own_pages.append((url.path, page.text))
    assert not leaks, f"{len(leaks)} leaks of a sealed bid:\n" + "\n".join(leaks)
    assert not errors, "server errors:\n" + "\n".join(errors)
    # The needles find a price where it is shown: the bidder's own bid is on its pages, in the page's format.
    own_price = price_needles(SEALED_PRICE)
    for path, text in own_pages:
        found = [needle.label for needle in own_price if needle.search(text)]
        assert found, f"the bidder's own price is not on {path}: are the needles wrong?"
    assert len(own_pages) == 4, [p for p, _ in own_pages]
    fetches = len(urls) * len(routes.VIEWERS)
    print(f"\n{len(routes.get_rules(app))} GET routes, {len(urls)} URLs, {fetches} fetches")


def test_a_route_whose_argument_has_no_id_fails_loudly():
    probe = Flask("probe")

    @probe.get("/widgets/<int:widget_id>")
    def widget(widget_id):
        return str(widget_id)

    with pytest.raises(routes.MissingId, match=r"add an id for <widget_id>.*GET /widgets/<int:widget_id>"):
        routes.build_urls(probe, None)


# --- complaints: on every route, a complainant's contact and the complaint itself stay private ------------------
# On every GET route, as each of the five viewers: a complainant's contact details stay with staff and the
# complainant; the complaint itself is seen by its two sides and staff only, and its files likewise.

CONTACT_VIEWERS = {"owner", "admin"}  # the complainant and staff; never the respondent (the rival)
SIDES = {"owner", "rival", "admin"}
COMPLAINT_ROUTES = {
    "complaints.detail",
    "complaints.complaint_file",
    "complaints-api.get_complaint",
    "complaints-api.complaint_file",
}


def test_complaints_and_their_contact_stay_private_on_every_route(route_walk):
    leaks, seen, contact = [], {}, set()
    for viewer, url, page in route_walk.items():
        if market.COMPLAINT_PHONE in page.text:
            contact.add(viewer)
            if viewer not in CONTACT_VIEWERS:
                leaks.append(f"{viewer} GET {url.path}: the complainant's telephone")
        if url.endpoint in COMPLAINT_ROUTES:
            seen.setdefault((url.endpoint, viewer), set()).add(page.status)
    assert not leaks, "\n".join(leaks)
    assert contact == CONTACT_VIEWERS  # the needle is found where it belongs
    for endpoint in COMPLAINT_ROUTES:
        allowed = {v for v in routes.VIEWERS if seen[(endpoint, v)] == {200}}
        assert allowed == SIDES, (endpoint, {k: v for k, v in seen.items() if k[0] == endpoint})


# --- contracts: on every route, the signed contract's file and the payee's bank account stay private ------------
# On every GET route, as each of the five viewers: the signed contract's file and the payee's bank account stay
# with the people they belong to. The contract file opens only for its parties (the owner and the rival) and staff;
# the account number shows only to the rival itself, the owner it may be paid by, and the administrator.

ACCOUNT_VIEWERS = {"owner", "rival", "admin"}
FILE_ROUTES = {"order_contracts.contract_file", "contracts-api.contract_file"}


def test_contract_files_and_bank_accounts_stay_private_on_every_route(route_walk):
    m = route_walk.m
    leaks, files, accounts = [], {}, set()
    for viewer, url, page in route_walk.items():
        if market.BANK_ACCOUNT in page.text:
            accounts.add(viewer)
            if viewer not in ACCOUNT_VIEWERS:
                leaks.append(f"{viewer} GET {url.path}: the bank account")
        if url.endpoint in FILE_ROUTES:
            if url.args["order_id"] == m.running_order_id:
                files[(viewer, url.endpoint)] = page.status
            else:  # another order's path with this contract's id
                assert page.status in (302, 401, 404), (viewer, url.path, page.status)
        elif url.endpoint.startswith("contracts") and "签署合同.pdf" in page.text:
            leaks.append(f"{viewer} GET {url.path}: the contract file's name")
    assert not leaks, "\n".join(leaks)
    assert accounts == ACCOUNT_VIEWERS  # the needle is found where it belongs
    for endpoint in FILE_ROUTES:
        assert {v for v in routes.VIEWERS if files[(v, endpoint)] == 200} == {"owner", "rival", "admin"}, (
            files
        )
    # The public 合同公告 lists the signed contract (parties, amount, dates).
    public = next(u for u in route_walk.urls if u.endpoint == "contracts.index")
    assert market.CONTRACT_CODE in route_walk.pages[("anonymous", public)].text


# --- announcements under review or returned: on every route, only their owner and the reviewer see them ---------
# Requests under review or returned are not public: every GET route, fetched by the public, two agencies, the
# owner and an administrator, shows their titles, project codes and the review's opinion to the owner and the
# administrator (who reviews) only. (The walk has announcement review on, and the two requests' ids among the
# `request_id`s: tests/routes.py `walk`.)


def test_no_route_shows_an_unpublished_announcement_to_strangers(route_walk):
    needles = [
        re.compile(re.escape(t))
        for t in (
            review.REVIEW_TITLE[4:],
            review.REVIEW_CODE,
            review.RETURNED_TITLE[4:],
            review.RETURNED_CODE,
            review.OPINION,
        )
    ]
    leaks, errors, seen = [], [], {"owner": 0, "admin": 0}
    for viewer, url, page in route_walk.items():
        if page.status >= 500:
            errors.append(f"{viewer} GET {url.path} → {page.status}")
        hit = any(n.search(page.text) for n in needles)
        if viewer in seen:
            seen[viewer] += hit
        elif hit:
            leaks.append(f"{viewer} GET {url.path} → {page.status}")
    assert not errors, "\n".join(errors)
    assert not leaks, f"{len(leaks)} leaks of an unpublished announcement:\n" + "\n".join(leaks)
    # The needles do find them where they may be shown: the owner's desk and pages, the review desk.
    assert seen["owner"] >= 4 and seen["admin"] >= 4, seen
    assert len(route_walk.unpublished_ids) == 2
