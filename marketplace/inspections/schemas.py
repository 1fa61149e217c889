import marshmallow as ma

from marketplace.regions import services as regions


class InspectorIn(ma.Schema):
    name = ma.fields.String(required=True)
    department = ma.fields.String(required=True, metadata={"description": "the body the inspector works for"})
    certificate_no = ma.fields.String(required=True, metadata={"description": "执法证号, unique"})
    region_code = ma.fields.String(
        load_default=None, allow_none=True, metadata={"description": "GB/T 2260; null: the whole market area"}
    )
    active = ma.fields.Boolean(load_default=True)


class InspectorActiveIn(ma.Schema):
    active = ma.fields.Boolean(required=True)


class InspectorOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    department = ma.fields.String()
    certificate_no = ma.fields.String()
    region_code = ma.fields.String(allow_none=True)
    region = ma.fields.Function(lambda i: regions.full_name(i.region_code))
    active = ma.fields.Boolean()


class PublicInspectorOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    department = ma.fields.String()
    certificate_no = ma.fields.String()


class TaskIn(ma.Schema):
    title = ma.fields.String(required=True)
    category_id = ma.fields.Integer(required=True, strict=True)
    region_code = ma.fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "inside MARKET_AREA_CODE; null: all of it"},
    )
    agency_count = ma.fields.Integer(
        load_default=None, allow_none=True, strict=True, metadata={"description": "either this …"}
    )
    share_pct = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        metadata={"description": "… or a share in %, rounded up"},
    )
    inspectors_per_agency = ma.fields.Integer(required=True, strict=True)
    checklist = ma.fields.List(
        ma.fields.String(),
        load_default=None,
        allow_none=True,
        metadata={"description": "the items; omitted: the trade's default list"},
    )


class ResultIn(ma.Schema):
    passed = ma.fields.Boolean(required=True)
    notes = ma.fields.String(load_default=None, allow_none=True)


class FindingsIn(ma.Schema):
    results = ma.fields.List(
        ma.fields.Nested(ResultIn),
        required=True,
        metadata={
            "description": "one per checklist item, in the checklist's order; a failed item needs notes"
        },
    )
    inspected_by = ma.fields.List(
        ma.fields.Integer(strict=True),
        load_default=None,
        allow_none=True,
        metadata={"description": "ids of the drawn inspectors who did it; omitted: all of them"},
    )
    notes = ma.fields.String(load_default=None, allow_none=True, metadata={"description": "the conclusion"})


class EvidenceIn(ma.Schema):
    file = ma.fields.Raw(
        required=True, metadata={"type": "string", "format": "binary", "description": "PDF, JPG or PNG"}
    )


class ListQuery(ma.Schema):
    status = ma.fields.String(load_default=None, metadata={"description": "planned | drawn | closed"})
    agency_id = ma.fields.Integer(load_default=None)


class FindingOut(ma.Schema):
    item = ma.fields.String()
    passed = ma.fields.Boolean()
    notes = ma.fields.String(allow_none=True)


class DrawRecordOut(ma.Schema):
    """What the standalone verifier reads (python -m marketplace.requests.verify_draw URL)."""

    kind = ma.fields.String()
    inspection_id = ma.fields.Integer()
    title = ma.fields.String()
    status = ma.fields.String()
    commitment = ma.fields.String()
    seed = ma.fields.String(allow_none=True)
    seed_revealed_at = ma.fields.AwareDateTime(allow_none=True)
    algorithm = ma.fields.String()
    agency_count = ma.fields.Integer(allow_none=True)
    share_pct = ma.fields.Integer(allow_none=True)
    inspectors_per_agency = ma.fields.Integer()
    agency_candidates = ma.fields.List(ma.fields.Integer())
    inspector_candidates = ma.fields.List(ma.fields.Integer())
    drawn_count = ma.fields.Integer(allow_none=True)
    agencies = ma.fields.List(ma.fields.Integer())
    assignments = ma.fields.List(ma.fields.Dict())


class TargetOut(ma.Schema):
    """A drawn agency: its inspectors from the draw on; its findings once the task is closed (staff: always)."""

    agency_id = ma.fields.Integer()
    agency_name = ma.fields.String()
    position = ma.fields.Integer()
    inspectors = ma.fields.List(ma.fields.Nested(PublicInspectorOut))
    inspected_by = ma.fields.List(ma.fields.Integer(), allow_none=True)
    recorded = ma.fields.Boolean()
    notes = ma.fields.String(allow_none=True)
    findings = ma.fields.List(ma.fields.Nested(FindingOut), allow_none=True)
    failed_count = ma.fields.Integer(allow_none=True)
    evidence = ma.fields.List(
        ma.fields.Dict(), metadata={"description": "staff only: {key, name, mime, size}"}
    )
    result_url = ma.fields.String()


class TaskOut(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    status = ma.fields.Function(lambda t: t.status.value)
    category_id = ma.fields.Integer()
    category = ma.fields.Function(lambda t: t.category.name)
    region_code = ma.fields.String(allow_none=True)
    region = ma.fields.Function(lambda t: regions.full_name(t.region_code))
    agency_count = ma.fields.Integer(allow_none=True)
    share_pct = ma.fields.Integer(allow_none=True)
    inspectors_per_agency = ma.fields.Integer()
    checklist = ma.fields.List(ma.fields.String())
    source = ma.fields.String(metadata={"description": "market (a supervisor) | department"})
    department = ma.fields.String(allow_none=True)
    draw_commitment = ma.fields.String()
    seed_revealed_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    url = ma.fields.Function(lambda t: f"/inspections/{t.id}")


class TaskDetailOut(ma.Schema):
    """A task (the fields of TaskOut, already dumped) with its draw record and its drawn agencies."""

    id = ma.fields.Integer()
    title = ma.fields.String()
    status = ma.fields.String(metadata={"description": "planned | drawn | closed"})
    category_id = ma.fields.Integer()
    category = ma.fields.String()
    region_code = ma.fields.String(allow_none=True)
    region = ma.fields.String(allow_none=True)
    agency_count = ma.fields.Integer(allow_none=True)
    share_pct = ma.fields.Integer(allow_none=True)
    inspectors_per_agency = ma.fields.Integer()
    checklist = ma.fields.List(ma.fields.String())
    source = ma.fields.String()
    department = ma.fields.String(allow_none=True)
    draw_commitment = ma.fields.String()
    seed_revealed_at = ma.fields.String(allow_none=True)
    created_at = ma.fields.String()
    closed_at = ma.fields.String(allow_none=True)
    url = ma.fields.String()
    draw = ma.fields.Nested(DrawRecordOut)
    targets = ma.fields.List(ma.fields.Nested(TargetOut))
