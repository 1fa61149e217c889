"""Help for each role (/help/, /help/<role>: 操作指南) and the public rules of selection (/rules/selection).

The guides link to the real pages; the selection rules are drawn from the code that applies them
(requests/draw.py, requests/labels.py and the market's settings), so the page cannot drift from the rule."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, current_app, render_template
from flask_babel import lazy_gettext as _l

from marketplace.requests import draw
from marketplace.requests.labels import METHOD_HELP, METHOD_LABELS
from marketplace.requests.models import SelectionMethod

bp = Blueprint("guide", __name__)


@dataclass
class Step:
    title: object
    text: object
    links: list[tuple[str, object, dict]] = field(default_factory=list)


def _link(endpoint: str, label, **args) -> tuple[str, object, dict]:
    return (endpoint, label, args)


ROLES = {
    "enterprise": (
        _l("Enterprises (project owners)"),
        _l(
            "Buy an intermediary service for your project's approval: publish a request, compare sealed bids, "
            "select by the method you published, pay, accept and rate."
        ),
    ),
    "agency": (
        _l("Intermediary agencies"),
        _l("Join the market, keep a store, bid on requests, deliver on time and build your credit."),
    ),
    "operator": (
        _l("Operators (运营机构)"),
        _l(
            "Run the market day to day: memberships, changes, announcements, objections, comments and credit "
            "appeals."
        ),
    ),
    "department": (
        _l("Trade departments (行业主管部门)"),
        _l(
            "Keep your trade's service items, give the department's rating and take part in random inspections."
        ),
    ),
    "supervisor": (
        _l("Supervisors (管理部门)"),
        _l("Supervise fees, deadlines, complaints, credit lists and random inspections; read every desk."),
    ),
}


def steps_for(role: str) -> list[Step]:
    publicity_days = max(1, round(current_app.config["MARKET_PUBLICITY_SECONDS"] / 86400))
    rating_days = max(1, round(current_app.config["MARKET_RATING_WINDOW_SECONDS"] / 86400))
    review_days = current_app.config["MARKET_REVIEW_WORKING_DAYS"]
    if role == "enterprise":
        return [
            Step(
                _l("Register"),
                _l(
                    "Register an enterprise account with your company's unified social credit code; you can post "
                    "requests at once."
                ),
                [_link("auth.register", _l("Register"), role="enterprise")],
            ),
            Step(
                _l("Know the item and a fair price"),
                _l(
                    "Look the service item up in the catalogue: its legal basis, standard time limit and, for "
                    "government-guided items, the guide price. The fee page shows the median winning price of the "
                    "last 12 months."
                ),
                [
                    _link("catalogue.index", _l("Service catalogue")),
                    _link("fees.index", _l("Fee disclosure")),
                ],
            ),
            Step(
                _l("Publish a request"),
                _l(
                    "Give the project's name and code, the service item, the scope, the ceiling price, the days you "
                    "need, the funding source, the selection method and the bid deadline. The operator reviews the "
                    "announcement before it becomes public."
                ),
                [_link("enterprise.new_request", _l("Publish a request"))],
            ),
            Step(
                _l("Compare the bids and select"),
                _l(
                    "Bids stay sealed until the deadline. Then compare them side by side (price, promised days, "
                    "rating, on-time rate, credit) and run the selection by the method you published. The result "
                    "is public for %(days)d days.",
                    days=publicity_days,
                ),
                [
                    _link("enterprise.dashboard", _l("My workspace")),
                    _link("guide.selection_rules", _l("Selection methods")),
                ],
            ),
            Step(
                _l("Sign and pay"),
                _l(
                    "After the publicity an order is created: upload and confirm the signed contract, which starts "
                    "the service clock. Pay online or by bank transfer with its voucher; the agency confirms "
                    "receipt."
                ),
                [_link("orders.index", _l("Orders"))],
            ),
            Step(
                _l("Accept and rate"),
                _l(
                    "When the work is delivered, check it and accept it or dispute it. Then rate the order once, "
                    "within %(days)d days: overall, quality, timeliness, attitude, fees and compliance.",
                    days=rating_days,
                ),
                [_link("orders.index", _l("Orders"))],
            ),
            Step(
                _l("Object or complain"),
                _l(
                    "During the publicity an interested party may lodge an objection on the request's page. A "
                    "complaint about an agency, a request or an order goes to the supervisors, who accept or refuse "
                    "it within the working days the rules set."
                ),
                [
                    _link("complaints.new", _l("File a complaint")),
                    _link("complaints.index", _l("My complaints")),
                ],
            ),
        ]
    if role == "agency":
        return [
            Step(
                _l("Register and apply"),
                _l(
                    "Register with your credit code, then complete the application: legal representative, contacts, "
                    "categories, qualifications with their scans, practitioners, the letter of commitment and the "
                    "power of attorney. The operator decides within %(n)d working days.",
                    n=review_days,
                ),
                [_link("auth.register", _l("Agencies: join the market"), role="agency")],
            ),
            Step(
                _l("Set up your store"),
                _l(
                    "List an offer for each service item you provide: price (fixed, a range or a discount on the "
                    "standard fee), promised days and a description. Keep your qualifications valid: an expired one "
                    "stops bidding in the categories it covers."
                ),
                [
                    _link("agency_workspace.offers", _l("My offers")),
                    _link("agency_workspace.qualifications", _l("Qualifications")),
                ],
            ),
            Step(
                _l("Find requests and bid"),
                _l(
                    "Your inbox lists the open requests in your categories and service area. Bid a price not above "
                    "the ceiling, your promised days and your plan. Bids are sealed; you may revise or withdraw "
                    "before the deadline."
                ),
                [
                    _link("agency_bidding.inbox", _l("Open requests for me")),
                    _link("agency_bidding.my_bids", _l("My bids")),
                ],
            ),
            Step(
                _l("Win, sign and deliver"),
                _l(
                    "When you are selected and the publicity ends, confirm the order and the signed contract, report "
                    "progress, ask in time for an extension if you need one, and deliver before the due date: the "
                    "light turns yellow when 80 percent of the time has passed and red when overdue."
                ),
                [_link("orders.index", _l("Orders"))],
            ),
            Step(
                _l("Payments and ratings"),
                _l(
                    "Confirm the payments you receive. Reply once to each rating; report a comment that is abusive "
                    "— the operators decide, and the scores always stay."
                ),
                [_link("orders.index", _l("Orders"))],
            ),
            Step(
                _l("Credit, appeals and repair"),
                _l(
                    "Your credit score and grade come from owners' ratings, the departments and the operators. "
                    "Appeal an event you think wrong, and ask for credit repair once you have put things right."
                ),
                [
                    _link("agency_credit.mine", _l("My credit")),
                    _link("credit.rules_page", _l("Credit rating rules")),
                ],
            ),
            Step(
                _l("Report changes"),
                _l(
                    "Changes of qualifications, legal representative and practitioners count once the operator "
                    "approves them."
                ),
                [_link("agency_people.my_changes", _l("My changes"))],
            ),
        ]
    if role == "operator":
        return [
            Step(
                _l("Review memberships"),
                _l(
                    "Check each application against its scans, previewed on the page, and approve or reject it with "
                    "a reason within %(n)d working days.",
                    n=review_days,
                ),
                [_link("agency_admin.applications", _l("Membership review"))],
            ),
            Step(
                _l("Review changes"),
                _l(
                    "Members' changes to qualifications, legal representative and practitioners count once you "
                    "approve them."
                ),
                [_link("change_admin.change_list", _l("Change review"))],
            ),
            Step(
                _l("Review announcements"),
                _l(
                    "Check requests before they become public: approve them, or return them with your opinion."
                ),
                [_link("announcement_admin.queue", _l("Announcement review"))],
            ),
            Step(
                _l("Handle objections"),
                _l(
                    "Decide the objections lodged during publicity; an upheld objection passes the award on or "
                    "fails the request."
                ),
                [_link("request_admin.objections", _l("Objection handling"))],
            ),
            Step(
                _l("Moderate ratings"),
                _l(
                    "Hide an abusive comment with a reason, restore one hidden by mistake, or keep a reported one "
                    "visible. Scores are never changed; every decision is audited."
                ),
                [_link("rating_admin.moderation_list", _l("Ratings moderation"))],
            ),
            Step(
                _l("Decide credit appeals and repairs"),
                _l(
                    "Agencies appeal credit events and ask for repair; decide each within the working days the "
                    "rules set."
                ),
                [_link("credit_admin.desk", _l("Credit appeals"))],
            ),
        ]
    if role == "department":
        return [
            Step(
                _l("Keep your trade's service items"),
                _l(
                    "Legal basis, guide price, standard days, required qualification and model contract: every "
                    "change becomes a new version, and each request keeps the version it was posted with."
                ),
                [_link("catalogue_admin.items", _l("Service items"))],
            ),
            Step(
                _l("Give the department's rating"),
                _l(
                    "Rate the quality and timeliness of accepted orders of your trade in your area (双评价). Only "
                    "department accounts see this form, on the order's page."
                ),
                [_link("orders.index", _l("Orders"))],
            ),
            Step(
                _l("Take part in random inspections"),
                _l(
                    "双随机、一公开: record the findings for the agencies drawn; failed items become credit events."
                ),
                [_link("inspection_admin.tasks", _l("Random inspections"))],
            ),
        ]
    if role == "supervisor":
        return [
            Step(
                _l("Fee audit"),
                _l(
                    "Every price and payment is checked against the ceiling, the guide range, the agency's "
                    "published price and the contract; confirm or dismiss each flag."
                ),
                [_link("fee_admin.audit", _l("Fee audit")), _link("fees.rules", _l("Fee rules"))],
            ),
            Step(
                _l("Deadlines"),
                _l(
                    "The deadline board shows orders under way, most urgent first, and objections, memberships and "
                    "complaints not decided in time."
                ),
                [_link("order_admin.deadlines", _l("Deadline board"))],
            ),
            Step(
                _l("Complaints and reports"),
                _l(
                    "Accept or refuse each complaint or report, then uphold or dismiss it with its consequences."
                ),
                [_link("complaint_admin.desk", _l("Complaints"))],
            ),
            Step(
                _l("Red and black lists"),
                _l("List or lift agencies with a reason, a legal basis and a period."),
                [_link("credit_admin.lists", _l("Red and black lists"))],
            ),
            Step(
                _l("Random inspections"),
                _l("Keep the inspector register, draw inspections by lot and publish the results."),
                [_link("inspection_admin.tasks", _l("Random inspections"))],
            ),
            Step(
                _l("Audit log and statistics"),
                _l(
                    "Every change in the market, who made it and when; the market's figures and monthly reports."
                ),
                [
                    _link("audit_admin.entries", _l("Audit log")),
                    _link("reports.index", _l("Market statistics")),
                ],
            ),
        ]
    raise KeyError(role)


@bp.route("/help/")
def help_index():
    return render_template("help/index.html", roles=ROLES)


@bp.route("/help/<role>")
def help_role(role: str):
    if role not in ROLES:
        abort(404)
    title, intro = ROLES[role]
    return render_template(
        "help/role.html", role=role, title=title, intro=intro, steps=steps_for(role), roles=ROLES
    )


@bp.route("/rules/selection")
def selection_rules():
    config = current_app.config
    return render_template(
        "help/selection.html",
        methods=[(m, METHOD_LABELS[m], METHOD_HELP[m]) for m in SelectionMethod],
        min_bids=config["MARKET_MIN_BIDS"],
        publicity_days=max(1, round(config["MARKET_PUBLICITY_SECONDS"] / 86400)),
        weights=draw.DEFAULT_WEIGHTS,
        neutral=draw.NEUTRAL,
        shortlist=draw.DEFAULT_SHORTLIST,
        coefficients=draw.COEFFICIENTS,
        algorithm=draw.ALGORITHM,
    )
