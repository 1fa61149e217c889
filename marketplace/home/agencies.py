"""The public agency pages: the intermediary-services list and each member's store (with its ratings).

They compose several features — agencies, the catalogue, statistics and ratings — so they live here, above
them all, under the blueprint name "agencies" that templates link to."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.agencies import favourites, practitioners, services
from marketplace.agencies.cards import cards
from marketplace.agencies.models import Agency, Offer
from marketplace.agencies.qualifications import eligible_for
from marketplace.auth.current import web_actor
from marketplace.catalogue import services as catalogue
from marketplace.catalogue.models import ServiceItem
from marketplace.catalogue.outline import items_of, outline
from marketplace.common import uploads
from marketplace.common.clock import now
from marketplace.common.forms import page_number
from marketplace.common.money import yuan_to_fen
from marketplace.common.web import framed_by_own_pages, send_upload
from marketplace.credit import scores as credit_scores
from marketplace.extensions import db
from marketplace.fees.models import RULE_LABELS, FeeFlag, FlagStatus
from marketplace.ratings import services as ratings
from marketplace.stats.figures import item_stats_for, stats_for

public = Blueprint("agencies", __name__, url_prefix="/agencies")


def blueprints():
    return [public]


SORTS = {
    "composite": _l("Recommended"),
    "sales": _l("Most orders"),
    "rating": _l("Best rated"),
    "price": _l("Lowest price"),
    "speed": _l("Fastest"),
}


@public.route("/")
def index():
    category_id = request.args.get("category", type=int)
    region = (request.args.get("region") or "").strip()[:20] or None
    q = (request.args.get("q") or "").strip()[:50] or None
    item_id = request.args.get("service_item", type=int)
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "composite"
    level = request.args.get("level") if request.args.get("level") in services.LEVEL_ORDER else None
    price_min, price_max = _yuan_arg("price_min"), _yuan_arg("price_max")
    item = catalogue.get_item(item_id) if item_id else None
    if item is not None and category_id is not None and item.category_id != category_id:
        item = item_id = None  # the category changed: the item of the former one no longer applies
    if item is not None:
        category_id = item.category_id
    after = request.args.get("after") or None
    page = services.listing_page(
        services.ListFilter(category_id, region, q, item_id, sort, level, price_min, price_max),
        page=request.args.get("page", 1, type=int) or 1,
        after=services.decode_cursor(sort, after) if after else None,  # not ours: the page number decides
        load=cards,  # what the cards show, as plain rows (agencies/cards.py)
    )  # fmt: skip
    figures = stats_for([a.id for a in page.items])
    # Listed for one service item: whether each agency's licences let it take that item (the bidding rule).
    checks = {}
    if item is not None:
        listed = db.session.scalars(
            select(Agency)
            .where(Agency.id.in_([a.id for a in page.items]))
            .options(selectinload(Agency.qualifications))
        ).all()
        checks = {a.id: eligible_for(a, item, now().date()) for a in listed}
    return render_template(
        "agencies/index.html",
        item_checks=checks,
        page=page,
        categories=outline(),  # per-process copies (catalogue/outline.py)
        category_items=items_of(category_id) if category_id else [],
        category_id=category_id,
        favourite_ids=favourites.ids_for(web_actor()),
        region=region,
        q=q,
        item=item,
        sort=sort,
        sorts=SORTS,
        agency_stats=figures,
        level=level,
        levels=services.LEVEL_ORDER,
        price_min=request.args.get("price_min", ""),
        price_max=request.args.get("price_max", ""),
    )


def _yuan_arg(name: str) -> int | None:
    raw = (request.args.get(name) or "").strip()
    try:
        return yuan_to_fen(raw) if raw else None
    except ValueError:
        return None


STORE_TABS = {
    "home": _l("Store home"),
    "services": _l("All services"),
    "ratings": _l("Ratings"),
    "qualifications": _l("Qualifications"),
}
HOME_OFFERS = 4  # the store's home tab shows the first offers; 全部服务 shows them all


@public.route("/<int:agency_id>")
def store(agency_id: int):
    actor = web_actor()
    agency = services.get_store(agency_id, actor)
    tab = request.args.get("tab") if request.args.get("tab") in STORE_TABS else "home"
    # The offers' items with their requirements in one query, held here so that the identity map keeps them
    # while the page is made (each offer's item and its requirements would be two lazy loads otherwise).
    items = {
        i.id: i
        for i in db.session.scalars(
            select(ServiceItem)
            .where(ServiceItem.id.in_(select(Offer.service_item_id).where(Offer.agency_id == agency.id)))
            .options(selectinload(ServiceItem.requirements))
        )
    }
    offers = sorted(
        (o for o in agency.offers if o.active),
        key=lambda o: (items[o.service_item_id].category_id, o.service_item_id),
    )
    distribution, dimensions, department = ratings.store_summary(agency.id)
    return render_template(
        "agencies/store.html",
        agency=agency,
        tab=tab,
        tabs=STORE_TABS,
        offers=offers,
        shown_offers=offers if tab == "services" else offers[:HOME_OFFERS],
        private=services.can_see_private(actor, agency),
        st=stats_for([agency.id])[agency.id],
        item_stats=item_stats_for(agency.id),
        distribution=distribution,
        dimensions=dimensions,
        recent=ratings.recent_for_agency(agency.id, limit=20 if tab == "ratings" else 3),
        department=department,
        monthly=ratings.monthly(agency.id),
        checks={o.id: eligible_for(agency, o.service_item, now().date()) for o in offers},
        credit_lists=credit_scores.entries_in_force(agency.id),
        violations=confirmed_violations(agency.id),
        rule_labels=RULE_LABELS,
        favourite_ids=favourites.ids_for(actor),
    )


def confirmed_violations(agency_id: int) -> list[FeeFlag]:
    """The fee audit's confirmed violations of the agency (违规收费, 已确认), newest first: shown in its store."""
    stmt = (
        select(FeeFlag)
        .where(FeeFlag.agency_id == agency_id, FeeFlag.status == FlagStatus.CONFIRMED)
        .options(selectinload(FeeFlag.service_item))
        .order_by(FeeFlag.occurred_at.desc(), FeeFlag.id.desc())
    )
    return list(db.session.scalars(stmt))


def _back(agency_id: int) -> str:
    """Where a 收藏 button returns: the local page it was pressed on (`next`), else the store."""
    target = request.form.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return url_for("agencies.store", agency_id=agency_id)


def _login_first(agency_id: int):
    """Anonymous: log in, then back to the page the button was on (a POST cannot be replayed after login)."""
    flash(_("Please log in as an enterprise to keep favourites."), "warning")
    return redirect(url_for("auth.login", next=_back(agency_id)))


# Both POSTs are CSRF-checked by the app-wide CSRFProtect (templates send csrf_token()).
@public.route("/<int:agency_id>/favourite", methods=["POST"])
def favourite(agency_id: int):
    """收藏: keep the store on the enterprise's desk (idempotent)."""
    actor = web_actor()
    if actor is None:
        return _login_first(agency_id)
    favourites.add(actor, agency_id)
    flash(_("Added to your favourites: it is listed on your desk."), "success")
    return redirect(_back(agency_id))


@public.route("/<int:agency_id>/unfavourite", methods=["POST"])
def unfavourite(agency_id: int):
    """取消收藏 (idempotent)."""
    actor = web_actor()
    if actor is None:
        return _login_first(agency_id)
    favourites.remove(actor, agency_id)
    flash(_("Removed from your favourites."), "info")
    return redirect(_back(agency_id))


@public.route("/qualifications/<int:qualification_id>/file")
@framed_by_own_pages
def qualification_file(qualification_id: int):
    qual = services.qualification_for_download(web_actor(), qualification_id)
    return send_upload(
        uploads.upload_path(services.UPLOAD_KIND, qual.file_key), qual.file_mime, qual.file_name
    )


@public.route("/<int:agency_id>/documents/<any(pledge, authorisation):kind>")
@framed_by_own_pages
def document_file(agency_id: int, kind: str):
    """An entry document (承诺书, 授权委托书): its agency and staff only."""
    key, name, mime = practitioners.document_for_download(web_actor(), agency_id, kind)
    return send_upload(uploads.upload_path(services.UPLOAD_KIND, key), mime, name)


@public.route("/practitioners/<int:practitioner_id>/file")
@framed_by_own_pages
def practitioner_file(practitioner_id: int):
    person = practitioners.practitioner_file_for_download(web_actor(), practitioner_id)
    return send_upload(
        uploads.upload_path(services.UPLOAD_KIND, person.file_key), person.file_mime, person.file_name
    )


ADMITTED_DAYS = (7, 30, 90)
ADMITTED_PER_PAGE = 30


@public.route("/admitted")
def admitted():
    """入驻公示: the members admitted lately, public facts only."""
    days = request.args.get("days", type=int)
    days = days if days in ADMITTED_DAYS else 30
    page = db.paginate(
        services.admitted_query(days),
        page=page_number(request.args.get("page")),
        per_page=ADMITTED_PER_PAGE,
        error_out=False,
    )
    return render_template(
        "agencies/admitted.html", page=page, rows=page.items, days=days, choices=ADMITTED_DAYS
    )
