"""/api/v1/ocds/releases (OCDS 1.1.5 release packages by month) and /api/v1/audit/heads (the audit chain's
daily head hashes): open data, for anyone."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from marketplace.audit import chain
from marketplace.common.clock import local, now
from marketplace.common.errors import Invalid
from marketplace.extensions import db
from marketplace.opendata import monthly, views
from marketplace.opendata.schemas import (
    RELEASE_PACKAGE,
    HeadsQuery,
    HeadsSchema,
    MonthLinkSchema,
    MonthQuery,
    parse_month,
)

PREPARING = {"description": "Not made yet: the package is being prepared (Retry-After)"}

bp = Blueprint(
    "opendata-api", __name__, url_prefix="/api/v1", description="Open data (OCDS) and the audit chain"
)


def blueprints():
    return [bp]


@bp.get("/ocds/releases")
@bp.arguments(MonthQuery, location="query")
@bp.doc(
    responses={
        "200": RELEASE_PACKAGE,
        "304": {"description": "Not modified (If-None-Match)"},
        "503": PREPARING,
    }
)
def releases(args):
    """The month's OCDS 1.1.5 release package: one release per event of each request (tender, award, contract,
    implementation); bids only in releases after the bid deadline. The packages are made in the background
    (every few minutes for the current month): 503 with Retry-After for a month not made yet, 404 for a month
    without releases; ETag and Last-Modified for conditional requests."""
    return views.serve_package(parse_month(args["month"]), attachment=False)


@bp.get("/ocds/months")
@bp.response(200, MonthLinkSchema(many=True))
def months():
    """The months that have a release package, newest first, with when each was made, its releases and size
    (null for one being prepared)."""
    return [
        {
            "month": r.month,
            "url": url_for("opendata-api.releases", month=r.month, _external=True),
            "generated_at": r.generated_at if r.file_key else None,
            "releases": r.releases if r.file_key else None,
            "bytes": r.bytes if r.file_key else None,
        }
        for r in monthly.month_rows()
    ]


@bp.get("/audit/heads")
@bp.arguments(HeadsQuery, location="query")
@bp.response(200, HeadsSchema)
def heads(args):
    """The audit chain's head now and the hash of each day's last entry: keep a copy; a history rewritten later
    no longer gives the same hashes."""
    days = args["days"]
    if not 1 <= days <= 366:
        message = _l("Between 1 and 366 days.")
        raise Invalid(message, {"days": [message]})
    today = local(now()).date()
    seq, digest = chain.current_head(db.session())
    return {
        "head": {"seq": seq, "hash": digest},
        "days": [
            {"day": h.day.isoformat(), "seq": h.seq, "hash": h.hash, "entries": h.entries}
            for h in chain.daily_heads(db.session(), today - timedelta(days=days - 1), today)
        ],
    }
