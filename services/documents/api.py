"""HTTP routes of the e-office: outgoing documents, inboxes, registers, distribution lists."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.documents import incoming, lists, outgoing, register_export
from services.documents.access import (
    ensure_acts_for,
    ensure_reads_document,
    ensure_reads_org,
)
from services.documents.config import documents_settings
from services.documents.domain.registers import RegisterKind
from services.documents.domain.status import BusinessType
from services.documents.files import check_files
from services.documents.uploads import read_upload
from services.documents.views import load_document, load_file_content
from shared.auth import Principal
from shared.db.pool import Connection
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import answer_post, idempotent_response, run_idempotent
from shared.http.problems import Problem, field_error
from shared.vietnam_time import now_in_vietnam

router = APIRouter(tags=["documents"])

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "document": outgoing.DraftInput.model_json_schema(),
                        "pdf": {
                            "type": "object",
                            "properties": {
                                "filename": {"type": "string"},
                                "content_base64": {"type": "string"},
                            },
                        },
                        "attachments": {"type": "array", "items": {"type": "object"}},
                    },
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "document": {"type": "string", "description": "JSON of the fields"},
                        "pdf": {"type": "string", "format": "binary"},
                        "attachments": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                        },
                    },
                }
            },
        },
    }
}


class IssuerProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    abbreviation: str = Field(min_length=1, max_length=40, description="e.g. SGDĐT")


@router.put("/issuers/{org_id}", summary="Set a unit's Decree 30 issuer abbreviation")
async def put_issuer(
    org_id: str, body: IssuerProfile, pool: PoolDep, principal: PrincipalDep
) -> dict[str, Any]:
    ensure_acts_for(principal, org_id)
    from services.documents.domain.document_types import DOCUMENT_TYPES
    from services.documents.domain.numbering import format_code

    try:
        format_code(DOCUMENT_TYPES["quyet_dinh"], body.abbreviation)
    except ValueError as exc:
        raise Problem(422, "Invalid request", str(exc)) from None
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO issuer_profiles (org_id, abbreviation) VALUES ($1, $2) "
            "ON CONFLICT (org_id) DO UPDATE SET abbreviation = $2, updated_at = now()",
            org_id,
            body.abbreviation,
        )
    return {"org_id": org_id, "abbreviation": body.abbreviation}


async def _upload_post(
    request: Request,
    pool: Any,
    principal: Principal,
    key: str | None,
    run: Callable[[Connection, dict[str, Any], Any, list[Any]], Awaitable[Any]],
) -> JSONResponse:
    fields, main, attachments = await read_upload(request)
    files = ([main] if main else []) + attachments
    body = outgoing.fingerprint(fields, files)

    async def action(conn: Connection) -> tuple[int, Any]:
        return 201, await run(conn, fields, main, attachments)

    status, response, replayed = await run_idempotent(
        pool,
        principal=principal.key,
        key=key,
        method="POST",
        path=request.url.path,
        body=body,
        action=action,
    )
    return idempotent_response(status, response, replayed=replayed)


@router.post(
    "/documents",
    status_code=201,
    summary="Draft an outgoing document with its main PDF and attachments",
    description="Multipart (parts document, pdf, attachments) or JSON with base64 files. A "
    "main file that is not a PDF, an attachment over the size limit or an unknown recipient "
    "is a 422 naming it; nothing is stored then.",
    openapi_extra=_UPLOAD_BODY,
)
async def draft(
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def run(conn: Connection, fields: dict[str, Any], main: Any, files: list[Any]) -> Any:
        view = await outgoing.create_draft(
            conn, principal, outgoing.draft_from_json(fields), main, files
        )
        return view.to_json()

    return await _upload_post(request, pool, principal, idempotency_key, run)


@router.post(
    "/documents/{document_id}/replacement",
    status_code=201,
    summary="Draft the update or replacement of an issued document",
    description="Like POST /documents; `document` may omit fields to keep the original's, "
    "and `document.business_type` is 'replacement' (default) or 'update'. When issued, it "
    "references the original and reaches its recipients.",
    openapi_extra=_UPLOAD_BODY,
)
async def successor(
    document_id: uuid.UUID,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def run(conn: Connection, fields: dict[str, Any], main: Any, files: list[Any]) -> Any:
        fields = dict(fields)
        kind = fields.pop("business_type", "replacement")
        business = {"replacement": BusinessType.REPLACEMENT, "update": BusinessType.UPDATE}.get(
            kind
        )
        if business is None:
            raise Problem(422, "Invalid request", "document.business_type: replacement or update")
        view = await outgoing.start_successor(
            conn, principal, document_id, fields, business, main, files
        )
        return view.to_json()

    return await _upload_post(request, pool, principal, idempotency_key, run)


@router.post(
    "/inbox/received",
    status_code=201,
    summary="Register a document received by other means (e-mail, paper) with its PDF",
    description="Like POST /documents: `document` holds sender_name, notation, issued_on, "
    "summary (and doc_type, urgency, due_date, org_id), `pdf` the document. Its signatures "
    "are checked: a flagged one is registered with the flag showing in the inbox.",
    openapi_extra=_UPLOAD_BODY,
)
async def receive_document(
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def run(conn: Connection, fields: dict[str, Any], main: Any, files: list[Any]) -> Any:
        received = _validated(incoming.ReceivedInput, fields)
        check_files(main, files, documents_settings())
        result = await incoming.receive_upload(
            conn,
            principal,
            received,
            incoming.ExternalFile(main.filename, "application/pdf", main.content),
            [incoming.ExternalFile(f.filename, f.content_type, f.content) for f in files],
        )
        view = await load_document(conn, uuid.UUID(result["document_id"]))
        assert view is not None
        return {**result, "document": view.to_json()}

    return await _upload_post(request, pool, principal, idempotency_key, run)


def _validated(model: type[BaseModel], fields: dict[str, Any]) -> Any:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        errors = [
            field_error(
                ".".join(str(p) for p in ["document", *err["loc"]]), err["msg"], err["type"]
            )
            for err in exc.errors()
        ]
        raise Problem(422, "Invalid request", errors[0]["message"], errors=errors) from None


class Empty(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecallInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)


def _step_route(
    path: str,
    summary: str,
    model: type[BaseModel],
    use: Callable[[Connection, Principal, uuid.UUID, Any], Awaitable[Any]],
) -> None:
    async def route(
        document_id: uuid.UUID,
        body: model,  # type: ignore[valid-type]
        request: Request,
        pool: PoolDep,
        principal: PrincipalDep,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> JSONResponse:
        async def run(conn: Connection) -> Any:
            result = await use(conn, principal, document_id, body)
            return result.to_json() if hasattr(result, "to_json") else result

        return await answer_post(request, pool, principal, idempotency_key, body, run)

    route.__name__ = (
        path.strip("/").replace("/", "_").replace("{", "").replace("}", "").replace("-", "_")
    )
    # The body model differs per route; with postponed annotations the name "model" would not
    # resolve, so the class itself is put in place.
    route.__annotations__["body"] = model
    router.post(path, summary=summary)(route)


_step_route(
    "/documents/{document_id}/approve",
    "Approve a draft (the leader's approval before signing)",
    Empty,
    lambda c, p, d, b: outgoing.approve(c, p, d),
)
_step_route(
    "/documents/{document_id}/sign",
    "Sign the approved document: records the signer and signs the main PDF",
    outgoing.SignerInput,
    lambda c, p, d, b: outgoing.sign(c, p, d, b),
)
_step_route(
    "/documents/{document_id}/issue",
    "Issue: Decree 30 number and notation, seal, route to every recipient's inbox",
    Empty,
    lambda c, p, d, b: outgoing.issue(c, p, d),
)
_step_route(
    "/documents/{document_id}/recall",
    "Ask every recipient for the document back (status 13)",
    RecallInput,
    lambda c, p, d, b: incoming.request_recall(c, p, d, b.note),
)
_step_route(
    "/documents/{document_id}/remind",
    "Remind the recipients whose deadline has passed (documents.document.reminded)",
    Empty,
    lambda c, p, d, b: incoming.remind_overdue(c, p, d),
)
_step_route(
    "/inbox/{document_id}/register",
    "Register an incoming document: arrival number, status 03, receipt to the sender",
    incoming.StepInput,
    lambda c, p, d, b: incoming.register(c, p, d, b),
)
_step_route(
    "/inbox/{document_id}/refuse",
    "Refuse an incoming document (status 02) with the reason",
    incoming.RefuseInput,
    lambda c, p, d, b: incoming.refuse(c, p, d, b),
)
_step_route(
    "/inbox/{document_id}/assign",
    "Assign to a handling department or person with a deadline (status 04)",
    incoming.AssignInput,
    lambda c, p, d, b: incoming.assign(c, p, d, b),
)
_step_route(
    "/inbox/{document_id}/progress",
    "Mark in progress (status 05)",
    incoming.StepInput,
    lambda c, p, d, b: incoming.progress(c, p, d, b, done=False),
)
_step_route(
    "/inbox/{document_id}/complete",
    "Mark done (status 06)",
    incoming.StepInput,
    lambda c, p, d, b: incoming.progress(c, p, d, b, done=True),
)
_step_route(
    "/inbox/{document_id}/recall-answer",
    "Answer the sender's recall: agree (15, frozen) or refuse (16)",
    incoming.RecallAnswerInput,
    lambda c, p, d, b: incoming.answer_recall(c, p, d, b),
)


@router.get("/documents", summary="Outgoing documents of a unit")
async def list_outgoing(
    pool: PoolDep,
    principal: PrincipalDep,
    org_id: str | None = None,
    state: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    org_id = org_id or principal.org_id
    async with pool.acquire() as conn:
        await ensure_reads_org(conn, principal, org_id)
        rows = await conn.fetch(
            """SELECT id, doc_type, notation, summary, state, issued_on, recipient_count,
                      urgency, secrecy, created_at
               FROM documents WHERE issuer_id = $1 AND ($2::text IS NULL OR state = $2)
               ORDER BY created_at DESC LIMIT $3""",
            org_id,
            state,
            limit,
        )
    return {
        "org_id": org_id,
        "documents": [
            {
                **{
                    k: r[k]
                    for k in (
                        "doc_type",
                        "notation",
                        "summary",
                        "state",
                        "urgency",
                        "secrecy",
                        "recipient_count",
                    )
                },
                "id": str(r["id"]),
                "issued_on": r["issued_on"].isoformat() if r["issued_on"] else None,
            }
            for r in rows
        ],
    }


async def _readable(conn: Connection, principal: Principal, document_id: uuid.UUID) -> Any:
    view = await load_document(conn, document_id)
    if view is None:
        raise Problem(404, "Unknown document", f"document {document_id} does not exist")
    as_recipient = await ensure_reads_document(conn, principal, document_id, view.issuer_id)
    if as_recipient:
        await incoming.mark_read(conn, document_id, principal.org_id)
    return view


@router.get("/documents/{document_id}", summary="A document (opening it marks it read)")
async def get_document(
    document_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep
) -> dict[str, Any]:
    async with pool.acquire() as conn:
        view = await _readable(conn, principal, document_id)
    return view.to_json()


@router.get(
    "/documents/{document_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="The main PDF (signed once signing is plugged in)",
)
async def get_pdf(document_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep) -> Response:
    async with pool.acquire() as conn:
        view = await _readable(conn, principal, document_id)
        content = await load_file_content(conn, view.main_pdf.id)
    assert content is not None
    return Response(content, media_type="application/pdf")


@router.get("/documents/{document_id}/files/{file_id}", response_class=Response)
async def get_file(
    document_id: uuid.UUID, file_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep
) -> Response:
    async with pool.acquire() as conn:
        view = await _readable(conn, principal, document_id)
        files = {f.id: f for f in (view.main_pdf, *view.attachments)}
        if file_id not in files:
            raise Problem(404, "Unknown file", f"file {file_id} is not part of {document_id}")
        content = await load_file_content(conn, file_id)
    assert content is not None
    found = files[file_id]
    return Response(
        content,
        media_type=found.content_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(found.filename)}"},
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@router.get(
    "/documents/{document_id}/recipients",
    summary="Per recipient: received, read, assigned, done, with times (for the sender)",
)
async def get_recipients(
    document_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep
) -> dict[str, Any]:
    async with pool.acquire() as conn:
        return await incoming.recipients_of(conn, principal, document_id)


@router.get("/documents/{document_id}/history", summary="Status history at one recipient")
async def get_history(
    document_id: uuid.UUID,
    pool: PoolDep,
    principal: PrincipalDep,
    org_id: str | None = None,
) -> dict[str, Any]:
    org_id = org_id or principal.org_id
    async with pool.acquire() as conn:
        doc = await conn.fetchval("SELECT issuer_id FROM documents WHERE id = $1", document_id)
        if doc is None:
            raise Problem(404, "Unknown document", f"document {document_id} does not exist")
        if principal.org_id != doc:  # the sender may read every recipient's history
            await ensure_reads_org(conn, principal, org_id)
        rows = await conn.fetch(
            "SELECT status, previous_status, at, actor, note FROM delivery_history "
            "WHERE document_id = $1 AND recipient_id = $2 ORDER BY id",
            document_id,
            org_id,
        )
    return {
        "document_id": str(document_id),
        "org_id": org_id,
        "history": [
            {
                "status": r["status"],
                "previous_status": r["previous_status"],
                "at": r["at"].isoformat(),
                "actor": r["actor"],
                "note": r["note"],
            }
            for r in rows
        ],
    }


@router.get("/inbox", summary="A unit's incoming documents (overdue=true: past their deadline)")
async def get_inbox(
    pool: PoolDep,
    principal: PrincipalDep,
    org_id: str | None = None,
    overdue: bool = False,
    status: str | None = Query(default=None, pattern=r"^(0[1-6]|1[356])$"),
    before: datetime | None = None,
    limit: int = Query(default=200, ge=1, le=2000),
) -> dict[str, Any]:
    org_id = org_id or principal.org_id
    async with pool.acquire() as conn:
        items = await incoming.inbox(
            conn, principal, org_id, overdue=overdue, status=status, limit=limit, before=before
        )
    return {"org_id": org_id, "items": items}


@router.get(
    "/registers/{kind}",
    summary="The outgoing or incoming register of a unit for a year (json, xlsx or pdf)",
    responses={200: {"content": {register_export.XLSX_MEDIA_TYPE: {}, "application/pdf": {}}}},
)
async def get_register(
    kind: RegisterKind,
    pool: PoolDep,
    principal: PrincipalDep,
    year: int | None = Query(default=None, ge=2000, le=2200),
    format: Literal["json", "xlsx", "pdf"] = "json",
    org_id: str | None = None,
    series: Literal["ordinary", "secret"] = "ordinary",
) -> Any:
    org_id = org_id or principal.org_id
    year = year or now_in_vietnam().year
    async with pool.acquire() as conn:
        await ensure_reads_org(conn, principal, org_id)
        name = await conn.fetchval("SELECT name FROM org_units WHERE org_id = $1", org_id)
        if kind is RegisterKind.OUTGOING:
            rows: list[Any] = await register_export.outgoing_rows(conn, org_id, year, series)
        else:
            rows = await register_export.incoming_rows(conn, org_id, year, series)
    label = "SỔ ĐĂNG KÝ VĂN BẢN ĐI" if kind is RegisterKind.OUTGOING else "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"
    title = f"{label}{' MẬT' if series == 'secret' else ''} năm {year} – {name or org_id}"
    filename = f"so-{'di' if kind is RegisterKind.OUTGOING else 'den'}-{org_id}-{year}"
    if format == "json":
        return {
            "org_id": org_id,
            "year": year,
            "series": series,
            "title": title,
            **register_export.as_json(kind, rows),
        }
    if format == "xlsx":
        content = await asyncio.to_thread(register_export.as_xlsx, kind, title, rows)
        media = register_export.XLSX_MEDIA_TYPE
    else:
        content = await asyncio.to_thread(register_export.as_pdf, kind, title, rows)
        media = "application/pdf"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}.{format}"'},
    )


@router.post("/distribution-lists", status_code=201, summary="Save a distribution list")
async def create_list(
    body: lists.ListInput,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return await answer_post(
        request,
        pool,
        principal,
        idempotency_key,
        body,
        lambda conn: lists.create(conn, principal, body),
        status=201,
    )


@router.get("/distribution-lists", summary="A unit's distribution lists")
async def get_lists(
    pool: PoolDep, principal: PrincipalDep, org_id: str | None = None
) -> dict[str, Any]:
    async with pool.acquire() as conn:
        return {"lists": await lists.list_all(conn, principal, org_id or principal.org_id)}


@router.get("/distribution-lists/{list_id}")
async def get_list(list_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep) -> dict[str, Any]:
    async with pool.acquire() as conn:
        return await lists.get(conn, principal, list_id)


@router.put("/distribution-lists/{list_id}")
async def put_list(
    list_id: uuid.UUID, body: lists.ListInput, pool: PoolDep, principal: PrincipalDep
) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        return await lists.replace(conn, principal, list_id, body)


@router.delete("/distribution-lists/{list_id}", status_code=204, response_class=Response)
async def delete_list(list_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep) -> Response:
    async with pool.acquire() as conn, conn.transaction():
        await lists.delete(conn, principal, list_id)
    return Response(status_code=204)
