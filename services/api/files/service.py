"""Uploaded files: size capped, type checked by content, stored under random names."""

import hashlib
import io
import secrets
import uuid
import zipfile
from pathlib import Path
from typing import BinaryIO

from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from services.api.errors import DomainError, NotFound
from shared.models import StoredFile
from shared.settings import get_settings

CHUNK = 1 << 16


class TooLarge(DomainError):
    status, slug = 413, "too-large"


class UnsupportedType(DomainError):
    status, slug = 415, "unsupported-media-type"


# What sniff may find: the media types a stored file is served with.
MEDIA_TYPES = (
    "application/pdf",
    "application/msword",
    "application/rtf",
    "image/png",
    "image/jpeg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
)


def sniff(head: bytes, data: bytes) -> str | None:
    """The content type the bytes really are (not what the client claims), if accepted."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/msword"
    if head.startswith(b"{\\rtf"):
        return "application/rtf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"PK\x03\x04"):
        return _office_document(data)
    return None


# An OpenDocument's `mimetype` entry is a few dozen bytes: never inflate more than this.
MIMETYPE_READ = 256


def _office_document(data: bytes) -> str | None:
    """A .docx or an OpenDocument text, told by its entries; anything odd in the archive (a
    broken or encrypted entry, an unknown compression) is simply not accepted. The `mimetype`
    entry is read through a bounded streaming read, so that a zip bomb inflates no further."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names:
                return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    head = entry.read(MIMETYPE_READ + 1)
                if len(head) > MIMETYPE_READ:
                    return None
                mimetype = head.decode("ascii", "replace").strip()
                if mimetype == "application/vnd.oasis.opendocument.text":
                    return mimetype
    except Exception:  # BadZipFile, encrypted (RuntimeError), NotImplementedError, zlib.error…
        return None
    return None


def _read_capped(upload: BinaryIO) -> bytes:
    cap = int(get_settings().max_upload_mb * 1024 * 1024)
    buffer = bytearray()
    while chunk := upload.read(CHUNK):
        buffer += chunk
        if len(buffer) > cap:
            raise TooLarge(f"files are limited to {get_settings().max_upload_mb:g} MB")
    return bytes(buffer)


# Cc: controls (NUL, CR, LF...), Cf: format (U+202E and the other bidi controls, zero width
# characters), Zl/Zp: line and paragraph separators, Cs/Co/Cn: surrogates, private, unassigned.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _safe_filename(name: str | None) -> str:
    """The name to keep and serve: the last part of a path (`/` or `\\`), without control,
    format (right-to-left overrides and other bidi marks, zero-width characters) or line
    separator characters, at most 255 characters; "file" if nothing is left."""
    import unicodedata

    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c) not in _UNSAFE_CATEGORIES).strip()
    if not base.strip("."):  # "", "." or ".."
        return "file"
    return base[-255:]


def store(
    *,
    session: Session,
    upload: BinaryIO,
    filename: str | None,
    purpose: str,
    uploaded_by: str,
    application_id: uuid.UUID | None = None,
    dossier_id: uuid.UUID | None = None,
) -> StoredFile:
    """Check and store an upload; returns its row (the bytes are on disk under a random name)."""
    data = _read_capped(upload)
    if not data:
        raise UnsupportedType("the file is empty")
    content_type = sniff(data[:16], data)
    if content_type is None:
        raise UnsupportedType(
            "accepted files: PDF, Word (.doc, .docx), OpenDocument text, RTF, PNG, JPEG"
        )
    folder = get_settings().resolved_storage_dir
    folder.mkdir(parents=True, exist_ok=True)
    storage_name = secrets.token_hex(32)
    (folder / storage_name).write_bytes(data)
    stored = StoredFile(
        purpose=purpose,
        application_id=application_id,
        dossier_id=dossier_id,
        filename=_safe_filename(filename),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_name=storage_name,
        uploaded_by=uploaded_by,
    )
    session.add(stored)
    session.flush()
    return stored


def path_of(stored: StoredFile) -> Path:
    """Where the bytes of a stored file are."""
    path = get_settings().resolved_storage_dir / stored.storage_name
    if not path.is_file():
        raise NotFound(f"the bytes of file {stored.id} are missing from storage")
    return path


def get_file(*, session: Session, file_id: uuid.UUID) -> StoredFile:
    """The stored file's row, or NotFound."""
    stored = session.get(StoredFile, file_id)
    if stored is None:
        raise NotFound(f"file {file_id} not found")
    return stored


def download(stored: StoredFile) -> FileResponse:
    """The file as an attachment, never rendered inline by the browser."""
    return FileResponse(
        path_of(stored),
        media_type=stored.content_type,
        filename=stored.filename,
        headers={"X-Content-Type-Options": "nosniff"},
    )
