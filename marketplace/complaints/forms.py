"""Forms for filing a complaint or a report, answering one, and the supervisor's decisions. The services check
everything; these only carry what people typed (and CSRF)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, RadioField, StringField, TextAreaField
from wtforms.validators import Optional

from marketplace.complaints.models import CATEGORY_LABELS, ComplaintCategory
from marketplace.complaints.services import POINTS
from marketplace.complaints.targets import CATEGORIES


class ComplaintForm(FlaskForm):
    target_type = HiddenField()
    target_id = HiddenField()
    category = RadioField(
        _l("Complaint category"), choices=[], validate_choice=False, validators=[Optional()]
    )
    text = TextAreaField(
        _l("What happened"),
        validators=[Optional()],
        description=_l("The facts, with dates, names and amounts (20 to 3000 characters)."),
    )
    contact_name = StringField(_l("Contact person"), validators=[Optional()])
    contact_phone = StringField(_l("Telephone"), validators=[Optional()])
    contact_email = StringField(_l("E-mail"), validators=[Optional()])
    evidence = MultipleFileField(_l("Evidence (up to 5 PDF, JPG or PNG files, optional)"))

    def for_target(self, target_type, own_agency: bool = False) -> None:
        """The categories that fit the target; a membership decision only for the agency about itself."""
        self.category.choices = [
            (c.value, CATEGORY_LABELS[c])
            for c in CATEGORIES[target_type]
            if (c == ComplaintCategory.ENTRY_DECISION) == own_agency or c == ComplaintCategory.OTHER
        ]


class ReportForm(ComplaintForm):
    pass


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("Your answer"),
        validators=[Optional()],
        description=_l("Given once: state your side with the facts (10 to 3000 characters)."),
    )
    evidence = MultipleFileField(_l("Evidence (up to 5 PDF, JPG or PNG files, optional)"))


class DecisionForm(FlaskForm):
    """Accept, refuse (reason), uphold (outcome, the consequences ticked, points) or dismiss (outcome)."""

    reason = TextAreaField(_l("Reason for not accepting"), validators=[Optional()])
    outcome = TextAreaField(_l("Outcome"), validators=[Optional()])
    points = RadioField(
        _l("Credit points deducted"),
        choices=[(str(p), f"−{p}") for p in POINTS],
        validate_choice=False,
        validators=[Optional()],
    )
