"""Domain errors raised by services; views turn them into flashes, the API into JSON errors."""

from __future__ import annotations

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l

REFUSED_FLAG = "_uow_refused"  # on flask.g: the request's unit of work must roll back (common/uow.py)


class DomainError(Exception):
    """A rule of the market said no. `status` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message, errors: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.errors = errors or {}
        _mark_refused()


def _mark_refused() -> None:
    """A refusal dooms the request's unit of work: whatever the service changed before saying no is rolled
    back at the boundary, even where a view catches the error to show it beside a form (common/uow.py)."""
    if has_request_context():
        setattr(g, REFUSED_FLAG, True)


class Invalid(DomainError):
    """Bad input: nothing was changed."""

    status = 422


class NotAllowed(DomainError):
    status = 403


class NotFound(DomainError):
    """Also used for things the caller may not know exist."""

    status = 404


class WrongState(DomainError):
    """The object is not in a state where this action is possible."""

    status = 409


class NotLoggedIn(DomainError):
    status = 401


class TooManyAttempts(DomainError):
    """Refused for a while (a back-off); `retry_after` is in whole seconds and goes out as Retry-After."""

    status = 429

    def __init__(self, message, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
        self.headers = {"Retry-After": str(self.retry_after)}


class UpstreamFailed(DomainError):
    """A service we depend on (e.g. Stripe) failed or could not be reached: nothing was changed."""

    status = 502


class StorageFull(DomainError):
    """The upload storage is full (or over its quota): the file was not kept and nothing was changed."""

    status = 507


class BeingPrepared(DomainError):
    """What was asked for is made in the background and is not ready yet (503 with Retry-After): nothing wrong,
    ask again later."""

    status = 503

    def __init__(self, message, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
        self.headers = {"Retry-After": str(self.retry_after)}


def invalid_fields(errors: dict[str, list]) -> Invalid:
    """One field wrong: its own message says it best; several: a general one."""
    if len(errors) == 1:
        (messages,) = errors.values()
        return Invalid(messages[0], errors)
    return Invalid(_l("Please correct the marked fields."), errors)
