from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

STARS = [(n, str(n)) for n in (5, 4, 3, 2, 1)]


def _stars(label):
    return RadioField(label, choices=STARS, coerce=int, validators=[DataRequired(_l("A score from 1 to 5."))])


class RatingForm(FlaskForm):
    overall = _stars(_l("Overall"))
    quality = _stars(_l("Quality"))
    timeliness = _stars(_l("Timeliness"))
    attitude = _stars(_l("Attitude"))
    fee = _stars(_l("Fees"))
    compliance = _stars(_l("Compliance"))
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=1000)])


class DepartmentRatingForm(FlaskForm):
    quality = _stars(_l("Quality"))
    timeliness = _stars(_l("Timeliness"))
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=1000)])


class TextForm(FlaskForm):
    text = TextAreaField(_l("Text"), validators=[Optional(), Length(max=1000)])
