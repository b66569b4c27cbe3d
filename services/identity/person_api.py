"""HTTP routes of the person registry: validate, authorise, call a handler."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from services.identity import person_handlers
from services.identity.person_schemas import (
    PersonCorrection,
    PersonCreate,
    PersonPage,
    PersonPublic,
)
from shared.audit import entries_for
from shared.auth import require_role
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep, get_context
from shared.http.idempotency import answer_post
from shared.http.pagination import decode_cursor, encode_cursor
from shared.vietnam_time import today_in_vietnam

router = APIRouter(tags=["persons"])


@router.post(
    "/persons",
    status_code=201,
    response_model=PersonPublic,
    summary="Register a learner, teacher or staff member and issue their lifelong sector ID",
)
async def register(
    body: PersonCreate,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    province = get_context(request).extras["issuing_province"]

    return await answer_post(
        request,
        pool,
        principal,
        idempotency_key,
        body.model_dump(mode="json"),
        lambda conn: person_handlers.register_person(
            conn, principal, body, issuing_province=province, today=today_in_vietnam()
        ),
        status=201,
    )


@router.get(
    "/persons/{identifier}",
    response_model=PersonPublic,
    summary="One person by sector ID, alias (legacy or merged ID) or personal number (audited)",
)
async def get_person(identifier: str, pool: PoolDep, principal: PrincipalDep) -> PersonPublic:
    async with pool.acquire() as conn, conn.transaction():
        return await person_handlers.read_person(conn, principal, identifier)


@router.get(
    "/persons",
    response_model=PersonPage,
    summary="Search persons by name, without diacritics, within your scope (audited)",
)
async def search(
    pool: PoolDep,
    principal: PrincipalDep,
    name: Annotated[str, Query(min_length=2, max_length=200)],
    org_id: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PersonPage:
    async with pool.acquire() as conn, conn.transaction():
        people = await person_handlers.search_persons(
            conn,
            principal,
            name=name,
            org_id=org_id,
            after=decode_cursor(cursor),
            limit=limit + 1,
        )
    items = people[:limit]
    next_cursor = encode_cursor(items[-1].sector_id) if len(people) > limit else None
    return PersonPage(items=items, next_cursor=next_cursor)


@router.get(
    "/persons/{identifier}/audit",
    summary="Who read or changed this person's record (Department, auditors)",
)
async def audit_trail(
    identifier: str, pool: PoolDep, principal: PrincipalDep
) -> list[dict[str, Any]]:
    require_role(principal, ["department", "auditor"])
    async with pool.acquire() as conn, conn.transaction():
        person = await person_handlers.read_person(conn, principal, identifier)
        entries = await entries_for(conn, entity_kind="person", entity_id=person.sector_id)
    return [{**e, "at": e["at"].isoformat()} for e in entries]


@router.post(
    "/persons/{identifier}/corrections",
    response_model=PersonPublic,
    summary="Correct a person's record by hand (audited; publishes identity.person.updated)",
)
async def correct(
    identifier: str,
    body: PersonCorrection,
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
        lambda conn: person_handlers.correct_person(
            conn, principal, identifier, body, today=today_in_vietnam()
        ),
        status=200,
    )
