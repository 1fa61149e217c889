"""The demo's year of history as open data: every month's OCDS package validates against the official 1.1.5
schema (shipped under tests/data/ocds-1.1.5 with its licence), bids only after their deadlines, and the audit
chain of the whole demo verifies. Loads the demo (~25 s): once, on SQLite."""

from __future__ import annotations

import os
from collections import Counter

import pytest

from marketplace.audit import chain
from marketplace.demo.services import load_demo
from marketplace.extensions import db
from tests.ocds import check_bids, months_of, package_for, validate

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")), reason="loads the whole demo: once, on SQLite, is enough"
)


def test_every_month_of_the_demo_validates_and_its_audit_chain_verifies(client):
    load_demo()
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
