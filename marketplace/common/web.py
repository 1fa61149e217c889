"""Request-side helpers shared by views and API resources: how errors are answered, forms and pages."""

from __future__ import annotations

from flask import Flask, flash, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound as NotFoundError

from marketplace.common import database
from marketplace.common.errors import DomainError


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _plain_errors(errors) -> dict:
    """webargs nests errors by location ({"json": {...}}); the API contract wants {field: [msgs]}."""
    if isinstance(errors, list | tuple | str):
        return {"_schema": [str(m) for m in errors] if not isinstance(errors, str) else [errors]}
    locations = {"json", "query", "form", "files", "view_args", "headers"}
    if len(errors) == 1 and set(errors) <= locations and isinstance(next(iter(errors.values())), dict):
        return _plain_errors(next(iter(errors.values())))
    out: dict[str, list[str]] = {}
    for key, value in errors.items():
        if isinstance(value, dict):
            for sub, msgs in _plain_errors(value).items():
                out[f"{key}.{sub}"] = msgs
        else:
            out[str(key)] = [str(m) for m in value] if isinstance(value, list | tuple) else [str(value)]
    return out


def json_error(code: int, name: str, message: str, errors: dict | None = None, headers: dict | None = None):
    payload = {"code": code, "status": name, "message": message}
    if errors:
        payload["errors"] = _plain_errors(errors)
    response = jsonify(payload)
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


STATUS_NAMES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    502: "Bad Gateway",
    503: "Service Unavailable",
    507: "Insufficient Storage",
}
RETRY_AFTER_SECONDS = 2

FRIENDLY = {
    400: _l("The request could not be understood."),
    401: _l("Please log in first."),
    403: _l("You are not allowed to see this page."),
    404: _l("The page does not exist, or you may not see it."),
    405: _l("This action is not available here."),
    409: _l("This cannot be done in the current state."),
    413: _l("The upload is too large."),
    422: _l("Some of the input is not valid."),
    429: _l("Too many attempts; please wait a moment and try again."),
    500: _l("Something went wrong on our side. The error was logged."),
}


def _friendly(code: int) -> str:
    return str(FRIENDLY.get(code, FRIENDLY[400]))


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if is_api_request():
            return json_error(
                exc.status,
                STATUS_NAMES.get(exc.status, "Error"),
                str(exc.message),
                exc.errors,
                getattr(exc, "headers", None),
            )
        if exc.status == 401:
            from flask import redirect, url_for

            flash(str(exc.message), "warning")
            return redirect(url_for("auth.login", next=request.full_path))
        page = render_template("errors/error.html", code=exc.status, message=str(exc.message))
        return page, exc.status, getattr(exc, "headers", None) or {}

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = _("The form expired or was sent from another site. Please reload the page and try again.")
        if is_api_request():
            return json_error(400, "Bad Request", message)
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        if is_api_request():
            data = getattr(exc, "data", None) or {}
            errors = data.get("errors") or data.get("messages")
            message = data.get("message") or (
                _("Some of the input is not valid.") if errors else _friendly(code)
            )
            return json_error(code, exc.name, str(message), errors, data.get("headers"))
        return render_template("errors/error.html", code=code, message=_friendly(code)), code

    @app.errorhandler(IntegrityError)
    def integrity_error(exc: IntegrityError):
        """A uniqueness race lost to a concurrent request: nothing was saved; say so, never a 500."""
        from marketplace.extensions import db

        db.session.rollback()
        message = _("Someone else changed this at the same moment; please reload and try again.")
        if is_api_request():
            return json_error(409, "Conflict", message)
        return render_template("errors/error.html", code=409, message=message), 409

    @app.before_request
    def _absurd_page_numbers():
        """Page numbers past any real list would overflow the database's OFFSET: there is nothing there."""
        for name in ("page", "per_page"):
            raw = request.args.get(name, "")
            if raw.isdigit() and int(raw) > 1_000_000:
                return http_error(NotFoundError())
        return None

    def _conflict():
        message = _("Someone else changed this at the same moment; please reload and try again.")
        if is_api_request():
            return json_error(409, "Conflict", message)
        return render_template("errors/error.html", code=409, message=message), 409

    def _busy():
        """503 with Retry-After: the database had no connection or no time for us; nothing was changed."""
        message = _("The service is busy right now; please try again in a moment.")
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if is_api_request():
            return json_error(503, "Service Unavailable", message, headers=headers)
        if "_login_user" not in g:  # the page must not wait for a connection again to show who is logged in
            g._login_user = app.login_manager.anonymous_user()
        return render_template("errors/error.html", code=503, message=message), 503, headers

    @app.errorhandler(OperationalError)
    def database_busy(exc: OperationalError):
        """Lost a race for a lock (409: nothing was saved, try again) or the database is overloaded (503)."""
        if database.is_unavailable(exc):
            return _database_gone(exc)
        if not (database.is_lock_error(exc) or database.is_overload(exc)):
            return unexpected(exc)
        from marketplace.extensions import db

        app.logger.warning("database busy on %s %s: %s", request.method, request.path, exc.orig)
        db.session.rollback()
        return _conflict() if database.is_lock_error(exc) else _busy()

    def _database_gone(exc: OperationalError):
        """503: the database went away (restarted, unreachable). Whether a write in flight was saved cannot be
        known here (its transaction either committed whole or not at all), so the reader is asked to check."""
        from marketplace.extensions import db

        app.logger.error("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 (the connection is gone; the pool replaces it on the next request)
            db.session.invalidate()
        message = _(
            "The database cannot be reached right now. If you were saving something, reload the page in a moment"
            " to see whether it was saved, then try again."
        )
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if is_api_request():
            return json_error(503, "Service Unavailable", message, headers=headers)
        g._login_user = (
            app.login_manager.anonymous_user()
        )  # the page must not ask the database who is logged in
        return render_template("errors/error.html", code=503, message=message), 503, headers

    @app.errorhandler(PoolTimeout)
    def pool_exhausted(exc: PoolTimeout):
        app.logger.warning("no database connection free for %s %s", request.method, request.path)
        from marketplace.extensions import db

        db.session.rollback()
        return _busy()

    @app.errorhandler(DataError)
    def data_error(exc: DataError):
        """A value the database cannot hold (out of range, too long): bad input, nothing saved."""
        from marketplace.extensions import db

        db.session.rollback()
        if is_api_request():
            return json_error(422, "Unprocessable Entity", _friendly(422))
        return render_template("errors/error.html", code=422, message=_friendly(422)), 422

    @app.errorhandler(OverflowError)
    def overflow(exc: OverflowError):
        """A page number or id beyond what the database can hold: there is nothing there."""
        return http_error(NotFoundError())

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # log it, answer politely; never leak a traceback
        if isinstance(exc, HTTPException):
            return http_error(exc)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        from marketplace.extensions import db

        db.session.rollback()
        if is_api_request():
            return json_error(500, "Internal Server Error", _friendly(500))
        return render_template("errors/error.html", code=500, message=_friendly(500)), 500


def form_errors_from(exc: DomainError, form, aliases: dict[str, str] | None = None) -> list[str]:
    """The one way a service's refusal reaches a form: each field error beside its field (`aliases` maps the
    service's names to the form's, e.g. price_fen → price, exclusions.0.reason → exclusions.3.reason); returns
    the messages that belong to no field, for the caller to flash. (The refusal already dooms the request's
    transaction: common/uow.py.)"""
    from marketplace.common.forms import copy_errors

    return copy_errors(exc.errors, form, aliases or {})


def store_posted_file(form, store, done: str) -> None:
    """A one-file form posted from a list page (a scan replaced, a document uploaded): `store(stream,
    filename)` keeps it, and the outcome is flashed — `done`, the service's refusal, or a request to choose a
    file. The caller redirects back to its page."""
    if not form.validate_on_submit():
        flash(_("Choose a file."), "danger")
        return
    try:
        store(form.file.data.stream, form.file.data.filename)
    except DomainError as exc:
        flash(str(exc.message), "danger")
    else:
        flash(done, "success")


def api_page(stmt, pagination_parameters, total: int | None = None) -> list:
    """One page of a query for a flask-smorest `@paginate()` resource (it sets the X-Pagination header).
    `total`: the number of rows when it is kept elsewhere (a count the query need not make again)."""
    from marketplace.extensions import db

    page = db.paginate(
        stmt,
        page=pagination_parameters.page,
        per_page=pagination_parameters.page_size,
        error_out=False,
        count=total is None,
    )
    pagination_parameters.item_count = page.total if total is None else total
    return page.items


# --- irreversible actions ask first ---------------------------------------------------------------------

CONFIRM_FIELD = "confirm"  # a form posting `confirm=yes` has been seen on the confirmation page


def confirmed() -> bool:
    """Whether the person confirmed on the confirmation page (`confirm=yes` in the posted form)."""
    return request.form.get(CONFIRM_FIELD) == "yes"


def ask_confirmation(
    *,
    title: str,
    facts: list[tuple[str, str]],
    consequences: list[str],
    back_url: str,
    button: str | None = None,
    danger: bool = False,
):
    """The page an irreversible action shows before it acts: what will happen (`facts`: label → value, e.g.
    the method or the amount), what cannot be undone, and a 确认 button that posts the same form again with
    `confirm=yes`. Without JavaScript this page is the confirmation; the server refuses to act until it sees
    `confirm=yes`. API clients act directly (they call the services, not these views)."""
    kept = [
        (k, v) for k, values in request.form.lists() if k not in (CONFIRM_FIELD, "csrf_token") for v in values
    ]
    return render_template(
        "confirm.html",
        title=title,
        facts=facts,
        consequences=consequences,
        back_url=back_url,
        button=button or _("Confirm"),
        danger=danger,
        action_url=request.path,
        kept=kept,
    ), 200


# Scans staff read in the page: content-checked uploads (common/uploads.py) of these types may be shown inline.
INLINE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


def send_upload(path, mime: str | None, name: str | None):
    """A stored upload for a viewer the caller has already authorised: `?inline=1` shows a PDF or an image in the
    browser (Content-Disposition: inline, its checked type), anything else is a download. Never sniffed, never
    cached by shared caches."""
    from flask import abort, send_file

    if not path.exists():
        abort(404)
    inline = request.args.get("inline") == "1" and mime in INLINE_TYPES
    response = send_file(
        path,
        mimetype=mime if mime in INLINE_TYPES else "application/octet-stream",
        download_name=name or path.name,
        as_attachment=not inline,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def framed_by_own_pages(view):
    """Let the market's own pages show this response in a frame (the staff's inline PDF viewer); every other
    response stays unframeable (X-Frame-Options: DENY)."""
    from marketplace.extensions import talisman

    return talisman(frame_options="SAMEORIGIN")(view)
