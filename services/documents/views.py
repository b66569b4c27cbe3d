"""What an issued (or drafted) document looks like to the rest of the service, the API and
the signing and exchange packages: `DocumentView`, its files and its recipients."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from services.documents.domain.classification import Secrecy, Urgency
from services.documents.domain.document_types import DocumentType, document_type
from services.documents.domain.status import BusinessType, ProcessingStatus
from shared.db.pool import Connection


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class FileView:
    id: uuid.UUID
    role: Literal["main", "attachment"]
    filename: str
    content_type: str
    size: int
    sha256: str
    signed: bool

    def to_json(self, document_id: uuid.UUID) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "role": self.role,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "signed": self.signed,
            "download_path": f"/documents/{document_id}/files/{self.id}",
        }


@dataclass(frozen=True)
class DocumentView:
    id: uuid.UUID
    issuer_id: str
    issuer_name: str
    issuer_abbreviation: str
    drafting_unit: str | None
    doc_type: DocumentType
    state: str
    number: int | None
    notation: str | None
    issued_on: date | None
    issued_at: datetime | None
    summary: str
    content: str | None
    signer_name: str | None
    signer_position: str | None
    signer_competence: str | None
    urgency: Urgency | None
    secrecy: Secrecy | None
    due_date: date | None
    business_type: BusinessType
    replaces: uuid.UUID | None
    replaced_by: uuid.UUID | None
    recall_requested_at: datetime | None
    recipients_spec: list[Any]
    recipient_labels: tuple[str, ...]
    recipient_count: int | None
    main_pdf: FileView
    attachments: tuple[FileView, ...]
    # The validator's report on the main PDF (None: never checked) and where the PDF came
    # from: 'uploaded', 'rendered' (laid out by the service) or 'received' (from outside).
    signature_check: dict[str, Any] | None = None
    pdf_source: str = "uploaded"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "issuer_id": self.issuer_id,
            "issuer_name": self.issuer_name,
            "issuer_abbreviation": self.issuer_abbreviation,
            "drafting_unit": self.drafting_unit,
            "doc_type": self.doc_type.key,
            "doc_type_name": self.doc_type.name_vi,
            "state": self.state,
            "number": self.number,
            "notation": self.notation,
            "issued_on": _iso(self.issued_on),
            "issued_at": _iso(self.issued_at),
            "summary": self.summary,
            "content": self.content,
            "signer": {
                "name": self.signer_name,
                "position": self.signer_position,
                "competence": self.signer_competence,
            },
            "urgency": self.urgency.value if self.urgency else None,
            "secrecy": self.secrecy.value if self.secrecy else None,
            "due_date": _iso(self.due_date),
            "business_type": int(self.business_type),
            "replaces": str(self.replaces) if self.replaces else None,
            "replaced_by": str(self.replaced_by) if self.replaced_by else None,
            "recall_requested_at": _iso(self.recall_requested_at),
            "recipients": self.recipients_spec,
            "recipient_labels": list(self.recipient_labels),
            "recipient_count": self.recipient_count,
            "main_pdf": self.main_pdf.to_json(self.id),
            "pdf_source": self.pdf_source,
            "attachments": [a.to_json(self.id) for a in self.attachments],
            "signature": signature_json(self.signature_check),
        }


NOT_CHECKED: dict[str, Any] = {
    "verdict": "unsigned",
    "reason_code": "not_signed",
    "reason_vi": "Văn bản chưa được ký số.",
    "reason_en": "The document has not been digitally signed yet.",
    "checked_at": None,
    "signatures": [],
}


def signature_json(check: dict[str, Any] | None) -> dict[str, Any]:
    """The signature status shown with a document (and by the web inbox): the verdict, its
    reason in Vietnamese and English, and who signed, when, intact and trusted or not.
    'unsigned' is a document of ours not signed yet; a received PDF without any signature is
    'flagged' (reason_code 'unsigned'): it is never silently accepted."""
    if check is None:
        return dict(NOT_CHECKED)
    reason = check.get("reason") or {}
    return {
        "verdict": check["verdict"],
        "reason_code": reason.get("code"),
        "reason_vi": reason.get("vi"),
        "reason_en": reason.get("en"),
        "checked_at": check.get("checked_at"),
        "signatures": [
            {
                "field": s["field"],
                "signer": s.get("signer_common_name"),
                "organisation": s.get("signer_organisation"),
                "signed_at": s.get("signing_time"),
                "timestamped_at": s.get("timestamp_time"),
                "intact": s["intact"],
                "valid": s.get("valid"),
                "trusted": s["trusted"],
                "verdict": s.get("verdict"),
                "reason_vi": (s.get("reason") or {}).get("vi"),
            }
            for s in check.get("signatures", [])
        ],
    }


@dataclass(frozen=True)
class RecipientView:
    org_id: str
    name: str
    status: ProcessingStatus
    arrived_at: datetime
    read_at: datetime | None
    registered_at: datetime | None
    arrival_number: int | None
    assigned_department: str | None
    assigned_person: str | None
    deadline: date | None
    assigned_at: datetime | None
    done_at: datetime | None
    reminded_at: datetime | None
    reminder_count: int

    def to_json(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "name": self.name,
            "status": self.status.value,
            "status_label": self.status.label_vi,
            "received": self.registered_at is not None,
            "read": self.read_at is not None,
            "assigned": self.assigned_at is not None,
            "done": self.done_at is not None,
            "arrived_at": _iso(self.arrived_at),
            "read_at": _iso(self.read_at),
            "registered_at": _iso(self.registered_at),
            "arrival_number": self.arrival_number,
            "assigned_department": self.assigned_department,
            "assigned_person": self.assigned_person,
            "deadline": _iso(self.deadline),
            "assigned_at": _iso(self.assigned_at),
            "done_at": _iso(self.done_at),
            "reminded_at": _iso(self.reminded_at),
            "reminder_count": self.reminder_count,
        }


def recipient_view(row: Any) -> RecipientView:
    return RecipientView(
        org_id=row["recipient_id"],
        name=row["name"] or row["recipient_id"],
        status=ProcessingStatus(row["status"]),
        arrived_at=row["arrived_at"],
        read_at=row["read_at"],
        registered_at=row["registered_at"],
        arrival_number=row["arrival_number"],
        assigned_department=row["assigned_department"],
        assigned_person=row["assigned_person"],
        deadline=row["deadline"],
        assigned_at=row["assigned_at"],
        done_at=row["done_at"],
        reminded_at=row["reminded_at"],
        reminder_count=row["reminder_count"],
    )


def _file(row: Any) -> FileView:
    return FileView(
        id=row["id"],
        role=row["role"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        signed=row["signed"],
    )


async def load_document(conn: Connection, document_id: uuid.UUID) -> DocumentView | None:
    row = await conn.fetchrow(
        "SELECT d.*, COALESCE(o.name, d.issuer_name) AS issuer_display_name FROM documents d "
        "LEFT JOIN org_units o ON o.org_id = d.issuer_id WHERE d.id = $1",
        document_id,
    )
    if row is None:
        return None
    files = await conn.fetch(
        "SELECT id, role, filename, content_type, size, sha256, signed FROM document_files "
        "WHERE document_id = $1 ORDER BY role DESC, position",
        document_id,
    )
    main = next(_file(f) for f in files if f["role"] == "main")
    return DocumentView(
        id=row["id"],
        issuer_id=row["issuer_id"],
        issuer_name=row["issuer_display_name"] or row["issuer_id"],
        issuer_abbreviation=row["issuer_abbreviation"],
        drafting_unit=row["drafting_unit"],
        doc_type=document_type(row["doc_type"]),
        state=row["state"],
        number=row["number"],
        notation=row["notation"],
        issued_on=row["issued_on"],
        issued_at=row["issued_at"],
        summary=row["summary"],
        content=row["content"],
        signer_name=row["signer_name"],
        signer_position=row["signer_position"],
        signer_competence=row["signer_competence"],
        urgency=Urgency(row["urgency"]) if row["urgency"] else None,
        secrecy=Secrecy(row["secrecy"]) if row["secrecy"] else None,
        due_date=row["due_date"],
        business_type=BusinessType(row["business_type"]),
        replaces=row["replaces"],
        replaced_by=row["replaced_by"],
        recall_requested_at=row["recall_requested_at"],
        recipients_spec=row["recipients_spec"],
        recipient_labels=tuple(row["recipient_labels"]),
        recipient_count=row["recipient_count"],
        main_pdf=main,
        attachments=tuple(_file(f) for f in files if f["role"] == "attachment"),
        signature_check=row["signature_check"],
        pdf_source=row["pdf_source"],
    )


async def recipient_ids(conn: Connection, document_id: uuid.UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT recipient_id FROM deliveries WHERE document_id = $1 ORDER BY recipient_id",
        document_id,
    )
    return [r["recipient_id"] for r in rows]


async def load_file_content(conn: Connection, file_id: uuid.UUID) -> bytes | None:
    content = await conn.fetchval("SELECT content FROM document_files WHERE id = $1", file_id)
    return bytes(content) if content is not None else None


async def store_signature_check(
    conn: Connection, document_id: uuid.UUID, check: dict[str, Any]
) -> None:
    """Keep the validator's report on the document's main PDF (signing_hooks.check_signatures)."""
    await conn.execute(
        "UPDATE documents SET signature_check = $2, signature_verdict = $3, updated_at = now() "
        "WHERE id = $1",
        document_id,
        check,
        check["verdict"],
    )


async def replace_file_content(
    conn: Connection, file_id: uuid.UUID, content: bytes, *, signed: bool, note: str | None = None
) -> None:
    """Store new bytes of a file (a signed PDF); size and digest follow."""
    await conn.execute(
        "UPDATE document_files SET content = $2, size = $3, sha256 = $4, signed = $5, "
        "signature_note = $6 WHERE id = $1",
        file_id,
        content,
        len(content),
        hashlib.sha256(content).hexdigest(),
        signed,
        note,
    )
