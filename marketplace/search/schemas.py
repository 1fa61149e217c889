"""Search query and hit schemas (also the OpenAPI document's)."""

import marshmallow as ma

from marketplace.search.documents import DOC_TYPES
from marketplace.search.query import MAX_QUERY_LENGTH


class SearchQuery(ma.Schema):
    q = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=MAX_QUERY_LENGTH),
        metadata={
            "description": "Words (all must match). Chinese is segmented; trade abbreviations such as 环评, "
            "安评, 能评, 水保 also find the full names; pinyin (cehui) and homophone typos are a fallback."
        },
    )
    type = ma.fields.String(
        load_default=None,
        validate=ma.validate.OneOf(DOC_TYPES),
        metadata={"description": "|".join(DOC_TYPES)},
    )
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=10_000))
    per_page = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=100))
    page_size = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=1, max=100),
        metadata={"description": "the same as per_page (the other lists' name for it)"},
    )

    @ma.pre_load
    def strip(self, data, **kwargs):
        if "q" in data and isinstance(data.get("q"), str):
            data = dict(data)
            data["q"] = data["q"].strip()
            if not data["q"]:
                data.pop("q")
        return data

    @ma.post_load
    def one_page_size(self, data, **kwargs):
        data["per_page"] = data.pop("page_size") or data["per_page"] or 10
        return data


class SearchHitOut(ma.Schema):
    type = ma.fields.String(metadata={"description": "agency | service | request"})
    id = ma.fields.Integer()
    title = ma.fields.String()
    snippet = ma.fields.String(metadata={"description": "plain text around the first match"})
    url = ma.fields.String(
        metadata={"description": "the page: /agencies/<id>, /catalogue/items/<id>, /requests/<id>"}
    )
    region = ma.fields.Function(lambda hit: hit.region or None, allow_none=True)
    subtitle = ma.fields.String(metadata={"description": "categories, category or service item"})
    score = ma.fields.Float()
