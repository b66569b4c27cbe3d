"""HTTP routes of duplicate detection and merging."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.identity import merge_handlers, merge_store, person_store, store
from services.identity.person_schemas import PersonPublic
from shared.audit import record_access
from shared.auth import ensure_in_scope, require_role
from shared.events.contracts.identity import OrgId
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import answer_post
from shared.http.pagination import decode_cursor, encode_cursor
from shared.http.problems import Problem

router = APIRouter(tags=["duplicates and merges"])


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    survivor_id: str = Field(description="The record that stays")
    merged_id: str = Field(description="The record retired into the survivor (still resolves)")
    reason: str = Field(min_length=3, max_length=500)


class UnmergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500)


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: OrgId | None = Field(default=None, description="Only persons held at or below it")


@router.post("/merges", status_code=201, summary="Merge two records of one person")
async def merge(
    body: MergeRequest,
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
        lambda conn: merge_handlers.merge_persons(
            conn,
            principal,
            survivor_id=body.survivor_id,
            merged_id=body.merged_id,
            reason=body.reason,
        ),
        status=201,
    )


@router.post("/merges/{merge_id}/unmerge", summary="Undo a merge (audited)")
async def unmerge(
    merge_id: uuid.UUID,
    body: UnmergeRequest,
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
        lambda conn: merge_handlers.unmerge(conn, principal, merge_id=merge_id, reason=body.reason),
    )


@router.post("/duplicates/scan", summary="Find probable duplicates in scope and queue them")
async def scan(
    body: ScanRequest,
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
        lambda conn: merge_handlers.scan_for_duplicates(conn, principal, org_id=body.org_id),
    )


@router.get("/duplicates", summary="Open duplicate candidates with both records side by side")
async def candidates(
    pool: PoolDep,
    principal: PrincipalDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    require_role(principal, merge_handlers.DECIDERS)
    within = None if principal.role == "service" else principal.org_id
    async with pool.acquire() as conn, conn.transaction():
        rows = await merge_store.open_candidates(
            conn, within_org=within, after=decode_cursor(cursor), limit=limit + 1
        )
        page = rows[:limit]
        people = await person_store.get_many(
            conn, [r["person_a"] for r in page] + [r["person_b"] for r in page]
        )
        await record_access(
            conn,
            principal,
            action="read",
            entity_kind="person",
            entity_ids=sorted(people),
            detail={"purpose": "duplicate review"},
        )
    items = [
        {
            "candidate_id": r["candidate_id"],
            "score": r["score"],
            "decision": r["decision"],
            "reasons": r["reasons"],
            "a": PersonPublic.model_validate(dict(people[r["person_a"]])).model_dump(mode="json"),
            "b": PersonPublic.model_validate(dict(people[r["person_b"]])).model_dump(mode="json"),
        }
        for r in page
    ]
    next_cursor = encode_cursor(page[-1]["candidate_id"]) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}


@router.post("/duplicates/{candidate_id}/dismiss", summary="Not the same person")
async def dismiss(candidate_id: int, pool: PoolDep, principal: PrincipalDep) -> dict[str, Any]:
    require_role(principal, merge_handlers.DECIDERS)
    async with pool.acquire() as conn, conn.transaction():
        row = await merge_store.get_candidate(conn, candidate_id)
        if row is None:
            raise Problem(404, "Not Found", f"no duplicate candidate {candidate_id}")
        people = await person_store.get_many(conn, [row["person_a"], row["person_b"]])
        for person in people.values():
            ensure_in_scope(
                principal, person["org_id"], await store.ancestors(conn, person["org_id"])
            )
        await merge_store.resolve_candidate(
            conn,
            person_a=row["person_a"],
            person_b=row["person_b"],
            status="dismissed",
            by=principal.key,
        )
    return {"candidate_id": candidate_id, "status": "dismissed"}
