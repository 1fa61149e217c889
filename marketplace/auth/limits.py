"""Rate limits of the auth endpoints that the HTML forms and the JSON API share."""

from __future__ import annotations

import hashlib

from flask import request

from marketplace.auth.services import normalise_email
from marketplace.common.errors import Invalid
from marketplace.extensions import limiter


def _registration_email() -> str | None:
    """The e-mail a registration request asks for, from the form or the JSON body."""
    data = request.get_json(silent=True) if request.is_json else request.form
    email = data.get("email") if hasattr(data, "get") else None
    return email if isinstance(email, str) and email.strip() else None


def registration_email_key() -> str:
    """The normalised e-mail (hashed: no addresses in the limiter's storage)."""
    email = _registration_email() or ""
    try:
        email = normalise_email(email)
    except Invalid:
        email = email.strip().lower()
    return "register-email:" + hashlib.sha256(email.encode()).hexdigest()


# Registration says when an e-mail is already taken, so it is limited for the form and the API together: per
# client address (many e-mails tried from one place) and per e-mail address (one tried from many places).
register_per_ip = limiter.shared_limit("20 per hour", scope="register-ip", methods=["POST"])
register_per_email = limiter.shared_limit(
    "5 per hour",
    scope="register-email",
    key_func=registration_email_key,
    methods=["POST"],
    exempt_when=lambda: _registration_email() is None,
)
