"""HTTP routes of bulk imports (/imports): a file in, an outcome per row out."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from services.records.health.handlers import local_today
from services.records.imports import framework
from shared.audit import record_access
from shared.auth import require_role
from shared.db.pool import Connection
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import idempotent_response, run_idempotent
from shared.http.problems import Problem, field_error

router = APIRouter(prefix="/imports", tags=["bulk imports"])

MAX_FILE_BYTES = 256 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
        XLSX: {"schema": {"type": "string", "format": "binary"}},
    },
}


class RowKindInfo(BaseModel):
    kind: str
    required_columns: list[str]
    optional_columns: list[str]
    key_columns: list[str] = Field(
        description="Rows with the same values here are the same record: only the last counts"
    )
    description: str


class ImportRejection(BaseModel):
    row: int
    errors: list[dict[str, str]] = Field(description="field, rule, message")


class ImportResult(BaseModel):
    import_id: uuid.UUID
    kind: str
    file_name: str
    sha256: str
    path: str = Field(description="savepoint (row by row) or bulk (chunks, COPY)")
    rows: int
    accepted: int
    rejected: int
    unchanged: int
    rejections: list[ImportRejection] = Field(description="The first 100 rejected rows")
    result: str = Field(description="Where the result file of every row is")


@router.get("", response_model=list[RowKindInfo], summary="Kinds of file an import accepts")
async def kinds(principal: PrincipalDep) -> list[RowKindInfo]:
    return [
        RowKindInfo(
            kind=k.name,
            required_columns=list(k.required_columns),
            optional_columns=[*k.optional_columns, framework.SOURCE_ROW_COLUMN],
            key_columns=list(k.key_columns),
            description=k.description,
        )
        for k in framework.ROW_KINDS.values()
    ]


@router.post(
    "/{kind}",
    status_code=201,
    response_model=ImportResult,
    openapi_extra={"requestBody": FILE_BODY},
    summary="Import a CSV (comma or semicolon, UTF-8) or .xlsx file of records; every row is "
    "accepted, unchanged or rejected on its own and acknowledged with "
    "records.record.acknowledged",
)
async def submit(
    kind: str,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
    filename: Annotated[
        str | None, Query(max_length=300, description="Shown in the result; .xlsx is read as Excel")
    ] = None,
    content_type: Annotated[str | None, Header()] = None,
    content_length: Annotated[int | None, Header()] = None,
) -> JSONResponse:
    row_kind = framework.get_kind(kind)
    require_role(principal, row_kind.roles)
    if content_length is not None and content_length > MAX_FILE_BYTES:
        raise Problem(413, "File too large", f"the limit is {MAX_FILE_BYTES} bytes: split it")
    content = await request.body()
    if not content:
        raise Problem(
            422, "Empty file", "send the file as the body", errors=[field_error("body", "empty")]
        )
    if len(content) > MAX_FILE_BYTES:
        raise Problem(413, "File too large", f"the limit is {MAX_FILE_BYTES} bytes: split it")
    is_xlsx = (content_type or "").startswith(XLSX) or content[:2] == b"PK"
    name = filename or ("upload.xlsx" if is_xlsx else "upload.csv")
    digest = hashlib.sha256(content).hexdigest()
    header: list[str] = []
    rows: list[Any] = []
    if idempotency_key is not None:  # without one, run_idempotent answers 400 below
        # Parsing is CPU work: a worker thread keeps the event loop answering meanwhile.
        header, rows = await asyncio.to_thread(framework.parse_file, content, name)

    async def action(conn: Connection) -> tuple[int, Any]:
        summary = await framework.run_import(
            conn,
            principal,
            kind,
            header=header,
            rows=rows,
            file_name=name,
            sha256=digest,
            today=local_today(),
        )
        return 201, summary.as_json()

    try:
        status, response, replayed = await run_idempotent(
            pool,
            principal=principal.key,
            key=idempotency_key,
            method="POST",
            path=request.url.path,
            body={"kind": kind, "file_name": name, "sha256": digest},
            action=action,
        )
    except asyncpg.DeadlockDetectedError:
        # Two imports locking the same learners in different orders: nothing was stored, and
        # the same request with the same key will go through.
        raise Problem(
            503,
            "Busy",
            "another import was writing the same learners; send the same request again",
            headers={"Retry-After": "2"},
        ) from None
    return idempotent_response(status, response, replayed=replayed)


@router.get("/{import_id}", summary="An import's counts")
async def get_import(import_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep) -> Any:
    async with pool.acquire() as conn:
        return await framework.get_import(conn, principal, import_id)


@router.get(
    "/{import_id}/result.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
    summary="The outcome of every row: row, outcome, record_id, errors (audited)",
)
async def result_file(import_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep) -> Any:
    async with pool.acquire() as conn, conn.transaction():
        summary = await framework.get_import(conn, principal, import_id)
        # Errors quote a row's values (a child's height, eyesight): reading them is audited.
        await record_access(
            conn, principal, action="read", entity_kind="import", entity_ids=[str(import_id)]
        )

    async def stream() -> AsyncIterator[bytes]:
        yield b"\xef\xbb\xbf"  # so that Excel opens the Vietnamese text as UTF-8
        async with pool.acquire() as conn, conn.transaction():
            async for piece in framework.result_csv(conn, import_id):
                yield piece.encode()

    file_name = f"{summary['kind']}-{import_id}-result.csv"
    return StreamingResponse(
        stream(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )
