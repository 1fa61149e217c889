"""Forms for the order's life: confirm or decline, report progress, deliver, accept or dispute."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import MultipleFileField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from marketplace.common.forms import DayField


class ActionForm(FlaskForm):
    """A button that changes state: CSRF only."""


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class ProgressForm(FlaskForm):
    text = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=2000)])
    percent = StringField(_l("Progress in percent (0–100)"), validators=[Optional(), Length(max=3)])


class DeliverForm(FlaskForm):
    text = TextAreaField(_l("Delivery note"), validators=[Optional(), Length(max=2000)])
    files = MultipleFileField(_l("Files (PDF, JPG, PNG, DWG, DOCX, XLSX or ZIP, optional)"))


class AmendForm(FlaskForm):
    amount = StringField(_l("New contract amount (yuan)"), validators=[Optional(), Length(max=20)])
    reason = TextAreaField(
        _l("Reason and the supplementary agreement's reference"), validators=[Optional(), Length(max=500)]
    )


class ContractForm(FlaskForm):
    """The signed contract: its number, amount, term and the PDF both parties signed."""

    code = StringField(_l("Contract number"), validators=[Optional(), Length(max=60)])
    amount = StringField(_l("Contract amount (yuan)"), validators=[Optional(), Length(max=20)])
    start_date = DayField(_l("Start date"), validators=[Optional()])
    end_date = DayField(_l("End date"), validators=[Optional()])
    file = FileField(_l("Signed contract (PDF)"))


class ExtensionForm(FlaskForm):
    due_date = DayField(_l("New due date"), validators=[Optional()])
    reason = TextAreaField(_l("Why more time is needed"), validators=[Optional(), Length(max=500)])
