"""The demo data's running statistics are the ones a rebuild from the market's history gives.

Loading the demo plays a year of history through the services (~25 s), so this runs once, on SQLite.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from marketplace.auth.models import User
from marketplace.demo import dataset
from marketplace.demo.services import load_demo
from marketplace.extensions import db
from marketplace.fees.models import FeeFlag, FlagRule
from marketplace.requests.bids import Bid
from marketplace.requests.models import Objection
from marketplace.stats.models import AgencyStats
from marketplace.tally import services as tally
from tests import demo_checks
from tests.review import assert_demo_reviews

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")), reason="loads the whole demo: once, on SQLite, is enough"
)


def test_the_demo_shows_every_feature_and_its_running_figures_agree(app, client, review_on):
    # what `flask demo load` does, with the default settings (announcements reviewed, contracts signed on the
    # platform); loaded once for every check of the demo (tests/demo_checks.py)
    app.config["MARKET_CONTRACT_STEP"] = True
    try:
        counts = load_demo()
    finally:
        app.config["MARKET_CONTRACT_STEP"] = False
    demo_checks.contracts(counts)
    demo_checks.open_data(client)
    demo_checks.supervision(app)
    assert_demo_reviews()
    incremental = tally.snapshot()
    assert len(incremental["agencies"]) > 20  # accepted, rated, late and overdue orders of many agencies

    tally.rebuild()
    assert tally.snapshot() == incremental

    # The demo shows the fee audit at work: a flag of every rule, some reviewed, money received.
    rules = set(db.session.scalars(select(FeeFlag.rule).distinct()))
    assert rules == set(FlagRule)
    assert db.session.scalar(select(func.count()).select_from(FeeFlag).where(FeeFlag.status == "confirmed"))
    assert sum(a["paid_sum_fen"] for a in incremental["agencies"].values()) > 0
    assert sum(a["overdue_orders"] for a in incremental["agencies"].values()) > 0

    # Complaints and reports (投诉、举报): open, upheld with a credit deduction, dismissed, refused, an anonymous
    # report, and one past its acceptance deadline.
    from marketplace.complaints.models import Complaint

    complaints = list(db.session.scalars(select(Complaint)))
    assert {c.status.value for c in complaints} >= {
        "received",
        "investigating",
        "upheld",
        "dismissed",
        "refused",
    }
    assert any(c.status == "upheld" and c.consequences == ["credit"] and c.points == -10 for c in complaints)
    assert any(c.kind == "report" and c.complainant_id is None for c in complaints)
    assert any(c.overdue for c in complaints)

    # Its objections come from interested parties: each from an agency that bid in that round, once.
    lodged = db.session.execute(
        select(Objection.request_id, Objection.agency_id, Bid.status).outerjoin(
            Bid, (Bid.request_id == Objection.request_id) & (Bid.agency_id == Objection.agency_id)
        )
    ).all()
    assert len(lodged) >= 5
    assert all(status is not None and status != "withdrawn" for _, _, status in lodged)
    assert len({(r, a) for r, a, _ in lodged}) == len(lodged)

    # Membership evidence: practitioners with valid ID numbers, bids naming the ones their item requires, changes
    # under review (one overdue) and one rejected, pending applications with their review deadline.
    from marketplace.agencies.changes import overdue_reviews
    from marketplace.agencies.models import Agency
    from marketplace.agencies.roster import MembershipChange, Practitioner
    from marketplace.agencies.validation import is_id_number
    from marketplace.requests.bids import bid_practitioner

    people = db.session.scalars(select(Practitioner)).all()
    assert len(people) > 100 and all(is_id_number(p.id_number) for p in people)
    assert db.session.scalar(select(func.count()).select_from(bid_practitioner)) > 0
    statuses = [c.status.value for c in db.session.scalars(select(MembershipChange))]
    assert statuses.count("pending") >= 3 and statuses.count("rejected") == 1
    pending = db.session.scalars(select(Agency).where(Agency.status == "pending")).all()
    assert pending and all(a.review_due_at is not None for a in pending)
    admin = db.session.scalar(select(User).where(User.role == "admin"))
    assert {r["kind"] for r in overdue_reviews(admin)} >= {"change"}

    runner = app.test_cli_runner()
    agreed = runner.invoke(args=["stats", "rebuild"])
    assert agreed.exit_code == 0, agreed.output
    assert "incremental statistics agree" in agreed.output

    # The command notices drift: one agency's running total off by one.
    agency_id = db.session.scalar(select(AgencyStats.agency_id).limit(1))
    db.session.execute(
        update(AgencyStats)
        .where(AgencyStats.agency_id == agency_id)
        .values(completed_orders=AgencyStats.completed_orders + 1)
    )
    db.session.commit()
    drifted = runner.invoke(args=["stats", "rebuild"])
    assert drifted.exit_code == 1
    assert "DIFFERED" in drifted.output


def test_demo_data_files_install_with_the_package():
    """Every file the demo loader reads is package data, so a non-editable install (a wheel) has it too."""
    package = Path(dataset.__file__).resolve().parent.parent  # marketplace/
    pyproject = tomllib.loads((package.parent / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["marketplace"]
    installed = {path for pattern in patterns for path in package.glob(pattern)}
    data_files = [path for path in dataset.DATA_DIR.rglob("*") if path.is_file()]
    assert len(data_files) > 20
    assert [p.name for p in data_files if p not in installed] == []
