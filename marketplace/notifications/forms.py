"""Forms: every notification button is a POST with the CSRF token."""

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button: mark read, mark all read, follow a request. Only the CSRF token."""


class PreferencesForm(FlaskForm):
    """The delivery choices; the checkboxes (mail_<kind>, sms_<kind>) are read from the posted form."""
