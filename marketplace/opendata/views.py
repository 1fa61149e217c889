"""Open-data pages: /opendata/ (the monthly OCDS files to download) and /transparency/audit (the audit chain's
daily head hashes, for anyone to keep)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, current_app, render_template, send_file
from flask_babel import lazy_gettext as _l

from marketplace.audit import chain
from marketplace.common.clock import local, now
from marketplace.common.errors import BeingPrepared, Invalid, NotFound
from marketplace.common.httpcache import PUBLIC
from marketplace.extensions import db
from marketplace.opendata import kept, monthly
from marketplace.opendata.schemas import parse_month

bp = Blueprint("opendata", __name__)

NOTHING = _l("Nothing was published in this month.")
PREPARING = _l(
    "This month's release package is being prepared; it is made in the background every few minutes. Please try again shortly."
)


def blueprints():
    return [bp]


def serve_package(month: date, attachment: bool):
    """The month's kept package file, as it is (the download and the API serve the same bytes), with its ETag
    and Last-Modified; never built here. NotFound for a month without releases, BeingPrepared (503, Retry-After)
    for one whose package the clock has not made yet."""
    row = kept.row_for(month)
    if row is None or (row.generated_at is not None and row.releases == 0 and not row.dirty):
        raise NotFound(NOTHING)
    path = kept.path_of(row) if row.releases else None
    if path is None:
        raise BeingPrepared(PREPARING, retry_after=min(60, current_app.config["OCDS_REFRESH_SECONDS"] or 60))
    response = send_file(
        path,
        mimetype="application/json",
        as_attachment=attachment,
        download_name=f"ocds-releases-{row.month}.json",
        conditional=True,
        etag=row.sha256,
        last_modified=row.generated_at,
        max_age=None,
    )
    response.headers["Cache-Control"] = PUBLIC  # anyone's; ask again (a 304 when unchanged)
    return response


@bp.route("/opendata/")
def index():
    return render_template("opendata/index.html", months=monthly.month_rows())


@bp.route("/opendata/ocds/<month>.json")
def download(month: str):
    try:
        first = parse_month(month)
    except Invalid:
        abort(404)
    return serve_package(first, attachment=True)


@bp.route("/transparency/audit")
def audit_heads():
    today = local(now()).date()
    seq, digest = chain.current_head(db.session())
    return render_template(
        "opendata/audit_heads.html",
        head_seq=seq,
        head_hash=digest,
        heads=chain.daily_heads(db.session(), today - timedelta(days=30), today),
    )
