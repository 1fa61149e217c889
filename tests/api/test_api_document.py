"""/api/v1/openapi.json is made once per process (app.py `keep_openapi_document`), and is flask-smorest's."""

from __future__ import annotations

import flask

from marketplace.extensions import api


def test_the_kept_document_is_the_one_flask_smorest_makes(app, client, monkeypatch):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.mimetype == "application/json"
    with app.test_request_context("/api/v1/openapi.json"):
        made = flask.json.dumps(api.spec.to_dict(), indent=2, sort_keys=False)
    assert served.get_data(as_text=True) == made

    english = client.get("/api/v1/openapi.json", headers={"Accept-Language": "en"}).get_data()
    assert english == served.get_data()  # (kept per language, in case a description is ever translated)

    def again():
        raise AssertionError("the document was made again")

    monkeypatch.setattr(api.spec, "to_dict", again)
    assert client.get("/api/v1/openapi.json").get_data() == served.get_data()
    assert client.get("/api/v1/openapi.json", headers={"Accept-Language": "en"}).get_data() == english
