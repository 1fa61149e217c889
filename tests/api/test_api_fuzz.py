"""Every operation of the published API document (/api/v1/openapi.json), called with data Schemathesis generates
from it, as each kind of caller: no 5xx, and every answer is one the document describes (status code, content
type, body schema). A bounded, derandomised run (the same cases every time) inside the test command; raise
API_FUZZ_EXAMPLES for a deeper one."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from marketplace.auth.models import Role
from tests import factories as f

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "2"))
CALLERS = {
    "anonymous": lambda: None,
    "enterprise": lambda: f.user("enterprise"),
    "agency": lambda: f.active_agency(),
    "supervisor": lambda: f.staff(Role.SUPERVISOR.value),
    "admin": lambda: f.admin(),
}


@pytest.fixture(scope="module", autouse=True)
def _search_index(module_transaction):
    """The search answers 503 until its index is built (never on a request; tests/market.py builds it): built
    here, so that the module does not depend on another module of the same worker having built it. Each test then
    runs in a savepoint of the module's transaction (tests/kept.py)."""
    from marketplace.search import backends

    backends.reindex()


@pytest.fixture(scope="module")
def strategies(app):
    """One Hypothesis strategy per operation of the document, made once for the five callers: neither the document
    nor the cases drawn depend on who calls (each call carries the caller's token), and loading the document and
    building (and validating) a strategy per operation cost seconds each time."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok().as_strategy() for result in schema.get_all_operations()]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@pytest.mark.parametrize("caller", list(CALLERS))
def test_every_operation_answers_as_documented(app, strategies, caller):
    user = CALLERS[caller]()
    headers = f.token(app.test_client(), user) if user else {}
    assert len(strategies) > 100  # the whole document, not an empty one
    failures: dict[str, str] = {}
    calls = 0

    for strategy in strategies:

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case):
            nonlocal calls
            calls += 1
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as error:  # a FailureGroup of the checks that failed
                for failure in getattr(error, "exceptions", [error]):
                    key = f"{case.operation.method.upper()} {case.operation.path} → {response.status_code}"
                    failures.setdefault(key, f"{_first_line(failure)}\n      {response.text[:300]}")

        call()

    assert calls >= len(strategies)
    assert not failures, f"{len(failures)} undocumented answers as {caller}:\n" + "\n".join(
        f"  {key}: {what}" for key, what in sorted(failures.items())
    )
