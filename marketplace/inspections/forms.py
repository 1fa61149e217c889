"""Forms of the inspection desk. The services check every value; the forms only carry what people typed."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from marketplace.common.forms import int_or_none


class InspectorForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=50)])
    department = StringField(_l("Department"), validators=[Length(max=100)])
    certificate_no = StringField(_l("Law-enforcement certificate no."), validators=[Length(max=40)])
    region_code = StringField(_l("Working area"), validators=[Length(max=6)])


class TaskForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Length(max=200)])
    category_id = SelectField(_l("Service category"), coerce=int_or_none, validate_choice=False)
    region_code = StringField(_l("Region (optional)"), validators=[Length(max=6)])
    how_many = RadioField(
        _l("How many agencies"),
        choices=[
            SelectChoice("count", _l("A number of agencies")),
            SelectChoice("share", _l("A share of them")),
        ],
        default="count",
        validate_choice=False,
    )
    agency_count = StringField(_l("Number of agencies"), default="3", validators=[Length(max=4)])
    share_pct = StringField(_l("Share (%)"), validators=[Length(max=3)])
    inspectors_per_agency = StringField(_l("Inspectors per agency"), default="2", validators=[Length(max=2)])
    checklist = TextAreaField(_l("Checklist (one item per line)"), validators=[Length(max=8000)])

    def data_for_service(self) -> dict:
        def whole(field):
            raw = (field.data or "").strip()
            return int(raw) if raw.isdigit() else (raw or None)

        share = self.how_many.data == "share"
        return {
            "title": self.title.data,
            "category_id": self.category_id.data,
            "region_code": (self.region_code.data or "").strip() or None,
            "agency_count": None if share else whole(self.agency_count),
            "share_pct": whole(self.share_pct) if share else None,
            "inspectors_per_agency": whole(self.inspectors_per_agency),
            "checklist": self.checklist.data or None,
        }


class ActionForm(FlaskForm):
    """A button that changes state (draw, close, take an inspector off the draw): the CSRF token only."""


class EvidenceForm(FlaskForm):
    file = FileField(_l("Evidence file (PDF, JPG or PNG)"))
