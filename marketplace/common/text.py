"""Text as people typed it, minus what only serves to deceive or break things.

One cleaner for every text that comes in: Unicode NFC (so 'é' typed two ways is one string on both databases),
without C0/C1 control characters (NUL, BEL, ESC …; tab and line breaks stay), without the bidirectional
overrides and isolates that make a name read backwards (U+202E), and without zero-width spaces and stray
byte-order marks.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls but tab, LF and CR; DEL; C1 controls; bidi marks, embeddings, overrides and isolates;
# zero-width space and the BOM used as a zero-width no-break space.
_UNWANTED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)

# Spreadsheet programs read a cell starting with one of these as a formula (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean_text(value: str) -> str:
    """NFC-normalised text without control, bidi-override or zero-width characters."""
    if not value:
        return value
    return _UNWANTED.sub("", unicodedata.normalize("NFC", value))


def has_unwanted(value: str) -> bool:
    return bool(_UNWANTED.search(value)) or unicodedata.normalize("NFC", value) != value


def clean_tree(value, skip=lambda key: False):
    """Clean every string in a JSON-like value; keys for which `skip(key)` is true keep their value as sent."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_tree(v, skip) for v in value]
    if isinstance(value, dict):
        return {
            clean_text(k) if isinstance(k, str) else k: v if skip(k) else clean_tree(v, skip)
            for k, v in value.items()
        }
    return value


def csv_cell(value):
    """A value safe to put in a CSV cell that Excel or WPS will open: text that would start a formula is
    prefixed with an apostrophe, which the spreadsheet shows as text. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_row(values) -> list:
    return [csv_cell(v) for v in values]
