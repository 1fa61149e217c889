"""The app as `make serve` runs it (production settings from the environment), for the load test on loopback:
every simulated user comes from 127.0.0.1 over plain HTTP, so the per-address rate limits (10 log-ins a minute)
are off and the session cookie is not marked Secure (in production TLS ends at the proxy in front)."""

from marketplace.app import create_app
from marketplace.extensions import talisman

app = create_app(
    {"RATELIMIT_ENABLED": False, "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}
)
talisman.session_cookie_secure = False  # Talisman would set SESSION_COOKIE_SECURE again on each request
