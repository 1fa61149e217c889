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
