"""HTTP routes of school facilities."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from services.records.facilities import handlers
from services.records.facilities.handlers import (
    FacilitiesHistory,
    FacilitiesPublic,
    FacilitiesReport,
    FacilitiesSaved,
)
from shared.db.pool import Connection
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import idempotent_response, run_idempotent
from shared.vietnam_time import today_in_vietnam

router = APIRouter(prefix="/facilities", tags=["facilities"])


@router.post(
    "/{school_id}",
    response_model=FacilitiesSaved,
    responses={201: {"model": FacilitiesSaved, "description": "First report of the school"}},
    summary="Report a school's facilities (publishes records.facility.updated when they change)",
)
async def report(
    school_id: str,
    body: FacilitiesReport,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def action(conn: Connection) -> tuple[int, Any]:
        return await handlers.report_facilities(
            conn, principal, school_id, body, today=today_in_vietnam()
        )

    status, response, replayed = await run_idempotent(
        pool,
        principal=principal.key,
        key=idempotency_key,
        method="POST",
        path=request.url.path,
        body=body.model_dump(mode="json"),
        action=action,
    )
    return idempotent_response(status, response, replayed=replayed)


@router.get(
    "/{school_id}", response_model=FacilitiesPublic, summary="A school's current facilities"
)
async def current(school_id: str, pool: PoolDep, principal: PrincipalDep) -> FacilitiesPublic:
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        return await handlers.current_facilities(conn, principal, school_id)


@router.get(
    "/{school_id}/history",
    response_model=FacilitiesHistory,
    summary="Every recorded revision of a school's facilities, newest first",
)
async def history(
    school_id: str,
    pool: PoolDep,
    principal: PrincipalDep,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> FacilitiesHistory:
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        return await handlers.facilities_history(
            conn, principal, school_id, before=before, limit=limit
        )
