"""Authorize before validating: staff-only areas turn strangers away before any input is parsed.

Per-object rules stay in the services (which role, which area, which trade); this gate only makes sure that a
caller who is not staff at all learns nothing more than 401/403 — not which fields its input got wrong.
"""

from __future__ import annotations

from flask import Flask, request

from marketplace.auth import policy
from marketplace.auth.current import api_actor, web_actor
from marketplace.auth.services import require_staff
from marketplace.extensions import login_manager

ADMIN_API_PREFIX = "/api/v1/admin/"
ADMIN_PAGES_PREFIX = "/admin/"


def register(app: Flask) -> None:
    def can(requirement: str, obj=None) -> bool:
        """Templates ask the policy module: `{% if can("ManagesRequest", req) %}`."""
        return policy.TEMPLATE_REQUIREMENTS[requirement](web_actor(), obj)

    app.jinja_env.globals["can"] = can

    @app.before_request
    def staff_only_areas():
        if request.path.startswith(ADMIN_API_PREFIX):
            require_staff(api_actor())
        elif request.path.startswith(ADMIN_PAGES_PREFIX):
            actor = web_actor()
            if actor is None:
                return login_manager.unauthorized()  # Flask-Login's own prompt and `next`
            require_staff(actor)
        return None
