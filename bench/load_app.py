"""The app as `make serve` runs it (production settings from the environment), for the load test on loopback:
every simulated user comes from 127.0.0.1 over plain HTTP, so the per-address rate limits (10 log-ins a minute)
are off and the session cookie is not marked Secure (in production TLS ends at the proxy in front).

LOAD_SLOWDOWN=F (`bench.load --slowdown F`): each request, once answered, keeps its thread busy for F times the CPU
it used before its answer is handed back: this machine's slow hours (a /healthz costing 4.5 ms of CPU instead of
2, every page 2.5× its usual CPU: F = 1.5) reproduced at will, to compare settings within minutes of each other."""

import os
import time

from marketplace.app import create_app
from marketplace.extensions import talisman

app = create_app(
    {"RATELIMIT_ENABLED": False, "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}
)
talisman.session_cookie_secure = False  # Talisman would set SESSION_COOKIE_SECURE again on each request

SLOWDOWN = float(os.environ.get("LOAD_SLOWDOWN") or 0)
if SLOWDOWN > 0:
    _answer = app.wsgi_app

    def _slower(environ, start_response):
        began = time.thread_time()
        body = list(_answer(environ, start_response))
        until = time.thread_time() + (time.thread_time() - began) * SLOWDOWN
        while time.thread_time() < until:  # Python work holding the GIL, as slower Python would
            pass
        return body

    app.wsgi_app = _slower
