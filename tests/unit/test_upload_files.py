"""Uploaded files follow their transaction: written under a temporary name, moved into place when it commits,
deleted when it rolls back (a savepoint included); files dropped by a change are deleted only once it commits;
`flask uploads sweep` clears what a crash left behind and keeps everything a row refers to."""

import io
import os
import time
from pathlib import Path

import pytest

from marketplace.agencies import membership
from marketplace.common import uploads
from marketplace.extensions import db
from marketplace.opendata import kept as opendata
from marketplace.payments import services as payments
from tests import factories as f

PDF = "application/pdf"


@pytest.fixture
def upload_dir(app, tmp_path, monkeypatch) -> Path:
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_a_rolled_back_transaction_leaves_no_file(upload_dir):
    f.user("enterprise")  # the session is inside a transaction, as a service's would be
    stored = uploads.store(f.PDF, PDF, "回单.pdf", "vouchers")
    db.session.rollback()
    assert _files(upload_dir / "vouchers") == set()
    assert not uploads.upload_path("vouchers", stored.key).exists()


def test_a_savepoint_rolled_back_takes_its_files_and_keeps_the_others(upload_dir):
    f.user("enterprise")
    kept = uploads.store(f.PDF, PDF, "a.pdf", "deliveries")
    savepoint = db.session.begin_nested()
    dropped = uploads.store(f.PDF, PDF, "b.pdf", "deliveries")
    savepoint.rollback()
    inner = db.session.begin_nested()
    released = uploads.store(f.PDF, PDF, "c.pdf", "deliveries")
    inner.commit()  # released into the enclosing transaction: its fate is that transaction's
    assert _files(upload_dir / "deliveries") == {f".tmp-{kept.key}", f".tmp-{released.key}"}
    db.session.commit()
    assert _files(upload_dir / "deliveries") == {kept.key, released.key}
    assert dropped.key not in _files(upload_dir / "deliveries")


def test_a_committed_payment_leaves_exactly_its_file_and_only_after_the_commit(upload_dir):
    enterprise, _, order = f.accepted_order(price_fen=3_000_000)
    f.user("enterprise")  # a transaction is open, as within a request
    stored = uploads.store(f.PDF, PDF, "回单.pdf", "vouchers")
    assert not uploads.upload_path("vouchers", stored.key).exists()  # nobody can read it before the commit
    db.session.rollback()

    payment = payments.record_offline(
        enterprise, order.id, reference="HX-COMMIT-0001", voucher=(io.BytesIO(f.PDF), "回单.pdf")
    )
    assert _files(upload_dir / "vouchers") == {
        f".tmp-{payment.voucher['key']}"
    }  # not in place before the commit
    db.session.commit()  # the boundary
    assert _files(upload_dir / "vouchers") == {payment.voucher["key"]}
    assert uploads.upload_path("vouchers", payment.voucher["key"]).read_bytes() == f.PDF


def test_a_replaced_scan_is_deleted_only_when_the_change_commits(upload_dir):
    agency = f.active_agency("C03")
    qual = agency.agency.qualifications[0]
    old_key = qual.file_key
    assert uploads.upload_path("qualifications", old_key).exists()

    uploads.discard("qualifications", old_key)
    db.session.rollback()  # the change that dropped it did not happen: the file stays
    assert uploads.upload_path("qualifications", old_key).exists()

    qual = membership.attach_qualification_file(agency, qual.id, io.BytesIO(f.PDF), "新扫描件.pdf")
    assert uploads.upload_path("qualifications", old_key).exists()  # until the change commits
    db.session.commit()
    left = _files(upload_dir / "qualifications")  # (beside the agency's other scans: pledge, practitioners …)
    assert qual.file_key in left and old_key not in left


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_sweep_removes_orphans_restores_committed_temporaries_and_keeps_the_rest(app, upload_dir):
    enterprise, _, order = f.accepted_order(price_fen=3_000_000)
    referenced = payments.record_offline(
        enterprise,
        order.id,
        reference="HX-SWEEP-0001",
        amount_fen=1_000,
        voucher=(io.BytesIO(f.PDF), "a.pdf"),
    ).voucher["key"]
    crashed = payments.record_offline(
        enterprise,
        order.id,
        reference="HX-SWEEP-0002",
        amount_fen=1_000,
        voucher=(io.BytesIO(f.PDF), "b.pdf"),
    ).voucher["key"]
    db.session.commit()
    folder = upload_dir / "vouchers"
    os.replace(folder / crashed, folder / f".tmp-{crashed}")  # killed after the commit, before the rename
    (folder / "0123abcd.pdf").write_bytes(f.PDF)  # killed before the commit, after a (pre-fix) write
    (folder / ".tmp-4567cdef.pdf").write_bytes(f.PDF)  # killed before the commit
    (folder / ".tmp-89abef01.pdf").write_bytes(f.PDF)  # a transaction still running
    (folder / "fedc9876.pdf").write_bytes(f.PDF)  # just written, its commit may be on its way
    for name in (referenced, f".tmp-{crashed}", "0123abcd.pdf", ".tmp-4567cdef.pdf"):
        _age(folder / name, 2 * 3600)

    result = app.test_cli_runner().invoke(args=["uploads", "sweep", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would remove vouchers/0123abcd.pdf" in result.output
    assert len(_files(folder)) == 6  # a dry run changes nothing

    result = app.test_cli_runner().invoke(args=["uploads", "sweep"])
    assert result.exit_code == 0, result.output
    assert "removed vouchers/0123abcd.pdf" in result.output
    assert "removed vouchers/.tmp-4567cdef.pdf" in result.output
    assert f"restored vouchers/{crashed}" in result.output
    # kept: the referenced voucher and the agency's scans: qualification, pledge, power of attorney, practitioner;
    # and the open data's monthly packages the clock made meanwhile (opendata/kept.py)
    packages = len(opendata.referenced_keys())
    assert (
        f"removed 2, restored 1, kept {5 + packages} referenced, left 2 younger than 3600 s" in result.output
    )
    assert _files(folder) == {referenced, crashed, ".tmp-89abef01.pdf", "fedc9876.pdf"}
    # Qualification scans are swept by their own rows: the agencies' files are all referenced.
    assert _files(upload_dir / "qualifications") and "qualifications/" not in result.output
