"""The Simplified Chinese catalog is complete, clean and compiled.

These tests need neither a database nor the app: they re-extract the messages
from the source tree with the same pybabel command the Makefile runs, and
compare the result with the committed catalog files.

Workflow when a test here fails (run from the project root):

    pybabel extract ... (see EXTRACT_ARGS below / the Makefile)
    pybabel update -i marketplace/translations/messages.pot -d marketplace/translations -l zh_Hans --ignore-obsolete
    # translate the new entries in zh_Hans/LC_MESSAGES/messages.po, drop "#, fuzzy"
    pybabel compile -d marketplace/translations -l zh_Hans --statistics
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "marketplace" / "translations"
CFG = TRANSLATIONS / "babel.cfg"
POT = TRANSLATIONS / "messages.pot"
PO = TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.mo"

# Must match the extract command in the Makefile.
EXTRACT_ARGS = [
    "extract",
    "-F", str(CFG),
    "-k", "_l",
    "-k", "N_",  # marketplace/common/messages.py: ids of messages stored now and translated when shown
    "-k", "lazy_gettext",
    "-k", "lazy_ngettext:1,2",
    "-k", "lazy_pgettext:1c,2",
    "-k", "page_gettext",  # common/templating.py: a per-row helper's label through the request's catalogue
    # Replaces Babel's default ".* _*", which would skip templates/_macros/.
    "--ignore-dirs", ".* __pycache__ node_modules",
    "--no-location",
    "--sort-output",
]  # fmt: skip

# A printf-style conversion: %(name)s, %d, %5.2f, %% ...
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)


def _key(message) -> tuple:
    return (message.context, message.id)


def _label(message) -> str:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return f"{message.context}|{msgid}" if message.context else msgid


def _label_of(key: tuple) -> str:
    context, msgid = key
    msgid = msgid if isinstance(msgid, str) else msgid[0]
    return f"{context}|{msgid}" if context else msgid


def _strings(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _placeholders(text: str) -> tuple[set[str], bool]:
    """The set of conversions (without %%) and whether a stray % is left over."""
    found = set()
    for m in PLACEHOLDER.finditer(text):
        if m.group("conv") != "%":
            found.add(m.group(0))
    stray = "%" in PLACEHOLDER.sub("", text)
    return found, stray


@pytest.fixture(autouse=True)
def _transaction():
    """Shadow tests/conftest.py's autouse per-test database transaction: nothing here touches the app or a database."""
    yield


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    out = tmp_path_factory.mktemp("i18n") / "messages.pot"
    cmd = [sys.executable, "-m", "babel.messages.frontend", "-q", *EXTRACT_ARGS, "-o", str(out), "."]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"pybabel extract failed:\n{result.stdout}\n{result.stderr}"
    with out.open("rb") as fh:
        catalog = read_po(fh)
    messages = [m for m in catalog if m.id]
    assert messages, "extraction found no messages; is babel.cfg wrong?"
    return messages


@pytest.fixture(scope="module")
def po():
    with PO.open("rb") as fh:
        return read_po(fh, locale="zh_Hans")


def test_header(po):
    assert str(po.locale) == "zh_Hans"
    assert po.num_plurals == 1
    assert po.plural_expr.strip() == "0"
    assert not po.fuzzy, "the catalog header is marked fuzzy"


def test_every_message_is_translated(extracted, po):
    missing = []
    for message in extracted:
        entry = po.get(message.id, context=message.context)
        strings = _strings(entry.string) if entry is not None else []
        if not strings or not all(text.strip() for text in strings):
            missing.append(_label(message))
    assert not missing, (
        f"{len(missing)} message(s) have no zh_Hans translation "
        "(run extract + update, translate, compile):\n  " + "\n  ".join(missing)
    )


def test_committed_template_is_current(extracted):
    with POT.open("rb") as fh:
        committed = {_key(m) for m in read_po(fh) if m.id}
    fresh = {_key(m) for m in extracted}
    added = sorted(_label_of(k) for k in fresh - committed)
    gone = sorted(_label_of(k) for k in committed - fresh)
    assert not added and not gone, (
        f"messages.pot is stale; re-run pybabel extract.\n  new in code: {added}\n  no longer in code: {gone}"
    )


def test_no_fuzzy_entries(po):
    fuzzy = "\n  ".join(_label(m) for m in po if m.id and m.fuzzy)
    assert not fuzzy, f"fuzzy entries (check the translation, then remove '#, fuzzy'):\n  {fuzzy}"


def test_placeholders_match(po):
    problems = []
    for message in po:
        if not message.id:
            continue
        ids = _strings(message.id)
        wanted, id_stray = set(), False
        for text in ids:
            names, stray = _placeholders(text)
            wanted |= names
            id_stray |= stray
        for text in _strings(message.string):
            if not text:
                continue
            names, stray = _placeholders(text)
            if names != wanted:
                problems.append(
                    f"{_label(message)!r}: expected {sorted(wanted)}, got {sorted(names)} in {text!r}"
                )
            elif stray and not id_stray:
                # Jinja's new-style gettext always applies "% variables", so a lone % breaks rendering.
                problems.append(
                    f"{_label(message)!r}: stray '%' in {text!r} (templates always %-format: avoid a bare %)"
                )
    assert not problems, "placeholder mismatches:\n  " + "\n  ".join(problems)


def test_babel_checkers_pass(po):
    errors = [f"{_label(m)!r}: {'; '.join(map(str, errs))}" for m, errs in po.check() if errs]
    assert not errors, "babel catalog checks failed:\n  " + "\n  ".join(errors)


def _mo_mapping(path: Path) -> dict:
    with path.open("rb") as fh:
        catalog = read_mo(fh)
    return {_key(m): m.string for m in catalog if m.id}


def test_compiled_catalog_is_current(po, tmp_path):
    assert MO.exists(), f"{MO.relative_to(ROOT)} is missing; run pybabel compile"
    fresh = tmp_path / "messages.mo"
    with fresh.open("wb") as fh:
        write_mo(fh, po, use_fuzzy=False)
    if fresh.read_bytes() == MO.read_bytes():
        return
    # Byte layout may differ between Babel versions; what matters is the content.
    expected, committed = _mo_mapping(fresh), _mo_mapping(MO)
    stale = sorted(
        _label_of(k) for k in expected.keys() | committed.keys() if expected.get(k) != committed.get(k)
    )
    assert not stale, (
        "messages.mo is stale; run: pybabel compile -d marketplace/translations -l zh_Hans\n  "
        + "\n  ".join(stale)
    )
