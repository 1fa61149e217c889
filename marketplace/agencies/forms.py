from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.agencies.models import QualificationLevel
from marketplace.common.regions import REGIONS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def region_choices(blank=True):
    choices = [(r, r) for r in REGIONS]
    return ([("", _l("— choose —"))] if blank else []) + choices


class ProfileForm(FlaskForm):
    legal_rep = StringField(_l("Legal representative"), validators=[DataRequired(), Length(max=50)])
    region = SelectField(_l("Region"), choices=region_choices(), validators=[DataRequired()])
    address = StringField(_l("Office address"), validators=[Optional(), Length(max=200)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=50)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=30)])
    intro = TextAreaField(_l("Introduction"), validators=[Optional(), Length(max=2000)])
    category_ids = MultiCheckboxField(_l("Service categories"), coerce=int)


class QualificationForm(FlaskForm):
    name = StringField(_l("Qualification name"), validators=[DataRequired(), Length(max=100)])
    level = SelectField(_l("Level"), choices=[(lv.value, lv.value) for lv in QualificationLevel])
    number = StringField(_l("Certificate number"), validators=[DataRequired(), Length(max=60)])
    issuer = StringField(_l("Issued by"), validators=[DataRequired(), Length(max=100)])
    valid_until = DateField(_l("Valid until"), validators=[DataRequired()])
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
    service_regions = StringField(_l("Regions served"), validators=[Optional(), Length(max=200)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])


class ActionForm(FlaskForm):
    """A button that changes state: CSRF only."""


class BankForm(FlaskForm):
    """收款账户: where owners pay by bank transfer (shown to them on the transfer form, nowhere public)."""

    bank_name = StringField(_l("Bank and branch (开户行)"), validators=[Optional(), Length(max=100)])
    account_name = StringField(_l("Account name (户名)"), validators=[Optional(), Length(max=100)])
    account_no = StringField(_l("Account number (账号)"), validators=[Optional(), Length(max=40)])
