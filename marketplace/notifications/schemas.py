"""API shapes: a notification in the caller's language, the list with its unread count."""

import marshmallow as ma

from marketplace.common.messages import Said
from marketplace.notifications.kinds import label


class ListQuery(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))
    per_page = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


class NotificationOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(
        metadata={"description": "new_request, reminder, bidding, selection, objection, …"}
    )
    kind_label = ma.fields.Function(lambda n: str(label(n.kind)))
    text = Said(metadata={"description": "in the caller's language"})
    link = ma.fields.String(allow_none=True, metadata={"description": "a path on this site"})
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)
    unread = ma.fields.Boolean()


class NotificationList(ma.Schema):
    unread = ma.fields.Integer(metadata={"description": "the caller's unread notifications (all pages)"})
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    items = ma.fields.List(
        ma.fields.Nested(NotificationOut), metadata={"description": "unread first, newest first"}
    )


class ReadAllOut(ma.Schema):
    marked = ma.fields.Integer()
    unread = ma.fields.Integer()
