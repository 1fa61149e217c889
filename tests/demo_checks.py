"""What the loaded demo must show, checked once by tests/unit/test_demo_stats.py (the demo loads once per run:
playing its year of history through the services is the suite's most expensive step)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from marketplace.agencies.models import Agency
from marketplace.audit import chain
from marketplace.extensions import db
from marketplace.orders.models import Contract, ContractStatus, Extension, ExtensionStatus, Order, OrderStatus
from marketplace.tally import services as tally
from tests.ocds import check_bids, months_of, package_for, validate


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def contracts(counts: dict) -> None:
    """With the contract step on (the production default) its started orders were signed on the platform, and it
    shows a contract waiting for confirmation, one rejected and uploaded again, approved and refused extensions
    and every agency's bank details."""
    started = count(Order, Order.started_at.is_not(None))
    assert started > 20
    assert count(Contract, Contract.status == ContractStatus.CONFIRMED) == started
    # Every confirmed contract lies before its order's start, and its term starts that day.
    for contract in db.session.scalars(select(Contract).where(Contract.status == ContractStatus.CONFIRMED)):
        assert contract.created_at <= contract.decided_at == contract.order.started_at
        assert contract.start_date <= contract.end_date
    assert counts["contracts_pending"] == 1 and counts["contracts_rejected"] == 1
    assert count(Contract, Contract.status == ContractStatus.REJECTED) == 1
    rejected = db.session.scalar(select(Contract).where(Contract.status == ContractStatus.REJECTED))
    assert (
        rejected.order.contract.status == ContractStatus.PENDING
        and rejected.order.status == OrderStatus.AWAITING
    )
    assert count(Extension, Extension.status == ExtensionStatus.APPROVED) == 2
    assert count(Extension, Extension.status == ExtensionStatus.REJECTED) == 1
    extended = db.session.scalar(
        select(Order).join(Extension).where(Extension.status == ExtensionStatus.APPROVED).limit(1)
    )
    assert extended.due_at > extended.original_due_at
    assert count(Agency, Agency.account_no.is_not(None)) == count(Agency, Agency.status != "expelled")

    incremental = tally.snapshot()
    tally.rebuild()
    assert tally.snapshot() == incremental


def open_data(client) -> None:
    """Every month's OCDS package validates against the official 1.1.5 schema, bids only after their deadlines,
    and the audit chain of the whole demo verifies."""
    months = months_of(client)
    assert len(months) >= 6
    tags, sizes = Counter(), {}
    for month in months:
        body = package_for(client, month)
        validate(body)
        check_bids(body)
        sizes[month] = len(body["releases"])
        tags.update(t for r in body["releases"] for t in r["tag"])
    busiest = max(sizes, key=sizes.get)
    assert sizes[busiest] > 20, sizes
    for tag in ("tender", "award", "awardUpdate", "contract", "contractUpdate", "implementation"):
        assert tags[tag] > 0, (tag, tags)

    finding = chain.verify(db.session())
    assert finding.ok, finding.problem
    assert finding.agreed > 500


def supervision(app) -> None:
    """Credit shows every grade, a blacklisted and a red-listed agency, and `credit rebuild` agrees; a random
    inspection is published with failed items (credit events); the demo's people have notifications; last month's
    monthly report is kept."""
    from marketplace.auth.models import User
    from marketplace.credit.models import AgencyCredit, CreditEvent, ListKind
    from marketplace.credit.scores import listed_ids
    from marketplace.demo.common import AGENCY_EMAIL, ENTERPRISE_EMAIL
    from marketplace.inspections.models import InspectionFinding, InspectionTask, TaskStatus
    from marketplace.notifications.models import Notification
    from marketplace.reports.models import MonthlyReport

    grades = set(db.session.scalars(select(AgencyCredit.grade).distinct()))
    assert grades == {"A", "B", "C", "D", "E"}, grades
    assert listed_ids(ListKind.BLACK) and listed_ids(ListKind.RED)
    rules = set(db.session.scalars(select(CreditEvent.rule).distinct()))
    assert {"rating", "complaint_upheld", "inspection_failed"} <= rules, rules
    agreed = app.test_cli_runner().invoke(args=["credit", "rebuild"])
    assert agreed.exit_code == 0 and "agree" in agreed.output, agreed.output

    closed = db.session.scalars(
        select(InspectionTask).where(InspectionTask.status == TaskStatus.CLOSED)
    ).all()
    assert closed and count(InspectionFinding, InspectionFinding.passed.is_(False)) > 0

    for email in (ENTERPRISE_EMAIL, AGENCY_EMAIL):
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        assert count(Notification, Notification.user_id == user_id, Notification.read_at.is_(None)) > 0
    assert count(MonthlyReport) > 0
