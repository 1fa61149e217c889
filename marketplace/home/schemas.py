"""The to-do list's JSON (`GET /api/v1/todo`)."""

import marshmallow as ma


class TodoEntryOut(ma.Schema):
    label = ma.fields.String()
    url = ma.fields.String()
    due_at = ma.fields.AwareDateTime(allow_none=True)
    overdue = ma.fields.Boolean()
    note = ma.fields.String(allow_none=True)


class TodoOut(ma.Schema):
    kind = ma.fields.String(metadata={"description": "e.g. payments_due, contracts_to_sign, fee_flags"})
    title = ma.fields.String(metadata={"description": "in the caller's language"})
    count = ma.fields.Integer()
    overdue = ma.fields.Integer(metadata={"description": "how many of count are overdue"})
    due_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "the earliest due date shown"})
    url = ma.fields.String(metadata={"description": "the page listing them all"})
    entries = ma.fields.List(ma.fields.Nested(TodoEntryOut), metadata={"description": "the most urgent few"})


class TodoListOut(ma.Schema):
    total = ma.fields.Integer()
    overdue = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(TodoOut))
