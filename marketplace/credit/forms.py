"""Credit forms: the agency's appeal and repair request, the operator's decision, the supervisor's listing and
conduct record. The services check every rule; the forms only carry what people typed."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FileField,
    HiddenField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from marketplace.common.forms import DayField
from marketplace.credit import rules
from marketplace.credit.models import LIST_LABELS


class AppealForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the appeal"), validators=[Optional(), Length(max=2000)])
    evidence = MultipleFileField(_l("Evidence (up to 5 PDF, JPG or PNG files, optional)"))


class RepairForm(FlaskForm):
    target = HiddenField()
    statement = TextAreaField(_l("What you have corrected"), validators=[Optional(), Length(max=4000)])
    letter = FileField(_l("Signed commitment letter (承诺书, PDF)"))


class OpinionForm(FlaskForm):
    opinion = TextAreaField(_l("Opinion"), validators=[Optional(), Length(max=2000)])


class ListForm(FlaskForm):
    agency_id = StringField(_l("Agency no."), validators=[Optional(), Length(max=12)])
    list = SelectField(
        _l("List"), choices=[(k.value, v) for k, v in LIST_LABELS.items()], validate_choice=False
    )
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    basis = StringField(_l("Legal basis"), validators=[Optional(), Length(max=1000)])
    until = DayField(_l("Last day of the period"), validators=[Optional()])


class LiftForm(FlaskForm):
    why = StringField(_l("Why it is lifted early"), validators=[Optional(), Length(max=1000)])


class ConductForm(FlaskForm):
    agency_id = StringField(_l("Agency no."), validators=[Optional(), Length(max=12)])
    rule = SelectField(
        _l("Finding"), choices=[(c, rules.RULES[c].label) for c in rules.MANUAL_RULES], validate_choice=False
    )
    evidence = StringField(_l("Evidence (a path on this site, e.g. /requests/12)"), validators=[Optional()])
    note = TextAreaField(_l("What was found"), validators=[Optional(), Length(max=2000)])
