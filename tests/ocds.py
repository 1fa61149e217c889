"""Checking OCDS output: the official 1.1.5 schemas (tests/data/ocds-1.1.5, offline) and the bid extension's
shape (its schema is not shipped, so bids are checked here by structure)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

DATA = Path(__file__).parent / "data" / "ocds-1.1.5"
BASE = "https://standard.open-contracting.org/schema/1__1__5/"


def _schema(name: str) -> dict:
    return json.loads((DATA / name).read_text())


RELEASE = _schema("release-schema.json")
PACKAGE = _schema("release-package-schema.json")
_registry = Registry().with_resources(
    [
        (BASE + name, Resource.from_contents(_schema(name), default_specification=DRAFT4))
        for name in ("release-schema.json", "release-package-schema.json")
    ]
)
VALIDATOR = Draft4Validator(PACKAGE, registry=_registry, format_checker=FormatChecker())


def validate(body: dict) -> None:
    errors = sorted(VALIDATOR.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    ids = [(r["ocid"], r["id"]) for r in body["releases"]]
    assert len(ids) == len(set(ids)), "release ids repeat within an ocid"


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def check_bids(body: dict) -> None:
    """The bid extension's structure, and the seal: no bid, bidder or count in a release dated before the
    request's bid deadline."""
    for release in body["releases"]:
        deadline = _when(release["tender"]["tenderPeriod"]["endDate"])
        if _when(release["date"]) < deadline:
            assert "bids" not in release, release["id"]
            assert "tenderers" not in release["tender"] and "numberOfTenderers" not in release["tender"]
            assert all(p["roles"] == ["buyer", "procuringEntity"] for p in release["parties"]), release["id"]
            continue
        bids = release.get("bids")
        if bids is None:
            continue
        assert isinstance(bids["details"], list)
        for stat in bids["statistics"]:
            assert {"id", "measure", "value"} <= set(stat)
        parties = {p["id"] for p in release["parties"]}
        for bid in bids["details"]:
            assert isinstance(bid["id"], str) and bid["id"]
            assert bid["status"] in {"invited", "pending", "valid", "disqualified", "withdrawn"}
            assert _when(bid["date"])
            assert bid["tenderers"] and all(t["id"] in parties for t in bid["tenderers"])
            if "value" in bid:
                assert bid["value"]["currency"] == "CNY" and bid["value"]["amount"] > 0


def months_of(client) -> list[str]:
    r = client.get("/api/v1/ocds/months")
    assert r.status_code == 200
    return [m["month"] for m in r.get_json()]


def make(month: str) -> None:
    """What the clock does for the month (opendata/kept.py): its package made and kept, now."""
    from marketplace.extensions import db
    from marketplace.opendata import kept

    kept.generate(month)
    db.session.commit()


def make_all_months() -> None:
    """Every month's package made (what the clock does over a few passes)."""
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.stats.open_months import OcdsMonth

    for month in db.session.scalars(select(OcdsMonth.month).order_by(OcdsMonth.month)).all():
        make(month)


def live_releases(month: str) -> list[dict]:
    """Every release dated in the month, made the plain way — every published request of the market, one
    Process each, no candidate search — the reference the kept package is compared with."""
    from sqlalchemy import select

    from marketplace.common.clock import as_utc, now
    from marketplace.extensions import db
    from marketplace.opendata.monthly import month_bounds
    from marketplace.opendata.ocds import Process, happened
    from marketplace.requests.models import ServiceRequest

    start, end = month_bounds(datetime.strptime(month, "%Y-%m").date())
    out = []
    for req in db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)):
        if not req.is_public:
            continue
        process = Process(req)
        for event in process.events():
            if as_utc(start) <= as_utc(event.at) < as_utc(end) and happened(event.at, now()):
                out.append((as_utc(event.at), process.release(event)))
    out.sort(key=lambda pair: (pair[0], pair[1]["id"]))
    return [release for _, release in out]


def package_for(client, month: str) -> dict:
    """The month's package as the API serves it, once the clock has made it."""
    make(month)
    r = client.get(f"/api/v1/ocds/releases?month={month}")
    assert r.status_code == 200, (month, r.status_code, r.get_data(as_text=True)[:300])
    return r.get_json()
