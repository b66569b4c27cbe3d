"""HTTP routes of staff profiles, teaching assignments and the teacher summary."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from services.records.staff import handlers
from services.records.staff.handlers import (
    AssignmentCreate,
    AssignmentEnd,
    AssignmentPage,
    AssignmentPublic,
    StaffPage,
    StaffProfile,
    StaffPublic,
    StaffSaved,
    SubjectPublic,
    TeacherSummary,
)
from shared.db.pool import Connection
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import answer_post, idempotent_response, run_idempotent
from shared.http.pagination import decode_cursor, encode_cursor
from shared.vietnam_time import today_in_vietnam

router = APIRouter(prefix="/staff", tags=["staff"])


@router.post(
    "",
    response_model=StaffSaved,
    responses={201: {"model": StaffSaved, "description": "Created"}},
    summary="Create or replace a staff profile (publishes records.staff.updated when it changes)",
)
async def save_staff(
    body: StaffProfile,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def action(conn: Connection) -> tuple[int, Any]:
        return await handlers.save_staff(conn, principal, body, today=today_in_vietnam())

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


@router.get("", response_model=StaffPage, summary="Staff of one school (audited)")
async def list_staff(
    pool: PoolDep,
    principal: PrincipalDep,
    school_id: str,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> StaffPage:
    async with pool.acquire() as conn, conn.transaction():
        rows = await handlers.list_staff(
            conn, principal, school_id=school_id, after=decode_cursor(cursor), limit=limit + 1
        )
    items = rows[:limit]
    next_cursor = encode_cursor(items[-1].staff_id) if len(rows) > limit else None
    return StaffPage(items=items, next_cursor=next_cursor)


@router.get(
    "/subjects",
    response_model=list[SubjectPublic],
    summary="Subject codes a teacher can teach (General Education Program 2018)",
)
async def list_subjects(pool: PoolDep, principal: PrincipalDep) -> list[SubjectPublic]:
    async with pool.acquire() as conn:
        return await handlers.list_subjects(conn, principal)


@router.get(
    "/summary",
    response_model=TeacherSummary,
    summary="Teachers of a school, commune or the province by subject, age band and sex",
)
async def teacher_summary(
    pool: PoolDep,
    principal: PrincipalDep,
    org_id: str,
    as_of: Annotated[date | None, Query(description="Defaults to today")] = None,
) -> TeacherSummary:
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        return await handlers.teacher_summary(
            conn, principal, org_id=org_id, as_of=as_of or today_in_vietnam()
        )


@router.post(
    "/assignments",
    status_code=201,
    response_model=AssignmentPublic,
    summary="Assign a teacher to a class-subject or as homeroom (publishes records.staff.assigned)",
)
async def assign(
    body: AssignmentCreate,
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
        lambda conn: handlers.assign(conn, principal, body, today=today_in_vietnam()),
        status=201,
    )


@router.post(
    "/assignments/{assignment_id}/end",
    response_model=AssignmentPublic,
    summary="End an assignment (publishes records.staff.assigned with active false)",
)
async def end_assignment(
    assignment_id: uuid.UUID,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    body: AssignmentEnd | None = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    command = body or AssignmentEnd()

    return await answer_post(
        request,
        pool,
        principal,
        idempotency_key,
        command.model_dump(mode="json"),
        lambda conn: handlers.end_assignment(
            conn, principal, assignment_id, command, today=today_in_vietnam()
        ),
        status=200,
    )


@router.get("/assignments", response_model=AssignmentPage, summary="Assignments of one school")
async def list_assignments(
    pool: PoolDep,
    principal: PrincipalDep,
    school_id: str,
    school_year: str | None = None,
    class_id: str | None = None,
    staff_id: str | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AssignmentPage:
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        rows = await handlers.list_assignments(
            conn,
            principal,
            school_id=school_id,
            school_year=school_year,
            class_id=class_id,
            staff_id=staff_id,
            active=active,
            after=decode_cursor(cursor),
            limit=limit + 1,
        )
    items = rows[:limit]
    next_cursor = encode_cursor(str(items[-1].assignment_id)) if len(rows) > limit else None
    return AssignmentPage(items=items, next_cursor=next_cursor)


@router.get("/{staff_id}", response_model=StaffPublic, summary="One staff profile (audited)")
async def get_staff(staff_id: str, pool: PoolDep, principal: PrincipalDep) -> StaffPublic:
    async with pool.acquire() as conn, conn.transaction():
        return await handlers.read_staff(conn, principal, staff_id)
