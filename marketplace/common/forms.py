"""From what people type to what the services take — page numbers, ids, yuan, whole numbers — and the services'
errors put back beside the fields they are about. Shared by every feature's pages."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, FieldList, FormField

from marketplace.common.money import MAX_FEN, format_fen, yuan_to_fen

MAX_ID = 2**31 - 1  # larger numbers cannot be row ids (and overflow SQLite's integers)


def page_number(value) -> int:
    """The ?page= of a list, kept to a range the database can take."""
    number = int_or_none(value)
    return min(number, 10_000) if number else 1


def int_or_none(value):
    """Select values: a whole number, or None for the blank choice (the services explain what is missing)."""
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def fen_from(field, required: bool = True) -> int | None:
    """Yuan typed by a person → fen; a clear error on the field when it is not an amount."""
    raw = (field.data or "").strip()
    if not raw:
        if required:
            field.errors = [*field.errors, _("Enter an amount in yuan.")]
        return None
    try:
        fen = yuan_to_fen(raw)
    except ValueError:
        field.errors = [*field.errors, _("Enter an amount in yuan, e.g. 12000 or 12000.50.")]
        return None
    if not 1 <= fen <= MAX_FEN:
        field.errors = [*field.errors, _("Enter an amount from ¥0.01 to %(max)s.", max=format_fen(MAX_FEN))]
        return None
    return fen


def whole_from(field) -> int | str | None:
    raw = (field.data or "").strip()
    return int(raw) if raw.isdigit() else (raw or None)


def has_errors(form) -> bool:
    """Whether any field, nested ones included, carries an error (FieldList caches its errors at validation)."""
    for field in form:
        if isinstance(field, FieldList):
            if any(has_errors(entry.form) for entry in field.entries):
                return True
        elif isinstance(field, FormField):
            if has_errors(field.form):
                return True
        elif field.errors:
            return True
    return False


def _target(form, key: str, aliases: dict[str, str]):
    """The form field a service error key (“ceiling_fen”, “exclusions.0.reason”) belongs to."""
    parts = aliases.get(key, key).split(".")
    target = form
    try:
        for part in parts:
            target = target[int(part)] if part.isdigit() else getattr(target, part)
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
    return target if hasattr(target, "errors") else None


def copy_errors(errors: dict, form, aliases: dict[str, str]) -> list[str]:
    """Put service errors beside their fields (unless the field already says what is wrong); return the rest."""
    unplaced = []
    for key, messages in (errors or {}).items():
        messages = [str(m) for m in (messages if isinstance(messages, list) else [messages])]
        target = _target(form, key, aliases)
        if target is None:
            unplaced.extend(messages)
        elif not target.errors:
            target.errors = list(messages)
    return unplaced


DAY_MESSAGE = _l("Enter the date as YYYY-MM-DD, e.g. 2026-12-31.")


def parse_day(raw: str | None) -> date | None:
    """A day as people type it: 2026-12-31, 2026/12/31, 2026.12.31 or 2026年12月31日; None when it is none."""
    text = re.sub(r"\s+", "", raw or "")
    text = re.sub(r"[/.年月]", "-", text).removesuffix("日")
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None


class DayField(DateField):
    """A date typed as YYYY-MM-DD into a text box (the form macro draws it so): the browser's own date picker
    speaks the browser's language, not the page's. A day it cannot read gets a clear message."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = " ".join(valuelist).strip()
        self.data = parse_day(raw) if raw else None
        if raw and self.data is None:
            raise ValueError(str(DAY_MESSAGE))
