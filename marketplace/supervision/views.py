"""The staff home (/admin/: each role greeted with its scope and its desks) and the supervisor's deadline board
(/admin/deadlines, under the blueprint name "order_admin" that templates link to; the template stays with the
order pages it resembles)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from marketplace.auth.current import web_actor
from marketplace.auth.models import ROLE_LABELS, Role
from marketplace.auth.services import require_staff
from marketplace.catalogue.models import ServiceItem
from marketplace.common.forms import int_or_none, page_number
from marketplace.extensions import db
from marketplace.regions import services as regions
from marketplace.requests import review
from marketplace.supervision.audit_views import bp as audit_admin
from marketplace.supervision.deadlines import deadline_board

admin = Blueprint("order_admin", __name__, url_prefix="/admin")
staff = Blueprint("staff", __name__, url_prefix="/admin")


def blueprints():
    return [admin, staff, audit_admin]


# Each desk: (endpoint, title, what it is for, the roles that act there, the roles that may only read there).
DESKS = [
    (
        "agency_admin.applications",
        _l("Membership review"),
        _l("Agencies applying to join, and members to suspend, reinstate or expel."),
        {Role.OPERATOR},
        {Role.SUPERVISOR},
    ),
    (
        "change_admin.change_list",
        _l("Change review"),
        _l(
            "Members' changes to qualifications, legal representative and practitioners: they count once approved."
        ),
        {Role.OPERATOR},
        {Role.SUPERVISOR},
    ),
    (
        "request_admin.objections",
        _l("Objection handling"),
        _l("Objections lodged against a selection during publicity."),
        {Role.OPERATOR},
        {Role.SUPERVISOR},
    ),
    (
        "rating_admin.moderation_list",
        _l("Ratings moderation"),
        _l(
            "Every rating in your area: reported comments first; hide an abusive comment or restore it, with a reason."
        ),
        {Role.OPERATOR},
        {Role.SUPERVISOR},
    ),
    (
        "catalogue_admin.items",
        _l("Service items"),
        _l("Your trade's service items: legal basis, guide price, standard days — every change versioned."),
        {Role.DEPARTMENT},
        {Role.SUPERVISOR},
    ),
    (
        "orders.index",
        _l("Orders"),
        _l("Orders in your area; a department gives its rating to accepted orders of its trade."),
        {Role.DEPARTMENT, Role.OPERATOR, Role.SUPERVISOR},
        set(),
    ),
    (
        "fee_admin.audit",
        _l("Fee audit"),
        _l("Prices flagged against ceilings, guide ranges and published prices; confirm or dismiss."),
        {Role.SUPERVISOR},
        set(),
    ),
    (
        "complaint_admin.desk",
        _l("Complaints and reports"),
        _l(
            "Complaints and reports about agencies, requests, selections and orders: accept, refuse, uphold, dismiss."
        ),
        {Role.SUPERVISOR},
        {Role.OPERATOR},
    ),
    (
        "order_admin.deadlines",
        _l("Deadline board"),
        _l("Orders under way, most urgent first, and objections not decided in time."),
        {Role.SUPERVISOR},
        set(),
    ),
    (
        "inspection_admin.tasks",
        _l("Random inspections"),
        _l("双随机、一公开: the inspector register, inspections drawn by lot, findings, published results."),
        {Role.SUPERVISOR, Role.DEPARTMENT},
        set(),
    ),
    (
        "credit_admin.desk",
        _l("Credit appeals and repairs"),
        _l("Agencies' appeals against credit events (overdue in red) and credit repair requests."),
        {Role.OPERATOR},
        {Role.SUPERVISOR},
    ),
    (
        "credit_admin.lists",
        _l("Red and black lists"),
        _l("List or lift agencies with a reason, legal basis and period; record conduct found in review."),
        {Role.SUPERVISOR},
        set(),
    ),
    (
        "audit_admin.entries",
        _l("Audit log"),
        _l("Every change in the market, who made it and when: by person, object, action and period."),
        {Role.SUPERVISOR},
        set(),
    ),
]


def region_label(code: str | None) -> str:
    """A region for people: its full name where known, else its GB/T 2260 code."""
    return regions.label(code, full=True)


def desks_for(actor) -> list[dict]:
    out = []
    for endpoint, title, text, acts, reads in DESKS:
        if actor.role == Role.ADMIN or actor.role in acts:
            out.append({"endpoint": endpoint, "title": title, "text": text, "read_only": False})
        elif actor.role in reads:
            out.append({"endpoint": endpoint, "title": title, "text": text, "read_only": True})
    return out


@staff.before_request
@login_required
def _staff_logged_in():
    pass


@staff.route("/")
def home():
    actor = require_staff(web_actor())
    market = current_app.config["MARKET_AREA_CODE"]
    return render_template(
        "staff/home.html",
        role_label=ROLE_LABELS[actor.role],
        region=region_label(actor.region_code or market),
        region_code=actor.region_code or market,
        whole_market=not actor.region_code,
        department=actor.department if actor.role == Role.DEPARTMENT else None,
        desks=desks_for(actor),
    )


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
        overdue_memberships=board["memberships"],
        overdue_complaints=board["complaints"],
        announcements_waiting=review.waiting_in_area(web_actor()),
        state=state,
        item_id=item_id,
        items=db.session.scalars(
            select(ServiceItem).order_by(ServiceItem.category_id, ServiceItem.sort_order)
        ).all(),
    )
