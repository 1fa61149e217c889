"""Concurrent actors calling the services, with real commits on SQLite (a file database) and PostgreSQL: exactly
one consistent outcome."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEntry
from marketplace.common.clock import now
from marketplace.common.errors import WrongState
from marketplace.extensions import db
from marketplace.requests import bidding
from marketplace.requests import services as requests
from marketplace.requests.bids import Bid, BidRevision
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel
from tests.racing import bids_closing_soon, committed, race

pytestmark = pytest.mark.sqlite  # also run on SQLite, the embedded default (tests/run.sh)

GRACE = 0.3  # MARKET_CLOSE_GRACE_SECONDS: the deadline race below waits for the close


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    app, close = committed(tmp_path_factory, MARKET_CLOSE_GRACE_SECONDS=GRACE)
    yield app
    close()


def test_two_selections_at_once_give_one_winner(committed_app):
    with committed_app.app_context():
        enterprise, admin = f.user("enterprise"), f.admin()
        req = f.published_request(enterprise, selection_method="random")
        for _ in range(3):
            f.bid(f.active_agency("C03", reviewer=admin), req)
        timetravel.past_deadline(req)
        requests.advance(db.session.get(ServiceRequest, req.id))
        req_id, user_id = req.id, enterprise.id
        db.session.remove()

    def select_once():
        from marketplace.auth.models import User

        return requests.select_winner(db.session.get(User, user_id), req_id).winner_bid_id

    for round_ in range(3):  # a few rounds to make overlap likely; only the very first selection can win
        results = race(committed_app, select_once, select_once)
        winners = [r for r in results if isinstance(r, int)]
        losers = [r for r in results if isinstance(r, WrongState)]
        assert len(winners) + len(losers) == 2, results
        assert len(winners) == (1 if round_ == 0 else 0), (round_, results)
    with committed_app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).where(
                    AuditEntry.action == "request.select", AuditEntry.object_id == req_id
                )
            )
            == 1
        )
        assert db.session.get(ServiceRequest, req_id).status == "publicity"


def test_same_agency_bidding_twice_at_once_keeps_one_live_bid(committed_app):
    with committed_app.app_context():
        enterprise, admin = f.user("enterprise"), f.admin()
        agency = f.active_agency("C03", reviewer=admin)
        req = f.published_request(enterprise)
        req_id, user_id = req.id, agency.id
        db.session.remove()

    def bid_once():
        from marketplace.auth.models import User

        return bidding.submit_bid(
            db.session.get(User, user_id),
            req_id,
            {"price_fen": 1_000_000, "promised_days": 10, "plan": "并发提交两次同一报价。"},
        ).id

    results = race(committed_app, bid_once, bid_once)
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, WrongState) for r in results) == 1
    with committed_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Bid).where(Bid.request_id == req_id)) == 1


def test_revisions_racing_the_deadline_end_consistently(committed_app):
    req_id, bid_id, user_id, _, deadline = bids_closing_soon(committed_app, timedelta(milliseconds=400))

    def keep_revising():
        from marketplace.auth.models import User

        price = 5_000_000
        while True:
            price -= 1
            try:
                bidding.revise_bid(db.session.get(User, user_id), bid_id, {"price_fen": price})
            except WrongState:
                db.session.rollback()
                return price

    def close_when_due():
        while now() < deadline + timedelta(seconds=GRACE):
            pass
        return requests.advance(db.session.get(ServiceRequest, req_id))

    race(committed_app, keep_revising, close_when_due, keep_revising)
    with committed_app.app_context():
        req = db.session.get(ServiceRequest, req_id)
        assert req.status == "evaluating"
        revisions = db.session.scalars(
            select(BidRevision).where(BidRevision.bid_id == bid_id).order_by(BidRevision.version)
        ).all()
        bid = db.session.get(Bid, bid_id)
        # Every accepted revision happened before bidding closed, and the bid is exactly its last revision.
        assert all(r.at <= req.closed_at for r in revisions)
        assert (bid.price_fen, bid.version) == (revisions[-1].price_fen, revisions[-1].version)
        assert [r.version for r in revisions] == list(range(1, len(revisions) + 1))
