"""Private uploads (scanned licences, vouchers): type checked by content, size-limited, kept out of static/.

A file lives and dies with the transaction that refers to it: `store` writes it under a temporary name and
it is moved to its final name only once the session's transaction really commits (files stored inside a
savepoint that rolls back, or a transaction that rolls back, are deleted); `discard` deletes a file only when
the transaction that dropped its row commits. What a crash leaves behind (kill -9 between writing and
committing) is cleared by `flask uploads sweep` (see sweep below).
"""

from __future__ import annotations

import errno
import io
import logging
import os
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import filetype
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from marketplace.common.errors import Invalid, StorageFull

log = logging.getLogger(__name__)

ALLOWED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}  # scans: licences, vouchers
DWG = "image/vnd.dwg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"
# What an agency delivers: the scans plus the trades' own formats (drawings, reports, tables, bundles).
DELIVERABLES = ALLOWED | {DWG: "dwg", DOCX: "docx", XLSX: "xlsx", ZIP: "zip"}
EXTENSIONS = DELIVERABLES  # every accepted type's file extension, by MIME type

SCANS_ONLY = _l("Only PDF, JPG or PNG files are accepted (checked by content, not by name).")
DELIVERABLES_ONLY = _l(
    "Only PDF, JPG, PNG, DWG, DOCX, XLSX or ZIP files are accepted (checked by content, not by name)."
)

STORAGE_FULL = _l(
    "The server's file storage is full, so the file was not saved and nothing was changed. Please try again later or tell the market's operator."
)


@dataclass(frozen=True)
class StoredFile:
    key: str
    name: str
    mime: str
    size: int


def _folder(kind: str) -> Path:
    folder = Path(current_app.config["UPLOAD_DIR"]) / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sniff(data: bytes) -> str | None:
    """The MIME type the content shows (never the name): the scans by their magic bytes (filetype); a DWG by
    its version tag "AC10nn"; a ZIP by "PK\\x03\\x04" and a readable directory, told apart from a DOCX or XLSX
    (also ZIPs) by their parts: [Content_Types].xml with word/document.xml or xl/workbook.xml."""
    if data[:4] == b"AC10":  # filetype would take any "AC10…" for a drawing
        return DWG if data[4:6].isdigit() else None
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as bundle:
                names = set(bundle.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):  # a broken or disguised archive
            return None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return DOCX
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return XLSX
        return ZIP
    kind = filetype.guess(data[:8192])
    return kind.mime if kind is not None else None


def check_upload(data: bytes, field: str = "file", accepted: dict[str, str] = ALLOWED) -> str:
    """The MIME type of an acceptable file (`accepted`: the scans, or DELIVERABLES), or Invalid saying why."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if not data:
        raise Invalid(_l("The file is empty."), {field: [_l("The file is empty.")]})
    if len(data) > limit:
        message = _l("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024))
        raise Invalid(message, {field: [message]})
    mime = sniff(data)
    if mime not in accepted:
        message = SCANS_ONLY if accepted is ALLOWED else DELIVERABLES_ONLY
        raise Invalid(message, {field: [message]})
    return mime


def read_upload(stream, field: str = "file", accepted: dict[str, str] = ALLOWED) -> tuple[bytes, str]:
    """Read and check an uploaded stream without storing it: (bytes, MIME type)."""
    data = stream.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
    return data, check_upload(data, field, accepted)


def save_upload(stream, filename: str | None, kind: str, field: str = "file") -> StoredFile:
    data, mime = read_upload(stream, field)
    return store(data, mime, filename, kind)


def store(data: bytes, mime: str, filename: str | None, kind: str) -> StoredFile:
    """Write the file under a temporary name; it takes its key's name when the transaction commits."""
    key = f"{uuid.uuid4().hex}.{EXTENSIONS[mime]}"
    temporary = None
    try:
        temporary = _folder(kind) / f"{TEMP_PREFIX}{key}"
        temporary.write_bytes(data)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise
        if temporary is not None:
            temporary.unlink(missing_ok=True)  # no partial file left behind
        log.error("uploads: storage full writing %s/%s: %s", kind, key, exc)
        raise StorageFull(STORAGE_FULL, {"file": [STORAGE_FULL]}) from exc
    _schedule(_Pending("create", kind, key))
    safe_name = Path(filename or f"file.{EXTENSIONS[mime]}").name[:200]
    return StoredFile(key=key, name=safe_name, mime=mime, size=len(data))


def adopt(kind: str, written: Path, key: str) -> None:
    """A file the caller wrote itself (streamed, too large to hold) in the kind's folder becomes `key` when the
    transaction commits, and is deleted if it rolls back (as `store` does with bytes)."""
    os.replace(written, _folder(kind) / f"{TEMP_PREFIX}{key}")
    _schedule(_Pending("create", kind, key))


def upload_path(kind: str, key: str) -> Path:
    path = (_folder(kind) / key).resolve()
    if path.parent != _folder(kind).resolve():
        raise ValueError("bad upload key")
    return path


def delete_upload(kind: str, key: str | None) -> None:
    if key:
        upload_path(kind, key).unlink(missing_ok=True)


def discard(kind: str, key: str | None) -> None:
    """Delete an upload once the current transaction commits (at once when none is open)."""
    if not key:
        return
    from marketplace.extensions import db

    if not db.session().in_transaction():
        delete_upload(kind, key)
        return
    _schedule(_Pending("delete", kind, key))


# --- following the session's transactions ----------------------------------------------------------------

TEMP_PREFIX = ".tmp-"
_PENDING = "uploads_pending"  # session.info: files waiting for their transaction's outcome


@dataclass
class _Pending:
    action: str  # "create" (a temporary file to move into place) or "delete" (a final file to remove)
    kind: str
    key: str
    folder: Path = field(default_factory=lambda: Path())
    owner: SessionTransaction | None = None  # the innermost transaction (savepoint) it was scheduled in

    def finish(self) -> None:
        """The transaction committed."""
        try:
            if self.action == "create":
                os.replace(self.folder / f"{TEMP_PREFIX}{self.key}", self.folder / self.key)
            else:
                (self.folder / self.key).unlink(missing_ok=True)
        except OSError:  # the row is committed: `uploads sweep` moves or removes the file later
            log.exception("uploads: could not %s %s/%s after commit", self.action, self.kind, self.key)

    def abandon(self) -> None:
        """The transaction rolled back (or was closed without a commit)."""
        if self.action == "create":
            (self.folder / f"{TEMP_PREFIX}{self.key}").unlink(missing_ok=True)


def _schedule(item: _Pending) -> None:
    from marketplace.extensions import db

    session = db.session()
    if not session.in_transaction():
        session.begin()  # what the next statement would do anyway: the file belongs to that transaction
    item.folder = _folder(item.kind)
    item.owner = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append(item)


def pending_files(session: Session) -> bool:
    """Files to move into place or remove when the session's transaction commits (a commit would do it)."""
    return bool(session.info.get(_PENDING))


def _within(owner: SessionTransaction | None, transaction: SessionTransaction) -> bool:
    while owner is not None:
        if owner is transaction:
            return True
        owner = owner.parent
    return False


def _after_commit(session: Session) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    nested = session.get_nested_transaction()
    if nested is not None:  # a savepoint was released: its files now share the enclosing transaction's fate
        for item in pending:
            if item.owner is nested:
                item.owner = nested.parent
        return
    # The session's own transaction committed. (In the tests it is a savepoint of an outer transaction that is
    # rolled back at the end; there the service's commit is what counts, so files appear at that moment.)
    for item in session.info.pop(_PENDING):
        item.finish()


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    kept = []
    for item in pending:
        if _within(item.owner, previous_transaction):
            item.abandon()
        else:
            kept.append(item)
    session.info[_PENDING] = kept


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the session's transaction ended without a commit (closed, removed)
        for item in session.info.pop(_PENDING, []):
            item.abandon()


_registered = [False]


def register_listeners() -> None:
    """Once per process, on the Session class: Flask-SQLAlchemy's sessions and any test session."""
    if _registered[0]:
        return
    _registered[0] = True
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_soft_rollback)
    event.listen(Session, "after_transaction_end", _after_transaction_end)


# --- sweeping what a crash left behind --------------------------------------------------------------------


@dataclass
class SweepReport:
    removed: list[str] = field(default_factory=list)  # "kind/name": orphans and abandoned temporary files
    restored: list[str] = field(default_factory=list)  # committed rows whose file was still temporary
    kept: int = 0  # files a row refers to
    young: int = 0  # unreferenced but younger than the safety age: perhaps a transaction still running


def sweep(
    referenced: Callable[[], dict[str, set[str]]], min_age_seconds: float, dry_run: bool = False
) -> SweepReport:
    """Remove upload files no row refers to (final or temporary) once older than `min_age_seconds`.

    `referenced()` gives {kind: keys rows refer to}; only those kinds' folders are swept. It is called after
    the folders are listed, so a file committed meanwhile is found referenced. A temporary file whose key a
    row refers to lost its rename to a crash after the commit: it is moved into place, not removed."""
    base = Path(current_app.config["UPLOAD_DIR"])
    listed: dict[str, list[tuple[Path, float]]] = {}
    for folder in sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []:
        listed[folder.name] = [(p, p.stat().st_mtime) for p in sorted(folder.iterdir()) if p.is_file()]
    keys = referenced()
    report = SweepReport()
    now = time.time()
    for kind, files in listed.items():
        if kind not in keys:
            continue  # not ours to judge
        for path, mtime in files:
            temporary = path.name.startswith(TEMP_PREFIX)
            key = path.name[len(TEMP_PREFIX) :] if temporary else path.name
            if key in keys[kind] and not temporary:
                report.kept += 1
            elif now - mtime < min_age_seconds:
                report.young += 1
            elif temporary and key in keys[kind] and not (path.parent / key).exists():
                report.restored.append(f"{kind}/{key}")
                if not dry_run:
                    os.replace(path, path.parent / key)
            else:
                report.removed.append(f"{kind}/{path.name}")
                if not dry_run:
                    path.unlink(missing_ok=True)
    return report
