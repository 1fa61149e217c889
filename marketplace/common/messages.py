"""What the system records for people — reasons, history lines — is stored as a message, not as text.

A service that writes a sentence into a row (a request's 流标 reason, an order's history line) stores the
message's key (its English msgid) and parameters, encoded as a small JSON object; the page or the API that
shows the row renders it in the viewer's language (`said`). So the English UI never shows Chinese frozen into
the database at the moment it was written, nor the other way round.

    reason = message(N_("Objection upheld: %(outcome)s"), outcome=outcome)   # in a service
    req.failure_reason = reason.encode()                                      # what the row holds
    said(req.failure_reason)                                                  # on screen: 异议成立：…

Parameters are the words people typed (shown as they are, never translated), numbers, amounts of money
(`Money`, formatted when shown) and other messages (rendered first, in the same language). A stored value that
is not a message — a row written before messages existed, or a person's own reason — is shown as it is.
Templates show such a column with `|said` (common/templating.py), API schemas with the `Said` field.
"""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask_babel import get_translations

from marketplace.common.money import format_fen

MARK = "$msg"  # a stored value is a message when it is a JSON object with this key
ARGS = "args"
FEN = "$fen"
_PREFIX = '{"' + MARK + '"'


def N_(key: str) -> str:  # the gettext convention's name for "extract this, translate it later"
    """Mark a message id for extraction (`pybabel extract -k N_`) without translating it now."""
    return key


class Money:
    """An amount of money as a parameter: stored in fen, shown as ¥ when the message is rendered."""

    __slots__ = ("fen",)

    def __init__(self, fen: int) -> None:
        self.fen = int(fen)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and other.fen == self.fen

    def __hash__(self) -> int:
        return hash(self.fen)

    def __repr__(self) -> str:
        return f"Money({self.fen})"

    def __str__(self) -> str:
        return format_fen(self.fen)


class Message:
    """A message id with its parameters. `str()` renders it in the current locale, so it can stand wherever a
    lazy gettext string stood (errors, flashes, templates)."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, params: dict[str, Any] | None = None) -> None:
        self.key = key
        self.params = dict(params or {})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (other.key, other.params) == (self.key, self.params)

    __hash__ = None  # mutable parameters

    def __repr__(self) -> str:
        return f"Message({self.key!r}, {self.params!r})"

    def __str__(self) -> str:
        return said(self)

    def __bool__(self) -> bool:
        return True

    def encode(self, limit: int | None = None) -> str:
        """The stored form. With `limit` (a String(n) column), the longest words people typed are shortened
        with "…" until it fits; a message whose own keys do not fit is a programming error."""
        data = _plain(self)
        text = _dumps(data)
        while limit is not None and len(text) > limit:
            if not _shorten_longest(data, len(text) - limit):
                raise ValueError(f"message {self.key!r} cannot be stored in {limit} characters")
            text = _dumps(data)
        return text


def message(key: str, **params: Any) -> Message:
    """A message to record; `key` is an English msgid marked with N_ (so that it is extracted)."""
    return Message(key, params)


# --- storing ---------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Message):
        data: dict[str, Any] = {MARK: value.key}
        if value.params:
            data[ARGS] = {name: _plain(v) for name, v in value.params.items()}
        return data
    if isinstance(value, Money):
        return {FEN: value.fen}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # a lazy string or an enum: its text as it is now


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _strings(data: dict) -> list[tuple[dict, str]]:
    """Every (args, name) that holds a person's words, nested messages included."""
    found = []
    for name, value in data.get(ARGS, {}).items():
        if isinstance(value, str):
            found.append((data[ARGS], name))
        elif isinstance(value, dict) and MARK in value:
            found.extend(_strings(value))
    return found


def _shorten_longest(data: dict, excess: int) -> bool:
    candidates = [(args, name) for args, name in _strings(data) if len(args[name]) > 1]
    if not candidates:
        return False
    args, name = max(candidates, key=lambda c: len(c[0][c[1]]))
    text = args[name]
    args[name] = text[: max(0, len(text) - excess - 1)] + "…"
    return True


def encode(value: Message | str | None, limit: int | None = None) -> str | None:
    """What to store for a message (or a person's words, kept as they are)."""
    if isinstance(value, Message):
        return value.encode(limit)
    return value


def decode(stored: str | None) -> Message | str | None:
    """The message a stored value holds; anything else (people's words, older rows) comes back unchanged."""
    if not isinstance(stored, str) or not stored.startswith(_PREFIX):
        return stored
    try:
        data = json.loads(stored)
    except ValueError:
        return stored
    return _from_plain(data) if _is_message(data) else stored


def _is_message(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get(MARK), str) and isinstance(data.get(ARGS, {}), dict)


def _from_plain(data: Any) -> Any:
    if _is_message(data):
        return Message(data[MARK], {name: _from_plain(v) for name, v in data.get(ARGS, {}).items()})
    if isinstance(data, dict) and isinstance(data.get(FEN), int) and len(data) == 1:
        return Money(data[FEN])
    return data


# --- showing ---------------------------------------------------------------------------------------------------


class _Args(dict):
    def __missing__(self, name: str) -> str:  # a row stored before its message gained a parameter
        return "—"


def said(value: Message | str | None) -> str | None:
    """A stored reason or history line as the viewer should read it: a message in the current locale (its
    parameters rendered first), people's words exactly as stored, None as None."""
    if isinstance(value, str):
        value = decode(value)
    if not isinstance(value, Message):
        return value
    text = get_translations().ugettext(value.key)
    if not value.params:
        return text
    args = _Args({name: said(v) if isinstance(v, Message) else _shown(v) for name, v in value.params.items()})
    try:
        return text % args
    except (TypeError, ValueError):  # a parameter of the wrong kind for its placeholder: say what we can
        return text


def _shown(value: Any) -> Any:
    if isinstance(value, Money):
        return str(value)
    return value


class Said(ma.fields.String):
    """An API field for a stored reason or history line: a string in the caller's language."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(said(value), attr, obj, **kwargs)
