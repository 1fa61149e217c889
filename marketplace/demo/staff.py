"""Demo staff of every role (accounts.json "staff"): an operator for the whole market area and one for 苏州市, the
departments of 生态环境 and 自然资源, and a supervisor — all with the demo password."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from marketplace.auth.models import Role
from marketplace.auth.services import create_staff
from marketplace.catalogue import services as catalogue
from marketplace.catalogue.models import ServiceItem
from marketplace.common.areas import within
from marketplace.demo.common import DEMO_PASSWORD
from marketplace.demo.dataset import ACCOUNTS
from marketplace.extensions import db


def load_staff() -> dict[str, int]:
    area = current_app.config["MARKET_AREA_CODE"]
    made = 0
    for spec in ACCOUNTS["staff"]:
        region = spec.get("region_code")
        if region and not within(region, area):  # a market set elsewhere: the account acts over all of it
            region = None
        user = create_staff(spec["email"], DEMO_PASSWORD, Role(spec["role"]), region, spec.get("department"))
        user.contact_name, user.phone = spec.get("contact_name"), spec.get("phone")
        made += 1
        if spec["role"] == "department" and spec["department"] == EDITED_BY:
            _edit_an_item(user)
    return {"staff": made}


EDITED_BY, EDITED_ITEM = "市生态环境局", "C03-02"


def _edit_an_item(department) -> None:
    """The environmental department shortened 环评（报告表）'s standard days: version 2, while the requests of the
    past year keep version 1."""
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == EDITED_ITEM))
    if item is None or item.standard_days <= 5:
        return
    catalogue.edit_item(
        department,
        item.id,
        {"standard_days": item.standard_days - 5, "note": "落实压缩中介服务时限要求，标准时限缩短5天。"},
    )
