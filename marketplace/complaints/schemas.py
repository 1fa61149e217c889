"""JSON in and out for complaints and reports. What a complaint shows depends on who reads it (`ComplaintOut`
asks services.viewer_role): staff see everything; the complainant its own; the respondent neither the contact
details nor, for a report, who filed it."""

import marshmallow as ma
from flask import g, url_for

from marketplace.complaints import services
from marketplace.complaints.models import ComplaintCategory, ComplaintKind, ComplaintStatus, TargetType

CONTACT = ("contact_name", "contact_phone", "contact_email")
STAFF_ONLY = ("complainant_id",)


class ComplaintIn(ma.Schema):
    target_type = ma.fields.String(required=True, metadata={"enum": [t.value for t in TargetType]})
    target_id = ma.fields.Integer(
        required=True, metadata={"description": "for a selection: the request's id"}
    )
    category = ma.fields.String(required=True, metadata={"enum": [c.value for c in ComplaintCategory]})
    text = ma.fields.String(required=True, metadata={"description": "20 to 3000 characters"})
    contact_name = ma.fields.String()
    contact_phone = ma.fields.String()
    contact_email = ma.fields.String()


class ComplaintUploadIn(ComplaintIn):
    evidence = ma.fields.List(
        ma.fields.Raw(metadata={"type": "string", "format": "binary"}),
        metadata={"description": "up to five PDF, JPG or PNG files"},
    )


class ComplaintReportIn(ComplaintIn):
    category = ma.fields.String(
        metadata={"enum": [c.value for c in ComplaintCategory], "description": "default: other"}
    )


class ComplaintReportUploadIn(ComplaintReportIn):
    evidence = ComplaintUploadIn._declared_fields["evidence"]


class ComplaintListQuery(ma.Schema):
    status = ma.fields.String(
        load_default=None,
        metadata={"enum": ["open", "overdue"] + [s.value for s in ComplaintStatus], "description": "staff"},
    )
    kind = ma.fields.String(load_default=None, metadata={"enum": [k.value for k in ComplaintKind]})
    category = ma.fields.String(load_default=None, metadata={"enum": [c.value for c in ComplaintCategory]})
    mine = ma.fields.Boolean(
        load_default=False, metadata={"description": "staff: what I filed or what is against my organisation"}
    )


class ComplaintReasonIn(ma.Schema):
    reason = ma.fields.String(load_default=None, metadata={"description": "4 to 2000 characters"})


class ComplaintOutcomeIn(ma.Schema):
    outcome = ma.fields.String(load_default=None, metadata={"description": "4 to 2000 characters"})


class ComplaintUpholdIn(ComplaintOutcomeIn):
    consequences = ma.fields.List(
        ma.fields.String(metadata={"enum": ["credit", "suspend", "reselect", "reannounce"]}),
        load_default=list,
        metadata={"description": "among `valid_consequences` of the complaint"},
    )
    points = ma.fields.Integer(
        load_default=None, metadata={"description": "with `credit`: 5, 10 or 20 points deducted"}
    )


class ComplaintAnswerIn(ma.Schema):
    answer = ma.fields.String(required=True, metadata={"description": "10 to 3000 characters"})


class ComplaintAnswerUploadIn(ComplaintAnswerIn):
    evidence = ComplaintUploadIn._declared_fields["evidence"]


class ComplaintFileOut(ma.Schema):
    id = ma.fields.Integer()
    role = ma.fields.String(
        metadata={"description": "complaint (the complainant's) | answer (the respondent's)"}
    )
    name = ma.fields.String()
    mime = ma.fields.String()
    size = ma.fields.Integer()
    url = ma.fields.Function(
        lambda f: url_for("complaints-api.complaint_file", complaint_id=f.complaint_id, file_id=f.id)
    )


class ComplaintOut(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    kind = ma.fields.Function(lambda c: c.kind.value)
    viewer = ma.fields.Method("_viewer", metadata={"description": "staff | complainant | respondent"})
    complainant_id = ma.fields.Integer(allow_none=True)
    complainant_name = ma.fields.String(allow_none=True)
    anonymous = ma.fields.Function(lambda c: c.complainant_id is None)
    contact_name = ma.fields.String(allow_none=True)
    contact_phone = ma.fields.String(allow_none=True)
    contact_email = ma.fields.String(allow_none=True)
    target_type = ma.fields.Function(lambda c: c.target_type.value)
    target_id = ma.fields.Integer()
    target_label = ma.fields.String()
    category = ma.fields.Function(lambda c: c.category.value)
    text = ma.fields.String()
    region_code = ma.fields.String(allow_none=True)
    respondent = ma.fields.Function(
        lambda c: (
            {"type": "agency", "id": c.respondent_agency_id, "name": c.respondent_name}
            if c.respondent_agency_id
            else {"type": "enterprise", "id": c.respondent_enterprise_id, "name": c.respondent_name}
            if c.respondent_enterprise_id
            else None
        )
    )
    agency_id = ma.fields.Integer(allow_none=True)
    request_id = ma.fields.Integer(allow_none=True)
    status = ma.fields.Function(lambda c: c.status.value)
    filed_at = ma.fields.AwareDateTime()
    accept_due_at = ma.fields.AwareDateTime()
    close_due_at = ma.fields.AwareDateTime(allow_none=True)
    overdue = ma.fields.Boolean()
    accepted_at = ma.fields.AwareDateTime(allow_none=True)
    refusal_reason = ma.fields.String(allow_none=True)
    answer = ma.fields.String(allow_none=True)
    answered_at = ma.fields.AwareDateTime(allow_none=True)
    outcome = ma.fields.String(allow_none=True)
    consequences = ma.fields.List(ma.fields.String(), allow_none=True)
    points = ma.fields.Integer(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    valid_consequences = ma.fields.Method("_valid")
    evidence = ma.fields.Method("_files")

    def _role(self, c) -> str | None:
        return services.viewer_role(g.get("complaint_viewer"), c)

    def _viewer(self, c):
        return self._role(c)

    def _valid(self, c):
        return services.valid_consequences(c) if self._role(c) == "staff" and c.is_open else []

    def _files(self, c):
        role = self._role(c)
        shown = [
            f
            for f in c.files
            if not (role == "respondent" and f.role == "complaint" and c.kind == ComplaintKind.REPORT)
        ]
        return ComplaintFileOut(many=True).dump(shown)

    @ma.post_dump(pass_original=True)
    def _for_viewer(self, data, c, **kwargs):
        role = self._role(c)
        if role != "staff":
            for key in STAFF_ONLY:
                data.pop(key, None)
        if role == "respondent":
            for key in CONTACT:
                data.pop(key, None)
            if c.kind == ComplaintKind.REPORT:
                data["complainant_name"] = None
        return data


class ComplaintBoardRowOut(ma.Schema):
    """A row of the deadline board's section 逾期未办结的投诉举报 (`section=complaints`)."""

    complaint = ma.fields.Nested(ComplaintOut)
    deadline_status = ma.fields.String()
    days_left = ma.fields.Float()
