"""统一社会信用代码 (Unified Social Credit Code) per GB 32100-2015."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# The 31 characters the standard allows (no I, O, S, V, Z), in value order.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def check_digit(first17: str) -> str:
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(code: str) -> str:
    return (code or "").strip().upper()


def uscc_error(code: str):
    """None when valid; otherwise the reason (a lazily translated message)."""
    code = normalise(code)
    if len(code) != 18:
        return _l("must be exactly 18 characters")
    bad = [ch for ch in code if ch not in ALPHABET]
    if bad:
        return _l("contains characters the standard does not allow (I, O, S, V, Z or symbols)")
    if not code[2:8].isdigit():
        return _l("characters 3 to 8 must be the administrative division code (digits)")
    if check_digit(code[:17]) != code[17]:
        return _l("the check digit (last character) is wrong")
    return None


def is_valid(code: str) -> bool:
    return uscc_error(code) is None


def make(prefix: str, division: str, body: str) -> str:
    """Build a valid code from its parts (used by demo data and tests)."""
    first17 = (prefix + division + body)[:17]
    if len(first17) != 17:
        raise ValueError("need 17 characters before the check digit")
    return first17 + check_digit(first17)
