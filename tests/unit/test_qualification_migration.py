"""Migration 0015 on a database with agencies' qualifications from before the register: each gets the kind its
name says, the others (a business licence, an abolished licence) keep none; items get their requirements."""

from __future__ import annotations

import io

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from marketplace.agencies import membership
from marketplace.extensions import db
from tests import factories as f

OLD = sa.table("qualification", sa.column("id", sa.Integer), sa.column("name", sa.String))
NAMES = {
    "环境影响评价编制单位信用平台登记": "HPXY",
    "清洁生产审核咨询机构备案": "QJSC",
    "检验检测机构资质认定证书（CMA）": "CMA",
    "测绘资质证书（界线与不动产测绘）": "CHBDC",
    "人防工程施工图审查机构认定书": "RFSC",
    "施工图审查机构认定书": "SGTSC",
    "工程造价咨询企业资质证书（历史资质）": None,
    "营业执照": None,
}


def test_existing_qualifications_get_their_kind(committed_app):
    with committed_app.app_context():
        agency = f.pending_agency("C03")  # (a member would add them through change review)
        for name in NAMES:
            data = {
                "name": name,
                "level": "不分级",
                "number": "X-1",
                "issuer": "江苏省",
                "valid_until": "2030-01-01",
            }
            membership.add_qualification(agency, data, io.BytesIO(f.PDF), "证书.pdf")
        db.session.commit()
        agency_id = agency.agency.id
        db.session.remove()

        script = ScriptDirectory.from_config(committed_app.extensions["migrate"].migrate.get_config())
        downgrade(revision=script.get_revision("0015").down_revision)
        with db.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("qualification")}
            assert "kind_id" not in columns
            assert not sa.inspect(conn).has_table("qualification_kind")
        upgrade()

        rows = db.session.execute(
            sa.text(
                "SELECT q.name, k.code FROM qualification q LEFT JOIN qualification_kind k ON k.id = q.kind_id "
                "WHERE q.agency_id = :a"
            ),
            {"a": agency_id},
        ).all()
        got = dict(rows)
        for name, code in NAMES.items():
            assert got[name] == code, name
        # The items' requirements came with it: 环评 needs the credit-platform registration, 节能评估 nothing.
        needs = db.session.execute(
            sa.text(
                "SELECT i.code, k.code, r.min_level, i.requires_no_qualification FROM service_item i "
                "LEFT JOIN service_item_requirement r ON r.service_item_id = i.id "
                "LEFT JOIN qualification_kind k ON k.id = r.kind_id WHERE i.code IN ('C03-01', 'C02-01', 'C08-01')"
            )
        ).all()
        assert sorted((a, b, c, bool(d)) for a, b, c, d in needs) == [
            ("C02-01", None, None, True),
            ("C03-01", "HPXY", "不分级", False),
            ("C08-01", "CHGC", "乙级", False),
        ]
        db.session.remove()
