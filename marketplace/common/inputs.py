"""Guards every request's input before a view or schema sees it.

- JSON bodies: at most MAX_JSON_BYTES (413) and MAX_JSON_DEPTH levels of nesting (400), checked on the raw bytes
  before anything parses them (Python's parser recurses, so a 100,000-deep array would otherwise end in a 500).
- Text: every string in the query, the form and the JSON body goes through `text.clean_text` (NFC, no control or
  bidi-override characters), so that every feature stores the same clean text on SQLite and PostgreSQL.
  Passwords are left exactly as typed.
"""

from __future__ import annotations

import json
import re

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import ImmutableMultiDict

from marketplace.common.errors import DomainError
from marketplace.common.text import clean_text, clean_tree, has_unwanted

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# Endpoints that must see their body byte for byte (signed payloads): size and depth are still checked.
RAW_BODY_ENDPOINTS: set[str] = {"payments-api.stripe_webhook"}


class TooDeep(DomainError):
    status = 400


class TooLarge(DomainError):
    status = 413


def _too_large(limit: int) -> TooLarge:
    return TooLarge(_l("The JSON body is larger than %(kb)d KB.", kb=limit // 1024))


def json_depth(raw: bytes, limit: int) -> int:
    """The nesting depth of a JSON text, counted without parsing it; stops counting once past `limit`."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        else:
            depth -= 1
    return deepest


def _keep_as_typed(key) -> bool:
    return isinstance(key, str) and ("password" in key or key == "csrf_token")


def _clean_multidict(data):
    if not any(isinstance(v, str) and has_unwanted(v) for v in data.values()):
        return data
    return ImmutableMultiDict(
        [(k, v if _keep_as_typed(k) else clean_text(v)) for k, v in data.items(multi=True)]
    )


def _guard_json(app: Flask) -> None:
    limit = app.config["MAX_JSON_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise _too_large(limit)
    depth = app.config["MAX_JSON_DEPTH"]
    if json_depth(raw, depth) > depth:
        raise TooDeep(_l("The JSON body is nested more than %(n)d levels deep.", n=depth))
    if request.endpoint in RAW_BODY_ENDPOINTS:
        request._cached_data = raw
        return
    try:
        parsed = json.loads(raw) if raw.strip() else None
    except (ValueError, RecursionError):
        parsed = None  # the schema layer answers malformed JSON with its own 400/422
    if isinstance(parsed, dict | list):
        cleaned = clean_tree(parsed, skip=_keep_as_typed)
        if cleaned != parsed:
            raw = json.dumps(cleaned, ensure_ascii=False).encode()
    request._cached_data = raw  # what get_data()/get_json() and webargs read from now on


def register(app: Flask) -> None:
    @app.before_request
    def guard_input():
        if request.args:
            request.args = _clean_multidict(request.args)
        if request.method not in WRITE_METHODS:
            return
        if request.is_json:
            _guard_json(app)
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            request.form = _clean_multidict(request.form)
