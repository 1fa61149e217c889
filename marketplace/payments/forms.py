"""The order page's payment forms: a bank transfer with its voucher; online payment is one button."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import Length, Optional


class OfflinePaymentForm(FlaskForm):
    amount = StringField(_l("Amount (yuan)"), validators=[Optional(), Length(max=20)])
    reference = StringField(_l("Bank transfer reference"), validators=[Optional(), Length(max=100)])
    voucher = FileField(_l("Transfer voucher (PDF, JPG or PNG)"))
