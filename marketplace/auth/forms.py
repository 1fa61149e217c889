from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class RegisterForm(FlaskForm):
    role = RadioField(
        _l("I register as"),
        choices=[("enterprise", _l("Enterprise (project owner)")), ("agency", _l("Intermediary agency"))],
        default="enterprise",
        validators=[DataRequired()],
    )
    org_name = StringField(_l("Organisation name"), validators=[DataRequired(), Length(2, 100)])
    uscc = StringField(
        _l("Unified social credit code"),
        validators=[DataRequired(), Length(18, 18, message=_l("Exactly 18 characters."))],
        description=_l("18 characters, as printed on the business licence."),
    )
    contact_name = StringField(_l("Contact person"), validators=[Length(max=50)])
    phone = StringField(_l("Phone"), validators=[Length(max=30)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=8, max=128)],
        description=_l("At least 8 characters, with letters and digits."),
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=8, max=128)],
        description=_l("At least 8 characters, with letters and digits."),
    )
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )
