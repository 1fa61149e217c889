"""Agencies bidding on the same announcement at the same moment do not queue behind each other: a bid holds a
shared lock on its announcement (PostgreSQL FOR SHARE), which only the close, a cancellation and the selection
(FOR UPDATE) wait for. With an exclusive lock every bidder waited for the one before — just before a deadline,
when many bid at once."""

from __future__ import annotations

import threading

from sqlalchemy import select

from marketplace.auth.models import User
from marketplace.extensions import db
from marketplace.requests import bidding
from marketplace.requests.bids import Bid
from tests import factories as f
from tests.racing import needs_postgresql

pytestmark = needs_postgresql

PLAN = {"price_fen": 1_000_000, "promised_days": 10, "plan": "现场踏勘后编制报告表并配合专家评审。"}


def test_a_second_agencys_bid_commits_while_the_first_is_still_open(committed_app):
    with committed_app.app_context():
        req = f.published_request(f.user("enterprise"))
        code = req.service_item.category.code
        first, second = f.active_agency(code), f.active_agency(code)
        req_id, first_id, second_id = req.id, first.id, second.id
        db.session.commit()
        db.session.remove()

    first_in, second_done, outcome = threading.Event(), threading.Event(), {}

    def first_bid_held_open():
        with committed_app.app_context():
            try:
                bidding.submit_bid(db.session.get(User, first_id), req_id, PLAN)
                first_in.set()
                # its transaction (and its lock on the announcement) stays open until the second bid committed
                outcome["second committed meanwhile"] = second_done.wait(8)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
                outcome["error"] = exc
            finally:
                first_in.set()
                db.session.remove()

    thread = threading.Thread(target=first_bid_held_open)
    thread.start()
    assert first_in.wait(20)
    with committed_app.app_context():
        bidding.submit_bid(db.session.get(User, second_id), req_id, PLAN)
        db.session.commit()
        second_done.set()
        db.session.remove()
    thread.join(30)
    assert "error" not in outcome, outcome
    assert outcome["second committed meanwhile"] is True
    with committed_app.app_context():
        bidders = set(db.session.scalars(select(Bid.agency_id).where(Bid.request_id == req_id)))
        assert len(bidders) == 2
