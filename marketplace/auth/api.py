"""/api/v1/auth and /api/v1/me."""

from flask_smorest import Blueprint

from marketplace.auth import services
from marketplace.auth.schemas import MeOut, RegisterIn, TokenIn, TokenOut, me_payload
from marketplace.common.web import api_actor
from marketplace.extensions import limiter

bp = Blueprint("auth-api", __name__, url_prefix="/api/v1", description="Accounts and tokens")


def blueprints():
    return [bp]


@bp.post("/auth/register")
@limiter.limit("20 per hour")
@bp.arguments(RegisterIn)
@bp.response(201, MeOut)
def register(data):
    """Register an enterprise or agency account (the credit code is validated)."""
    return me_payload(services.register(**data))


@bp.post("/auth/token")
@limiter.limit("10 per minute")
@bp.arguments(TokenIn)
@bp.response(200, TokenOut)
def token(data):
    """Exchange email and password for a bearer token."""
    user = services.authenticate(data["email"], data["password"])
    token, expires_at = services.issue_token(user)
    return {"token": token, "expires_at": expires_at}


@bp.get("/me")
@bp.response(200, MeOut)
@bp.doc(security=[{"bearerAuth": []}])
def me():
    """The caller's account."""
    return me_payload(services.require_user(api_actor()))
