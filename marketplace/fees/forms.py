"""The administrator's review of a fee flag: a note, and a button for confirm / dismiss / reopen."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional


class ReviewForm(FlaskForm):
    note = TextAreaField(_l("Note (why, and what was done)"), validators=[Optional(), Length(max=2000)])
