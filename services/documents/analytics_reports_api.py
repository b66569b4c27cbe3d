"""HTTP routes of the drafts made from analytics reports (analytics_reports.py)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.documents import analytics_reports
from shared.db.pool import Connection
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import answer_post

router = APIRouter(tags=["analytics reports"])


@router.get("/analytics-reports", summary="Analytics reports that arrived and their drafts")
async def list_reports(
    pool: PoolDep, principal: PrincipalDep, org_id: str | None = None
) -> dict[str, Any]:
    org_id = org_id or principal.org_id
    async with pool.acquire() as conn:
        return {
            "org_id": org_id,
            "reports": await analytics_reports.list_drafts(conn, principal, org_id),
        }


@router.get("/analytics-reports/{report_id}", summary="One report and its draft")
async def get_report(
    report_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep
) -> dict[str, Any]:
    async with pool.acquire() as conn:
        row = await analytics_reports.get_draft(conn, principal, report_id)
    return analytics_reports.row_json(row)


@router.post(
    "/analytics-reports/{report_id}/workbook",
    summary="Attach the report's workbook to its draft (the file, or fetched from analytics)",
)
async def attach(
    report_id: uuid.UUID,
    body: analytics_reports.WorkbookInput,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    authorization = request.headers.get("authorization")

    async def run(conn: Connection) -> Any:
        return await analytics_reports.attach_workbook(
            conn, principal, report_id, body, authorization=authorization
        )

    return await answer_post(request, pool, principal, idempotency_key, body, run)


@router.post(
    "/analytics-reports/{report_id}/retry",
    summary="Make the draft of a report that could not be addressed when it arrived",
)
async def retry(
    report_id: uuid.UUID,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def run(conn: Connection) -> Any:
        return await analytics_reports.retry(conn, principal, report_id)

    return await answer_post(request, pool, principal, idempotency_key, {}, run)
