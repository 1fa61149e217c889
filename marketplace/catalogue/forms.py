"""A department's edit of one of its trade's service items (amounts in yuan; the service checks them together)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from marketplace.catalogue.models import FeeRegime

FEE_REGIME_LABELS = {FeeRegime.GUIDED: _l("Government guide price"), FeeRegime.MARKET: _l("Market price")}


class ItemForm(FlaskForm):
    legal_basis = TextAreaField(_l("Legal basis"), validators=[DataRequired(), Length(max=2000)])
    approval = StringField(_l("Serves approval"), validators=[Optional(), Length(max=200)])
    fee_regime = RadioField(
        _l("Fee regime"),
        choices=[(r.value, FEE_REGIME_LABELS[r]) for r in FeeRegime],
        validators=[DataRequired()],
    )
    guide_min = StringField(_l("Guide price from (yuan)"), validators=[Optional(), Length(max=20)])
    guide_max = StringField(_l("Guide price to (yuan)"), validators=[Optional(), Length(max=20)])
    fee_basis = StringField(_l("How fees are set"), validators=[Optional(), Length(max=200)])
    standard_days = StringField(_l("Standard time limit (days)"), validators=[DataRequired(), Length(max=5)])
    qualification = StringField(_l("Qualification required"), validators=[Optional(), Length(max=100)])
    model_contract = TextAreaField(
        _l("Model contract (合同示范文本)"), validators=[Optional(), Length(max=20000)]
    )
    note = TextAreaField(_l("What changed and why"), validators=[DataRequired(), Length(max=500)])
