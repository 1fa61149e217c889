"""Reading changes nothing: every GET route (tests/routes.py), fetched by each of the five viewers, leaves every
row of every table as it was — even in a market where every clock-driven change has come due (a bid deadline
passed, a publicity period over, a delivery past its acceptance time, an order past its due date). Applying
those changes is the clock's job (tests/timetravel.py: run_clock), not a reader's."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.requests.models import ServiceRequest
from tests import dbstate, market, routes, timetravel


@pytest.fixture(scope="module")
def m(module_transaction):
    """The market with every clock-driven change due, built once for both tests (each runs in a savepoint of the
    module's transaction: the clock the second one runs is undone after it)."""
    built = market.build()
    market.make_everything_due(built)
    db.session.commit()
    return built


def test_no_get_route_changes_the_database(app, m):
    urls = routes.build_urls(app, m)
    browser = routes.Browser(app, m)  # logging in and taking tokens write; reading must not
    conn = db.session.connection()
    tables = dbstate.primary_keys(conn)
    # The search index's own work list is not the market's state: a search may index the pending documents
    # (marketplace/search/sessions.py; common/uow.py lets only that bookkeeping write during a read).
    tables.pop("search_queue")
    before = dbstate.snapshot(conn, tables)
    writes = []
    with dbstate.statements_that_may_write(db.engine) as statements:
        for url in urls:
            for viewer in routes.VIEWERS:
                statements.clear()
                savepoint = conn.begin_nested()  # each fetch starts from the same state
                try:
                    r = browser.get(viewer, url)
                    # Every row of every table compared, whenever a statement that can change one was sent.
                    changes = (
                        dbstate.differences(before, dbstate.snapshot(conn, tables)) if statements else []
                    )
                finally:
                    savepoint.rollback()
                if changes:
                    writes.append(
                        f"{viewer} GET {url.path} → {r.status_code}:\n    " + "\n    ".join(changes)
                    )
    # the savepoints undid everything
    assert dbstate.differences(before, dbstate.snapshot(conn, tables)) == []
    assert not writes, f"{len(writes)} reads wrote to the database:\n" + "\n".join(writes)


def test_the_market_is_due_but_untouched_until_the_clock_runs(app, m):
    """The state the test above starts from is real: every change is due, none applied, and the clock applies
    them all (so a read that changed nothing is not simply a read of a market where nothing was due)."""
    sealed = db.session.get(ServiceRequest, m.sealed_request_id)
    publicity = db.session.get(ServiceRequest, m.publicity_request_id)
    delivered = db.session.get(Order, m.delivered_order_id)
    running = db.session.get(Order, m.running_order_id)
    assert (sealed.status, publicity.status) == ("bidding", "publicity")
    assert (delivered.status, running.status, running.deadline_flag) == ("delivered", "in_progress", "ok")
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry))

    timetravel.run_clock()

    sealed = db.session.get(ServiceRequest, m.sealed_request_id)
    assert sealed.status == "failed"  # two valid bids, fewer than the three a fiscal request needs
    assert db.session.get(ServiceRequest, m.publicity_request_id).status == "awarded"
    delivered = db.session.get(Order, m.delivered_order_id)
    assert delivered.status == "accepted" and delivered.auto_accepted
    assert db.session.get(Order, m.running_order_id).deadline_flag == "red"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) > audit_before
