"""HTTP routes of register verification: validate, authorise, call a handler."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.identity.verification import handlers
from shared.events.contracts.identity import OrgId
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import answer_post
from shared.http.pagination import decode_cursor, encode_cursor
from shared.http.problems import Problem
from shared.vietnam_time import today_in_vietnam

router = APIRouter(prefix="/verification", tags=["population register verification"])

# Response files hold one short line per person: 50 MB is far above the largest batch.
MAX_RESPONSE_BYTES = 50 * 1024 * 1024
CSV_TYPES = ("text/csv", "text/plain", "application/octet-stream", "application/vnd.ms-excel")


class BatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: OrgId | None = Field(
        default=None,
        description="Send the unverified persons held at or below this unit; with sector_ids, "
        "the unit the listed persons must belong to (default: your own unit)",
    )
    sector_ids: list[str] | None = Field(
        default=None,
        max_length=handlers.MAX_BATCH_ROWS,
        description="Send exactly these persons (any verification status)",
    )
    include_pending: bool = Field(
        default=False,
        description="Also send persons still waiting for an answer in an unanswered batch",
    )
    limit: int = Field(default=handlers.MAX_BATCH_ROWS, ge=1, le=handlers.MAX_BATCH_ROWS)


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept: Literal["register", "ours"] = Field(
        description="'register': take the register's values; 'ours': keep our record as it is"
    )
    note: str | None = Field(
        default=None, max_length=1000, description="Why; required when keeping ours"
    )


@router.post(
    "/batches",
    status_code=201,
    summary="Create a verification batch (unverified persons of a unit, or listed persons)",
)
async def create_batch(
    body: BatchCreate,
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
        body.model_dump(mode="json"),
        lambda conn: handlers.create_batch(
            conn,
            principal,
            org_id=body.org_id,
            sector_ids=body.sector_ids,
            include_pending=body.include_pending,
            limit=body.limit,
            today=today_in_vietnam(),
        ),
        status=201,
    )


@router.get("/batches", summary="Verification batches made for units in your scope")
async def list_batches(
    pool: PoolDep,
    principal: PrincipalDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        batches = await handlers.list_batches(
            conn, principal, after=decode_cursor(cursor), limit=limit + 1
        )
    items = batches[:limit]
    next_cursor = encode_cursor(items[-1]["batch_id"]) if len(batches) > limit else None
    return {"items": items, "next_cursor": next_cursor}


@router.get("/batches/{batch_id}", summary="A verification batch and how far it was answered")
async def read_batch(batch_id: str, pool: PoolDep, principal: PrincipalDep) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        return await handlers.read_batch(conn, principal, batch_id)


@router.get(
    "/batches/{batch_id}/request.csv",
    summary="The request file to carry to the population register (audited as an export)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def request_file(batch_id: str, pool: PoolDep, principal: PrincipalDep) -> Response:
    async with pool.acquire() as conn, conn.transaction():
        data = await handlers.request_file(conn, principal, batch_id)
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{batch_id}.request.csv"'},
    )


@router.post(
    "/batches/{batch_id}/response",
    summary="Import the register's response file (the CSV as the request body)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def import_response(
    batch_id: str,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type not in CSV_TYPES:
        raise Problem(
            415,
            "Unsupported Media Type",
            f"send the response file itself as the body, as text/csv (got {media_type})",
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise Problem(413, "Content Too Large", f"at most {MAX_RESPONSE_BYTES} bytes")
    data = await request.body()
    if len(data) > MAX_RESPONSE_BYTES:
        raise Problem(413, "Content Too Large", f"at most {MAX_RESPONSE_BYTES} bytes")
    return await answer_post(
        request,
        pool,
        principal,
        idempotency_key,
        {"sha256": hashlib.sha256(data).hexdigest()},
        lambda conn: handlers.import_response(conn, principal, batch_id, data),
    )


@router.get(
    "/worklist",
    summary="Open mismatches in scope, our values and the register's side by side (audited)",
)
async def worklist(
    pool: PoolDep,
    principal: PrincipalDep,
    org_id: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        items = await handlers.worklist(
            conn, principal, org_id=org_id, after=decode_cursor(cursor), limit=limit + 1
        )
    page = items[:limit]
    next_cursor = encode_cursor(page[-1]["sector_id"]) if len(items) > limit else None
    return {"items": page, "next_cursor": next_cursor}


@router.post(
    "/worklist/{sector_id}/resolve",
    summary="Resolve a mismatch: take the register's values, or keep ours with a note",
)
async def resolve(
    sector_id: str,
    body: ResolveRequest,
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
        body.model_dump(mode="json"),
        lambda conn: handlers.resolve_item(
            conn, principal, sector_id, accept=body.accept, note=body.note
        ),
    )


@router.get(
    "/rates",
    summary="Verification status per school, per commune and in total, at or below a unit",
)
async def rates(
    pool: PoolDep, principal: PrincipalDep, org_id: str | None = None
) -> dict[str, Any]:
    async with pool.acquire() as conn:
        return await handlers.rates(conn, principal, org_id=org_id)
