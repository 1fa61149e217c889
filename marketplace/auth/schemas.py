import marshmallow as ma


class RegisterIn(ma.Schema):
    email = ma.fields.String(required=True)
    password = ma.fields.String(required=True, load_only=True)
    role = ma.fields.String(required=True, metadata={"description": "enterprise | agency"})
    org_name = ma.fields.String(required=True)
    uscc = ma.fields.String(
        required=True, metadata={"description": "统一社会信用代码, 18 characters, GB 32100-2015"}
    )
    contact_name = ma.fields.String(load_default=None)
    phone = ma.fields.String(load_default=None)


class TokenIn(ma.Schema):
    email = ma.fields.String(required=True)
    password = ma.fields.String(required=True, load_only=True)


class TokenOut(ma.Schema):
    token = ma.fields.String()
    expires_at = ma.fields.AwareDateTime()


class MeOut(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    role = ma.fields.String()
    org_name = ma.fields.String()
    agency_id = ma.fields.Integer(allow_none=True)
    agency_status = ma.fields.String(allow_none=True)
    enterprise_id = ma.fields.Integer(allow_none=True)


def me_payload(user) -> dict:
    agency = user.agency
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role.value,
        "org_name": user.org_name,
        "agency_id": agency.id if agency else None,
        "agency_status": agency.status.value if agency else None,
        "enterprise_id": user.enterprise.id if user.enterprise else None,
    }
