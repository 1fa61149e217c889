"""Register, log in, log out, the account page (password, sessions), switch language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from marketplace.auth import services, sessions
from marketplace.auth.current import web_actor
from marketplace.auth.forms import ChangePasswordForm, LoginForm, RegisterForm
from marketplace.auth.limits import register_per_email, register_per_ip
from marketplace.common.errors import DomainError, TooManyAttempts
from marketplace.common.web import form_errors_from
from marketplace.extensions import limiter

bp = Blueprint("auth", __name__, url_prefix="/auth")


def blueprints():
    return [bp]


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _fresh_session() -> None:
    """A new session on login/logout (no fixation), keeping only the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _log_in(user) -> None:
    """A fresh session (no fixation) backed by a server-side row that logging out ends."""
    sessions.end(session.get(sessions.SESSION_KEY))  # a log-in over another one ends the old one
    _fresh_session()
    login_user(user)
    session[sessions.SESSION_KEY] = sessions.start(user, request.remote_addr, request.user_agent.string)


def home_for(user) -> str:
    if user.is_admin:
        return url_for("agency_admin.applications")
    if user.is_staff:
        return url_for("staff.home")
    if user.role == "agency":
        return url_for("agency_workspace.dashboard")
    return url_for("home.index")


@bp.route("/register", methods=["GET", "POST"])
@register_per_ip
@register_per_email
def register():
    form = RegisterForm(role=request.args.get("role", "enterprise"))
    if form.validate_on_submit():
        try:
            user = services.register(
                email=form.email.data,
                password=form.password.data,
                role=form.role.data,
                org_name=form.org_name.data,
                uscc=form.uscc.data,
                contact_name=form.contact_name.data,
                phone=form.phone.data,
            )
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
        else:
            _log_in(user)
            flash(_("Welcome, %(org)s! Your account is ready.", org=user.org_name), "success")
            return redirect(home_for(user))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "danger")
    return render_template("auth/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except TooManyAttempts as exc:  # this e-mail address is in its back-off
            flash(str(exc.message), "danger")
            return render_template("auth/login.html", form=form), exc.status, exc.headers
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            _log_in(user)
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.end(session.get(sessions.SESSION_KEY))
    logout_user()
    _fresh_session()
    flash(_("You have logged out."), "info")
    return redirect(url_for("home.index"))


@bp.route("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))


@bp.route("/me")
@login_required
def me():
    return redirect(home_for(web_actor()))


def _account_page(form: ChangePasswordForm):
    user = web_actor()
    return render_template(
        "auth/account.html",
        user=user,
        form=form,
        sessions=sessions.active(user),
        this_session=sessions.current_hash(session.get(sessions.SESSION_KEY)),
        describe_agent=sessions.describe_agent,
        token_count=services.live_token_count(user),
    )


@bp.route("/account")
@login_required
def account():
    return _account_page(ChangePasswordForm())


@bp.route("/account/password", methods=["POST"])
@login_required
@limiter.limit("10 per minute")
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                web_actor(),
                form.current_password.data,
                form.new_password.data,
                keep_session=session.get(sessions.SESSION_KEY),
            )
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
        else:
            flash(_("Your password was changed. Other devices and API tokens were logged out."), "success")
            return redirect(url_for("auth.account"))
    else:
        flash(_("Please correct the marked fields."), "danger")
    return _account_page(form)


@bp.route("/account/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    services.log_out_everywhere(web_actor())
    logout_user()
    _fresh_session()
    flash(_("You have logged out on all devices, and every API token was revoked."), "info")
    return redirect(url_for("auth.login"))
