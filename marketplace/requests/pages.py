"""What the request pages share: the announcements' blueprint ("requests"), the labels and helpers templates
use, and the announcement page itself, which any failed POST on it draws again with its form.

views.py (announcements, bidding, selection, the draw proof), objection_views.py and desk_views.py build on
this module; views.py gathers their blueprints."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from marketplace.agencies.models import Offer
from marketplace.auth.current import web_actor
from marketplace.auth.models import Role
from marketplace.auth.policy import OwnsRequest
from marketplace.catalogue.models import ServiceItem
from marketplace.common.clock import now
from marketplace.common.l10n import is_english, named
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.requests import bidding, objections, queries, review, services
from marketplace.requests.bids import Bid, BidStatus
from marketplace.requests.forms import (
    ActionForm,
    ObjectionForm,
    ReasonForm,
    RepublishForm,
    bid_form_for,
    default_deadline,
    new_bid_form,
)
from marketplace.requests.labels import (
    BID_LABELS,
    FUNDING_LABELS,
    GROUND_LABELS,
    METHOD_HELP,
    METHOD_LABELS,
    OBJECTION_LABELS,
    REVIEW_LABELS,
    REVISION_LABELS,
    STATUS_LABELS,
    WEIGHT_LABELS,
)
from marketplace.requests.models import RequestStatus, ServiceRequest

public = Blueprint("requests", __name__, url_prefix="/requests")


@public.app_context_processor
def _labels():
    return {
        "request_status_labels": STATUS_LABELS,
        "method_labels": METHOD_LABELS,
        "method_help": METHOD_HELP,
        "funding_labels": FUNDING_LABELS,
        "bid_status_labels": BID_LABELS,
        "objection_labels": OBJECTION_LABELS,
        "ground_labels": GROUND_LABELS,
        "weight_labels": WEIGHT_LABELS,
        "revision_labels": REVISION_LABELS,
        "review_labels": REVIEW_LABELS,
    }


@public.app_template_global()
def time_left(moment: datetime | None) -> str:
    """“3 days 4 hours left” until a deadline, or “closed”."""
    if moment is None:
        return "—"
    seconds = int((moment - now()).total_seconds())
    if seconds <= 0:
        return _("Closed")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return _("%(d)d days %(h)d hours left", d=days, h=hours)
    if hours:
        return _("%(h)d hours %(m)d minutes left", h=hours, m=rest // 60)
    return _("%(m)d minutes left", m=max(1, rest // 60))


_ITEM_OPTIONS: dict = {}  # English? -> the service item filter's pieces, for one outline (key "of")


@public.app_template_global()
def item_options(categories, selected: int | None) -> Markup:
    """The announcement filter's service items, an <optgroup> per category (templates/requests/index.html), with
    `selected` marked: made once per outline (catalogue/outline.py: a new one after any catalogue write) and
    language, as ~100 items named through the template cost a list page ~1 ms."""
    if _ITEM_OPTIONS.get("of") is not categories:
        _ITEM_OPTIONS.clear()
        _ITEM_OPTIONS["of"] = categories
    english = is_english()
    pieces = _ITEM_OPTIONS.get(english)
    if pieces is None:
        pieces = []
        for c in categories:
            pieces.append((None, f'\n        <optgroup label="{escape(named(c))}">\n          '))
            pieces += [
                (i.id, (f'<option value="{i.id}" ', f">{escape(named(i))}</option>")) for i in c["items"]
            ]
            pieces.append((None, "\n        </optgroup>\n      "))
        _ITEM_OPTIONS[english] = pieces
    return Markup(
        "".join(
            text if item_id is None else text[0] + ("selected" if item_id == selected else "") + text[1]
            for item_id, text in pieces
        )
    )


@public.app_template_global()
def duration(seconds: int) -> str:
    """A configured period as people say it: “3 days”, or “36 hours” when not whole days."""
    days, rest = divmod(int(seconds), 86400)
    if days and not rest:
        return _("%(d)d days", d=days)
    return _("%(h)d hours", h=max(1, -(-int(seconds) // 3600)))


@public.app_template_global()
def open_requests_for(user, limit: int = 5) -> list[ServiceRequest]:
    """A few open announcements the agency may bid on (for its dashboard)."""
    if user is None or getattr(user, "role", None) != Role.AGENCY or user.agency is None:
        return []
    return list(db.session.scalars(queries.inbox_query(user).limit(limit)))


# --- shared helpers ----------------------------------------------------------------------------------


def status_arg(raw: str | None, allowed) -> str | None:
    return raw if raw in {s.value for s in allowed} else None


def _actor_agency(actor):
    if actor is not None and actor.role == Role.AGENCY:
        return actor.agency
    return None


def is_owner(actor, req: ServiceRequest) -> bool:
    return OwnsRequest(actor, req)


# --- the announcement page ---------------------------------------------------------------------------


def _store_offer(agency, req: ServiceRequest) -> Offer | None:
    """The agency's own offer in its store for the request's service item, if any."""
    if agency is None:
        return None
    return db.session.scalar(
        select(Offer).where(Offer.agency_id == agency.id, Offer.service_item_id == req.service_item_id)
    )


def preload(request_id: int) -> ServiceRequest | None:
    """The announcement with what its page prints of it — owner, item, category, requirements, exclusions — in one
    statement instead of one lazy load each; `services.get_request` then finds it loaded (and still decides who may
    see it) while the caller holds it."""
    return db.session.get(
        ServiceRequest,
        request_id,
        options=[
            joinedload(ServiceRequest.enterprise),
            joinedload(ServiceRequest.service_item).joinedload(ServiceItem.category),
            joinedload(ServiceRequest.service_item).joinedload(ServiceItem.requirements),
            joinedload(ServiceRequest.exclusions),
        ],
    )


def render_detail(req: ServiceRequest, forms: dict | None = None):
    """The announcement page; failed POSTs re-render it with their form (and its errors)."""
    actor = web_actor()
    forms = forms or {}
    agency = _actor_agency(actor)
    mine = bidding.my_bid(actor, req.id) if agency else None
    problems = (
        bidding.eligibility_problems(agency, req)
        if agency and req.status == RequestStatus.BIDDING and not (mine and mine.status == BidStatus.ACTIVE)
        else []
    )
    selected = req.status in (RequestStatus.PUBLICITY, RequestStatus.AWARDED)
    winner = (
        db.session.get(Bid, req.winner_bid_id, options=[joinedload(Bid.agency)])
        if selected and req.winner_bid_id
        else None
    )
    order = orders.order_for_request(req.id) if actor is not None else None
    return render_template(
        "requests/detail.html",
        req=req,
        bid_count=bidding.bid_count(req.id),
        owner=is_owner(actor, req),
        manage=services.can_manage(actor, req),
        reviewer=services.can_review(actor, req),
        sees_document=review.sees_approval_document(actor, req),
        agency=agency,
        mine=mine,
        problems=problems,
        winner=winner,
        order=order if order is not None and orders.is_party(actor, order) else None,
        publicity_open=objections.publicity_open(req),
        objection_rows=objections.listing(actor, req),
        standing=objections.standing(actor, req),
        named_choices=bidding.qualified_practitioners(agency, req)
        if agency and req.service_item.required_practitioners
        else [],
        previous=db.session.get(ServiceRequest, req.previous_id) if req.previous_id else None,
        next_round=db.session.scalar(select(ServiceRequest).where(ServiceRequest.previous_id == req.id)),
        **(_forms(agency, req, mine, forms) if actor is not None else {}),
    )


def _forms(agency, req: ServiceRequest, mine: Bid | None, forms: dict) -> dict:
    """The page's forms, for a logged-in visitor only: a form made puts a CSRF token into the session, and the
    page a visitor who is not logged in sees (which shows no form) is then the same for all of them and is kept
    by the page cache (common/httpcache.py)."""
    bid_form, prefilled = forms.get("bid"), False
    if bid_form is None:
        bid_form, prefilled = new_bid_form(_store_offer(agency, req), req)
    return {
        "bid_form": bid_form,
        "bid_prefilled": prefilled,
        "revise_form": forms.get("revise") or bid_form_for(mine),
        "objection_form": forms.get("objection") or ObjectionForm(formdata=None),
        "cancel_form": forms.get("cancel") or ReasonForm(formdata=None),
        "republish_form": forms.get("republish")
        or RepublishForm(formdata=None, bid_deadline=default_deadline()),
        "action": ActionForm(formdata=None),
    }
