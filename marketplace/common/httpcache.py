"""HTTP caching of what anyone may see, and never of anything else.

A GET of a page or an API read by an anonymous visitor (no log-in in the session, no Authorization header, no
remember cookie, no flashed message or other personal state in the session) is *public* when its answer is a 200
page or JSON document that put no CSRF token into the page and changed nothing in the session. A public answer
gets a strong ETag (a hash of its body, Werkzeug's `add_etag`), `Cache-Control: public, no-cache` (browsers and
proxies may keep it but ask again each time) and `Vary: Cookie, Accept-Language, Authorization`; a request
carrying the same ETag (If-None-Match) or a date not older than a cached copy (If-Modified-Since) is answered
304 without a body (`make_conditional`). Everything else a logged-in person or a form page gets is
`Cache-Control: private, no-store`. The views decide nothing: a view that sets its own Cache-Control (downloads,
the report PDF) keeps it.

With CACHE_PAGE_SECONDS > 0 a public answer is also kept in the shared cache (common/cache.py), keyed by its
full URL and language and stamped with the market's generation: the next anonymous request for it, on any
worker of any machine, is answered from the cache (one round trip: the page and the generation together) until
a public change commits or the seconds pass. With CACHE_STALE_SECONDS > 0 a page kept less than that long ago is
still answered after a change (`X-Cache: stale`): a busy market changes something public every second or two (a
bid's count, a clock pass), and a page at most a few seconds old is what a reader expects, while remaking every
page for every anonymous reader at each change is what makes a busy market slow. The search pages depend on each
machine's index and on when it drained its queue, so their URL alone does not name their answer: the view runs its
search, then asks `kept_by(fingerprint of the result)` — a page kept under that result, that URL and the
generation is answered as it is (the cards, figures and template of ten hits cost three times the search itself);
else the page is made and kept under it. The lists' keyword filters (`/agencies/?q=`, `/requests/?q=`) read the
database and are kept as any page.

An API read whose view is marked `@same_for_everyone` (a public collection: open announcements, the agencies'
list, the catalogue) answers every caller alike, bearer token or not — the API never reads the session cookie,
and such a view never asks who is calling. It is looked up, kept and validated as an anonymous read is, whoever
calls: agencies polling the open announcements with their tokens (most of a busy market's reads) share one
answer instead of each making it. A view whose answer depends on the caller only for some arguments says when it
does not (`when`): `GET /requests?mine=true` is an agency's own inbox and never shared.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, g, request, session

from marketplace.common import cache as shared

log = logging.getLogger(__name__)

# What an anonymous session may hold and still be answered from the cache: the language chosen, Flask-Login's
# freshness mark and a CSRF token kept for a form page (pages that print one are never cached).
ANONYMOUS_SESSION_KEYS = frozenset({"lang", "_fresh", "csrf_token", "_permanent"})
PUBLIC = "public, no-cache"
PRIVATE = "private, no-store"
VARY = ("Cookie", "Accept-Language", "Authorization")
NEVER_KEPT = ("search.", "search-api.")  # endpoints whose answers the shared cache never keeps
NO_STORE_ENDPOINTS = frozenset({"home.healthz"})  # a health check must reach the app every time
# Headers a kept answer does not carry: they belong to the request that made it, or are set again on every answer.
_NOT_KEPT_HEADERS = frozenset(
    {"set-cookie", "content-length", "vary", "cache-control", "etag", "last-modified", "date", "expires"}
)
_KEY = "page:"


def _anonymous() -> bool:
    if request.headers.get("Authorization"):
        return False
    if request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")):
        return False
    return set(session.keys()) <= ANONYMOUS_SESSION_KEYS


def same_for_everyone(when: Callable[[], bool] | None = None):
    """Mark an API read whose answer never depends on its caller (when `when()` holds for the request's
    arguments): see the module's docstring. Only for views that never look at the caller, directly or through
    the services they call."""

    def mark(view):
        view.same_for_everyone = when or (lambda: True)
        return view

    return mark


def _shared_read() -> bool:
    """This API read's answer is the same for every caller (the view says so, for these arguments)."""
    if not request.path.startswith("/api/"):
        return False  # pages show who is logged in: only API reads (which never read the cookie) are shared
    when = getattr(current_app.view_functions.get(request.endpoint or ""), "same_for_everyone", None)
    return when is not None and bool(when())


def _logged_in() -> bool:
    user = g.get("_login_user")
    return (
        "_user_id" in session
        or bool(request.headers.get("Authorization"))
        or bool(user is not None and user.is_authenticated)
    )


def _keepable() -> bool:
    return not (request.endpoint or "").startswith(NEVER_KEPT)


@functools.cache
def release() -> str:
    """A fingerprint of the code, the templates and the static files: machines running the same release share kept
    pages, and a deploy that changes what pages look like (or the static files' fingerprinted URLs in them,
    common/assets.py) starts afresh without anyone clearing the cache."""
    from marketplace.common.assets import fingerprint
    from marketplace.config import ROOT

    digest = hashlib.sha256()
    for folder, pattern in (("marketplace", "*.py"), ("templates", "*.html"), ("marketplace", "*.mo")):
        for path in sorted((ROOT / folder).rglob(pattern)):
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    static = ROOT / "static"
    for pattern in ("*.css", "*.js", "*.svg"):
        for path in sorted(static.rglob(pattern)):
            name = path.relative_to(static).as_posix()
            # the hash their fingerprinted URLs carry (common/assets.py), kept for url_for's first calls
            digest.update(f"static/{name}".encode() + (fingerprint(str(static), name) or "").encode())
    return digest.hexdigest()[:16]


def page_key(fingerprint: str = "") -> str:
    from flask_babel import get_locale

    raw = f"{release()}|{get_locale()}|{request.url}|{fingerprint}"
    return _KEY + hashlib.sha256(raw.encode()).hexdigest()


def _public_headers(response: Response, etag: str, at: int) -> Response:
    response.set_etag(etag)
    response.last_modified = at
    response.headers["Cache-Control"] = PUBLIC
    response.vary.update(VARY)
    return response


def _conditional(response: Response) -> Response:
    """304 for a request that already holds this answer (If-None-Match, or If-Modified-Since)."""
    response.make_conditional(request)
    del response.headers["Date"]  # make_conditional adds one; the server (gunicorn, Werkzeug) adds its own
    return response


def _lookup():
    """Before the view: decide whether this request may be answered publicly; answer it from the cache if kept."""
    g._httpcache = None
    if request.method not in ("GET", "HEAD") or request.endpoint in (None, "static"):
        return None
    if request.endpoint in NO_STORE_ENDPOINTS:
        return None
    g._shared_read = shared_read = _shared_read()
    if not (shared_read or _anonymous()):
        return None
    state = g._httpcache = {"key": None, "generation": None}
    if not _keeping() or not _keepable():
        return None
    return _kept(state, page_key())


def _keeping() -> bool:
    return current_app.config.get("CACHE_PAGE_SECONDS", 0) > 0 and shared.usable()


def _kept(state: dict, key: str) -> Response | None:
    """The answer kept under `key` if it is still good (same generation, or only just older), else None: the
    view makes it and `_answer` keeps it under `key` and the generation read here, before the view's reads."""
    store = shared.backend()
    try:
        found = store.get_many(shared.GENERATION_KEY, key)
        generation = found[0] if found[0] is not None else shared.generation(store)
    except Exception:  # the cache is down: make the page as if there were none
        shared.failed("lookup")
        return None
    state.update(key=key, generation=generation)
    entry = found[1]
    if not entry:
        return None
    if entry.get("generation") == generation:
        verdict = "hit"
    elif time.time() - entry["at"] < current_app.config.get("CACHE_STALE_SECONDS", 0):
        verdict = "stale"  # made under an older generation, but only just: see CACHE_STALE_SECONDS
    else:
        return None
    g._httpcache_hit = True
    response = Response(entry["body"], status=200, headers=entry["headers"])
    response.headers["X-Cache"] = verdict
    return _conditional(_public_headers(response, entry["etag"], entry["at"]))


def kept_by(fingerprint: str) -> Response | None:
    """For a view whose URL does not name its answer (the search pages: each machine's own index): the answer kept
    under `fingerprint` — which must name everything the view read that the database's generation does not cover
    — with the URL and the generation, if any; else None, and the answer the view then makes is kept under it.
    Only for an anonymous read (the same rules as any page); call it before reading anything the page shows from
    the database, so that a change meanwhile makes the kept answer stale."""
    state = g.get("_httpcache")
    if state is None or not _keeping():
        return None
    return _kept(state, page_key(fingerprint))


def _answer(response: Response) -> Response:
    """After the view: public answers get their validators (and are kept); private ones are never stored."""
    if request.endpoint == "static":
        return response
    if g.get("_httpcache_hit"):
        return response
    state = g.get("_httpcache")
    personal = (
        state is None
        or (_logged_in() and not g.get("_shared_read"))
        or "csrf_token" in g  # the page carries this visitor's token
        or current_app.session_interface.should_set_cookie(current_app, session)
        or bool(response.headers.getlist("Set-Cookie"))
    )
    if "Cache-Control" in response.headers:  # the view decided (downloads: private; the report PDF: public)
        return response
    if personal:
        if request.endpoint is not None:
            response.headers["Cache-Control"] = PRIVATE
        return response
    if (
        response.status_code != 200
        or response.direct_passthrough
        or response.is_streamed
        or response.mimetype not in ("text/html", "application/json")
    ):
        return response
    body = response.get_data()
    etag = hashlib.sha1(body).hexdigest()
    at = int(time.time())
    if state["key"] is not None:
        entry = {
            "generation": state["generation"],
            "etag": etag,
            "at": at,
            "body": body,
            "headers": [(k, v) for k, v in response.headers.items() if k.lower() not in _NOT_KEPT_HEADERS],
        }
        try:
            shared.backend().set(state["key"], entry, timeout=current_app.config["CACHE_PAGE_SECONDS"])
        except Exception:
            shared.failed("keeping a page")
        response.headers["X-Cache"] = "miss"  # kept now; the next anonymous request for it is a hit
    return _conditional(_public_headers(response, etag, at))


def register(app: Flask) -> None:
    """After the other extensions: the lookup comes after their before-request hooks, and the answer's headers
    are decided before theirs are added (after-request hooks run last-registered first)."""
    if app.config.get("CACHE_PAGE_SECONDS", 0) > 0:
        release()  # at start, not on the first request
    app.before_request(_lookup)
    app.after_request(_answer)
