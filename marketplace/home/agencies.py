"""The public agency pages: the intermediary-services list and each member's store (with its ratings).

They compose several features — agencies, the catalogue, statistics and ratings — so they live here, above
them all, under the blueprint name "agencies" that templates link to."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l

from marketplace.agencies import practitioners, services
from marketplace.agencies.qualifications import eligible_for
from marketplace.auth.current import web_actor
from marketplace.catalogue import services as catalogue
from marketplace.common import uploads
from marketplace.common.clock import now
from marketplace.common.money import yuan_to_fen
from marketplace.common.web import framed_by_own_pages, send_upload
from marketplace.credit import scores as credit_scores
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
    page = services.public_agencies_page(
        services.public_agencies_query(category_id, region, q, item_id, sort, level, price_min, price_max)
    )
    figures = stats_for([a.id for a in page.items])
    item = catalogue.get_item(item_id) if item_id else None
    # Listed for one service item: whether each agency's licences let it take that item (the bidding rule).
    checks = {a.id: eligible_for(a, item, now().date()) for a in page.items} if item else {}
    return render_template(
        "agencies/index.html",
        item_checks=checks,
        page=page,
        categories=catalogue.categories(),
        category_id=category_id,
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


@public.route("/<int:agency_id>")
def store(agency_id: int):
    actor = web_actor()
    agency = services.get_store(agency_id, actor)
    offers = sorted(
        (o for o in agency.offers if o.active), key=lambda o: (o.service_item.category_id, o.service_item_id)
    )
    return render_template(
        "agencies/store.html",
        agency=agency,
        offers=offers,
        private=services.can_see_private(actor, agency),
        st=stats_for([agency.id])[agency.id],
        item_stats=item_stats_for(agency.id),
        distribution=ratings.distribution(agency.id),
        recent=ratings.recent_for_agency(agency.id, limit=8),
        department=ratings.department_summary(agency.id),
        monthly=ratings.monthly(agency.id),
        checks={o.id: eligible_for(agency, o.service_item, now().date()) for o in offers},
        credit_lists=credit_scores.entries_in_force(agency.id),
    )


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


@public.route("/admitted")
def admitted():
    """入驻公示: the members admitted lately, public facts only."""
    days = request.args.get("days", type=int)
    days = days if days in ADMITTED_DAYS else 30
    return render_template(
        "agencies/admitted.html", rows=services.admitted_agencies(days), days=days, choices=ADMITTED_DAYS
    )
