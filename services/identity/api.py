"""HTTP routes of the identity service: validate, authorise, call a handler."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.identity import handlers, org_changes, org_import, roster_export, store
from services.identity.domain.reorganisation import ChangeRequest
from services.identity.schemas import OrgCreate, OrgPage, OrgPublic
from shared.db.pool import Connection
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import answer_post, idempotent_response, run_idempotent
from shared.http.pagination import decode_cursor, encode_cursor
from shared.http.problems import Problem, invalid
from shared.tabular import TableError, read_table

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
    return await answer_post(
        request,
        pool,
        principal,
        idempotency_key,
        body.model_dump(mode="json"),
        lambda conn: handlers.register_org(conn, principal, body),
        status=201,
    )


@router.post(
    "/orgs/import",
    summary="Import units from a spreadsheet (CSV or .xlsx as the request body)",
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
            "required": True,
        }
    },
)
async def import_orgs(
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    content = await request.body()
    kind = request.headers.get("content-type", "")
    try:
        header, rows = read_table(content, "upload.xlsx" if "spreadsheet" in kind else "upload")
    except TableError as exc:
        raise invalid("body", str(exc)) from None

    async def action(conn: Connection) -> tuple[int, Any]:
        try:
            report = await org_import.import_orgs(conn, principal, header, rows)
        except TableError as exc:
            raise invalid("body", str(exc)) from None
        return 200, report.as_dict()

    status, response, replayed = await run_idempotent(
        pool,
        principal=principal.key,
        key=idempotency_key,
        method="POST",
        path=request.url.path,
        body={"sha256": hashlib.sha256(content).hexdigest()},
        action=action,
    )
    return idempotent_response(status, response, replayed=replayed)


@router.get(
    "/orgs/{org_id}",
    summary="One organisation unit, now or as it was on a date (`as_of`)",
)
async def get_org(
    org_id: str, pool: PoolDep, principal: PrincipalDep, as_of: date | None = None
) -> dict[str, Any]:
    # The tree itself is public information within the sector: any authenticated caller reads it.
    async with pool.acquire() as conn:
        if as_of is not None:
            return await org_changes.org_as_of(conn, org_id, as_of)
        row = await store.get_org(conn, org_id)
    if row is None:
        raise Problem(404, "Not Found", f"no organisation {org_id}")
    return OrgPublic.model_validate(dict(row)).model_dump(mode="json")


@router.get(
    "/orgs/{org_id}/oneroster.zip",
    summary="Roster of the unit and everything below it, OneRoster 1.1 CSV (audited)",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
async def oneroster(org_id: str, pool: PoolDep, principal: PrincipalDep) -> Response:
    async with pool.acquire() as conn, conn.transaction():
        content = await roster_export.export_roster(conn, principal, org_id)
    return Response(
        content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="oneroster-{org_id}.zip"'},
    )


@router.get("/orgs/{org_id}/history", summary="Every revision of a unit, with its date")
async def get_history(org_id: str, pool: PoolDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        return await org_changes.org_history(conn, org_id)


class OrgChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    change: Literal["renamed", "moved", "merged", "closed"]
    effective_from: date = Field(description="The day the decree puts the change in force")
    name: str | None = Field(default=None, max_length=300, description="For a rename")
    parent_id: str | None = Field(default=None, description="For a move: the new parent")
    merged_into: str | None = Field(default=None, description="For a merge: the target unit")


@router.post(
    "/orgs/{org_id}/changes",
    summary="Reorganise a unit: rename, move, merge (its schools follow) or close",
)
async def change_org(
    org_id: str,
    body: OrgChangeRequest,
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
        lambda conn: org_changes.change_org(
            conn,
            principal,
            org_id,
            ChangeRequest(
                change=body.change,
                effective_from=body.effective_from,
                name=body.name,
                parent_id=body.parent_id,
                merged_into=body.merged_into,
            ),
        ),
        status=200,
    )


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
