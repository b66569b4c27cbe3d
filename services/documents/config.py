"""Settings of the documents service beyond the platform's (environment, prefix DOCUMENTS_)."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DocumentsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCUMENTS_", extra="ignore")

    # Files are kept in PostgreSQL with the document (one transaction for file and record), so
    # the limits also bound the size of a row; Kafka never carries them.
    max_attachment_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    max_pdf_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    max_attachments: int = Field(default=30, ge=0)


@cache
def documents_settings() -> DocumentsSettings:
    return DocumentsSettings()
