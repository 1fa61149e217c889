"""The one-file forms of the agency's pages (replace a licence scan, a practitioner's certificate, upload the
承诺书): the file is kept and said so, a wrong file is refused with the service's reason, no file asks for one."""

import io

from flask import url_for

from marketplace.agencies import membership
from marketplace.agencies.models import Qualification
from marketplace.agencies.roster import Practitioner
from marketplace.extensions import db
from tests import factories as f


def _post(client, url: str, data: dict) -> str:
    r = client.post(url, data=data, content_type="multipart/form-data", follow_redirects=True)
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_one_file_forms_keep_refuse_and_ask(app, client):
    agency = f.applicant()
    f.login(client, agency)
    qual = db.session.scalars(
        db.select(Qualification).where(Qualification.agency_id == agency.agency.id)
    ).first()
    person = db.session.scalars(
        db.select(Practitioner).where(Practitioner.agency_id == agency.agency.id)
    ).first()
    with app.test_request_context():
        urls = {
            "qualification": url_for("agency_workspace.replace_file", qualification_id=qual.id),
            "practitioner": url_for("agency_people.practitioner_file", practitioner_id=person.id),
            "pledge": url_for("agency_people.upload_document", kind="pledge"),
        }
    for what, url in urls.items():
        done = "文件已上传" if what == "pledge" else "文件已更新"
        assert done in _post(client, url, {"file": (io.BytesIO(f.PDF), "扫描件.pdf")}), what
        refused = _post(client, url, {"file": (io.BytesIO(b"not a scan at all"), "扫描件.pdf")})
        assert done not in refused and "flash-danger" in refused, what
        assert "请选择文件" in _post(client, url, {}), what
    db.session.expire_all()
    assert db.session.get(Qualification, qual.id).file_name == "扫描件.pdf"
    assert db.session.get(Practitioner, person.id).file_name == "扫描件.pdf"
    # Once the application is under review the scans are frozen: the service's refusal is what the page says.
    membership.submit_application(agency)
    db.session.commit()
    frozen = _post(client, urls["practitioner"], {"file": (io.BytesIO(f.PDF), "新扫描件.pdf")})
    assert "flash-danger" in frozen and "文件已更新" not in frozen
    assert db.session.get(Practitioner, person.id).file_name == "扫描件.pdf"
