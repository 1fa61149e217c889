"""Who is asking: the user behind a request's bearer token (API) or session cookie (pages)."""

from __future__ import annotations

from flask import g, request
from flask_login import current_user


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def bearer_token() -> str:
    """The token of the request's `Authorization: Bearer …` header, or ''."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def api_actor():
    """The user behind the request's bearer token (the API never trusts the session cookie)."""
    if "api_actor" not in g:
        from marketplace.auth.services import user_for_token  # services import this module's callers

        g.api_actor = user_for_token(bearer_token())
    return g.api_actor


def web_actor():
    return current_user if current_user.is_authenticated else None


def actor():
    return api_actor() if is_api_request() else web_actor()
