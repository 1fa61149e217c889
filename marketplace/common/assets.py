"""Static files with fingerprinted URLs, kept by browsers for a year.

`url_for('static', filename=…)` adds `v=<the first 12 hex digits of the file's SHA-256>`, and a static file asked
for with its current fingerprint is answered `Cache-Control: public, max-age=31536000, immutable`: a browser
fetches the style sheet, the scripts and the logo once per release instead of asking again on every page (seven
conditional requests per page before, each a round trip to a worker). A changed file has a new fingerprint, hence a
new URL, so nobody keeps an old copy. A static URL without the current fingerprint (a page made before a deploy, a
typed URL) keeps Flask's default: the browser revalidates it each time (ETag, 304).
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, current_app, request
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
_kept: dict[str, tuple[tuple[int, int], str]] = {}  # path → ((mtime, size), fingerprint): per process


def fingerprint(folder: str | None, filename: str) -> str | None:
    """The file's content hash, read again only when its modification time or size changed; None when the file
    is not there (url_for still builds the URL, and the request gets its 404)."""
    path = safe_join(folder, filename) if folder else None
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    stamp = (stat.st_mtime_ns, stat.st_size)
    kept = _kept.get(path)
    if kept is None or kept[0] != stamp:
        with open(path, "rb") as fh:
            kept = _kept[path] = (stamp, hashlib.sha256(fh.read()).hexdigest()[:12])
    return kept[1]


def _add_fingerprint(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = fingerprint(current_app.static_folder, values["filename"])
        if version:
            values["v"] = version


def max_age(app: Flask, filename: str | None) -> int | None:
    """A year for a static file asked for by its current fingerprint; Flask's default (revalidate) otherwise."""
    asked = request.args.get("v") if request else None
    if asked and filename and asked == fingerprint(app.static_folder, filename):
        return YEAR
    return None


def _immutable(response):
    if request.endpoint == "static" and response.cache_control.max_age == YEAR:
        response.cache_control.immutable = True
    return response


def register(app: Flask) -> None:
    app.url_defaults(_add_fingerprint)
    app.after_request(_immutable)
