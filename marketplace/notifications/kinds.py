"""The kinds of notification: what a user may choose to receive by mail (and SMS) besides the bell."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Kind:
    code: str
    label: object  # a lazy string
    hint: object
    mail: bool = True  # by mail unless the user says otherwise
    sms: bool = False


KINDS: tuple[Kind, ...] = (
    Kind(
        "new_request", _l("New matching announcements"), _l("A request in your categories and service area")
    ),
    Kind("reminder", _l("Closing reminders"), _l("Bidding closes soon on a request you follow")),
    Kind("bidding", _l("Bidding"), _l("Announcement returned, bidding closed, bids opened, 流标")),
    Kind("selection", _l("Selection results"), _l("Selected or not selected, publicity over")),
    Kind("objection", _l("Objections"), _l("An objection lodged against a result, and its decision")),
    Kind("contract", _l("Contracts"), _l("A contract to sign, confirmed or returned; an order placed")),
    Kind(
        "order",
        _l("Orders and deadlines"),
        _l("Started, declined, extensions, yellow and red lights, delivery, acceptance"),
    ),
    Kind("payment", _l("Payments"), _l("A transfer to confirm, confirmed or rejected; money received")),
    Kind("rating", _l("Ratings"), _l("A rating of your work"), mail=False),
    Kind("membership", _l("Membership"), _l("Decisions on your membership application and status")),
    Kind("complaint", _l("Complaints"), _l("Complaints you filed or that concern you")),
    Kind("credit", _l("Credit"), _l("Credit events, grade, red and black lists, appeals")),
    Kind("inspection", _l("Random inspections"), _l("Drawn for an inspection, results published")),
)
BY_CODE = {k.code: k for k in KINDS}


def label(code: str) -> object:
    kind = BY_CODE.get(code)
    return kind.label if kind else code
