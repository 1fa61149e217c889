"""The search page: one box (in the header) over agencies, service items and open announcements."""

import hashlib
from datetime import datetime

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.agencies.cards import Card, cards
from marketplace.common import httpcache
from marketplace.search.documents import DOC_TYPES
from marketplace.search.index import IndexBusy, IndexNotReady
from marketplace.search.pg import BackendUnavailable
from marketplace.search.query import MAX_QUERY_LENGTH
from marketplace.search.query import search as run_search
from marketplace.search.results import SearchResult
from marketplace.stats.figures import stats_for

bp = Blueprint("search", __name__)

TYPE_LABELS = {
    "agency": _l("Agencies"),
    "service": _l("Service items"),
    "request": _l("Open announcements"),
}
KIND_LABELS = {"agency": _l("Agency"), "service": _l("Service item"), "request": _l("Announcement")}
SUGGESTIONS = ("环评", "安评", "能评", "水保", "地灾评估", "测绘", "造价", "防雷")
PER_PAGE = 10


def blueprints():
    return [bp]


@bp.route("/search")
def index():
    q = (request.args.get("q") or "").strip()
    doc_type = request.args.get("type")
    doc_type = doc_type if doc_type in DOC_TYPES else None
    page = request.args.get("page", type=int) or 1
    page = min(max(page, 1), 10_000)
    result, error, notice, status = None, None, None, 200
    if len(q) > MAX_QUERY_LENGTH:
        error = _("Please search with at most %(n)d characters.", n=MAX_QUERY_LENGTH)
        status = 422
    elif q:
        # Searched before anything else touches the request's session (the search indexes queued changes).
        try:
            result = run_search(q, doc_type, page, PER_PAGE)
        except IndexNotReady:
            notice = _("The search index is being built…")
            status = 503
        except IndexBusy:
            error = _("The search index is being rebuilt; please try again in a minute.")
            status = 503
        except BackendUnavailable:
            error = _("Search is not available on this server.")
            status = 503
    if status == 200:
        kept = httpcache.kept_by(fingerprint(result))
        if kept is not None:
            return kept
    cards = _agency_cards(result)
    return (
        render_template(
            "search/index.html",
            q=q,
            doc_type=doc_type,
            result=result,
            error=error,
            notice=notice,
            type_labels=TYPE_LABELS,
            kind_labels=KIND_LABELS,
            suggestions=SUGGESTIONS,
            parse_time=_parse_time,
            cards=cards,
            agency_stats=stats_for(list(cards)),
        ),
        status,
        {"Retry-After": "60"} if status == 503 else {},
    )


def fingerprint(result: SearchResult | None) -> str:
    """Everything of a search's result the page shows (hits with their text and matched terms, counts, mode): the
    page is kept under it (common/httpcache.py `kept_by`), as another machine's index, or this one a moment
    later, may answer the same URL otherwise."""
    if result is None:
        return "no search"
    hits = [
        (
            h.type,
            h.id,
            h.title,
            h.snippet,
            h.subtitle,
            h.region,
            sorted(h.extra.items()),
            h.terms,
            h.syllables,
        )
        for h in result.hits
    ]
    counts = (sorted(result.counts.items()), sorted(result.capped))
    shown = (result.q, result.type, result.page, result.per_page, hits, counts, result.mode, result.corrected)
    return hashlib.sha256(repr(shown).encode()).hexdigest()


def _agency_cards(result) -> dict[int, Card]:
    """The agencies among the hits, for the same cards as the list (rating, orders, lowest price)."""
    ids = [hit.id for hit in (result.hits if result else []) if hit.type == "agency"]
    if not ids:
        return {}
    return cards(ids, active_only=True)


def _parse_time(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
