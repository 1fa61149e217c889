"""The demo with the contract step on (the production default): its started orders were signed on the platform,
and it shows a contract waiting for confirmation, one rejected and uploaded again, approved and refused
extensions and every agency's bank details — with running statistics that a rebuild agrees with."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from marketplace.agencies.models import Agency
from marketplace.demo.services import load_demo
from marketplace.extensions import db
from marketplace.orders.models import Contract, ContractStatus, Extension, ExtensionStatus, Order, OrderStatus
from marketplace.tally import services as tally

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")), reason="loads the whole demo: once, on SQLite, is enough"
)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_demo_signs_its_orders_on_the_platform(app):
    app.config["MARKET_CONTRACT_STEP"] = True
    try:
        counts = load_demo()
    finally:
        app.config["MARKET_CONTRACT_STEP"] = False
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
