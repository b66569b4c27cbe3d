"""Frozen censuses: the enrolment figures of every unit on a census date, stored as computed
at the moment of freezing so that they can be reproduced later, and the late corrections
(today's recompute for the same date minus the frozen figures)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.analytics import census_store
from services.analytics.api import ORG_TREE, Breakdown, breakdown
from services.analytics.domain.census import Unit, UnitCell, corrections, roll_up
from shared.auth import AuthorisationError, Principal, ensure_in_scope, require_role
from shared.db.pool import Connection
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import answer_post
from shared.http.pagination import decode_cursor, encode_cursor
from shared.http.problems import Problem, invalid
from shared.orgs.mirror import get_unit
from shared.vietnam_time import today_in_vietnam

router = APIRouter(tags=["census"])

# The Department's calendar day decides whether a census date is in the future.


class CensusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    census_date: date = Field(description="The day counted, e.g. 2025-09-30")
    label: str = Field(min_length=1, max_length=200, description="e.g. 'Census 30/9/2025'")


class Watermark(BaseModel):
    """What the figures were computed from: the enrolment history as it stood then."""

    events_applied: int
    merges_applied: int
    last_event_recorded_at: datetime | None
    last_event_time: datetime | None


class CensusSummary(BaseModel):
    census_id: uuid.UUID
    org_id: str
    census_date: date
    label: str
    frozen_at: datetime
    frozen_by: str
    total_enrolled: int
    org_tree: str
    watermark: Watermark


class UnitTotal(BaseModel):
    org_id: str
    kind: str
    name: str
    total_enrolled: int


class CensusUnit(Breakdown):
    org_id: str
    kind: str
    name: str
    children: list[UnitTotal]


class CensusDetail(BaseModel):
    census: CensusSummary
    unit: CensusUnit


class CensusPage(BaseModel):
    items: list[CensusSummary]
    next_cursor: str | None


class CorrectionOut(BaseModel):
    org_id: str
    school_year: str
    grade: int
    sex: str
    frozen: int
    recomputed: int
    delta: int


class CensusCorrections(BaseModel):
    census: CensusSummary
    org_id: str
    frozen_total: int
    recomputed_total: int
    corrections: list[CorrectionOut]


def summary(row: asyncpg.Record) -> CensusSummary:
    return CensusSummary(
        census_id=row["census_id"],
        org_id=row["org_id"],
        census_date=row["census_date"],
        label=row["label"],
        frozen_at=row["frozen_at"],
        frozen_by=row["frozen_by"],
        total_enrolled=row["total_enrolled"],
        org_tree=row["org_tree"],
        watermark=Watermark(
            events_applied=row["events_applied"],
            merges_applied=row["merges_applied"],
            last_event_recorded_at=row["last_event_recorded_at"],
            last_event_time=row["last_event_time"],
        ),
    )


def _chain(units: list[Unit], org_id: str) -> list[str]:
    """`org_id`'s parents in a census's own tree, nearest first."""
    parent = {u.org_id: u.parent_id for u in units}
    chain: list[str] = []
    unit = parent.get(org_id)
    while unit is not None and unit in parent and len(chain) < 16:
        chain.append(unit)
        unit = parent[unit]
    return chain


def _below(units: list[Unit], org_id: str) -> set[str]:
    """`org_id` and every unit under it in `units`."""
    children: dict[str | None, list[str]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u.org_id)
    found, todo = set(), [org_id]
    while todo:
        unit = todo.pop()
        if unit not in found:
            found.add(unit)
            todo.extend(children.get(unit, []))
    return found


async def freeze_census(
    conn: Connection, principal: Principal, request: CensusRequest
) -> CensusSummary:
    """Compute and store the figures of every unit under the Department's own unit."""
    require_role(principal, ["department"])
    if request.census_date > today_in_vietnam():
        raise invalid("body.census_date", "a census date cannot be in the future")
    root = principal.org_id
    if await get_unit(conn, root) is None:
        raise invalid("body", f"organisation {root} is not known to analytics yet")
    watermark = await census_store.freeze_history(conn)
    units = await census_store.units_under(conn, root)
    cells = await census_store.cells_on(conn, request.census_date, root)
    row = await census_store.insert_census(
        conn,
        census_id=uuid.uuid4(),
        org_id=root,
        census_date=request.census_date,
        label=request.label,
        frozen_by=principal.key,
        watermark=watermark,
        org_tree=ORG_TREE,
        units=units,
        figures=roll_up(cells, units, root),
    )
    return summary(row)


async def _census_for(
    conn: Connection, principal: Principal, census_id: uuid.UUID, org_id: str | None
) -> tuple[asyncpg.Record, list[Unit], str]:
    row = await census_store.get_census(conn, census_id)
    if row is None:
        raise Problem(404, "Not Found", f"no census {census_id}")
    units = await census_store.census_units(conn, census_id)
    unit = org_id or (principal.org_id if principal.role != "service" else row["org_id"])
    if unit not in {u.org_id for u in units}:
        if org_id is None:
            raise AuthorisationError(f"census {census_id} does not cover {principal.org_id}")
        raise Problem(404, "Not Found", f"census {census_id} has no unit {org_id}")
    ensure_in_scope(principal, unit, _chain(units, unit))
    return row, units, unit


async def census_detail(
    conn: Connection, principal: Principal, census_id: uuid.UUID, org_id: str | None = None
) -> CensusDetail:
    """A unit's figures as frozen (the caller's own unit unless `org_id` names another one in
    scope), with each unit one level down."""
    row, units, unit = await _census_for(conn, principal, census_id, org_id)
    by_id = {u.org_id: u for u in units}
    children = sorted(u.org_id for u in units if u.parent_id == unit)
    figures = await census_store.census_figures(conn, census_id, [unit, *children])
    return CensusDetail(
        census=summary(row),
        unit=CensusUnit(
            org_id=unit,
            kind=by_id[unit].kind,
            name=by_id[unit].name,
            children=[
                UnitTotal(
                    org_id=c,
                    kind=by_id[c].kind,
                    name=by_id[c].name,
                    total_enrolled=sum(figures[c].values()),
                )
                for c in children
            ],
            **breakdown(figures[unit]).model_dump(),
        ),
    )


async def census_corrections(
    conn: Connection, principal: Principal, census_id: uuid.UUID, org_id: str | None = None
) -> CensusCorrections:
    """Today's recompute of the census date minus the frozen figures, for the unit and every
    unit under it: what late and back-dated events, merges and tree moves changed since."""
    row, units, unit = await _census_for(conn, principal, census_id, org_id)
    root = row["org_id"]
    now_units = await census_store.units_under(conn, root)
    recomputed = roll_up(
        await census_store.cells_on(conn, row["census_date"], root), now_units, root
    )
    frozen_ids = sorted(u.org_id for u in units)
    frozen = await census_store.census_figures(conn, census_id, frozen_ids)
    wanted = _below(units, unit) | _below(now_units, unit)
    found = [c for c in corrections(frozen, recomputed) if c.org_id in wanted]
    empty: Counter[UnitCell] = Counter()
    return CensusCorrections(
        census=summary(row),
        org_id=unit,
        frozen_total=sum(frozen.get(unit, empty).values()),
        recomputed_total=sum(recomputed.get(unit, empty).values()),
        corrections=[
            CorrectionOut(
                org_id=c.org_id,
                school_year=c.school_year,
                grade=c.grade,
                sex=c.sex,
                frozen=c.frozen,
                recomputed=c.recomputed,
                delta=c.delta,
            )
            for c in found
        ],
    )


async def census_page(
    conn: Connection, principal: Principal, cursor: str | None, limit: int
) -> CensusPage:
    after = decode_cursor(cursor)
    if after is not None and not (isinstance(after, list) and len(after) == 2):
        raise invalid("query.cursor", "the cursor is not one this API returned")
    member = None if principal.role == "service" else principal.org_id
    rows = await census_store.list_census(
        conn, member, (after[0], after[1]) if after else None, limit + 1
    )
    items = [summary(r) for r in rows[:limit]]
    next_cursor = (
        encode_cursor([items[-1].frozen_at.isoformat(), str(items[-1].census_id)])
        if len(rows) > limit
        else None
    )
    return CensusPage(items=items, next_cursor=next_cursor)


# --------------------------------------------------------------------------- routes

OrgQuery = Annotated[
    str | None, Query(description="A unit of the census (default: the caller's own unit)")
]


@router.post(
    "/census",
    status_code=201,
    response_model=CensusSummary,
    summary="Freeze a census: the figures of every unit on a date, as they stand now",
    description="Department only. Stores the headcount of every unit under the Department's "
    "unit on `census_date` (by school year, grade and sex), with the watermark of the "
    "enrolment history it was computed from. GET /census/{id} returns the same figures later, "
    "whatever events arrive since; GET /census/{id}/corrections shows what they changed.",
)
async def post_census(
    body: CensusRequest,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def run(conn: Connection) -> Any:
        return (await freeze_census(conn, principal, body)).model_dump(mode="json")

    return await answer_post(request, pool, principal, idempotency_key, body, run, status=201)


@router.get(
    "/census",
    response_model=CensusPage,
    summary="Frozen censuses that cover the caller's unit, newest first",
)
async def get_censuses(
    pool: PoolDep,
    principal: PrincipalDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CensusPage:
    async with pool.acquire() as conn:
        return await census_page(conn, principal, cursor, limit)


@router.get(
    "/census/{census_id}",
    response_model=CensusDetail,
    summary="A frozen census: a unit's figures exactly as frozen, and its units one level down",
)
async def get_census(
    census_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep, org_id: OrgQuery = None
) -> CensusDetail:
    async with pool.acquire() as conn:
        return await census_detail(conn, principal, census_id, org_id)


@router.get(
    "/census/{census_id}/corrections",
    response_model=CensusCorrections,
    summary="Late corrections: today's recompute of the census date against the frozen figures",
)
async def get_corrections(
    census_id: uuid.UUID, pool: PoolDep, principal: PrincipalDep, org_id: OrgQuery = None
) -> CensusCorrections:
    async with pool.acquire() as conn:
        return await census_corrections(conn, principal, census_id, org_id)
