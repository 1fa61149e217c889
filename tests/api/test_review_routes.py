"""Requests under review or returned are not public, on any route: every GET route of the application (tests/
routes.py), fetched by the public, two agencies, the owner and an administrator, shows their titles and project
codes to the owner and the administrator (who reviews) only."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from marketplace.auth.models import User
from marketplace.extensions import db
from marketplace.requests import review
from marketplace.requests import services as requests
from tests import factories as f
from tests import market, routes

REVIEW_TITLE = "审核中：连云港港徐圩港区液体散货码头工程环境影响评价"
REVIEW_CODE = "2026-320700-55-02-777001"
RETURNED_TITLE = "已退回：灌河口航道疏浚工程海域使用论证"
RETURNED_CODE = "2026-320700-48-01-777002"
OPINION = "资质要求与事项不符，请删除指定品牌的表述"


def test_no_route_shows_an_unpublished_announcement_to_strangers(app, monkeypatch):
    m = market.build()
    monkeypatch.setitem(app.config, "MARKET_REVIEW_ANNOUNCEMENTS", 1)
    owner = db.session.scalar(select(User).where(User.email == m.owner_email))
    ids = []
    for title, code in ((REVIEW_TITLE, REVIEW_CODE), (RETURNED_TITLE, RETURNED_CODE)):
        req = requests.create_request(owner, f.request_data(title=title, project_code=code), publish=False)
        review.attach_approval_document(owner, req.id, io.BytesIO(f.PDF), "立项批复.pdf")
        requests.publish_request(owner, req.id)
        ids.append(req.id)
    db.session.commit()
    review.return_request(f.admin(), ids[1], OPINION)
    db.session.commit()

    original = routes.ARGUMENTS["request_id"]
    monkeypatch.setitem(routes.ARGUMENTS, "request_id", lambda mk: [*original(mk)[:1], *ids])
    urls = routes.build_urls(app, m)
    browser = routes.Browser(app, m)
    needles = [
        re.compile(re.escape(t))
        for t in (REVIEW_TITLE[4:], REVIEW_CODE, RETURNED_TITLE[4:], RETURNED_CODE, OPINION)
    ]
    leaks, errors, seen = [], [], {"owner": 0, "admin": 0}
    for url in urls:
        for viewer in routes.VIEWERS:
            r = browser.get(viewer, url)
            if r.status_code >= 500:
                errors.append(f"{viewer} GET {url.path} → {r.status_code}")
            text = routes.readable(r)
            hit = any(n.search(text) for n in needles)
            if viewer in seen:
                seen[viewer] += hit
            elif hit:
                leaks.append(f"{viewer} GET {url.path} → {r.status_code}")
    assert not errors, "\n".join(errors)
    assert not leaks, f"{len(leaks)} leaks of an unpublished announcement:\n" + "\n".join(leaks)
    # The needles do find them where they may be shown: the owner's desk and pages, the review desk.
    assert seen["owner"] >= 4 and seen["admin"] >= 4, seen
