"""The catalogue's API answers (/api/v1/categories, /service-items, /catalogue/qualification-kinds), kept as JSON.

Each of them loaded the whole catalogue as ORM objects and dumped it through marshmallow on every request
(~10 ms for /categories, 64 KB) although it changes only when a department edits an item. Their bytes are a
per-process copy (common/cache.py `TableCopy`) of every table the answers read: dropped at once by any committed
write to one of them here, within seconds in the other processes. The bytes are made by the same services,
schemas and `jsonify` as before, on the first request that asks for them; nothing of the request's session is
kept. None of them depends on the language (names are the register's; error messages are not kept).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from flask import Response, current_app

from marketplace.common.cache import TableCopy

# Everything the answers read: the items, their categories, their requirements and the register's kinds.
TABLES = frozenset({"category", "service_item", "service_item_requirement", "qualification_kind"})

_COPY = TableCopy("catalogue-api", TABLES, dict)  # {key: JSON bytes}, filled as they are asked for


def answer(key: Hashable, make: Callable[[], Any], keep: Callable[[Any], bool] = bool) -> Response:
    """The JSON response of `make()` (plain data, e.g. a schema's dump), kept under `key` until the catalogue
    changes — unless `keep(data)` says no: by default empty answers are made again each time, so that ids a
    client makes up (an unknown category's empty list) never fill the copy. (An unknown item raises: not kept.)"""
    kept = _COPY.get()
    body = kept.get(key)
    if body is None:
        data = make()
        body = current_app.json.response(data).get_data()
        if keep(data):
            kept[key] = body
    return current_app.response_class(body, mimetype=current_app.json.mimetype)
