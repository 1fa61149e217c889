"""/api/v1/auth and /api/v1/me."""

from flask_smorest import Blueprint

from marketplace.auth import services
from marketplace.auth.current import api_actor, bearer_token
from marketplace.auth.limits import register_per_email, register_per_ip
from marketplace.auth.schemas import MeOut, RegisterIn, TokenIn, TokenOut, me_payload
from marketplace.extensions import limiter

bp = Blueprint("auth-api", __name__, url_prefix="/api/v1", description="Accounts and tokens")


def blueprints():
    return [bp]


@bp.post("/auth/register")
@register_per_ip
@register_per_email
@bp.arguments(RegisterIn)
@bp.response(201, MeOut)
def register(data):
    """Register an enterprise or agency account (the credit code is validated)."""
    return me_payload(services.register(**data))


@bp.post("/auth/token")
@limiter.limit("10 per minute")
@bp.arguments(TokenIn)
@bp.response(200, TokenOut)
@bp.alt_response(401, description="Wrong e-mail or password.")
@bp.alt_response(429, description="Too many failed log-ins for this e-mail address; see Retry-After.")
def token(data):
    """Exchange email and password for a bearer token.

    After 5 failed attempts for one e-mail address within 15 minutes, that address is refused for a while
    (429 with `Retry-After`; 1 minute, doubling with each further failure up to 30 minutes)."""
    user = services.authenticate(data["email"], data["password"])
    token, expires_at = services.issue_token(user)
    return {"token": token, "expires_at": expires_at}


@bp.delete("/auth/token")
@bp.response(204)
@bp.alt_response(
    401, description="No live bearer token was presented (missing, unknown, expired or revoked)."
)
@bp.doc(security=[{"bearerAuth": []}])
def revoke_token():
    """Revoke the presented bearer token at once (log out of the API); later calls with it get 401."""
    services.revoke_token(bearer_token())


@bp.get("/me")
@bp.response(200, MeOut)
@bp.doc(security=[{"bearerAuth": []}])
def me():
    """The caller's account."""
    return me_payload(services.require_user(api_actor()))
