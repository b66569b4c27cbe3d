"""Outgoing documents: draft, approve, sign, issue; replacement and update of an issued one.

Issuing happens in one transaction: the number from the issuer's series (row lock, see
series.py), the notation, the seal signature, routing to every recipient's inbox (one
INSERT ... SELECT) with its history rows, and one documents.document.issued event in the
outbox. Either all of it commits or none of it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.documents import official_pdf, series, signing_hooks
from services.documents import recipients as recipient_rules
from services.documents.access import ensure_acts_for
from services.documents.config import DocumentsSettings, documents_settings
from services.documents.domain.classification import Secrecy, Urgency
from services.documents.domain.document_types import DOCUMENT_TYPES, document_type
from services.documents.domain.numbering import format_code, format_notation
from services.documents.domain.status import BusinessType
from services.documents.files import UploadedFile, check_files
from services.documents.recipients import SELECTORS, Selector
from services.documents.views import (
    DocumentView,
    FileView,
    load_document,
    replace_file_content,
    store_signature_check,
)
from shared.auth import Principal
from shared.db.pool import Connection
from shared.events.contracts.documents import DocumentIssued
from shared.http.problems import Problem, field_error, invalid
from shared.outbox.writer import add_event
from shared.vietnam_time import now_in_vietnam

SOURCE = "documents"


class DraftInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_type: str = Field(description="Document type key, e.g. cong_van, chi_thi, quyet_dinh")
    summary: str = Field(min_length=1, max_length=2000, description="Trích yếu nội dung")
    content: str | None = Field(default=None, max_length=100_000)
    drafting_unit: str | None = Field(
        default=None, max_length=40, description="Drafting unit abbreviation (required: công văn)"
    )
    issuer_abbreviation: str | None = Field(
        default=None,
        max_length=40,
        description="e.g. SGDĐT; defaults to the issuer's profile (PUT /issuers/{org_id})",
    )
    urgency: Urgency | None = None
    secrecy: Secrecy | None = None
    due_date: date | None = Field(default=None, description="Handling deadline for recipients")
    recipients: list[Selector] = Field(min_length=1, max_length=500)

    @field_validator("doc_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in DOCUMENT_TYPES:
            raise ValueError(f"unknown document type; known: {', '.join(DOCUMENT_TYPES)}")
        return value


class SignerInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="Full name of the signer")
    position: str | None = Field(default=None, max_length=200, description="e.g. Giám đốc")
    competence: str | None = Field(
        default=None, max_length=20, description="Thẩm quyền ký: TM., KT., Q., TL., TUQ."
    )


async def _issuer_abbreviation(conn: Connection, issuer_id: str, given: str | None) -> str:
    if given:
        return given
    stored = await conn.fetchval(
        "SELECT abbreviation FROM issuer_profiles WHERE org_id = $1", issuer_id
    )
    if stored is None:
        raise invalid(
            "issuer_abbreviation",
            f"no issuer abbreviation for {issuer_id}: give issuer_abbreviation or set it with "
            f"PUT /issuers/{issuer_id}",
        )
    return str(stored)


async def create_draft(
    conn: Connection,
    principal: Principal,
    draft: DraftInput,
    main_pdf: UploadedFile | None,
    attachments: list[UploadedFile],
    *,
    replaces: uuid.UUID | None = None,
    business_type: BusinessType = BusinessType.NEW,
    settings: DocumentsSettings | None = None,
    today: date | None = None,
) -> DocumentView:
    """A draft in the caller's own name, with its files; nothing is stored if anything is wrong.

    Without a main PDF the service lays the official document out from the fields (a
    preview now, laid out again with the signer at signing); an uploaded PDF always wins."""
    issuer_id = principal.org_id
    ensure_acts_for(principal, issuer_id)
    check_files(main_pdf, attachments, settings or documents_settings(), main_required=False)
    abbreviation = await _issuer_abbreviation(conn, issuer_id, draft.issuer_abbreviation)
    try:
        format_code(document_type(draft.doc_type), abbreviation, draft.drafting_unit)
    except ValueError as exc:
        field = "drafting_unit" if "drafting unit" in str(exc) else "issuer_abbreviation"
        raise invalid(field, str(exc)) from None
    today = today or now_in_vietnam().date()
    resolved = await recipient_rules.resolve(conn, issuer_id, list(draft.recipients), today=today)
    if await recipient_rules.count_reached(conn, issuer_id, resolved, today=today) == 0:
        raise invalid("recipients", "the recipients reach no active unit")
    document_id = uuid.uuid4()
    spec = [s.model_dump(mode="json") for s in draft.recipients]
    pdf_source = "uploaded"
    if main_pdf is None:
        main_pdf = await _rendered_file(conn, {**draft.model_dump(mode="json"),
                                               "issuer_id": issuer_id,
                                               "recipient_labels": resolved.labels})  # fmt: skip
        pdf_source = "rendered"
    await conn.execute(
        """INSERT INTO documents (id, issuer_id, doc_type, issuer_abbreviation, drafting_unit,
               summary, content, urgency, secrecy, business_type, replaces, due_date,
               recipients_spec, recipient_labels, created_by, pdf_source)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)""",
        document_id,
        issuer_id,
        draft.doc_type,
        abbreviation,
        draft.drafting_unit,
        draft.summary,
        draft.content,
        draft.urgency.value if draft.urgency else None,
        draft.secrecy.value if draft.secrecy else None,
        int(business_type),
        replaces,
        draft.due_date,
        spec,
        resolved.labels,
        principal.key,
        pdf_source,
    )
    rows = [(main_pdf, "main", 0)] + [(a, "attachment", i) for i, a in enumerate(attachments, 1)]
    await conn.executemany(
        """INSERT INTO document_files (id, document_id, role, position, filename, content_type,
               size, sha256, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        [
            (
                uuid.uuid4(),
                document_id,
                role,
                position,
                f.filename,
                "application/pdf" if role == "main" else f.content_type,
                len(f.content),
                hashlib.sha256(f.content).hexdigest(),
                f.content,
            )
            for f, role, position in rows
        ],
    )
    view = await load_document(conn, document_id)
    assert view is not None
    return view


async def _rendered_file(conn: Connection, document: Any, **signer: str | None) -> UploadedFile:
    content = await official_pdf.official_content(conn, document, **signer)
    pdf, _placement = await asyncio.to_thread(official_pdf.render, content)
    return UploadedFile("pdf", f"{document['doc_type']}.pdf", "application/pdf", pdf)


def _signing_failed(error: Exception) -> Problem:
    return invalid("pdf", f"the main PDF cannot be signed: {error}")


async def _check_and_store(conn: Connection, document_id: uuid.UUID, pdf: bytes) -> None:
    """Validate what we just signed, once, and keep the verdict shown with the document."""
    if not signing_hooks.signing_enabled():
        return  # PDFs pass through unsigned (no kit): nothing to report but 'unsigned'
    check = await asyncio.to_thread(signing_hooks.check_signatures, pdf)
    await store_signature_check(conn, document_id, check)


async def _locked(conn: Connection, principal: Principal, document_id: uuid.UUID) -> Any:
    row = await conn.fetchrow("SELECT * FROM documents WHERE id = $1 FOR UPDATE", document_id)
    if row is None:
        raise Problem(404, "Unknown document", f"document {document_id} does not exist")
    ensure_acts_for(principal, row["issuer_id"])
    return row


def _expect_state(row: Any, *states: str, action: str) -> None:
    if row["state"] not in states:
        raise Problem(
            409,
            "Wrong document state",
            f"document {row['id']} is {row['state']}; {action} needs it {' or '.join(states)}",
        )


async def add_attachment(
    conn: Connection,
    principal: Principal,
    document_id: uuid.UUID,
    file: UploadedFile,
    *,
    settings: DocumentsSettings | None = None,
) -> FileView:
    """Add an attachment to a draft (after approval the document is what was approved), with
    the same size checks as drafting; it goes after the draft's other attachments."""
    row = await _locked(conn, principal, document_id)
    _expect_state(row, "draft", action="adding an attachment")
    settings = settings or documents_settings()
    check_files(None, [file], settings, main_required=False)
    count = await conn.fetchval(
        "SELECT count(*) FROM document_files WHERE document_id = $1 AND role = 'attachment'",
        document_id,
    )
    if count >= settings.max_attachments:
        raise invalid(
            file.field,
            f"the draft has {count} attachments; the limit is {settings.max_attachments}",
        )
    file_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO document_files (id, document_id, role, position, filename, content_type,
               size, sha256, content)
           SELECT $1, $2, 'attachment', COALESCE(max(position), 0) + 1, $3, $4, $5, $6, $7
           FROM document_files WHERE document_id = $2""",
        file_id,
        document_id,
        file.filename,
        file.content_type,
        len(file.content),
        file.sha256,
        file.content,
    )
    await conn.execute("UPDATE documents SET updated_at = now() WHERE id = $1", document_id)
    view = await load_document(conn, document_id)
    assert view is not None
    return next(f for f in view.attachments if f.id == file_id)


async def approve(conn: Connection, principal: Principal, document_id: uuid.UUID) -> DocumentView:
    row = await _locked(conn, principal, document_id)
    _expect_state(row, "draft", action="approval")
    await conn.execute(
        "UPDATE documents SET state = 'approved', approved_by = $2, approved_at = now(), "
        "updated_at = now() WHERE id = $1",
        document_id,
        principal.key,
    )
    view = await load_document(conn, document_id)
    assert view is not None
    return view


async def _main_file(conn: Connection, document_id: uuid.UUID) -> tuple[uuid.UUID, bytes]:
    row = await conn.fetchrow(
        "SELECT id, content FROM document_files WHERE document_id = $1 AND role = 'main'",
        document_id,
    )
    assert row is not None
    return row["id"], bytes(row["content"])


async def sign(
    conn: Connection, principal: Principal, document_id: uuid.UUID, signer: SignerInput
) -> DocumentView:
    """Record the signer and sign the main PDF with the signer's signature (a rendered PDF is
    laid out again first, with the signer's name and the box for the signature)."""
    row = await _locked(conn, principal, document_id)
    _expect_state(row, "approved", action="signing")
    file_id, pdf = await _main_file(conn, document_id)
    placement = None
    if row["pdf_source"] == "rendered":
        content = await official_pdf.official_content(
            conn, row, signer_name=signer.name, signer_position=signer.position,
            signer_competence=signer.competence,
        )  # fmt: skip
        pdf, placement = await asyncio.to_thread(official_pdf.render, content)
        await replace_file_content(conn, file_id, pdf, signed=False, note="rendered")
    info = signing_hooks.SignerInfo(
        signer.name, signer.position, signer.competence, row["issuer_id"], principal.subject
    )
    try:
        signed = await asyncio.to_thread(signing_hooks.sign_as_signer, pdf, info, placement)
    except signing_hooks.SigningFailed as error:
        raise _signing_failed(error) from None
    if signed != pdf:
        await replace_file_content(conn, file_id, signed, signed=True, note=f"signer {signer.name}")
        await _check_and_store(conn, document_id, signed)
    await conn.execute(
        """UPDATE documents SET state = 'signed', signer_name = $2, signer_position = $3,
               signer_competence = $4, signed_by = $5, signed_at = now(), updated_at = now()
           WHERE id = $1""",
        document_id,
        signer.name,
        signer.position,
        signer.competence,
        principal.key,
    )
    view = await load_document(conn, document_id)
    assert view is not None
    return view


async def issue(
    conn: Connection,
    principal: Principal,
    document_id: uuid.UUID,
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> DocumentView:
    """Number, seal, route and announce the document, all in the caller's transaction."""
    row = await _locked(conn, principal, document_id)
    _expect_state(row, "signed", action="issuing")
    now = now or now_in_vietnam()
    today = today or now.date()
    secrecy = Secrecy(row["secrecy"]) if row["secrecy"] else None
    doc_type = document_type(row["doc_type"])
    selectors = SELECTORS.validate_python(row["recipients_spec"])
    # Checked again: a unit may have closed or a list changed since the draft.
    resolved = await recipient_rules.resolve(conn, row["issuer_id"], selectors, today=today)
    klass, number = await series.allocate_number(conn, row["issuer_id"], today, secrecy)
    notation = format_notation(number, doc_type, row["issuer_abbreviation"], row["drafting_unit"])
    file_id, pdf = await _main_file(conn, document_id)
    # The series row stays locked while sealing (~0.1 s): the seal shows the number, and a
    # rollback must give the number back.
    try:
        sealed = await asyncio.to_thread(
            signing_hooks.seal_as_organisation, pdf, row["issuer_id"], notation
        )
    except signing_hooks.SigningFailed as error:
        raise _signing_failed(error) from None
    if sealed != pdf:
        await replace_file_content(conn, file_id, sealed, signed=True, note="organisation seal")
        await _check_and_store(conn, document_id, sealed)
    count = await recipient_rules.route(
        conn, document_id, row["issuer_id"], resolved, today=today, now=now
    )
    if count == 0:
        raise invalid("recipients", "the recipients reach no active unit any more")
    await conn.execute(
        """INSERT INTO delivery_history (document_id, recipient_id, status, at, actor, note)
           SELECT document_id, recipient_id, '01', arrived_at, $2, 'issued'
           FROM deliveries WHERE document_id = $1""",
        document_id,
        principal.key,
    )
    await conn.execute(
        """UPDATE documents SET state = 'issued', series_class = $2, issue_year = $3,
               number = $4, notation = $5, issued_on = $6, issued_at = $7, issued_by = $8,
               recipient_count = $9, recipient_labels = $10, updated_at = now()
           WHERE id = $1""",
        document_id,
        klass.value,
        today.year,
        number,
        notation,
        today,
        now,
        principal.key,
        count,
        resolved.labels,
    )
    if row["replaces"] is not None and row["business_type"] == BusinessType.REPLACEMENT:
        await conn.execute(
            "UPDATE documents SET state = 'replaced', replaced_by = $2, updated_at = now() "
            "WHERE id = $1",
            row["replaces"],
            document_id,
        )
    elif row["replaces"] is not None:
        await conn.execute(
            "UPDATE documents SET replaced_by = $2, updated_at = now() WHERE id = $1",
            row["replaces"],
            document_id,
        )
    await add_event(
        conn,
        DocumentIssued(
            document_id=document_id,
            issuer_id=row["issuer_id"],
            doc_type=doc_type.key,
            number=number,
            notation=notation,
            issued_on=today,
            urgency=row["urgency"],
            secrecy=row["secrecy"],
            business_type=row["business_type"],
            replaces=row["replaces"],
            due_date=row["due_date"],
            recipient_count=count,
            issued_at=now,
        ),
        source=SOURCE,
    )
    view = await load_document(conn, document_id)
    assert view is not None
    return view


async def start_successor(
    conn: Connection,
    principal: Principal,
    original_id: uuid.UUID,
    fields: dict[str, Any],
    business_type: BusinessType,
    main_pdf: UploadedFile | None,
    attachments: list[UploadedFile],
    *,
    settings: DocumentsSettings | None = None,
) -> DocumentView:
    """A draft that updates or replaces an issued document. Fields not given are the
    original's (type, recipients, classification, drafting unit), so by default the recipients
    of the original get the new one."""
    if business_type not in (BusinessType.UPDATE, BusinessType.REPLACEMENT):
        raise invalid("business_type", "a successor is an update (2) or a replacement (3)")
    original = await _locked(conn, principal, original_id)
    _expect_state(original, "issued", action="an update or replacement")
    if original["replaced_by"] is not None:
        raise Problem(
            409,
            "Already superseded",
            f"document {original_id} already has a successor {original['replaced_by']}",
        )
    defaults = {
        "doc_type": original["doc_type"],
        "summary": original["summary"],
        "drafting_unit": original["drafting_unit"],
        "issuer_abbreviation": original["issuer_abbreviation"],
        "urgency": original["urgency"],
        "secrecy": original["secrecy"],
        "due_date": original["due_date"],
        "recipients": original["recipients_spec"],
    }
    draft = draft_from_json({**defaults, **fields})
    return await create_draft(
        conn,
        principal,
        draft,
        main_pdf,
        attachments,
        replaces=original_id,
        business_type=business_type,
        settings=settings,
    )


def draft_from_json(data: Any) -> DraftInput:
    """Validate the draft fields; a 422 names each bad field as `document.<field>`."""
    from pydantic import ValidationError

    try:
        return DraftInput.model_validate(data)
    except ValidationError as exc:
        errors = [
            field_error(
                ".".join(str(p) for p in ["document", *err["loc"]]), err["msg"], err["type"]
            )
            for err in exc.errors()
        ]
        raise Problem(
            422,
            "Invalid request",
            "invalid fields: " + ", ".join(e["field"] for e in errors),
            errors=errors,
        ) from None


def fingerprint(draft: Any, files: list[UploadedFile]) -> dict[str, Any]:
    return {
        "document": json.loads(json.dumps(draft, default=str)),
        "files": [f.fingerprint() for f in files],
    }
