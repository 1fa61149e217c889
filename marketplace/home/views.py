"""The portal's front page."""

from flask import Blueprint, current_app, redirect, render_template, url_for
from sqlalchemy import select

from marketplace.agencies import services as agencies
from marketplace.agencies.cards import Card, cards
from marketplace.agencies.models import Agency
from marketplace.auth.current import api_actor
from marketplace.auth.services import require_user
from marketplace.catalogue.outline import outline
from marketplace.credit import scores as credit_scores
from marketplace.extensions import db, talisman
from marketplace.home import guide, todo, todo_desks, todo_staff, todo_supervision  # noqa: F401 (the providers register themselves)
from marketplace.home.schemas import TodoListOut
from marketplace.requests import bidding
from marketplace.requests import queries as request_queries
from marketplace.stats import summary
from marketplace.stats.figures import stats_for
from marketplace.stats.models import AgencyStats

bp = Blueprint("home", __name__)


def blueprints():
    return [bp, guide.bp]


@bp.route("/")
def index():
    categories = outline()  # a per-process copy (catalogue/outline.py)
    credit: dict[int, dict] = {}
    newest = recommended(8, credit)
    figures = {
        "categories": len(categories),
        "items": sum(len(c.items) for c in categories),
        "agencies": summary.count(summary.ACTIVE_AGENCIES),  # kept by the tally, not counted
    }
    # each announcement's item named from the outline: neither its item nor its enterprise is loaded here
    announcements = db.session.scalars(request_queries.public_requests_query(related=False).limit(6)).all()
    return render_template(
        "home/index.html",
        categories=categories,
        member_counts=summary.category_member_counts(),
        newest=newest,
        agency_stats=stats_for([a.id for a in newest], credit=credit or None),
        figures=figures,
        announcements=announcements,
        outline_items={i.id: i for c in categories for i in c.items},
        bid_counts=bidding.bid_counts([r.id for r in announcements]),
    )


def recommended(limit: int, credit: dict[int, dict] | None = None) -> list[Card | Agency]:
    """推荐机构: enough ratings (MARKET_RECOMMEND_MIN_RATINGS) and the best shrunk composite, never a
    black-listed or grade D/E agency; a young market with no such agency yet shows the list's first ones.

    The candidates are read along the statistics' composite index (a handful of rows, whatever the market's
    size), then their cards (agencies/cards.py); an inactive or barred candidate only leaves its place empty.
    The candidates' credit figures are put in `credit` (the cards' statistics show them)."""
    least = max(1, current_app.config["MARKET_RECOMMEND_MIN_RATINGS"])
    candidates = db.session.scalars(
        select(AgencyStats.agency_id)
        .where(AgencyStats.ratings_count >= least)
        .order_by(AgencyStats.composite.desc(), AgencyStats.rating_rank.desc(), AgencyStats.agency_id)
        .limit(limit * 4)
    ).all()
    found = []
    if candidates:
        place = {a: i for i, a in enumerate(candidates)}
        stmt = agencies.recommended_agency_ids_query(least).where(Agency.id.in_(candidates))
        found = sorted(db.session.scalars(stmt).all(), key=place.__getitem__)
    credit = credit if credit is not None else {}
    credit.update(credit_scores.figures_for(found) if found else {})
    good = [a for a in found if credit.get(a, {}).get("credit_grade") not in ("D", "E")]
    good = [a for a in good if not credit.get(a, {}).get("credit_blacklisted")][:limit]
    if good:
        shown = cards(good)
        return [shown[a] for a in good if a in shown]
    return db.session.scalars(agencies.public_agencies_query(agencies.ListFilter()).limit(limit)).all()


@bp.app_template_global("todo_for")
def todo_for(user) -> list[todo.Todo]:
    """The desks' to-do panel (templates/home/_todo.html) in every feature's templates."""
    return todo.todo_for(user)


@bp.route("/api/v1/todo")
def todo_api():
    """What waits for the caller (bearer token): `{total, overdue, items: [{kind, title, count, overdue, due_at,
    url, entries: [{label, url, due_at, overdue, note}]}]}`, overdue kinds first."""
    items = todo.todo_for(require_user(api_actor()))
    return TodoListOut().dump(
        {"total": sum(i.count for i in items), "overdue": sum(i.overdue for i in items), "items": items}
    )


@bp.route("/api/v1/docs")
@talisman(
    content_security_policy={
        "default-src": "'self'",
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'", "'unsafe-inline'"],  # Swagger UI sets inline styles
        "script-src": "'self'",
    }
)
def api_docs():
    """Interactive documentation of the OpenAPI document."""
    return render_template("api_docs.html")


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="img/logo.svg"), code=301)


@bp.route("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}
