"""GET /api/v1/search: Chinese-aware full-text search over agencies, service items and open announcements."""

import json

from flask import jsonify
from flask_babel import gettext as _
from flask_smorest import Blueprint

from marketplace.common.web import json_error
from marketplace.search.index import IndexBusy, IndexNotReady
from marketplace.search.pg import BackendUnavailable
from marketplace.search.query import search as run_search
from marketplace.search.schemas import SearchHitOut, SearchQuery

bp = Blueprint("search-api", __name__, url_prefix="/api/v1", description="Full-text search")


def blueprints():
    return [bp]


@bp.get("/search")
@bp.arguments(SearchQuery, location="query")
@bp.response(
    200,
    SearchHitOut(many=True),
    headers={
        "X-Pagination": {
            "description": "total, total_pages, page, first_page, last_page, previous_page, next_page",
            "schema": {"type": "string"},
        },
        "X-Search-Counts": {
            "description": 'matches per type, e.g. {"agency": 9, "service": 2, "request": 0}',
            "schema": {"type": "string"},
        },
        "X-Search-Counts-Capped": {
            "description": "the types whose count stopped at 1,000 (a broad query: at least that many match), "
            'e.g. ["agency"]',
            "schema": {"type": "string"},
        },
        "X-Search-Mode": {
            "description": "exact; corrected when nothing matched and a sound-alike term was searched instead "
            "(环平 → 环评, see X-Search-Corrected); pinyin when only the syllables matched; none",
            "schema": {"type": "string"},
        },
        "X-Search-Corrected": {
            "description": "in mode corrected: the query that was run, as a JSON string",
            "schema": {"type": "string"},
        },
    },
)
@bp.alt_response(
    503,
    description="The index is being built or rebuilt (`reason`: search_index_building / search_index_busy / "
    "search_backend_unavailable); see Retry-After.",
)
def search(args):
    """Search agencies (active members), service items and open announcements, best match first.

    Only public text is searched: never bids, contacts or private files."""
    try:
        result = run_search(args["q"], args["type"], args["page"], args["per_page"])
    except IndexNotReady:
        return _unavailable(
            "search_index_building", _("The search index is being built; please try again shortly.")
        )
    except IndexBusy:
        return _unavailable(
            "search_index_busy", _("The search index is being rebuilt; please try again in a minute.")
        )
    except BackendUnavailable:
        return _unavailable("search_backend_unavailable", _("Search is not available on this server."))
    response = jsonify(SearchHitOut(many=True).dump(result.hits))
    response.headers["X-Pagination"] = json.dumps(result.pagination())
    response.headers["X-Search-Counts"] = json.dumps(result.counts)
    response.headers["X-Search-Counts-Capped"] = json.dumps(sorted(result.capped))
    response.headers["X-Search-Mode"] = result.mode
    if result.corrected:
        response.headers["X-Search-Corrected"] = json.dumps(result.corrected)  # ASCII-safe in a header
    return response


def _unavailable(reason: str, message: str):
    response = json_error(503, "Service Unavailable", message, headers={"Retry-After": "60"})
    response.set_data(json.dumps({**response.get_json(), "reason": reason}, ensure_ascii=False))
    return response
