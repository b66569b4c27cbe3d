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
    # Overdue items are reminded automatically at most once per this many hours (0: only when
    # the sender presses "remind"); the check runs every `reminder_check_minutes`.
    auto_remind_hours: float = Field(default=24, ge=0)
    reminder_check_minutes: float = Field(default=60, gt=0)


@cache
def documents_settings() -> DocumentsSettings:
    return DocumentsSettings()
