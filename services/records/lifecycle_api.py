"""HTTP routes of classes, transfers, leavers, the year rollover and the change feed."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.records import lifecycle, lifecycle_store
from services.records.handlers import ensure_can_read_school
from shared.events.contracts.identity import OrgId
from shared.events.contracts.records import SCHOOL_YEAR_PATTERN
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import answer_post

router = APIRouter(tags=["learner lifecycle"])


class ClassCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    school_id: OrgId
    school_year: str = Field(pattern=SCHOOL_YEAR_PATTERN, examples=["2025-2026"])
    grade: int = Field(ge=0, le=12)
    name: str = Field(min_length=1, max_length=50, examples=["6A"])
    homeroom_teacher_id: str | None = Field(default=None, max_length=64)
    sessions_per_day: Literal[1, 2] = 1


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    learner_id: str = Field(min_length=1, max_length=64)
    to_school_id: OrgId
    class_id: str | None = Field(default=None, max_length=64)
    grade: int | None = Field(default=None, ge=0, le=12, description="Default: unchanged")
    transferred_on: date


class LeaveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    learner_id: str = Field(min_length=1, max_length=64)
    reason: lifecycle.LeaveReason
    left_on: date


class RolloverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    school_id: OrgId
    closing_school_year: str = Field(pattern=SCHOOL_YEAR_PATTERN)
    effective_on: date = Field(description="First day of the new school year's records")
    decisions: dict[str, lifecycle.Decision] = Field(
        default_factory=dict,
        description="learner_id -> promote | repeat | leave; learners not listed are promoted",
    )


@router.post(
    "/classes", status_code=201, summary="Create a class (publishes records.class.created)"
)
async def create_class(
    body: ClassCreate,
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
        lambda conn: lifecycle.create_class(conn, principal, **body.model_dump()),
        201,
    )


@router.get("/classes", summary="Classes of a school")
async def list_classes(
    pool: PoolDep, principal: PrincipalDep, school_id: str, school_year: str | None = None
) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        await ensure_can_read_school(conn, principal, school_id, field="query.school_id")
        rows = await lifecycle_store.classes_of(conn, school_id=school_id, school_year=school_year)
    return [dict(r) for r in rows]


@router.post(
    "/transfers",
    status_code=201,
    summary="Move a learner to another school; the record follows them",
)
async def transfer(
    body: TransferRequest,
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
        lambda conn: lifecycle.transfer(conn, principal, **body.model_dump()),
        201,
    )


@router.post("/leavers", summary="A learner leaves (graduated, dropped out, moved abroad, ...)")
async def leave(
    body: LeaveRequest,
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
        lambda conn: lifecycle.leave(conn, principal, **body.model_dump()),
        200,
    )


@router.post("/rollovers", summary="Close a school year: promote, hold back or graduate")
async def rollover(
    body: RolloverRequest,
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
        lambda conn: lifecycle.rollover(conn, principal, **body.model_dump()),
        200,
    )


@router.get(
    "/changes",
    tags=["change feed"],
    summary="What changed for a school since a position: the events, oldest first",
)
async def changes(
    pool: PoolDep,
    principal: PrincipalDep,
    school_id: str,
    since: Annotated[int, Query(ge=0, description="The last position you processed")] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> dict[str, Any]:
    """Each item is a CloudEvent with its feed `position` and `op`: `upsert` for a record of
    this school that was created or changed, `remove` when a learner left the school (moved
    to another school or left schooling). Store the last position and ask again with it."""
    async with pool.acquire() as conn:
        await ensure_can_read_school(conn, principal, school_id, field="query.school_id")
        rows = await lifecycle_store.changes_since(
            conn, school_id=school_id, after=since, limit=limit
        )
    items = []
    for row in rows:
        removed = row["role"] == "from" or row["event_type"] == "records.student.left"
        items.append(
            {
                "position": row["position"],
                "op": "remove" if removed else "upsert",
                "event": json.loads(row["payload"]),
            }
        )
    last = items[-1]["position"] if items else since
    return {"items": items, "next_since": last, "more": len(items) == limit}
