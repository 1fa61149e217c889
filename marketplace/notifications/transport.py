"""The wire: mail through SMTP (flask-mailman, from the MAIL_* settings read at each sending) and SMS through a
pluggable sender (SMS_SENDER: "log" ships; "package.module:callable" plugs a gateway in).

A sender raises on failure; the outbox records the error and tries again later.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from flask import current_app
from flask_mailman import EmailMessage, Mail
from flask_mailman.backends.smtp import EmailBackend

log = logging.getLogger("marketplace.sms")
mail = Mail()  # registered on the app with the notifications pages (views.py)


def send_mail(recipient: str, subject: str, body: str) -> None:
    """One mail over a fresh SMTP connection (the clock sends few; a connection is not worth keeping)."""
    config = current_app.config
    if "mailman" not in current_app.extensions:  # an app built without the notifications pages
        mail.init_app(current_app)
    state = Mail.init_mail(config)  # the settings as they are now, without registering an extension
    backend = EmailBackend(
        mailman=state,
        host=config["MAIL_SERVER"],
        port=config["MAIL_PORT"],
        username=config.get("MAIL_USERNAME") or "",
        password=config.get("MAIL_PASSWORD") or "",
        use_tls=bool(config.get("MAIL_USE_TLS")),
        use_ssl=False,
        timeout=config.get("MAIL_TIMEOUT") or 10,
    )
    message = EmailMessage(
        subject=subject, body=body, from_email=config["MAIL_FROM"], to=[recipient], connection=backend
    )
    if message.send() != 1:
        raise RuntimeError("the SMTP server did not take the message")


def log_sms(phone: str, text: str) -> None:
    """The shipped SMS sender: writes the message to the log (a real gateway plugs in through SMS_SENDER)."""
    log.info("SMS to %s: %s", phone, text)


def sms_sender() -> Callable[[str, str], None]:
    name = current_app.config.get("SMS_SENDER") or ""
    if name == "log":
        return log_sms
    module, _, attr = name.partition(":")
    if not module or not attr:
        raise RuntimeError(f"SMS_SENDER must be 'log' or 'package.module:callable', got {name!r}")
    return getattr(importlib.import_module(module), attr)


def send(channel: str, recipient: str, subject: str, body: str) -> None:
    if channel == "mail":
        send_mail(recipient, subject, body)
    elif channel == "sms":
        sms_sender()(recipient, body)
    else:
        raise RuntimeError(f"unknown channel {channel!r}")
