"""The administrators' fee audit: reviewing flags (a confirmed violation lowers the agency's credit), finding
them by rule, severity, status, agency, service item and period, and exporting them for Excel."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from marketplace import events
from marketplace.audit.transitions import move
from marketplace.auth.models import Role, User
from marketplace.auth.policy import located, scope_condition
from marketplace.auth.services import require_acting
from marketplace.common.clock import LOCAL_TZ, local, now
from marketplace.common.errors import Invalid, NotFound
from marketplace.common.text import csv_row
from marketplace.extensions import db
from marketplace.fees import wording
from marketplace.fees.models import (
    RULE_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    TRANSITIONS,
    FeeFlag,
    FlagRule,
    FlagStatus,
    Severity,
)

SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


@dataclass
class FlagFilter:
    rule: FlagRule | None = None
    severity: Severity | None = None
    status: FlagStatus | None = None
    agency_id: int | None = None
    service_item_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def parse(cls, args: dict[str, Any]) -> FlagFilter:
        """From query-string values; unknown or malformed values are refused with the field named."""
        errors: dict[str, list] = {}

        def choice(name: str, enum_cls):
            raw = args.get(name) or None
            if raw is None:
                return None
            try:
                return enum_cls(raw)
            except ValueError:
                errors[name] = [_l("Not one of the allowed values.")]
                return None

        def number(name: str):
            raw = args.get(name)
            if raw in (None, ""):
                return None
            if isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit() and len(raw) < 10):
                return int(raw)
            errors[name] = [_l("Must be a whole number.")]
            return None

        def day(name: str):
            raw = args.get(name)
            if raw in (None, ""):
                return None
            if isinstance(raw, date):
                return raw
            try:
                return date.fromisoformat(str(raw))
            except ValueError:
                errors[name] = [_l("Use a date such as 2026-01-31.")]
                return None

        parsed = cls(
            rule=choice("rule", FlagRule),
            severity=choice("severity", Severity),
            status=choice("status", FlagStatus),
            agency_id=number("agency_id"),
            service_item_id=number("service_item_id"),
            date_from=day("from"),
            date_to=day("to"),
        )
        if parsed.date_from and parsed.date_to and parsed.date_from > parsed.date_to:
            errors["to"] = [_l("The end date is before the start date.")]
        if errors:
            raise Invalid(next(iter(errors.values()))[0], errors)
        return parsed

    def apply(self, stmt):
        if self.rule:
            stmt = stmt.where(FeeFlag.rule == self.rule)
        if self.severity:
            stmt = stmt.where(FeeFlag.severity == self.severity)
        if self.status:
            stmt = stmt.where(FeeFlag.status == self.status)
        if self.agency_id is not None:
            stmt = stmt.where(FeeFlag.agency_id == self.agency_id)
        if self.service_item_id is not None:
            stmt = stmt.where(FeeFlag.service_item_id == self.service_item_id)
        if self.date_from:
            stmt = stmt.where(FeeFlag.occurred_at >= _local_midnight(self.date_from))
        if self.date_to:
            stmt = stmt.where(FeeFlag.occurred_at < _local_midnight(self.date_to + timedelta(days=1)))
        return stmt


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LOCAL_TZ)


# --- reading ------------------------------------------------------------------------------------------------


def flag_region(flag: FeeFlag) -> str | None:
    """Where a flag lies: its request's region, or (a published price, no request) its agency's."""
    return flag.request.region_code if flag.request is not None else flag.agency.region_code


def in_scope(actor: User | None):
    """The flags inside the supervisor's area (by `flag_region`), as a condition on FeeFlag."""
    from marketplace.agencies.models import Agency
    from marketplace.requests.models import ServiceRequest

    requests = select(ServiceRequest.id).where(
        scope_condition(actor, Role.SUPERVISOR, ServiceRequest.region_code)
    )
    agencies = select(Agency.id).where(scope_condition(actor, Role.SUPERVISOR, Agency.region_code))
    return or_(
        FeeFlag.request_id.in_(requests), FeeFlag.request_id.is_(None) & FeeFlag.agency_id.in_(agencies)
    )


def flags_query(actor: User | None, flt: FlagFilter):
    require_acting(actor, Role.SUPERVISOR)
    stmt = (
        select(FeeFlag)
        .options(joinedload(FeeFlag.agency), joinedload(FeeFlag.service_item), joinedload(FeeFlag.request))
        .where(in_scope(actor))
    )
    return flt.apply(stmt).order_by(FeeFlag.occurred_at.desc(), FeeFlag.id.desc())


def get_flag(actor: User | None, flag_id: int) -> FeeFlag:
    require_acting(actor, Role.SUPERVISOR)
    flag = db.session.get(FeeFlag, flag_id)
    if flag is None:
        raise NotFound(_l("No such fee flag."))
    require_acting(actor, Role.SUPERVISOR, located(flag_region(flag)))
    return flag


def counts(actor: User | None, flt: FlagFilter) -> dict:
    """Open / confirmed / dismissed and open-by-severity counts under the filter (status filter ignored)."""
    require_acting(actor, Role.SUPERVISOR)
    base = FlagFilter(**{**flt.__dict__, "status": None})
    by_status = dict(
        db.session.execute(
            base.apply(select(FeeFlag.status, func.count()).select_from(FeeFlag))
            .where(in_scope(actor))
            .group_by(FeeFlag.status)
        ).all()
    )
    open_by_severity = dict(
        db.session.execute(
            base.apply(select(FeeFlag.severity, func.count()).select_from(FeeFlag))
            .where(FeeFlag.status == FlagStatus.OPEN, in_scope(actor))
            .group_by(FeeFlag.severity)
        ).all()
    )
    return {
        "status": {s.value: by_status.get(s, 0) for s in FlagStatus},
        "open_severity": {s.value: open_by_severity.get(s, 0) for s in Severity},
    }


# --- reviewing ----------------------------------------------------------------------------------------------


def review(actor: User | None, flag_id: int, action: str, note: str | None) -> FeeFlag:
    """confirm (a violation: the agency's credit drops), dismiss, or reopen — always with a note."""
    actor = require_acting(actor, Role.SUPERVISOR)
    if action not in TRANSITIONS:
        raise Invalid(
            _l("Choose to confirm, dismiss or reopen."), {"action": [_l("Not one of the allowed values.")]}
        )
    note = (note or "").strip()
    if not 2 <= len(note) <= 2000:
        message = _l("Write a note of 2 to 2000 characters.")
        raise Invalid(message, {"note": [message]})
    flag = get_flag(actor, flag_id)
    was = flag.status
    move(
        flag,
        TRANSITIONS,
        action,
        actor,
        audit_prefix="fee_flag",
        note=note,
        reviewed_by_id=actor.id,
        reviewed_at=now(),
    )
    if (flag.status == FlagStatus.CONFIRMED) != (was == FlagStatus.CONFIRMED):
        events.violation_changed.send(flag, delta=1 if flag.status == FlagStatus.CONFIRMED else -1)
    return flag


# --- export -------------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    ("id", _l("Flag no.")),
    ("occurred_at", _l("Occurred")),
    ("rule", _l("Rule")),
    ("severity", _l("Severity")),
    ("status", _l("Status")),
    ("agency", _l("Agency")),
    ("uscc", _l("Credit code")),
    ("service_item", _l("Service item")),
    ("request", _l("Request")),
    ("figures", _l("Figures")),
    ("note", _l("Administrator's note")),
)


def describe(flag: FeeFlag) -> str:
    """Which test raised the flag, with its figures, in words (the page, the CSV, the API)."""
    return wording.describe(flag)


def export_csv(actor: User | None, flt: FlagFilter) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese text correctly."""
    stmt = flags_query(actor, flt)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(label) for _, label in CSV_COLUMNS])
    for flag in db.session.scalars(stmt):
        writer.writerow(
            csv_row(
                [
                    flag.id,
                    local(flag.occurred_at).strftime("%Y-%m-%d %H:%M"),
                    str(RULE_LABELS[flag.rule]),
                    str(SEVERITY_LABELS[flag.severity]),
                    str(STATUS_LABELS[flag.status]),
                    flag.agency.name,
                    flag.agency.uscc,
                    flag.service_item.name,
                    flag.request.title if flag.request else "",
                    describe(flag),
                    flag.note or "",
                ]
            )
        )
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")
