"""The administrators' deadline board page (/admin/deadlines), under the blueprint name "order_admin" that
templates link to; the template stays with the order pages it resembles."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import select

from marketplace.auth.current import web_actor
from marketplace.catalogue.models import ServiceItem
from marketplace.common.forms import int_or_none, page_number
from marketplace.extensions import db
from marketplace.requests import review
from marketplace.supervision.deadlines import deadline_board

admin = Blueprint("order_admin", __name__, url_prefix="/admin")


def blueprints():
    return [admin]


@admin.before_request
@login_required
def _admin_logged_in():
    pass


@admin.route("/deadlines")
def deadlines():
    state = request.args.get("state") if request.args.get("state") in ("red", "yellow", "ok") else None
    item_id = int_or_none(request.args.get("service_item_id"))
    board = deadline_board(web_actor(), state, item_id)
    per_page, number = 30, page_number(request.args.get("page"))
    rows = board["rows"]
    return render_template(
        "orders/deadlines.html",
        rows=rows[(number - 1) * per_page : number * per_page],
        total=len(rows),
        pages=max(1, -(-len(rows) // per_page)),
        number=number,
        counts=board["counts"],
        overdue_objections=board["objections"],
        announcements_waiting=review.waiting_in_area(web_actor()),
        state=state,
        item_id=item_id,
        items=db.session.scalars(
            select(ServiceItem).order_by(ServiceItem.category_id, ServiceItem.sort_order)
        ).all(),
    )
