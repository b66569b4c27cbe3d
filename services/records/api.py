"""HTTP routes of the records service: validate, authorise, call a handler."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from services.records import handlers, store
from services.records.schemas import EnrolmentCreate, EnrolmentPage, EnrolmentPublic
from shared.audit import record_access
from shared.auth import AuthorisationError
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import answer_post
from shared.http.pagination import decode_cursor, encode_cursor
from shared.http.problems import Problem

router = APIRouter(tags=["enrolment"])


@router.post(
    "/enrolments",
    status_code=201,
    response_model=EnrolmentPublic,
    summary="Enrol a learner in a school (publishes records.student.enrolled)",
)
async def enrol(
    body: EnrolmentCreate,
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
        lambda conn: handlers.enrol_student(conn, principal, body),
        status=201,
    )


@router.get("/enrolments/{enrolment_id}", response_model=EnrolmentPublic)
async def get_enrolment(
    enrolment_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep
) -> EnrolmentPublic:
    async with pool.acquire() as conn, conn.transaction():
        row = await store.get_enrolment(conn, enrolment_id)
        if row is None:
            raise Problem(404, "Not Found", f"no enrolment {enrolment_id}")
        # Existence of a learner's enrolment is private: out of scope looks like not found.
        try:
            await handlers.ensure_can_read_school(
                conn, principal, row["school_id"], field="path.enrolment_id"
            )
        except (AuthorisationError, Problem):
            raise Problem(404, "Not Found", f"no enrolment {enrolment_id}") from None
        await record_access(
            conn, principal, action="read", entity_kind="learner", entity_ids=[row["learner_id"]]
        )
    return EnrolmentPublic.model_validate(dict(row))


@router.get("/enrolments", response_model=EnrolmentPage, summary="Enrolments of one school")
async def list_enrolments(
    pool: PoolDep,
    principal: PrincipalDep,
    school_id: str,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EnrolmentPage:
    async with pool.acquire() as conn, conn.transaction():
        await handlers.ensure_can_read_school(conn, principal, school_id, field="query.school_id")
        rows = await store.list_enrolments(
            conn, school_id=school_id, after=decode_cursor(cursor), limit=limit + 1
        )
        await record_access(
            conn,
            principal,
            action="read",
            entity_kind="learner",
            entity_ids=[r["learner_id"] for r in rows[:limit]],
        )
    items = [EnrolmentPublic.model_validate(dict(r)) for r in rows[:limit]]
    next_cursor = encode_cursor(str(items[-1].enrolment_id)) if len(rows) > limit else None
    return EnrolmentPage(items=items, next_cursor=next_cursor)
