"""Deterministic demo data: agencies with stores, enterprises, three accounts to try the market with, and a
year of market history on top.

`load_demo(seed)` always produces the same names, credit codes, prices and stories for the same seed (only the
dates move with today's date). Every demo account's password is `common.DEMO_PASSWORD`. The literal data is in
marketplace/demo/data/ (read by `marketplace.demo.dataset`); this module runs the load, one step after another,
each committed once (see `marketplace.demo.common.step`).
"""

from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.agencies.models import Agency
from marketplace.audit.services import record
from marketplace.auth.models import Enterprise, Role, User
from marketplace.catalogue.models import Category
from marketplace.demo import agencies, enterprises, qualification_cases
from marketplace.demo.common import (
    ADMIN_EMAIL,
    AGENCY_EMAIL,
    ENTERPRISE_EMAIL,
    step,
)
from marketplace.demo.complaints import load_complaints
from marketplace.demo.contracts import load_contract_cases
from marketplace.demo.credit import load_credit
from marketplace.demo.dataset import ACCOUNTS
from marketplace.demo.fees import load_fee_cases
from marketplace.demo.history import load_history
from marketplace.demo.inspections import load_inspections
from marketplace.demo.invitations import load_invitations
from marketplace.demo.members import Members
from marketplace.demo.moderation import load_moderation_cases
from marketplace.demo.notifications import load_notifications
from marketplace.demo.payments import load_payments
from marketplace.demo.people import load_people
from marketplace.demo.ratings import load_ratings
from marketplace.demo.reports import load_monthly_reports
from marketplace.demo.reviews import load_reviews
from marketplace.demo.staff import load_staff
from marketplace.demo.todo import load_todo_cases
from marketplace.extensions import db
from marketplace.tally import services as tally


def has_data() -> bool:
    """True once any agency or enterprise exists (the demo loader then stays away)."""
    return (
        db.session.scalar(select(Agency.id).limit(1)) is not None
        or db.session.scalar(select(Enterprise.id).limit(1)) is not None
    )


def load_demo(seed: int = 2026) -> dict[str, int]:
    """Load the demo data set (the catalogue must already be seeded); returns what was created."""
    categories = list(
        db.session.scalars(select(Category).options(selectinload(Category.items)).order_by(Category.code))
    )
    if not categories:
        raise RuntimeError("the service catalogue is empty; run the migrations first")
    demo_emails = [ADMIN_EMAIL, ENTERPRISE_EMAIL, AGENCY_EMAIL]
    taken = list(db.session.scalars(select(User.email).where(func.lower(User.email).in_(demo_emails))))
    if taken:
        raise RuntimeError(f"demo accounts already exist ({', '.join(sorted(taken))}); demo data is loaded")

    members = Members(random.Random(seed), categories)
    with step(on_error=members.remove_files):
        counts = build_members(members)
    with step():  # practitioners before the history: some items require them named in bids
        counts |= load_people(seed + 5)
    # The market's past year is played through the services; each story and each order's payments is one step
    # (one commit), as a request of the real market would be.
    counts |= load_history(random.Random(seed + 1), members.midnight)
    with step():
        counts |= load_ratings(random.Random(seed + 2))
    counts |= load_payments(random.Random(seed + 3), ENTERPRISE_EMAIL, AGENCY_EMAIL)
    counts |= load_contract_cases(random.Random(seed + 5))
    with step():
        counts |= load_fee_cases(random.Random(seed + 4), ADMIN_EMAIL)
    with step():
        counts |= load_staff()
        counts |= load_reviews()
    counts |= load_todo_cases()
    counts |= load_invitations()  # 邀请报价 for the demo agency (demo/invitations.py)
    with step():
        counts |= load_inspections(random.Random(seed + 6))
    with step():
        counts |= load_complaints(random.Random(seed + 7))
    with step():  # after every story: the listeners have recorded the market's credit events (the upheld
        counts |= load_credit()  # complaint's and the failed inspection items' included)
    with step():
        counts |= load_monthly_reports()
    with (
        step()
    ):  # after the credit demo: moderation never changes a score, and must not move the grades shown
        counts |= load_moderation_cases()
    with step():  # last: dates the notifications the stories raised and marks the older ones read
        counts |= load_notifications(ENTERPRISE_EMAIL, AGENCY_EMAIL)
    # The demo dated its deals and admitted members directly: every kept figure (statistics, summary rows, fee
    # figures, the list's rows) is rebuilt from the records, as `flask stats rebuild` does.
    with step():
        tally.rebuild()
    with step():
        record(None, "demo.load", object_type="demo", after=counts)
    return counts


def build_members(m: Members) -> dict[str, int]:
    """The administrator, the fixed agency and enterprise, and the generated ones; returns their counts."""
    admin = ACCOUNTS["admin"]
    db.session.add(m.user(ADMIN_EMAIL, Role.ADMIN, admin["contact_name"], None, m.moment(400)))
    agencies.fixed_agency(m)
    for plan in agencies.plans(m):
        agencies.agency(m, plan)
    enterprises.fixed_enterprise(m)
    for i in range(1, enterprises.N_ENTERPRISES + 1):
        enterprises.enterprise(m, i)
    qualification_cases.cleaner_production_agency(m)
    db.session.flush()
    return dict(m.counts)
