"""HTTP routes of work schedules and meeting invitations (POST needs an Idempotency-Key)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.documents import schedules
from shared.db.pool import Connection
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import answer_post
from shared.vietnam_time import now_in_vietnam

router = APIRouter(tags=["schedules and meetings"])


@router.post("/schedules", status_code=201, summary="Draft the weekly work schedule")
async def create(
    body: schedules.ScheduleInput,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def run(conn: Connection) -> Any:
        return await schedules.create_schedule(conn, principal, body)

    return await answer_post(request, pool, principal, idempotency_key, body, run, status=201)


@router.put("/schedules/{schedule_id}", summary="Replace the items (a published one republishes)")
async def update(
    schedule_id: uuid.UUID, body: schedules.ScheduleInput, pool: PoolDep, principal: PrincipalDep
) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        return await schedules.update_schedule(conn, principal, schedule_id, body)


@router.post("/schedules/{schedule_id}/publish", summary="Publish the schedule to its units")
async def publish(
    schedule_id: uuid.UUID,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def run(conn: Connection) -> Any:
        return await schedules.publish(conn, principal, schedule_id)

    return await answer_post(request, pool, principal, idempotency_key, {}, run)


@router.get("/schedules/current", summary="This week's schedules a unit sees")
async def current(
    pool: PoolDep, principal: PrincipalDep, org_id: str | None = None
) -> dict[str, Any]:
    org_id = org_id or principal.org_id
    today = now_in_vietnam().date()
    async with pool.acquire() as conn:
        found = await schedules.schedules_for(conn, principal, org_id, today)
    return {"org_id": org_id, "week_start": schedules.week_start(today).isoformat(),
            "schedules": found}  # fmt: skip


@router.get("/schedules", summary="A week's schedules a unit sees (week: any day of it)")
async def of_week(
    week: date, pool: PoolDep, principal: PrincipalDep, org_id: str | None = None
) -> dict[str, Any]:
    org_id = org_id or principal.org_id
    async with pool.acquire() as conn:
        found = await schedules.schedules_for(conn, principal, org_id, week)
    return {"org_id": org_id, "week_start": schedules.week_start(week).isoformat(),
            "schedules": found}  # fmt: skip


@router.get("/schedules/{schedule_id}", summary="One schedule")
async def read(schedule_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep) -> dict[str, Any]:
    async with pool.acquire() as conn:
        return await schedules.read_schedule(conn, principal, schedule_id)


@router.post(
    "/invitations",
    status_code=201,
    summary="Issue a meeting invitation (giấy mời) to the recipients",
    description="A numbered giay_moi document in every invited unit's inbox, with the meeting "
    "time and place; the caller names the signer.",
)
async def invite(
    body: schedules.InvitationInput,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def run(conn: Connection) -> Any:
        return await schedules.invite(conn, principal, body)

    return await answer_post(request, pool, principal, idempotency_key, body, run, status=201)


@router.post(
    "/invitations/{document_id}/attendance",
    summary="An invited unit confirms who will attend, or declines with a reason",
)
async def answer(
    document_id: uuid.UUID,
    body: schedules.AttendanceInput,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def run(conn: Connection) -> Any:
        return await schedules.answer(conn, principal, document_id, body)

    return await answer_post(request, pool, principal, idempotency_key, body, run)


@router.get("/invitations/{document_id}/attendance", summary="The inviter's attendance list")
async def attendance(
    document_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep
) -> dict[str, Any]:
    async with pool.acquire() as conn:
        return await schedules.attendance(conn, principal, document_id)
