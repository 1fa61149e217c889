"""Forms for requests, sealed bids, selection and objections, and the conversion of what people type (yuan,
Beijing time) into what the services take (fen, aware datetimes). The labels they show are in labels.py; the
conversions every feature shares (page numbers, ids, yuan) in common/forms.py."""

from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    DateTimeLocalField,
    FieldList,
    FileField,
    Form,
    FormField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from marketplace.agencies.models import Agency, AgencyStatus, Offer, QualificationLevel
from marketplace.catalogue import services as catalogue
from marketplace.common.clock import LOCAL_TZ, now
from marketplace.common.forms import fen_from, int_or_none, whole_from
from marketplace.common.l10n import named
from marketplace.common.money import fen_to_yuan, format_fen
from marketplace.extensions import db
from marketplace.requests.bids import Bid
from marketplace.requests.draw import DEFAULT_SHORTLIST, DEFAULT_WEIGHTS
from marketplace.requests.labels import GROUND_LABELS, METHOD_LABELS
from marketplace.requests.models import (
    SelectionMethod,
    ServiceRequest,
)

ANY_LEVEL = "any"
# The request form's fields that only some selection methods use.
METHOD_FIELDS = {
    **{f"w_{k}": (SelectionMethod.COMPOSITE,) for k in DEFAULT_WEIGHTS},
    "shortlist_size": (SelectionMethod.CREDIT_SHORTLIST,),
}

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def deadline_field(label=None):
    return DateTimeLocalField(
        label or _l("Bid deadline (Beijing time)"),
        format=DATETIME_FORMATS,
        tz=LOCAL_TZ,
        invalid_value_message=_l("Enter a date and a time, e.g. 2026-12-01 17:00."),
    )


class ExclusionForm(Form):
    """One agency the enterprise must not deal with (回避). A plain subform: the outer form carries CSRF."""

    agency_id = SelectField(_l("Agency"), coerce=int_or_none, validate_choice=False)
    reason = StringField(_l("Reason for exclusion"), validators=[Optional(), Length(max=200)])


class RequestForm(FlaskForm):
    title = StringField(_l("Project name"), validators=[Length(max=200)])
    project_code = StringField(_l("Project code"), validators=[Length(max=60)])
    service_item_id = SelectField(_l("Service item"), coerce=int_or_none, validate_choice=False)
    scope = TextAreaField(_l("Scope of the service"), validators=[Length(max=5000)])
    ceiling = StringField(_l("Ceiling price (yuan)"), validators=[Length(max=20)])
    floor = StringField(_l("Floor price (yuan, optional)"), validators=[Length(max=20)])
    # Starts at 请选择: the enterprise states the level (or "any valid qualification") on purpose.
    required_level = SelectField(
        _l("Required qualification level"),
        choices=[SelectChoice("", _l("— choose —")), SelectChoice(ANY_LEVEL, _l("Any valid qualification"))]
        + [SelectChoice(lv.value, lv.value) for lv in QualificationLevel],
        validate_choice=False,
    )
    # A GB/T 2260 code inside the market's area (the page draws cascading selects; the service checks it).
    region_code = StringField(_l("Project location"), validators=[Length(max=6)])
    required_days = StringField(_l("Required time limit (days)"), validators=[Length(max=3)])
    funding = SelectField(
        _l("Funding source"),
        choices=[
            SelectChoice("fiscal", _l("Fiscal funds")),
            SelectChoice("social", _l("Social (private) funds")),
        ],
        default="fiscal",
        validate_choice=False,
    )
    selection_method = SelectField(_l("Selection method"), validate_choice=False, default="lowest_price")
    w_price = StringField(_l("Price"), default=str(DEFAULT_WEIGHTS["price"]), validators=[Length(max=3)])
    w_rating = StringField(_l("Rating"), default=str(DEFAULT_WEIGHTS["rating"]), validators=[Length(max=3)])
    w_on_time = StringField(
        _l("On-time rate"), default=str(DEFAULT_WEIGHTS["on_time"]), validators=[Length(max=3)]
    )
    w_credit = StringField(
        _l("Credit score"), default=str(DEFAULT_WEIGHTS["credit"]), validators=[Length(max=3)]
    )
    shortlist_size = StringField(
        _l("Shortlist size"), default=str(DEFAULT_SHORTLIST), validators=[Length(max=2)]
    )
    bid_deadline = deadline_field()
    exclusions = FieldList(FormField(ExclusionForm), min_entries=3, max_entries=3)
    approval_document = FileField(_l("Project approval or filing document (PDF or JPG)"))
    # 邀请报价: drawn as a ticked box "邀请 X 报价" (untick to remove); absent when nobody is invited.
    invite_agency_id = StringField(validators=[Optional(), Length(max=12)])

    def validate(self, extra_validators=None) -> bool:
        """Fields the chosen method does not use are neither checked nor used (a page without JavaScript still
        shows them): what was typed there can never block the form."""
        method = self.selection_method.data
        for name, methods in METHOD_FIELDS.items():
            if method not in methods:
                self[name].validators = ()
        return super().validate(extra_validators)


class OpinionForm(FlaskForm):
    opinion = TextAreaField(_l("Review opinion"), validators=[Optional(), Length(max=2000)])


class BidForm(FlaskForm):
    price = StringField(_l("Your price (yuan)"), validators=[Length(max=20)])
    promised_days = StringField(_l("Promised days"), validators=[Length(max=3)])
    plan = TextAreaField(_l("Service plan"), validators=[Length(max=5000)])
    # Checked by the service (approved, own, enough of them); the page lists the agency's approved ones.
    practitioner_ids = SelectMultipleField(
        _l("Named practitioners"), coerce=int, validate_choice=False, validators=[Optional()]
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class RepublishForm(FlaskForm):
    bid_deadline = deadline_field(_l("New bid deadline (Beijing time)"))


class SelectForm(FlaskForm):
    bid_id = RadioField(_l("Selected bid"), coerce=int_or_none, validate_choice=False)
    reason = TextAreaField(_l("Reason for the direct pick"), validators=[Optional(), Length(max=500)])


class ObjectionForm(FlaskForm):
    ground = RadioField(
        _l("Ground"), choices=list(GROUND_LABELS.items()), validate_choice=False, validators=[Optional()]
    )
    facts = TextAreaField(_l("Statement of facts"), validators=[Optional(), Length(max=2000)])
    evidence = MultipleFileField(_l("Evidence (up to 3 PDF, JPG or PNG files, optional)"))


class ResolveForm(FlaskForm):
    outcome = TextAreaField(_l("Outcome"), validators=[Optional(), Length(max=2000)])


class ActionForm(FlaskForm):
    """A button that changes state: CSRF only."""


# --- from what people type to what the services take ---------------------------------------------------


def bid_form_for(bid: Bid | None) -> BidForm:
    form = BidForm(formdata=None)
    if bid is not None:
        form.price.data = str(fen_to_yuan(bid.price_fen))
        form.promised_days.data = str(bid.promised_days)
        form.plan.data = bid.plan
        form.practitioner_ids.data = [p.id for p in bid.practitioners]
    return form


def new_bid_form(offer: Offer | None, req: ServiceRequest) -> tuple[BidForm, bool]:
    """An empty bid form, pre-filled from the agency's own active store offer for the request's item when there
    is one (a range or discount offer: its lowest price) and it fits the request's price limits. Returns the
    form and whether it was pre-filled (the page then says so: 按本店报价预填)."""
    form = BidForm(formdata=None)
    price = offer.low_fen if offer is not None and offer.active else None
    if price is None or price > req.ceiling_fen or (req.floor_fen and price < req.floor_fen):
        return form, False
    form.price.data = str(fen_to_yuan(price))
    if offer.promised_days <= req.required_days:
        form.promised_days.data = str(offer.promised_days)
    return form, True


def bid_data(form: BidForm) -> dict:
    price = fen_from(form.price)
    return {
        "price_fen": price,
        "promised_days": whole_from(form.promised_days),
        "plan": form.plan.data,
        "practitioner_ids": list(form.practitioner_ids.data or []),
    }


BID_ALIASES = {"price_fen": "price"}


def default_deadline() -> datetime:
    """Seven days from now at 17:00 Beijing time: a sensible first value for the form."""
    local = (now() + timedelta(days=7)).astimezone(LOCAL_TZ)
    return local.replace(hour=17, minute=0, second=0, microsecond=0)


def fill_request_choices(form: RequestForm) -> None:
    items = []
    for category in catalogue.categories_with_items():
        for item in category.items:
            if item.is_guided:
                label = _(
                    "%(name)s · guide %(low)s–%(high)s · %(days)d days",
                    name=named(item),
                    low=format_fen(item.guide_min_fen),
                    high=format_fen(item.guide_max_fen),
                    days=item.standard_days,
                )
            else:
                label = _(
                    "%(name)s · market price · %(days)d days", name=named(item), days=item.standard_days
                )
            items.append(SelectChoice(str(item.id), label, optgroup=f"{category.code} {named(category)}"))
    form.service_item_id.choices = [SelectChoice("", _("— choose a service item —"))] + items
    form.selection_method.choices = [SelectChoice(m.value, str(METHOD_LABELS[m])) for m in SelectionMethod]
    active = db.session.scalars(
        select(Agency).where(Agency.status == AgencyStatus.ACTIVE).order_by(Agency.region_code, Agency.name)
    )
    agency_choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(str(a.id), f"{a.name}（{a.region or '—'}）") for a in active
    ]
    for entry in form.exclusions:
        entry.agency_id.choices = agency_choices


REQUEST_ALIASES = {"ceiling_fen": "ceiling", "floor_fen": "floor", "weights": "w_price"}


def request_data(form: RequestForm) -> dict:
    method = form.selection_method.data
    data = {
        "title": form.title.data,
        "project_code": form.project_code.data,
        "service_item_id": form.service_item_id.data,
        "scope": form.scope.data,
        "ceiling_fen": fen_from(form.ceiling),
        "floor_fen": fen_from(form.floor, required=False),
        "required_level": None if form.required_level.data == ANY_LEVEL else form.required_level.data,
        "region_code": (form.region_code.data or "").strip(),
        "required_days": whole_from(form.required_days),
        "funding": form.funding.data,
        "selection_method": method,
        "bid_deadline": form.bid_deadline.data,
        "exclusions": [],
    }
    if method == SelectionMethod.COMPOSITE:
        data["weights"] = {k: whole_from(getattr(form, f"w_{k}")) for k in DEFAULT_WEIGHTS}
    if method == SelectionMethod.CREDIT_SHORTLIST:
        data["shortlist_size"] = whole_from(form.shortlist_size)
    if not form.required_level.data:
        form.required_level.errors = [
            *form.required_level.errors,
            _("Choose the level bidders must hold, or “Any valid qualification”."),
        ]
    # the service numbers exclusions by their position in the list; remember which form row each one came from
    form.exclusion_rows = []
    for row, entry in enumerate(form.exclusions):
        agency_id, reason = entry.agency_id.data, (entry.reason.data or "").strip()
        if agency_id is not None and any(x["agency_id"] == agency_id for x in data["exclusions"]):
            entry.agency_id.errors = [*entry.agency_id.errors, _("This agency is already excluded above.")]
        elif agency_id is not None:
            data["exclusions"].append({"agency_id": agency_id, "reason": reason})
            form.exclusion_rows.append(row)
        elif reason:
            entry.agency_id.errors = [*entry.agency_id.errors, _("Choose the agency to exclude.")]
    return data


def request_form_for(req: ServiceRequest) -> RequestForm:
    weights = req.weights or DEFAULT_WEIGHTS
    exclusions = [{"agency_id": x.agency_id, "reason": x.reason} for x in req.exclusions][:3]
    return RequestForm(
        formdata=None,
        data={
            "title": req.title,
            "project_code": req.project_code,
            "service_item_id": req.service_item_id,
            "scope": req.scope,
            "ceiling": str(fen_to_yuan(req.ceiling_fen)),
            "floor": str(fen_to_yuan(req.floor_fen)) if req.floor_fen else "",
            "required_level": req.required_level.value if req.required_level else ANY_LEVEL,
            "region_code": req.region_code or "",
            "required_days": str(req.required_days),
            "funding": req.funding.value,
            "selection_method": req.selection_method.value,
            "w_price": str(weights.get("price", 0)),
            "w_rating": str(weights.get("rating", 0)),
            "w_on_time": str(weights.get("on_time", 0)),
            "w_credit": str(weights.get("credit", 0)),
            "shortlist_size": str(req.shortlist_size or DEFAULT_SHORTLIST),
            "bid_deadline": req.bid_deadline,
            "exclusions": exclusions,
        },
    )
