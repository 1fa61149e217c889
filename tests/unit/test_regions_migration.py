"""Migration 0012 on a database that still speaks region names: names become codes where one division bears
that name, every agency serves its registered province, the name columns go; downgrading brings the names
back from the codes."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from marketplace.extensions import db
from tests import factories as f


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}


def test_region_names_become_codes(committed_app):
    with committed_app.app_context():
        admin = f.admin()
        kept = f.active_agency("C03", reviewer=admin)  # registered in 320105, serving 320000
        named = f.active_agency("C03", reviewer=admin)
        enterprise = f.user("enterprise")
        req = f.published_request(enterprise)  # located in 320703
        other = f.published_request(enterprise)
        ids = {"kept": kept.agency.id, "named": named.agency.id, "ent": enterprise.enterprise.id}
        req_ids = (req.id, other.id)
        db.session.remove()

        script = ScriptDirectory.from_config(committed_app.extensions["migrate"].migrate.get_config())
        downgrade(revision=script.get_revision("0012").down_revision)
        assert "region" in _columns("agency") and "service_regions" in _columns("offer")
        with db.engine.begin() as conn:
            # The downgrade gave the old columns their names back.
            assert (
                conn.execute(sa.text("SELECT region FROM agency WHERE id = :i"), {"i": ids["kept"]}).scalar()
                == "建邺区"
            )
            assert (
                conn.execute(
                    sa.text("SELECT region FROM service_request WHERE id = :i"), {"i": req_ids[0]}
                ).scalar()
                == "连云区"
            )
            # Rows as an older release left them: a name, no code.
            conn.execute(
                sa.text("UPDATE agency SET region = '苏州市', region_code = NULL WHERE id = :i"),
                {"i": ids["named"]},
            )
            conn.execute(
                sa.text("UPDATE enterprise SET region = '上海市', region_code = NULL WHERE id = :i"),
                {"i": ids["ent"]},
            )
            conn.execute(
                sa.text("UPDATE service_request SET region = '鼓楼区', region_code = NULL WHERE id = :i"),
                {"i": req_ids[0]},
            )
            conn.execute(
                sa.text(
                    "UPDATE service_request SET region = '江苏省连云港市', region_code = NULL WHERE id = :i"
                ),
                {"i": req_ids[1]},
            )
        upgrade()

        assert "region" not in _columns("agency") and "region" not in _columns("service_request")
        assert "region" not in _columns("enterprise") and "service_regions" not in _columns("offer")
        from marketplace.agencies.models import Agency
        from marketplace.auth.models import Enterprise
        from marketplace.requests.models import ServiceRequest

        assert db.session.get(Agency, ids["named"]).region_code == "320500"
        assert db.session.get(Agency, ids["named"]).service_area_codes == ["320000"]
        assert db.session.get(Agency, ids["kept"]).region_code == "320105"
        assert db.session.get(Agency, ids["kept"]).service_area_codes == ["320000"]
        assert db.session.get(Enterprise, ids["ent"]).region_code == "310000"
        assert (
            db.session.get(ServiceRequest, req_ids[0]).region_code is None
        )  # 鼓楼区: Nanjing's or Xuzhou's?
        assert db.session.get(ServiceRequest, req_ids[1]).region_code == "320700"  # a full name works too
        assert db.session.get(Agency, ids["named"]).region == "苏州市"
        db.session.remove()
