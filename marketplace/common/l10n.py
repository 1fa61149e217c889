"""Names in the viewer's language: the English UI shows a catalogue entry's `name_en` (filled by migration 0027
for the standard catalogue) where there is one; the Chinese UI is unchanged."""

from __future__ import annotations

from flask import has_request_context
from flask_babel import get_locale


def is_english() -> bool:
    if not has_request_context():
        return False
    locale = get_locale()
    return locale is not None and locale.language == "en"


def named(obj) -> str:
    """`{{ item|named }}`: a category's, service item's or qualification kind's name for the viewer."""
    if obj is None:
        return ""
    if is_english():
        english = getattr(obj, "name_en", None)
        if english:
            return english
    return obj.name


def colon() -> str:
    """`{{ _('Reason') }}{{ colon() }}`: the full-width colon after a label in Chinese, ": " in English."""
    return ": " if is_english() else "："
