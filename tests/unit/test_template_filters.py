"""The template filters that skip Babel for their usual pattern (common/templating.py) write what Babel writes, and
`_()` writes what Jinja's newstyle gettext writes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale, format_date, format_datetime

from marketplace.common import templating


def _moments() -> list[datetime]:
    start = datetime(
        2026, 12, 31, 15, 59, 59, tzinfo=UTC
    )  # 23:59:59 in Beijing: the day and year turn at 16:00
    out = [start + timedelta(minutes=m, seconds=s) for m in (-61, 0, 1, 59, 600) for s in (0, 1)]
    out += [datetime(1988, 6, 1, 3, 30, tzinfo=UTC)]  # the years China kept summer time
    out += [datetime(2026, 3, 5, 23, 0, tzinfo=timezone(timedelta(hours=-5)))]  # another zone
    out += [datetime(2026, 3, 5, 23, 0)]  # naive: UTC
    return out


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_dt_and_date_write_what_babel_writes(app, locale):
    with app.test_request_context("/"), force_locale(locale):
        for at in _moments():
            assert templating._dt(at) == format_datetime(at, "yyyy-MM-dd HH:mm")
            assert templating._dt(at, "yyyy-MM-dd HH:mm:ss") == format_datetime(at, "yyyy-MM-dd HH:mm:ss")
            assert templating._date(at) == format_datetime(at, "yyyy-MM-dd")
        for day in (date(2026, 1, 9), date(999, 12, 31)):
            assert templating._date(day) == format_date(day, "yyyy-MM-dd")
        assert templating._dt(None) == templating._date(None) == "—"


def test_translate_formats_only_what_needs_it(app):
    env = app.jinja_env
    with app.test_request_context("/"):
        assert env.from_string("{{ _('100%% sure') }}").render() == "100% sure"  # %% still becomes %
        assert env.from_string("{{ _('a <b>') }}").render() == "a <b>"  # a translation is markup, as before
        assert env.from_string("{{ _('%(n)d left', n=3) }}").render() == "3 left"
        assert env.from_string("{{ _('x %(v)s', v='<i>') }}").render() == "x &lt;i&gt;"


def test_ngettext_sets_num_escapes_then_formats(app):
    env = app.jinja_env
    with app.test_request_context("/"), force_locale("en"):
        assert env.from_string("{{ ngettext('%(num)d day', '%(num)d days', 2) }}").render() == "2 days"
        one = "{{ ngettext('%(num)d deal by %(who)s', '%(num)d deals by %(who)s', 1, who='<b>') }}"
        assert env.from_string(one).render() == "1 deal by &lt;b&gt;"


def test_wan_writes_what_the_macro_wrote(app):
    """reports/_figures.html's `wan` macro, now a function: the same text in both languages."""
    macro = (
        '{% macro wan(fen) %}{% if fen is none %}—{% elif fen >= 1000000 %}{{ "{:,.2f}".format(fen / 1000000) }} '
        "{{ _('×10k yuan') }}{% else %}{{ fen|money }}{% endif %}{% endmacro %}"
    )
    template = app.jinja_env.from_string(macro + "{% for v in values %}[{{ wan(v) }}]{% endfor %}")
    function = app.jinja_env.from_string("{% for v in values %}[{{ wan(v) }}]{% endfor %}")
    values = [None, 0, 99, 999_999, 1_000_000, 123_456_789, 1_234_567.5, -5_000_000]
    for locale in ("zh_Hans", "en"):  # a fresh app context each: g keeps a request's translations
        with app.app_context(), app.test_request_context("/"), force_locale(locale):
            assert function.render(values=values) == template.render(values=values)
