"""Forms for requests, sealed bids, selection and objections, the vocabularies they offer, and the conversion of
what people type (yuan, Beijing time) into what the services take (fen, aware datetimes)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from marketplace.agencies.models import Agency, AgencyStatus, QualificationLevel
from marketplace.bidding.models import Bid, BidStatus
from marketplace.catalogue import services as catalogue
from marketplace.common.clock import now
from marketplace.common.money import fen_to_yuan, format_fen, yuan_to_fen
from marketplace.common.regions import REGIONS
from marketplace.extensions import db
from marketplace.requests.draw import COEFFICIENTS, DEFAULT_SHORTLIST, DEFAULT_WEIGHTS
from marketplace.requests.models import (
    Funding,
    ObjectionGround,
    ObjectionStatus,
    RequestStatus,
    SelectionMethod,
    ServiceRequest,
)
from marketplace.requests.validation import MAX_FEN

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_ID = 2**31 - 1  # larger numbers cannot be row ids (and overflow SQLite's integers)
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


# --- vocabularies: the labels every page uses for statuses and methods ---------------------------------

STATUS_LABELS = {
    RequestStatus.DRAFT: _l("Draft"),
    RequestStatus.BIDDING: _l("Taking bids"),
    RequestStatus.EVALUATING: _l("Bids opened"),
    RequestStatus.PUBLICITY: _l("Result under publicity"),
    RequestStatus.AWARDED: _l("Awarded"),
    RequestStatus.FAILED: _l("Failed (no award)"),
    RequestStatus.CANCELLED: _l("Cancelled"),
}
METHOD_LABELS = {
    SelectionMethod.DIRECT: _l("Direct selection"),
    SelectionMethod.LOWEST_PRICE: _l("Lowest-price bidding"),
    SelectionMethod.RANDOM: _l("Random draw"),
    SelectionMethod.COMPOSITE: _l("Composite evaluation"),
    SelectionMethod.AVERAGE_PRICE: _l("Average-price method"),
    SelectionMethod.CREDIT_SHORTLIST: _l("Credit-first shortlist"),
}
METHOD_HELP = {
    SelectionMethod.DIRECT: _l(
        "After the deadline the enterprise picks one of the valid bids itself and records why; "
        "the reason is published with the result."
    ),
    SelectionMethod.LOWEST_PRICE: _l(
        "The lowest valid price wins. Equal prices are separated by the verifiable draw."
    ),
    SelectionMethod.RANDOM: _l(
        "The winner is drawn at random among the valid bids. The draw is verifiable: the SHA-256 of a secret "
        "seed is published with the announcement and the seed is revealed at the draw."
    ),
    SelectionMethod.COMPOSITE: _l(
        "Every bid is scored on price, rating, on-time rate and credit with weights published in advance; "
        "the highest score wins."
    ),
    SelectionMethod.AVERAGE_PRICE: _l(
        "The highest and the lowest bid are dropped and the rest averaged; the average times a coefficient "
        "drawn verifiably from %(low)d%% to %(high)d%% is the reference price, and the bid closest to it wins.",
        low=COEFFICIENTS[0],
        high=COEFFICIENTS[-1],
    ),
    SelectionMethod.CREDIT_SHORTLIST: _l(
        "The bidders with the best credit scores form a shortlist; a verifiable draw picks the winner from it."
    ),
}
FUNDING_LABELS = {Funding.FISCAL: _l("Fiscal funds"), Funding.SOCIAL: _l("Social (private) funds")}
BID_LABELS = {
    BidStatus.ACTIVE: _l("Valid"),
    BidStatus.WITHDRAWN: _l("Withdrawn"),
    BidStatus.INVALID: _l("Invalid"),
}
OBJECTION_LABELS = {
    ObjectionStatus.OPEN: _l("Being handled"),
    ObjectionStatus.UPHELD: _l("Upheld"),
    ObjectionStatus.DISMISSED: _l("Dismissed"),
}
GROUND_LABELS = {
    ObjectionGround.RULES: _l("The result does not follow the selection rules"),
    ObjectionGround.QUALIFICATION: _l("The selected agency does not meet the qualification conditions"),
    ObjectionGround.CALCULATION: _l("A price or a score was calculated wrongly"),
    ObjectionGround.PROCEDURE: _l("The selection procedure broke the rules"),
    ObjectionGround.OTHER: _l("Other ground"),
}
REVISION_LABELS = {
    "submit": _l("First submission"),
    "revise": _l("Revision"),
    "withdraw": _l("Withdrawal"),
    "resubmit": _l("Resubmission"),
}
WEIGHT_LABELS = {
    "price": _l("Price"),
    "rating": _l("Rating"),
    "on_time": _l("On-time rate"),
    "credit": _l("Credit score"),
}


def page_number(value) -> int:
    """The ?page= of a list, kept to a range the database can take."""
    number = int_or_none(value)
    return min(number, 10_000) if number else 1


def int_or_none(value):
    """Select values: a whole number, or None for the blank choice (the services explain what is missing)."""
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def deadline_field(label=None):
    return DateTimeLocalField(
        label or _l("Bid deadline (Beijing time)"),
        format=DATETIME_FORMATS,
        tz=SHANGHAI,
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
    required_level = SelectField(
        _l("Required qualification level"),
        choices=[SelectChoice("", _l("Any valid qualification"))]
        + [SelectChoice(lv.value, lv.value) for lv in QualificationLevel],
        validate_choice=False,
    )
    region = SelectField(
        _l("Project region"),
        choices=[SelectChoice("", _l("— choose —"))] + [SelectChoice(r, r) for r in REGIONS],
        validate_choice=False,
    )
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


class BidForm(FlaskForm):
    price = StringField(_l("Your price (yuan)"), validators=[Length(max=20)])
    promised_days = StringField(_l("Promised days"), validators=[Length(max=3)])
    plan = TextAreaField(_l("Service plan"), validators=[Length(max=5000)])


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


def fen_from(field, required: bool = True) -> int | None:
    """Yuan typed by a person → fen; a clear error on the field when it is not an amount."""
    raw = (field.data or "").strip()
    if not raw:
        if required:
            field.errors = [*field.errors, _("Enter an amount in yuan.")]
        return None
    try:
        fen = yuan_to_fen(raw)
    except ValueError:
        field.errors = [*field.errors, _("Enter an amount in yuan, e.g. 12000 or 12000.50.")]
        return None
    if not 1 <= fen <= MAX_FEN:
        field.errors = [*field.errors, _("Enter an amount from ¥0.01 to ¥100,000,000.00.")]
        return None
    return fen


def whole_from(field) -> int | str | None:
    raw = (field.data or "").strip()
    return int(raw) if raw.isdigit() else (raw or None)


def has_errors(form) -> bool:
    """Whether any field, nested ones included, carries an error (FieldList caches its errors at validation)."""
    for field in form:
        if isinstance(field, FieldList):
            if any(has_errors(entry.form) for entry in field.entries):
                return True
        elif isinstance(field, FormField):
            if has_errors(field.form):
                return True
        elif field.errors:
            return True
    return False


def _target(form, key: str, aliases: dict[str, str]):
    """The form field a service error key (“ceiling_fen”, “exclusions.0.reason”) belongs to."""
    parts = aliases.get(key, key).split(".")
    target = form
    try:
        for part in parts:
            target = target[int(part)] if part.isdigit() else getattr(target, part)
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
    return target if hasattr(target, "errors") else None


def copy_errors(errors: dict, form, aliases: dict[str, str]) -> list[str]:
    """Put service errors beside their fields (unless the field already says what is wrong); return the rest."""
    unplaced = []
    for key, messages in (errors or {}).items():
        messages = [str(m) for m in (messages if isinstance(messages, list) else [messages])]
        target = _target(form, key, aliases)
        if target is None:
            unplaced.extend(messages)
        elif not target.errors:
            target.errors = list(messages)
    return unplaced


def bid_form_for(bid: Bid | None) -> BidForm:
    form = BidForm(formdata=None)
    if bid is not None:
        form.price.data = str(fen_to_yuan(bid.price_fen))
        form.promised_days.data = str(bid.promised_days)
        form.plan.data = bid.plan
    return form


def bid_data(form: BidForm) -> dict:
    price = fen_from(form.price)
    return {"price_fen": price, "promised_days": whole_from(form.promised_days), "plan": form.plan.data}


BID_ALIASES = {"price_fen": "price"}


def default_deadline() -> datetime:
    """Seven days from now at 17:00 Beijing time: a sensible first value for the form."""
    local = (now() + timedelta(days=7)).astimezone(SHANGHAI)
    return local.replace(hour=17, minute=0, second=0, microsecond=0)


def fill_request_choices(form: RequestForm) -> None:
    items = []
    for category in catalogue.categories_with_items():
        for item in category.items:
            if item.is_guided:
                label = _(
                    "%(name)s · guide %(low)s–%(high)s · %(days)d days",
                    name=item.name,
                    low=format_fen(item.guide_min_fen),
                    high=format_fen(item.guide_max_fen),
                    days=item.standard_days,
                )
            else:
                label = _("%(name)s · market price · %(days)d days", name=item.name, days=item.standard_days)
            items.append(SelectChoice(str(item.id), label, optgroup=f"{category.code} {category.name}"))
    form.service_item_id.choices = [SelectChoice("", _("— choose a service item —"))] + items
    form.selection_method.choices = [SelectChoice(m.value, str(METHOD_LABELS[m])) for m in SelectionMethod]
    active = db.session.scalars(
        select(Agency).where(Agency.status == AgencyStatus.ACTIVE).order_by(Agency.region, Agency.name)
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
        "required_level": form.required_level.data or None,
        "region": form.region.data,
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
            "required_level": req.required_level.value if req.required_level else "",
            "region": req.region,
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
