"""A full upload disk: a real 64 KB tmpfs as UPLOAD_DIR, filled up. An upload is refused with a clear message
(507 JSON in the API, the Chinese message on the page), no row refers to a missing file, no partial file is left,
and the same upload goes through once there is room again."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from marketplace.payments.models import Payment
from tests import factories as f

VOUCHER = f.PDF + b"%" + b"0" * 6000 + b"\n"  # a scan of a few KB


@pytest.fixture
def full_disk(app, tmp_path, monkeypatch):
    folder = tmp_path / "uploads"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        monkeypatch.setitem(app.config, "UPLOAD_DIR", str(folder))
        monkeypatch.setitem(app.config, "REPORTS_MONTHLY", 0)  # no monthly PDFs from the order's clock passes
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Fill the disk to the last byte; returns the filler (remove it to make room)."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def _payments() -> int:
    return db.session.scalar(select(func.count()).select_from(Payment))


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "vouchers").iterdir())


def test_a_full_upload_disk_is_a_clear_refusal_that_leaves_nothing(client, full_disk):
    folder = full_disk
    enterprise, _, order = f.accepted_order(price_fen=5_000_000)  # its scans are stored while there is room
    headers = f.token(client, enterprise)
    (folder / "vouchers").mkdir(exist_ok=True)
    filler = fill(folder)

    def send():
        return client.post(
            f"/api/v1/orders/{order.id}/payments",
            data={
                "method": "offline",
                "reference": "HX-FULL-1",
                "voucher": (io.BytesIO(VOUCHER), "回单.pdf"),
            },
            headers=headers,
            content_type="multipart/form-data",
        )

    r = send()
    assert r.status_code == 507, r.get_json()
    body = r.get_json()
    assert body["status"] == "Insufficient Storage" and "存储空间已满" in body["message"]
    assert _payments() == 0 and _files(folder) == []  # no row, no partial or temporary file
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "payment.create")) == 0

    # The browser form says so in Chinese and records nothing either.
    f.login(client, enterprise)
    page = client.post(
        f"/orders/{order.id}/payments/offline",
        data={"reference": "HX-FULL-2", "voucher": (io.BytesIO(VOUCHER), "回单.pdf")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200 and "存储空间已满" in page.get_data(as_text=True)
    assert _payments() == 0 and _files(folder) == []

    filler.unlink()  # room again: the same upload goes through, its file in place
    r = send()
    assert r.status_code == 201, r.get_json()
    [key] = _files(folder)
    assert (folder / "vouchers" / key).read_bytes() == VOUCHER and _payments() == 1
