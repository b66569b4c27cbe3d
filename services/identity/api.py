"""HTTP routes of the identity service: validate, authorise, call a handler."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from services.identity import handlers, store
from services.identity.schemas import OrgCreate, OrgPage, OrgPublic
from shared.db.pool import Connection
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import run_idempotent
from shared.http.pagination import decode_cursor, encode_cursor
from shared.http.problems import Problem

router = APIRouter(tags=["organisations"])


@router.post(
    "/orgs",
    status_code=201,
    response_model=OrgPublic,
    summary="Register an organisation unit (province, commune, school, daycare group)",
)
async def create_org(
    body: OrgCreate,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def action(conn: Connection) -> tuple[int, Any]:
        return 201, await handlers.register_org(conn, principal, body)

    status, response, _ = await run_idempotent(
        pool,
        principal=principal.key,
        key=idempotency_key,
        method="POST",
        path=request.url.path,
        body=body.model_dump(mode="json"),
        action=action,
    )
    return JSONResponse(response, status_code=status)


@router.get("/orgs/{org_id}", response_model=OrgPublic, summary="One organisation unit")
async def get_org(org_id: str, pool: PoolDep, principal: PrincipalDep) -> OrgPublic:
    # The tree itself is public information within the sector: any authenticated caller reads it.
    async with pool.acquire() as conn:
        row = await store.get_org(conn, org_id)
    if row is None:
        raise Problem(404, "Not Found", f"no organisation {org_id}")
    return OrgPublic.model_validate(dict(row))


@router.get("/orgs", response_model=OrgPage, summary="List organisation units")
async def list_orgs(
    pool: PoolDep,
    principal: PrincipalDep,
    parent_id: str | None = None,
    kind: Literal["province", "commune", "school", "daycare_group"] | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> OrgPage:
    async with pool.acquire() as conn:
        rows = await store.list_orgs(
            conn, parent_id=parent_id, kind=kind, after=decode_cursor(cursor), limit=limit + 1
        )
    items = [OrgPublic.model_validate(dict(r)) for r in rows[:limit]]
    next_cursor = encode_cursor(items[-1].org_id) if len(rows) > limit else None
    return OrgPage(items=items, next_cursor=next_cursor)
