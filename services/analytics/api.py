"""HTTP routes of the analytics service."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from services.analytics import store
from shared.auth import ensure_in_scope
from shared.http.deps import PoolDep, PrincipalDep
from shared.http.problems import Problem
from shared.orgs.mirror import ancestors, get_unit

router = APIRouter(tags=["statistics"])


class YearCount(BaseModel):
    school_year: str
    enrolled: int


class EnrolmentStats(BaseModel):
    org_id: str
    kind: str
    name: str
    total_enrolled: int
    by_school_year: list[YearCount]


@router.get(
    "/stats/enrolment/{org_id}",
    response_model=EnrolmentStats,
    summary="Learners enrolled at or below an organisation unit (maintained aggregate)",
)
async def enrolment(org_id: str, pool: PoolDep, principal: PrincipalDep) -> EnrolmentStats:
    async with pool.acquire() as conn:
        unit = await get_unit(conn, org_id)
        if unit is None:
            raise Problem(404, "Not Found", f"organisation {org_id} is not known to analytics")
        ensure_in_scope(principal, org_id, await ancestors(conn, org_id) or [])
        rows = await store.enrolment_under(conn, org_id)
    years = [YearCount(school_year=r["school_year"], enrolled=r["enrolled"]) for r in rows]
    return EnrolmentStats(
        org_id=org_id,
        kind=unit["kind"],
        name=unit["name"],
        total_enrolled=sum(y.enrolled for y in years),
        by_school_year=years,
    )
