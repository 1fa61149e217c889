"""The staff's audit viewer: the audit log filtered by actor, object, action and period, newest first.

Entries hold other regions' and other trades' changes (and their before/after values), and carry no region of
their own: the market-wide administrator and the supervisors (管理部门) read them; operators and departments do
not."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from marketplace.audit.labels import ACTION_LABELS
from marketplace.audit.models import AuditEntry
from marketplace.auth.models import Role, User
from marketplace.auth.services import require_role
from marketplace.common.clock import LOCAL_TZ, now
from marketplace.common.forms import int_or_none
from marketplace.extensions import db
from marketplace.requests.bids import Bid
from marketplace.requests.models import ServiceRequest

READERS = (Role.ADMIN, Role.SUPERVISOR)


def require_reader(actor: User | None) -> User:
    return require_role(actor, *READERS)


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@dataclass
class Filters:
    actor: str = ""  # part of the e-mail (or "system")
    object_type: str = ""
    object_id: int | None = None
    action: str = ""
    since: date | None = None
    until: date | None = None
    errors: list | None = None

    @classmethod
    def from_args(cls, args) -> Filters:
        f = cls(
            actor=(args.get("actor") or "").strip()[:254],
            object_type=(args.get("object_type") or "").strip()[:40],
            object_id=int_or_none(args.get("object_id")),
            action=(args.get("action") or "").strip()[:60],
            since=_day(args.get("since")),
            until=_day(args.get("until")),
            errors=[],
        )
        for name in ("since", "until"):
            if args.get(name) and getattr(f, name) is None:
                f.errors.append(_l("Dates are written YYYY-MM-DD."))
        if args.get("object_id") and f.object_id is None:
            f.errors.append(_l("An object number is a whole number."))
        if f.since and f.until and f.since > f.until:
            f.errors.append(_l("The period ends before it starts."))
        return f

    def statement(self) -> Select:
        e = AuditEntry
        stmt = select(e)
        if self.actor:
            if self.actor.lower() == "system":
                stmt = stmt.where(e.actor_id.is_(None))
            else:
                stmt = stmt.where(func.lower(e.actor_label).contains(self.actor.lower(), autoescape=True))
        if self.object_type:
            stmt = stmt.where(e.object_type == self.object_type)
        if self.object_id is not None:
            stmt = stmt.where(e.object_id == self.object_id)
        if self.action:
            stmt = stmt.where(e.action == self.action)
        if self.since:
            stmt = stmt.where(e.at >= datetime.combine(self.since, time(), LOCAL_TZ))
        if self.until:
            stmt = stmt.where(e.at < datetime.combine(self.until + timedelta(days=1), time(), LOCAL_TZ))
        return stmt.order_by(e.id.desc())


def entries(actor: User | None, filters: Filters, page: int, per_page: int = 30):
    require_reader(actor)
    return db.paginate(filters.statement(), page=page, per_page=per_page, error_out=False, count=True)


def sealed_bids(entries: list[AuditEntry]) -> set[int]:
    """The bids among these entries' objects whose request still takes bids: their recorded prices and plans
    stay sealed here too, for everyone (the administrator included), until the deadline."""
    ids = {e.object_id for e in entries if e.object_type == "bid" and e.object_id}
    if not ids:
        return set()
    rows = db.session.execute(
        select(Bid.id)
        .join(ServiceRequest, ServiceRequest.id == Bid.request_id)
        .where(Bid.id.in_(ids), ServiceRequest.bid_deadline > now())
    )
    return set(rows.scalars())


def action_choices() -> list[tuple[str, str]]:
    """Every action with a label, and any other code the log holds (shown as it is)."""
    codes = set(ACTION_LABELS) | set(db.session.scalars(select(AuditEntry.action).distinct()))
    return sorted(((c, str(ACTION_LABELS.get(c, c))) for c in codes), key=lambda pair: pair[0])


def object_choices() -> list[str]:
    return sorted(db.session.scalars(select(AuditEntry.object_type).distinct()))


def changes(entry: AuditEntry, limit: int = 8) -> list[tuple[str, str, str]]:
    """(field, before, after) for the fields an entry records, values shortened for a list."""
    before, after = entry.before or {}, entry.after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [("", _short(before), _short(after))]
    out = []
    for key in list(dict.fromkeys([*before, *after]))[:limit]:
        out.append(
            (
                key,
                _short(before.get(key)) if key in before else "",
                _short(after.get(key)) if key in after else "",
            )
        )
    return out


def _short(value, width: int = 60) -> str:
    text = "—" if value is None else str(value)
    if (
        isinstance(value, str) and len(value) >= 25 and value[10:11] == "T"
    ):  # a stored time: Beijing, to the second
        with contextlib.suppress(ValueError):
            text = datetime.fromisoformat(value).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
    return text if len(text) <= width else text[: width - 1] + "…"
