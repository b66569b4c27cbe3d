"""HTTP routes of the reports the Department sends to communes (authenticated, scoped)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.analytics import reports
from shared.db.pool import Connection
from shared.events.contracts.identity import OrgId
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import idempotent_post

router = APIRouter(tags=["reports"])


class NonSwimmersRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: str = Field(min_length=1, max_length=64, description="The assessment campaign")
    commune_id: OrgId = Field(description="The commune the report is for and addressed to")


@router.post(
    "/reports/non-swimmers",
    status_code=201,
    summary="Build the non-swimmers report (per school and class) of a commune",
    description="Stores an Excel workbook and announces it with analytics.report.ready; the "
    "answer is that event's data (download_path: GET it). Department, or the commune itself.",
)
async def non_swimmers(
    body: NonSwimmersRequest,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def run(conn: Connection) -> object:
        ready = await reports.build_non_swimmers_report(
            conn, principal, campaign_id=body.campaign_id, commune_id=body.commune_id
        )
        return ready.model_dump(mode="json")

    return await idempotent_post(
        pool,
        principal=principal.key,
        key=idempotency_key,
        path=request.url.path,
        body=body.model_dump(mode="json"),
        run=run,
        status=201,
    )


@router.get(
    "/reports/{report_id}.xlsx",
    response_class=Response,
    responses={200: {"content": {reports.XLSX_MEDIA_TYPE: {}}}},
    summary="Download a stored report (audited)",
)
async def download(report_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep) -> Response:
    async with pool.acquire() as conn, conn.transaction():
        found = await reports.load_report(conn, principal, report_id)
    return Response(
        found.content,
        media_type=reports.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )
