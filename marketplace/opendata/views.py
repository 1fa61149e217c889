"""Open-data pages: /opendata/ (the monthly OCDS files to download) and /transparency/audit (the audit chain's
daily head hashes, for anyone to keep)."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, Response, abort, render_template, url_for

from marketplace.audit import chain
from marketplace.common.clock import local, now
from marketplace.common.errors import Invalid
from marketplace.extensions import db
from marketplace.opendata import monthly
from marketplace.opendata.schemas import parse_month

bp = Blueprint("opendata", __name__)


def blueprints():
    return [bp]


@bp.route("/opendata/")
def index():
    return render_template("opendata/index.html", months=monthly.months())


@bp.route("/opendata/ocds/<month>.json")
def download(month: str):
    try:
        first = parse_month(month)
    except Invalid:
        abort(404)
    label = first.strftime("%Y-%m")
    body = monthly.package(first, url_for("opendata.download", month=label, _external=True))
    if body is None:
        abort(404)
    return Response(
        json.dumps(body, ensure_ascii=False, indent=1),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="ocds-releases-{label}.json"'},
    )


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
