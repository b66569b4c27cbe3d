"""HTTP routes of report requests (POST needs an Idempotency-Key)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from services.documents import report_requests
from shared.db.pool import Connection
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import answer_post

router = APIRouter(tags=["report requests"])


@router.post(
    "/report-requests",
    status_code=201,
    summary="Ask units for a report (form or file) by a deadline",
    description="Issues a công văn to the recipients (numbered, in their inboxes and "
    "registers) and opens the request; documents.report.requested. The caller names the "
    "signer, as at POST /documents/{id}/sign.",
)
async def create(
    body: report_requests.ReportRequestInput,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def run(conn: Connection) -> Any:
        return await report_requests.create_request(conn, principal, body)

    return await answer_post(request, pool, principal, idempotency_key, body, run, status=201)


@router.get("/report-requests", summary="Requests a unit issued, or (addressed=true) received")
async def list_requests(
    pool: PoolDep, principal: PrincipalDep, org_id: str | None = None, addressed: bool = False
) -> dict[str, Any]:
    org_id = org_id or principal.org_id
    async with pool.acquire() as conn:
        found = await report_requests.list_requests(
            conn, principal, org_id=org_id, addressed=addressed
        )
    return {"org_id": org_id, "requests": found}


@router.get(
    "/report-requests/{request_id}",
    summary="A request: the issuer sees every unit's state, a unit asked its own submission",
)
async def get_request(
    request_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep
) -> dict[str, Any]:
    async with pool.acquire() as conn:
        return await report_requests.describe(conn, principal, request_id)


@router.get(
    "/report-requests/{request_id}/status",
    summary="Who has submitted, who is late, who is missing",
)
async def get_status(
    request_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep
) -> dict[str, Any]:
    async with pool.acquire() as conn:
        return await report_requests.status(conn, principal, request_id)


@router.post(
    "/report-requests/{request_id}/submissions",
    summary="Submit (or replace) the unit's report: form values or a file (base64)",
    description="After the deadline the submission is accepted and marked late. Files: xlsx, "
    "docx, pdf or csv, up to DOCUMENTS_MAX_ATTACHMENT_BYTES. documents.report.submitted.",
)
async def submit(
    request_id: uuid.UUID,
    body: report_requests.SubmissionInput,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def run(conn: Connection) -> Any:
        return await report_requests.submit(conn, principal, request_id, body)

    return await answer_post(request, pool, principal, idempotency_key, body, run)


@router.post(
    "/report-requests/{request_id}/remind",
    summary="Remind the units that have not submitted (documents.document.reminded)",
)
async def remind(
    request_id: uuid.UUID,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def run(conn: Connection) -> Any:
        return await report_requests.remind_missing(conn, principal, request_id)

    return await answer_post(request, pool, principal, idempotency_key, {}, run)


@router.get(
    "/report-requests/{request_id}/submissions.zip",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
    summary="Every submission in one zip, with the summary workbook tong-hop.xlsx",
)
async def download_all(request_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep) -> Response:
    async with pool.acquire() as conn:
        name, content = await report_requests.export_zip(conn, principal, request_id)
    return Response(
        content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
