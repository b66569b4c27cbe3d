"""The files of a document: the main PDF and attachments, checked before anything is stored.

A main file that is not a PDF (by its bytes, whatever its name or declared type says) and an
attachment over the configured size are refused with a 422 naming the field, so nothing is
half-registered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
from dataclasses import dataclass

from services.documents.config import DocumentsSettings
from shared.http.problems import Problem, field_error

PDF_MEDIA_TYPE = "application/pdf"
# ISO 32000: the header "%PDF-" may follow up to 1024 bytes of other data (readers accept it).
_PDF_MAGIC = b"%PDF-"
_HEADER_WINDOW = 1024
_EOF_MARKER = b"%%EOF"
_TRAILER_WINDOW = 2048


@dataclass(frozen=True)
class UploadedFile:
    field: str  # where it came from in the request, for error messages ("pdf", "attachments[1]")
    filename: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def fingerprint(self) -> dict[str, object]:
        """What the idempotency fingerprint keeps of a file (not the bytes themselves)."""
        return {
            "field": self.field,
            "filename": self.filename,
            "size": len(self.content),
            "sha256": self.sha256,
        }


def is_pdf(content: bytes) -> bool:
    """A PDF by its bytes: the %PDF- header near the start and an %%EOF near the end (a
    truncated upload has the header but cannot be signed or shown)."""
    return _PDF_MAGIC in content[:_HEADER_WINDOW] and _EOF_MARKER in content[-_TRAILER_WINDOW:]


def guess_content_type(filename: str, declared: str | None) -> str:
    if declared and declared != "application/octet-stream":
        return declared.split(";")[0].strip()
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"


def decode_base64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Problem(
            422,
            "Invalid request",
            f"{field} is not valid base64",
            errors=[field_error(field, "not valid base64")],
        ) from None


def check_files(
    main: UploadedFile | None,
    attachments: list[UploadedFile],
    settings: DocumentsSettings,
    *,
    main_required: bool = True,
) -> None:
    """Every problem with the files at once, as one 422. Without `main_required`, a missing
    main PDF is allowed (the service renders the official document from the draft)."""
    errors: list[dict[str, str]] = []
    if main is None:
        if main_required:
            errors.append(field_error("pdf", "the main PDF file is required", "missing"))
    else:
        if not main.content:
            errors.append(field_error(main.field, "the file is empty"))
        elif not is_pdf(main.content):
            errors.append(
                field_error(
                    main.field,
                    f"{main.filename!r} is not a PDF: its bytes do not start with %PDF- and end "
                    "with %%EOF (export the document to PDF and upload that file)",
                    "not_pdf",
                )
            )
        if len(main.content) > settings.max_pdf_bytes:
            errors.append(
                field_error(
                    main.field,
                    f"{len(main.content)} bytes; the limit is {settings.max_pdf_bytes}",
                    "too_large",
                )
            )
    if len(attachments) > settings.max_attachments:
        errors.append(
            field_error(
                "attachments",
                f"{len(attachments)} attachments; the limit is {settings.max_attachments}",
                "too_many",
            )
        )
    for attachment in attachments:
        if not attachment.filename.strip():
            errors.append(field_error(attachment.field, "the attachment needs a file name"))
        if not attachment.content:
            errors.append(field_error(attachment.field, "the attachment is empty"))
        if len(attachment.content) > settings.max_attachment_bytes:
            errors.append(
                field_error(
                    attachment.field,
                    f"attachment {attachment.filename!r} is {len(attachment.content)} bytes; "
                    f"the limit is {settings.max_attachment_bytes} bytes "
                    "(DOCUMENTS_MAX_ATTACHMENT_BYTES)",
                    "too_large",
                )
            )
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise Problem(422, "Invalid files", detail, errors=errors)
