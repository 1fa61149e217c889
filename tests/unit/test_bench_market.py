"""The benchmark's market builder (bench/market.py) keeps working: a tiny market built with it on the test
database (SQLite, or PostgreSQL under TEST_DATABASE_URL) has statistics that agree with its rows, and every
public page the benchmark times answers 200. No timings are asserted (a benchmark is not a test)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from bench import market
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.ratings.models import Rating
from marketplace.requests.bids import Bid
from marketplace.requests.models import RequestStatus, ServiceRequest
from marketplace.stats.models import AgencyStats
from tests.conftest import migrated_database


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    url, drop = migrated_database(os.environ.get("TEST_DATABASE_URL"), folder)
    app = market.make_app(url, folder, TESTING=True, REPORTS_MONTHLY=0)  # as every test app (conftest)
    market.build(app, market.Plan(agencies=50, orders=300, ratings=200, seed=3), report=False)
    yield app
    with app.app_context():
        db.engine.dispose()
    drop()


@pytest.fixture(autouse=True)
def _transaction():
    """This module's app has a database of its own (the builder commits through its own connection)."""
    yield


def test_rebuilt_statistics_agree_with_the_rows(built):
    with built.app_context():
        s = db.session
        accepted = s.scalar(select(func.count()).where(Order.status == OrderStatus.ACCEPTED))
        assert 0 < accepted < 300  # the newest deals are still running
        assert s.scalar(select(func.sum(AgencyStats.completed_orders))) == accepted
        ratings = s.scalar(select(func.count()).select_from(Rating))
        assert ratings == 200
        assert s.scalar(select(func.sum(AgencyStats.ratings_count))) == ratings
        # every deal's winner is the lowest bid of its request, and its order is the winner's
        wrong = s.scalar(
            select(func.count())
            .select_from(Order)
            .join(ServiceRequest, ServiceRequest.id == Order.request_id)
            .where(ServiceRequest.winner_bid_id != Order.bid_id)
        )
        assert wrong == 0
        lower = s.scalar(
            select(func.count())
            .select_from(Bid)
            .join(Order, Order.request_id == Bid.request_id)
            .where(Bid.price_fen < Order.amount_fen)
        )
        assert lower == 0
        assert s.scalar(select(func.count()).where(ServiceRequest.status == RequestStatus.BIDDING)) >= 10


def test_every_public_page_of_the_run_answers(built):
    market.clock_pass(built)  # as `run` does: the clock makes this month's open-data package, among others
    found, left_out, broken = market.pages(built)
    assert not broken
    paths = {p.path for p in found}
    assert {"/healthz", "/", "/agencies/", "/fees/", "/requests/", "/catalogue/", "/stats/"} <= paths
    assert any(p.startswith("/agencies/") and p[10:].isdigit() for p in paths)  # a store
    assert any(p.startswith("/fees/items/") for p in paths)
    client = built.test_client()
    for page in found:
        assert client.get(page.path).status_code == 200, page.path
