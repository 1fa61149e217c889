"""Accounts: registering, logging in, API tokens, and who may do what.

Auth sits low in the layers (only common and audit below it): an agency account's organisation belongs to the
agencies feature, which creates it when `account_registered` is announced (see agencies/subscribers.py)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from marketplace import events
from marketplace.audit.services import record
from marketplace.auth import sessions, throttle
from marketplace.auth.models import STAFF_ROLES, ApiToken, Enterprise, Role, User
from marketplace.auth.policy import acts_in, reads_in
from marketplace.common import uscc as uscc_rules
from marketplace.common.clock import now
from marketplace.common.errors import Invalid, NotAllowed, NotLoggedIn, invalid_fields
from marketplace.extensions import db

MIN_PASSWORD = 8
USCC_TAKEN = _l("An organisation with this credit code is already registered.")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


_DUMMY_HASHES: dict[str, str] = {}  # hash method → a hash of a password nobody has, made once per process


def _dummy_check(password: str) -> None:
    """Spend the time of a real check when the email is unknown, so timing does not reveal accounts.

    Exactly one check, like a known account's: the dummy hash is made once per process and hash method
    (making it per attempt doubled the work, and the time, of the unknown-email path)."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    dummy = _DUMMY_HASHES.get(method)
    if dummy is None:
        dummy = _DUMMY_HASHES[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)
    check_password_hash(dummy, password or "")


def normalise_email(email: str) -> str:
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid(
            _l("Please enter a valid email address."), {"email": [_l("Invalid email address.")]}
        ) from exc


def password_problem(password: str):
    if len(password or "") < MIN_PASSWORD:
        return _l("The password must be at least %(n)d characters.", n=MIN_PASSWORD)
    if not any(c.isdigit() for c in password) or not any(c.isalpha() for c in password):
        return _l("The password must contain both letters and digits.")
    return None


def validate_uscc(code: str, field: str = "uscc") -> str:
    code = uscc_rules.normalise(code)
    problem = uscc_rules.uscc_error(code)
    if problem is not None:
        message = _l("Unified social credit code: %(problem)s.", problem=problem)
        raise Invalid(message, {field: [message]})
    return code


def register(
    *,
    email: str,
    password: str,
    role: str,
    org_name: str,
    uscc: str,
    contact_name: str | None = None,
    phone: str | None = None,
) -> User:
    """Create an enterprise or agency account with its organisation."""
    errors: dict[str, list] = {}
    try:
        email = normalise_email(email)
    except Invalid as exc:
        errors.update(exc.errors)
    problem = password_problem(password)
    if problem:
        errors["password"] = [problem]
    if role not in (Role.ENTERPRISE.value, Role.AGENCY.value):
        errors["role"] = [_l("Choose enterprise or agency.")]
    org_name = (org_name or "").strip()
    if not 2 <= len(org_name) <= 100:
        errors["org_name"] = [_l("The organisation name must be 2 to 100 characters.")]
    try:
        uscc = validate_uscc(uscc)
    except Invalid as exc:
        errors.update(exc.errors)
    if errors:
        raise invalid_fields(errors)

    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise Invalid(_l("This email is already registered."), {"email": [_l("Already registered.")]})
    if role == Role.ENTERPRISE.value and db.session.scalar(
        select(Enterprise.id).where(Enterprise.uscc == uscc)
    ):
        raise Invalid(USCC_TAKEN, {"uscc": [USCC_TAKEN]})

    user = User(
        email=email,
        password_hash=hash_password(password),
        role=Role(role),
        contact_name=(contact_name or "").strip() or None,
        phone=(phone or "").strip() or None,
    )
    db.session.add(user)
    if role == Role.ENTERPRISE.value:
        db.session.add(Enterprise(user=user, name=org_name, uscc=uscc))
    # an agency's organisation is created (or refused) by the agencies feature, which listens
    events.account_registered.send(user, org_name=org_name, uscc=uscc)
    db.session.flush()
    record(
        user, "user.register", user, after={"email": email, "role": role, "org_name": org_name, "uscc": uscc}
    )
    return user


def create_staff(
    email: str, password: str, role: Role, region_code: str | None, department: str | None = None
) -> User:
    """A staff account scoped to an area inside the market's (and a department to its trade); an existing staff
    account with this e-mail gets the new role, scope and password."""
    from marketplace.common.areas import is_code, within

    email = normalise_email(email)
    errors: dict[str, list] = {}
    problem = password_problem(password)
    if problem:
        errors["password"] = [problem]
    if role not in STAFF_ROLES or role == Role.ADMIN:
        errors["role"] = [_l("Choose operator, department or supervisor.")]
    area = current_app.config["MARKET_AREA_CODE"]
    if region_code is not None and (not is_code(region_code) or not within(region_code, area)):
        errors["region"] = [_l("The region must be a GB/T 2260 code inside the market's area.")]
    if role == Role.DEPARTMENT and not (department or "").strip():
        errors["department"] = [_l("A department account names its trade department.")]
    if errors:
        raise invalid_fields(errors)
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is not None and user.role not in STAFF_ROLES - {Role.ADMIN}:
        raise Invalid(_l("This email belongs to an account that is not a staff account."))
    if user is None:
        user = User(email=email, password_hash="", role=role)
        db.session.add(user)
    user.password_hash = hash_password(password)
    user.role = role
    user.region_code = region_code if region_code != area else None
    user.department = (department or "").strip() or None if role == Role.DEPARTMENT else None
    db.session.flush()
    record(
        None,
        "user.create_staff",
        user,
        after={"email": email, "role": role, "region_code": user.region_code, "department": user.department},
    )
    return user


def create_admin(email: str, password: str) -> User:
    email = normalise_email(email)
    problem = password_problem(password)
    if problem:
        raise Invalid(problem, {"password": [problem]})
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is not None:
        if user.role != Role.ADMIN:
            raise Invalid(_l("This email belongs to a non-administrator account."))
        user.password_hash = hash_password(password)
        record(None, "user.admin_password_reset", user)
    else:
        user = User(email=email, password_hash=hash_password(password), role=Role.ADMIN)
        db.session.add(user)
        db.session.flush()
        record(None, "user.create_admin", user, after={"email": email})
    return user


def authenticate(email: str, password: str) -> User:
    """The user with these credentials, or NotLoggedIn with one message for every failure.

    An address in its back-off (see auth/throttle.py) is refused with TooManyAttempts before any check;
    known and unknown addresses take the same path and the same time."""
    key = throttle.login_key(email)
    throttle.check(key)
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email)) if email else None
    if user is None:
        _dummy_check(password)
    if user is None or not check_password_hash(user.password_hash, password or ""):
        refusal = throttle.record_failure(key)
        raise refusal or NotLoggedIn(_l("Wrong email or password."))
    if not user.active:
        raise NotLoggedIn(_l("This account is disabled."))
    throttle.reset(key)
    user.last_login_at = now()
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires_at = now() + timedelta(seconds=current_app.config["API_TOKEN_SECONDS"])
    db.session.add(
        ApiToken(user_id=user.id, token_hash=_hash_token(token), created_at=now(), expires_at=expires_at)
    )
    return token, expires_at


def _live_token(token: str) -> ApiToken | None:
    if not token:
        return None
    row = db.session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == _hash_token(token))
        .options(sessions.with_user_and_org(ApiToken.user))
    )
    if row is None or row.revoked_at is not None or row.expires_at <= now() or not row.user.active:
        return None
    return row


def user_for_token(token: str) -> User | None:
    row = _live_token(token)
    return row.user if row is not None else None


def revoke_token(token: str) -> None:
    """End a bearer token at once (its holder logs out of the API); an unknown or dead one is 401."""
    row = _live_token(token)
    if row is None:
        raise NotLoggedIn(_l("Please log in first."))
    row.revoked_at = now()
    record(row.user, "user.token_revoke", row.user, after={"token_id": row.id})


def revoke_all_tokens(user: User) -> int:
    """Revoke every live token of the user (the caller commits). Returns how many."""
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now())
        .values(revoked_at=now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def live_token_count(user: User) -> int:
    stmt = (
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now())
    )
    return db.session.scalar(stmt) or 0


# --- the account page: password, sessions, tokens ----------------------------------------------------------


def change_password(user: User, current_password: str, new_password: str, keep_session: str | None) -> None:
    """Set a new password; every other browser session ends and every API token is revoked.

    `keep_session` is the session id of the browser that asked: it stays logged in."""
    if not check_password_hash(user.password_hash, current_password or ""):
        message = _l("The current password is wrong.")
        raise Invalid(message, {"current_password": [message]})
    problem = password_problem(new_password)
    if problem:
        raise Invalid(problem, {"new_password": [problem]})
    user.password_hash = hash_password(new_password)
    ended = sessions.end_all(user, keep=keep_session)
    revoked = revoke_all_tokens(user)
    record(user, "user.password_change", user, after={"sessions_ended": ended, "tokens_revoked": revoked})


def log_out_everywhere(user: User) -> None:
    """End every browser session of the user, this one too, and revoke every API token."""
    ended = sessions.end_all(user)
    revoked = revoke_all_tokens(user)
    record(user, "user.logout_everywhere", user, after={"sessions_ended": ended, "tokens_revoked": revoked})


# --- authorization helpers used by every service --------------------------------------------------


def require_user(actor: User | None) -> User:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotLoggedIn(_l("Please log in first."))
    return actor


def require_role(actor: User | None, *roles: Role) -> User:
    actor = require_user(actor)
    if actor.role not in roles:
        raise NotAllowed(_l("Your account is not allowed to do this."))
    return actor


def require_admin(actor: User | None) -> User:
    return require_role(actor, Role.ADMIN)


def require_staff(actor: User | None) -> User:
    """Any staff account (administrator, operator, department, supervisor)."""
    return require_role(actor, *STAFF_ROLES)


def require_acting(
    actor: User | None, role: Role, region_code: str | None = None, department: str | None = None
) -> User:
    """A staff account acting as `role` inside its scope: its area must contain `region_code` (when the object
    has one) and a department's trade must be `department` (when given). The administrator holds every role
    over the whole market area."""
    actor = require_user(actor)
    if not acts_in(actor, role, region_code, department):
        raise NotAllowed(_l("Your account is not allowed to do this."))
    return actor


def require_reading(
    actor: User | None, role: Role, region_code: str | None = None, department: str | None = None
) -> User:
    """Open `role`'s desk (its lists and pages) there: whoever acts as the role, or the supervisor, read-only."""
    actor = require_user(actor)
    if not reads_in(actor, role, region_code, department):
        raise NotAllowed(_l("Your account is not allowed to do this."))
    return actor
