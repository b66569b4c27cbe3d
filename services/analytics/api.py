"""HTTP routes of the analytics service."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.analytics import census_store, store
from services.analytics.domain.census import UnitCell
from shared.auth import Principal, ensure_in_scope
from shared.db.pool import Connection
from shared.http.deps import PoolDep, PrincipalDep
from shared.http.problems import Problem
from shared.orgs.mirror import ancestors, get_unit

router = APIRouter(tags=["statistics"])

# The organisation mirror keeps only the current tree (shared/orgs/mirror.py), and
# identity.org.changed v1 carries no effective date for a move: a school counts in the unit it
# belongs to today, whatever the date asked for.
ORG_TREE = "current"


class YearCount(BaseModel):
    school_year: str
    enrolled: int


class GradeCount(BaseModel):
    grade: int
    enrolled: int


class SexCount(BaseModel):
    sex: str  # male, female, unknown (enrolments that named none)
    enrolled: int


class EnrolmentCell(BaseModel):
    school_year: str
    grade: int
    sex: str
    enrolled: int


class EnrolmentStats(BaseModel):
    org_id: str
    kind: str
    name: str
    total_enrolled: int
    by_school_year: list[YearCount]
    as_of: date | None = None
    org_tree: str | None = None
    by_grade: list[GradeCount] | None = None
    by_sex: list[SexCount] | None = None
    cells: list[EnrolmentCell] | None = None


class Breakdown(BaseModel):
    total_enrolled: int
    by_school_year: list[YearCount]
    by_grade: list[GradeCount]
    by_sex: list[SexCount]
    cells: list[EnrolmentCell]


def breakdown(cells: Counter[UnitCell]) -> Breakdown:
    """Totals by school year, grade and sex, and every non-empty cell, in a stable order."""
    years: Counter[str] = Counter()
    grades: Counter[int] = Counter()
    sexes: Counter[str] = Counter()
    for (year, grade, sex), count in cells.items():
        years[year] += count
        grades[grade] += count
        sexes[sex] += count
    return Breakdown(
        total_enrolled=sum(cells.values()),
        by_school_year=[YearCount(school_year=y, enrolled=n) for y, n in sorted(years.items())],
        by_grade=[GradeCount(grade=g, enrolled=n) for g, n in sorted(grades.items()) if n],
        by_sex=[SexCount(sex=s, enrolled=n) for s, n in sorted(sexes.items()) if n],
        cells=[
            EnrolmentCell(school_year=y, grade=g, sex=s, enrolled=n)
            for (y, g, s), n in sorted(cells.items())
            if n
        ],
    )


async def enrolment_as_of(
    conn: Connection, principal: Principal, *, org_id: str, as_of: date
) -> EnrolmentStats:
    """Learners at or below `org_id` on `as_of`, from the placement intervals (effective dates,
    each merged child once)."""
    unit = await get_unit(conn, org_id)
    if unit is None:
        raise Problem(404, "Not Found", f"organisation {org_id} is not known to analytics")
    ensure_in_scope(principal, org_id, await ancestors(conn, org_id) or [])
    school_cells = await census_store.cells_on(conn, as_of, org_id)
    cells: Counter[UnitCell] = Counter()
    for (_, year, grade, sex), count in school_cells.items():
        cells[(year, grade, sex)] += count
    parts = breakdown(cells)
    return EnrolmentStats(
        org_id=org_id,
        kind=unit["kind"],
        name=unit["name"],
        as_of=as_of,
        org_tree=ORG_TREE,
        **parts.model_dump(),
    )


@router.get(
    "/stats/enrolment/{org_id}",
    response_model=EnrolmentStats,
    response_model_exclude_none=True,
    summary="Learners enrolled at or below an organisation unit, now or on a date",
    description="Without `as_of`: the maintained live count by school year. With `as_of`: the "
    "headcount on that date (for example a 30 September census date) by school year, grade "
    "and sex, from each learner's placements by their effective dates, so late and back-dated "
    "events and person merges are taken into account; schools are counted in the unit they "
    "belong to today (`org_tree: current`).",
)
async def enrolment(
    org_id: str,
    pool: PoolDep,
    principal: PrincipalDep,
    as_of: Annotated[
        date | None, Query(description="A date (YYYY-MM-DD): the headcount on that day")
    ] = None,
) -> EnrolmentStats:
    async with pool.acquire() as conn:
        if as_of is not None:
            return await enrolment_as_of(conn, principal, org_id=org_id, as_of=as_of)
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
