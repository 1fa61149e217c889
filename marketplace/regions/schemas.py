import marshmallow as ma


class RegionQuery(ma.Schema):
    parent = ma.fields.String(
        load_default=None, metadata={"description": "GB/T 2260 code; none: the provinces"}
    )


class RegionOut(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    level = ma.fields.Integer(metadata={"description": "1 province, 2 city, 3 county"})
