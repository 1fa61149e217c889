"""Private uploads (scanned licences, vouchers): type checked by content, size-limited, kept out of static/."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.common.errors import Invalid

ALLOWED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


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


def check_upload(data: bytes, field: str = "file") -> str:
    """The MIME type of an acceptable scan, or Invalid with a clear reason."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if not data:
        raise Invalid(_l("The file is empty."), {field: [_l("The file is empty.")]})
    if len(data) > limit:
        message = _l("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024))
        raise Invalid(message, {field: [message]})
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in ALLOWED:
        message = _l("Only PDF, JPG or PNG files are accepted (checked by content, not by name).")
        raise Invalid(message, {field: [message]})
    return kind.mime


def read_upload(stream, field: str = "file") -> tuple[bytes, str]:
    """Read and check an uploaded stream without storing it: (bytes, MIME type)."""
    data = stream.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
    return data, check_upload(data, field)


def save_upload(stream, filename: str | None, kind: str, field: str = "file") -> StoredFile:
    data, mime = read_upload(stream, field)
    return store(data, mime, filename, kind)


def store(data: bytes, mime: str, filename: str | None, kind: str) -> StoredFile:
    key = f"{uuid.uuid4().hex}.{ALLOWED[mime]}"
    (_folder(kind) / key).write_bytes(data)
    safe_name = Path(filename or f"file.{ALLOWED[mime]}").name[:200]
    return StoredFile(key=key, name=safe_name, mime=mime, size=len(data))


def upload_path(kind: str, key: str) -> Path:
    path = (_folder(kind) / key).resolve()
    if path.parent != _folder(kind).resolve():
        raise ValueError("bad upload key")
    return path


def delete_upload(kind: str, key: str | None) -> None:
    if key:
        upload_path(kind, key).unlink(missing_ok=True)
