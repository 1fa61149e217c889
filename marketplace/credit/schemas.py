"""JSON shapes of credit: an agency's credit with its itemised events, the lists, appeals and repairs."""

from __future__ import annotations

import marshmallow as ma

from marketplace.common.messages import Said
from marketplace.credit import rules


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class CreditEventOut(ma.Schema):
    id = ma.fields.Int()
    at = ma.fields.DateTime()
    source = ma.fields.Function(lambda e: e.source.value)
    rule = ma.fields.Str()
    rule_label = ma.fields.Function(lambda e: str(rules.rule_label(e.rule)))
    points = ma.fields.Int()
    evidence = ma.fields.Str(allow_none=True)
    status = ma.fields.Function(lambda e: e.status.value)
    veto = ma.fields.Function(lambda e: e.rule in rules.VETO_RULES)
    note = ma.fields.Str(allow_none=True)


class CreditEntryOut(ma.Schema):
    id = ma.fields.Int()
    agency_id = ma.fields.Int()
    agency_name = ma.fields.Function(lambda e: e.agency.name)
    list = ma.fields.Function(lambda e: e.kind.value)
    reason = Said()
    basis = ma.fields.Str(allow_none=True)
    automatic = ma.fields.Bool()
    from_ = ma.fields.DateTime(attribute="starts_at", data_key="from")
    until = ma.fields.DateTime(allow_none=True)
    lifted_at = ma.fields.DateTime(allow_none=True)
    lifted_why = Said(allow_none=True)


class CreditOut(ma.Schema):
    agency_id = ma.fields.Int()
    score = ma.fields.Float()
    grade = ma.fields.Str()
    grade_label = ma.fields.Function(lambda c: str(rules.GRADE_LABELS[c["grade"]]))
    sub_scores = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Float())
    points = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Int())
    vetoes = ma.fields.Int()
    window_start = ma.fields.DateTime()
    lists = ma.fields.List(ma.fields.Nested(CreditEntryOut))
    events = ma.fields.Method("_events")

    def _events(self, c) -> list:
        # one schema for every event (making one per event cost more than dumping it)
        out = CreditEventOut(many=True).dump([item["event"] for item in c["items"]])
        for row, item in zip(out, c["items"], strict=True):
            row.update(counts=item["counts"], contribution=item["contribution"])
        return out


class CreditListIn(Strict):
    agency_id = ma.fields.Int(required=True)
    list = ma.fields.Str(required=True, metadata={"description": "black | red"})
    reason = ma.fields.Str(required=True)
    basis = ma.fields.Str(required=True, metadata={"description": "the legal basis"})
    until = ma.fields.Date(required=True, metadata={"description": "the last day of the period (Beijing)"})


class CreditLiftIn(Strict):
    why = ma.fields.Str(required=True)


class CreditConductIn(Strict):
    agency_id = ma.fields.Int(required=True)
    rule = ma.fields.Str(required=True, metadata={"description": " | ".join(rules.MANUAL_RULES)})
    evidence = ma.fields.Str(
        required=True, metadata={"description": "a path on this site, e.g. /requests/12"}
    )
    note = ma.fields.Str(required=True)


class CreditAppealIn(Strict):
    reason = ma.fields.Str(required=True)


class CreditAppealUploadIn(ma.Schema):
    reason = ma.fields.Str(required=True)
    evidence = ma.fields.Raw(metadata={"type": "string", "format": "binary"})


class CreditOpinionIn(Strict):
    opinion = ma.fields.Str(required=True)


class CreditAppealOut(ma.Schema):
    id = ma.fields.Int()
    event_id = ma.fields.Int()
    agency_id = ma.fields.Int()
    agency_name = ma.fields.Function(lambda a: a.agency.name)
    event = ma.fields.Nested(CreditEventOut)
    reason = ma.fields.Str()
    evidence = ma.fields.Function(
        lambda a: [{"name": f.get("name"), "key": f.get("key")} for f in a.evidence or []]
    )
    status = ma.fields.Function(lambda a: a.status.value)
    filed_at = ma.fields.DateTime()
    due_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)
    opinion = ma.fields.Str(allow_none=True)


class CreditRepairUploadIn(ma.Schema):
    event_id = ma.fields.Int()
    entry_id = ma.fields.Int()
    statement = ma.fields.Str(required=True)
    letter = ma.fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class CreditRepairOut(ma.Schema):
    id = ma.fields.Int()
    agency_id = ma.fields.Int()
    agency_name = ma.fields.Function(lambda r: r.agency.name)
    event_id = ma.fields.Int(allow_none=True)
    entry_id = ma.fields.Int(allow_none=True)
    statement = ma.fields.Str()
    letter = ma.fields.Function(lambda r: (r.letter or {}).get("name"))
    status = ma.fields.Function(lambda r: {"upheld": "approved"}.get(r.status.value, r.status.value))
    filed_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)
    opinion = ma.fields.Str(allow_none=True)


class CreditRuleOut(ma.Schema):
    code = ma.fields.Str()
    source = ma.fields.Function(lambda r: r.source.value if r.source else None)
    points = ma.fields.Int(allow_none=True)
    label = ma.fields.Function(lambda r: str(r.label))
    veto = ma.fields.Bool()
    manual = ma.fields.Bool()
