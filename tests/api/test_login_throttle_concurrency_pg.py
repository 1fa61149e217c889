"""Failed log-ins at the same moment (as from several workers) are all counted: no lost updates."""

from marketplace.auth import services, throttle
from marketplace.auth.models import LoginThrottle
from marketplace.common.errors import NotLoggedIn, TooManyAttempts
from marketplace.extensions import db
from tests.racing import needs_postgresql, race

pytestmark = needs_postgresql


def test_simultaneous_failures_for_one_address_are_all_counted(committed_app):
    for round_ in range(3):
        email = f"target{round_}@test.cn"  # no such account: the first failures create the count together

        def fail(email=email):
            return services.authenticate(email, "wrong-pass1")

        results = race(committed_app, *[fail] * 5)
        assert sorted(type(r).__name__ for r in results) == ["NotLoggedIn"] * 4 + ["TooManyAttempts"]
        assert all(isinstance(r, NotLoggedIn | TooManyAttempts) for r in results)
        with committed_app.app_context():
            row = db.session.get(LoginThrottle, throttle.login_key(email))
            assert row.failures == 5 and row.locked_until is not None
            db.session.remove()
