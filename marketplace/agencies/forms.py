from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.agencies.models import QualificationLevel
from marketplace.catalogue.models import level_name
from marketplace.common.forms import DayField
from marketplace.common.l10n import is_english, named


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CodesField(StringField):
    """Region codes as text separated by spaces (the page turns it into a multi-pick); shows a list joined."""

    def _value(self):
        return " ".join(self.data) if isinstance(self.data, list | tuple) else (self.data or "")


class ProfileForm(FlaskForm):
    legal_rep = StringField(_l("Legal representative"), validators=[DataRequired(), Length(max=50)])
    # Where the agency is registered: a GB/T 2260 code anywhere in China (cascading selects on the page).
    region_code = StringField(_l("Registered region"), validators=[Length(max=6)])
    service_area_codes = CodesField(_l("Service areas"), validators=[Length(max=400)])
    address = StringField(_l("Office address"), validators=[Optional(), Length(max=200)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=50)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=30)])
    intro = TextAreaField(_l("Introduction"), validators=[Optional(), Length(max=2000)])
    category_ids = MultiCheckboxField(_l("Service categories"), coerce=int)


class QualificationForm(FlaskForm):
    # choices grouped by trade: {trade: [(id, label)]}, set by the view from the register
    kind_id = SelectField(_l("Qualification kind"), coerce=int, validators=[Optional()])
    name = StringField(_l("Certificate name"), validators=[Optional(), Length(max=100)])
    level = SelectField(_l("Level"), choices=[(lv.value, lv.value) for lv in QualificationLevel])
    number = StringField(_l("Certificate number"), validators=[DataRequired(), Length(max=60)])
    issuer = StringField(_l("Issued by"), validators=[DataRequired(), Length(max=100)])
    valid_until = DayField(_l("Valid until"), validators=[InputRequired()])
    category_id = SelectField(_l("Covers category"), coerce=int, validators=[Optional()])
    file = FileField(
        _l("Scanned certificate (PDF, JPG or PNG)"),
        validators=[FileRequired(_l("Upload the scanned certificate."))],
    )


class FileForm(FlaskForm):
    file = FileField(_l("New scan"), validators=[FileRequired(_l("Choose a file."))])


class OfferForm(FlaskForm):
    service_item_id = SelectField(_l("Service item"), coerce=int, validators=[DataRequired()])
    price_mode = RadioField(
        _l("Pricing"),
        choices=[
            ("fixed", _l("Fixed price")),
            ("range", _l("Price range")),
            ("discount", _l("Discount on the guide price")),
        ],
        default="fixed",
    )
    price = StringField(_l("Price (yuan)"), validators=[Optional(), Length(max=20)])
    price_min = StringField(_l("From (yuan)"), validators=[Optional(), Length(max=20)])
    price_max = StringField(_l("To (yuan)"), validators=[Optional(), Length(max=20)])
    discount_pct = StringField(_l("Percent of the guide price"), validators=[Optional(), Length(max=3)])
    promised_days = StringField(_l("Promised days"), validators=[DataRequired(), Length(max=3)])
    description = TextAreaField(_l("What the service includes"), validators=[Optional(), Length(max=2000)])

    def validate(self, extra_validators=None) -> bool:
        """Only the chosen pricing mode's fields are checked (and used): what a page without JavaScript shows
        in the others can never block the form."""
        for name, mode in PRICE_MODE_FIELDS.items():
            if self.price_mode.data != mode:
                self[name].validators = ()
        return super().validate(extra_validators)


# The offer form's price fields and the pricing mode each belongs to.
PRICE_MODE_FIELDS = {"price": "fixed", "price_min": "range", "price_max": "range", "discount_pct": "discount"}


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])


class ActionForm(FlaskForm):
    """A button that changes state: CSRF only."""


class PractitionerForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=50)])
    id_number = StringField(_l("ID number"), validators=[DataRequired(), Length(max=18)])
    registration = StringField(_l("Registration"), validators=[Optional(), Length(max=50)])
    certificate_no = StringField(
        _l("Registration certificate number"), validators=[DataRequired(), Length(max=60)]
    )
    years = IntegerField(_l("Years in practice"), default=0, validators=[Optional(), NumberRange(0, 60)])
    is_lead = BooleanField(_l("Project lead (项目负责人)"))
    file = FileField(
        _l("Certificate scan (PDF, JPG or PNG)"),
        validators=[FileRequired(_l("Upload the registration certificate scan."))],
    )


class AuthorisedForm(FlaskForm):
    name = StringField(_l("Authorised person"), validators=[DataRequired(), Length(max=50)])
    id_number = StringField(_l("ID number"), validators=[DataRequired(), Length(max=18)])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=30)])


class LegalRepForm(FlaskForm):
    legal_rep = StringField(_l("New legal representative"), validators=[DataRequired(), Length(max=50)])


def kind_choices(groups, other_label) -> dict:
    """The register as a grouped select: each kind shows the grades it is issued in."""
    choices: dict = {}
    open_, close = (" (", ")") if is_english() else ("（", "）")
    for trade, kinds in groups:
        label = trade or _l("Across trades")
        choices[str(label)] = [
            (k.id, f"{named(k)}{open_}{'/'.join(level_name(v) for v in k.levels)}{close}") for k in kinds
        ]
    choices[str(_l("Other"))] = [(0, other_label)]
    return choices


class BankForm(FlaskForm):
    """收款账户: where owners pay by bank transfer (shown to them on the transfer form, nowhere public)."""

    bank_name = StringField(_l("Bank and branch (开户行)"), validators=[Optional(), Length(max=100)])
    account_name = StringField(_l("Account name (户名)"), validators=[Optional(), Length(max=100)])
    account_no = StringField(_l("Account number (账号)"), validators=[Optional(), Length(max=40)])
