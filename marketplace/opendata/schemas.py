"""Query arguments of the open-data API."""

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields

from marketplace.common.errors import Invalid

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(raw: str | None) -> date:
    """'YYYY-MM' as the month's first day; Invalid (422) otherwise."""
    match = MONTH.match(raw or "")
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        message = _l("Give the month as YYYY-MM, e.g. 2026-11.")
        raise Invalid(message, {"month": [message]})
    return date(int(match.group(1)), int(match.group(2)), 1)


class MonthQuery(Schema):
    month = fields.String(
        required=True, metadata={"description": "YYYY-MM (Beijing time)", "example": "2026-11"}
    )


class HeadsQuery(Schema):
    days = fields.Integer(load_default=31, metadata={"description": "how many days back from today (1–366)"})


class MonthLinkSchema(Schema):
    month = fields.String(required=True, metadata={"example": "2026-11"})
    url = fields.String(required=True, metadata={"description": "the month's release package"})
    generated_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "when the package was made (null: being prepared)"}
    )
    releases = fields.Integer(allow_none=True, metadata={"description": "releases in the package"})
    bytes = fields.Integer(allow_none=True, metadata={"description": "the file's size"})


class HeadSchema(Schema):
    seq = fields.Integer(required=True, metadata={"description": "the last entry's number in the chain"})
    hash = fields.String(
        required=True, metadata={"description": "its SHA-256 (hex); 64 zeros for an empty chain"}
    )


class DayHeadSchema(HeadSchema):
    day = fields.String(required=True, metadata={"example": "2026-11-30"})
    entries = fields.Integer(required=True, metadata={"description": "entries recorded that day"})


class HeadsSchema(Schema):
    head = fields.Nested(HeadSchema, required=True)
    days = fields.List(fields.Nested(DayHeadSchema), required=True)


# An OCDS 1.1.5 release package, documented (not re-serialised: it is built to the official schema, which the
# tests validate it against).
RELEASE_PACKAGE = {
    "description": "An OCDS 1.1.5 release package (https://standard.open-contracting.org/1.1/en/schema/)",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["uri", "publishedDate", "publisher", "version", "releases"],
                "properties": {
                    "uri": {"type": "string"},
                    "version": {"type": "string", "example": "1.1"},
                    "publishedDate": {"type": "string", "format": "date-time"},
                    "publisher": {"type": "object"},
                    "license": {"type": "string"},
                    "publicationPolicy": {"type": "string"},
                    "releases": {"type": "array", "items": {"type": "object"}},
                },
            }
        }
    },
}
