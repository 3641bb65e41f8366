"""Uploaded files (CVs, dossier attachments): metadata here, bytes in the storage directory."""

import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, StrEnumColumn, Timestamped


class FilePurpose(StrEnum):
    CV = "cv"  # an application's
    ATTACHMENT = "attachment"  # a dossier's


class StoredFile(Timestamped, Base):
    __tablename__ = "stored_files"

    purpose: Mapped[FilePurpose] = mapped_column(StrEnumColumn(FilePurpose, 20))
    application_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("applications.id"), index=True
    )
    dossier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # A random name in the storage directory: nothing the uploader chose reaches the disk path.
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by: Mapped[str] = mapped_column(String(200))
