"""What waits for a person (待办): the to-do list that opens every desk and `GET /api/v1/todo`.

The list is made by small providers, one per kind of thing to do: the parties' in home/todo_desks.py, the
staff's in home/todo_staff.py (both imported by home/views.py, so registered when the app is built). Each
provider is a function of the viewer and the current time that returns a `Todo` (a count, the most urgent few
entries with links and due dates) or None when nothing waits; it runs a COUNT and a LIMIT query or two, never
one query per row. `todo_for` runs the providers the viewer's role has and puts what is overdue first.

Adding a kind (e.g. the complaints feature's "complaints to answer", in todo_desks.py):

    @provider("complaints_to_answer", Role.AGENCY)
    def _complaints_to_answer(actor: User, at: datetime) -> Todo | None:
        stmt = select(Complaint.id, Complaint.subject, Complaint.answer_due_at).where(
            Complaint.agency_id == agency_id_of(actor), Complaint.status == ComplaintStatus.AWAITING_ANSWER
        )
        count, rows = counted(stmt, Complaint.answer_due_at)  # COUNT, then the first TOP rows
        entries = [entry(r.subject, url_for("complaints.detail", complaint_id=r.id), r.answer_due_at, at) for r in rows]
        overdue = count_of(stmt.where(Complaint.answer_due_at < at))
        return todo("complaints_to_answer", _l("Complaints to answer"), count, url_for("complaints.mine"), entries,
                    overdue)

Register it with the roles it is for (staff roles: the administrator holds them all; scope staff lists with
`auth.policy.scope_condition`). Nothing else changes: the desks, the staff home and the API show it. Home sits
above every feature, so a provider may import any of them. Reads only: a provider never writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import url_for
from sqlalchemy import func, select

from marketplace.auth.models import Role, User
from marketplace.common.clock import as_utc, now
from marketplace.common.sql import count_of  # (providers import it from here too)
from marketplace.extensions import db
from marketplace.orders.models import Contract, Order
from marketplace.requests.models import ServiceRequest

TOP = 3  # entries shown per kind: the most urgent few
SOON = timedelta(days=3)  # a kind with an entry due within this comes before the others (after the overdue)


@dataclass
class Entry:
    """One thing to do: what it is, where to do it, and by when."""

    label: str
    url: str
    due_at: datetime | None = None
    overdue: bool = False
    note: str | None = None


@dataclass
class Todo:
    """One kind of thing to do: how many, and the most urgent few."""

    kind: str
    title: str
    count: int
    url: str
    entries: list[Entry] = field(default_factory=list)
    overdue: int = 0  # how many of `count` are overdue (0 when the kind has no deadline or none passed)

    @property
    def due_at(self) -> datetime | None:
        dues = [e.due_at for e in self.entries if e.due_at is not None]
        return min(dues) if dues else None


Provider = Callable[[User, datetime], "Todo | None"]
PROVIDERS: list[tuple[str, frozenset[Role], Provider]] = []


def provider(kind: str, *roles: Role) -> Callable[[Provider], Provider]:
    """Register a provider of one kind for the viewers holding one of `roles` (see `User.holds`)."""

    def register(fn: Provider) -> Provider:
        PROVIDERS[:] = [p for p in PROVIDERS if p[0] != kind]
        PROVIDERS.append((kind, frozenset(roles), fn))
        return fn

    return register


def _holds(user: User, roles: frozenset[Role]) -> bool:
    return any(user.holds(role) for role in roles)


def todo_for(user: Any) -> list[Todo]:
    """Everything waiting for `user`: overdue kinds first, then those due within SOON, then the rest, each group
    in the providers' order (the order of the steps of a deal)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    at = now()
    items = []
    for _kind, roles, fn in PROVIDERS:
        if _holds(user, roles):
            item = fn(user, at)
            if item is not None and item.count > 0:
                items.append(item)
    soon = at + SOON

    def rank(pair: tuple[int, Todo]) -> tuple:
        position, item = pair
        due = as_utc(item.due_at)
        return (item.overdue == 0, not (due is not None and due <= soon), position)

    return [item for _, item in sorted(enumerate(items), key=rank)]


# --- helpers for providers ----------------------------------------------------------------------------------


def counted(stmt, *order_by) -> tuple[int, list]:
    """The number of rows `stmt` selects and its first TOP rows in `order_by` order (two queries)."""
    count = count_of(stmt)
    rows = list(db.session.execute(stmt.order_by(*order_by).limit(TOP))) if count else []
    return count, rows


def entry(
    label: str, url: str, due_at: datetime | None = None, at: datetime | None = None, note=None
) -> Entry:
    due_at = as_utc(due_at)
    overdue = due_at is not None and at is not None and due_at < at
    return Entry(label=label, url=url, due_at=due_at, overdue=overdue, note=note)


def todo(kind: str, title, count: int, url: str, entries: list[Entry], overdue: int | None = None) -> Todo:
    if overdue is None:
        overdue = sum(1 for e in entries if e.overdue)
    return Todo(kind=kind, title=str(title), count=count, url=url, entries=entries, overdue=overdue)


def order_url(order_id: int) -> str:
    return url_for("orders.detail", order_id=order_id)


def enterprise_id_of(actor: User) -> int:
    return actor.enterprise.id if actor.enterprise is not None else -1


def agency_id_of(actor: User) -> int:
    return actor.agency.id if actor.agency is not None else -1


def order_rows(condition, *extra):
    """Order id, its request's title and the other party's name, for entries (one joined query)."""
    return (
        select(Order.id, ServiceRequest.title, *extra)
        .join(ServiceRequest, ServiceRequest.id == Order.request_id)
        .where(condition)
    )


def latest_contract():
    """The order's latest contract (the one in force or under confirmation), as a correlated id."""
    return (
        select(func.max(Contract.id)).where(Contract.order_id == Order.id).correlate(Order).scalar_subquery()
    )


def party_condition(actor: User):
    if actor.role == Role.AGENCY:
        return Order.agency_id == agency_id_of(actor)
    return Order.enterprise_id == enterprise_id_of(actor)
