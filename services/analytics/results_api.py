"""HTTP routes of the gradebook results and of teachers by subject and age band.

For a province, commune-level unit or school: totals and the breakdown one level down (the
communes of a province, the schools of a commune; for results, the classes of a school). Figures
are sums of the maintained cells of every school at or below the unit in the organisation mirror
as it is now. No small-cell suppression: these answers are for authorised staff in scope, and
every answer is written to the audit log, since a class or a school's subject-age group can
describe a few people.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.analytics import results_store, teacher_store
from services.analytics.domain.results_fold import (
    AVERAGE_BANDS,
    COMMENT_GRADES,
    LEVEL_COUNTERS,
    LEVELS,
    SUBJECT_COUNTERS,
)
from services.analytics.domain.teacher_stats import (
    AGE_BANDS,
    NO_SUBJECT,
    age_band,
    age_in,
    current_school_year,
    reference_day,
    school_year_start,
)
from shared.audit import record_access
from shared.auth import Principal, ensure_in_scope, require_role
from shared.db.pool import Connection
from shared.events.contracts.records import SCHOOL_YEAR_PATTERN
from shared.http.deps import PoolDep, PrincipalDep
from shared.http.problems import Problem, invalid
from shared.orgs.mirror import ancestors
from shared.vietnam_time import today_in_vietnam

router = APIRouter(tags=["results and teacher statistics"])

LEAF_KINDS = frozenset({"school", "daycare_group"})
RATE_DECIMALS = 4
MEAN_DECIMALS = 2
# Staff age and sex are personal data: teachers do not read their colleagues' (as in records).
TEACHER_STATS_READERS = ["department", "commune", "school", "auditor", "service"]

SchoolYearQuery = Annotated[
    str, Query(pattern=SCHOOL_YEAR_PATTERN, examples=["2025-2026"], description="School year")
]


def rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, RATE_DECIMALS) if denominator else None


# --------------------------------------------------------------------------- results models


class LevelFigures(BaseModel):
    """Learners of finalised terms by learning-result level (Circular 22 Art. 9)."""

    learners: int = Field(description="Learners listed in a finalised term, each counted once")
    tot: int = Field(description="Tốt")
    kha: int = Field(description="Khá")
    dat: int = Field(description="Đạt")
    chua_dat: int = Field(description="Chưa đạt")
    no_level: int = Field(
        description="No level: forced finalisations, and primary learners (the v1 event "
        "carries no Circular 27 levels)"
    )
    rates: dict[str, float | None] = Field(description="Each level as a share of those with one")

    @classmethod
    def of(cls, c: Mapping[str, int] | asyncpg.Record) -> LevelFigures:
        with_level = c["learners"] - c["no_level"]
        return cls(
            **{name: c[name] for name in LEVEL_COUNTERS},
            rates={level: rate(c[level], with_level) for level in LEVELS},
        )


class SubjectFigures(BaseModel):
    subject_code: str
    averaged: int = Field(description="Learners with a final subject average")
    sum_of_averages: float = Field(description="Sum of their averages (mean = sum / averaged)")
    mean: float | None = Field(description="Mean average, 2 decimals")
    bands: dict[str, int] = Field(
        description="Learners by average: below 3.5, 3.5-5, 5-6.5, 6.5-8, 8 and above"
    )
    dat: int = Field(description="Comment-graded subjects: Đạt")
    chua_dat: int = Field(description="Comment-graded subjects: Chưa đạt")
    no_result: int = Field(description="Listed with the subject but no result (forced)")
    share_below_5: float | None = Field(description="Share of averages below 5.0")

    @classmethod
    def of(cls, code: str, c: Mapping[str, int]) -> SubjectFigures:
        averaged = c["averaged"]
        below_5 = c["avg_below_3_5"] + c["avg_3_5_to_5"]
        return cls(
            subject_code=code,
            averaged=averaged,
            sum_of_averages=c["sum_tenths"] / 10,
            mean=round(c["sum_tenths"] / averaged / 10, MEAN_DECIMALS) if averaged else None,
            bands={name: c[name] for name, _ in AVERAGE_BANDS},
            **{grade: c[grade] for grade in COMMENT_GRADES},
            no_result=c["no_result"],
            share_below_5=rate(below_5, averaged),
        )


class ResultsPart(BaseModel):
    unit_id: str = Field(description="Child unit's org_id, or the class_id")
    kind: str = Field(description="commune, school, ... or class")
    name: str | None
    levels: LevelFigures
    subjects: list[SubjectFigures]


class ResultsStats(BaseModel):
    org_id: str
    kind: str
    name: str
    school_year: str
    term: int = Field(description="1, 2, or 0 for the whole year")
    levels: LevelFigures
    subjects: list[SubjectFigures]
    breakdown: list[ResultsPart]


def _sum(
    rows: Iterable[Mapping[str, Any] | asyncpg.Record], counters: Sequence[str]
) -> Counter[str]:
    total: Counter[str] = Counter({c: 0 for c in counters})
    for row in rows:
        for c in counters:
            total[c] += row[c]
    return total


def _subjects(rows: Iterable[Mapping[str, Any] | asyncpg.Record]) -> list[SubjectFigures]:
    by_subject: dict[str, list[Mapping[str, Any] | asyncpg.Record]] = defaultdict(list)
    for row in rows:
        by_subject[row["subject_code"]].append(row)
    return [
        SubjectFigures.of(code, _sum(by_subject[code], SUBJECT_COUNTERS))
        for code in sorted(by_subject)
    ]


# --------------------------------------------------------------------------- teacher models


class SexCounts(BaseModel):
    male: int = 0
    female: int = 0
    total: int = 0


class SubjectTeachers(BaseModel):
    subject_code: str = Field(description="Main subject ('' = the profile names none)")
    teachers: int
    by_age_band: dict[str, SexCounts]


class TeacherPart(BaseModel):
    unit_id: str
    kind: str
    name: str | None
    teachers: int
    by_age_band: dict[str, SexCounts]


class TeacherStats(BaseModel):
    org_id: str
    kind: str
    name: str
    school_year: str
    reference_day: date = Field(
        description="Teachers employed on this day count; ages are reached in its year"
    )
    teachers: int
    age_bands: list[str]
    by_age_band: dict[str, SexCounts]
    subjects: list[SubjectTeachers]
    breakdown: list[TeacherPart]


def _by_band(
    rows: Iterable[Mapping[str, Any] | asyncpg.Record], start_year: int
) -> dict[str, SexCounts]:
    bands = {name: SexCounts() for name, _, _ in AGE_BANDS}
    for row in rows:
        counts = bands[age_band(age_in(start_year, row["birth_year"]))]
        n = int(row["teachers"])
        if row["sex"] == "male":
            counts.male += n
        else:
            counts.female += n
        counts.total += n
    return bands


# --------------------------------------------------------------------------- shared steps


async def _authorised_unit(
    conn: Connection, principal: Principal, org_id: str, action: str, detail: dict[str, Any]
) -> asyncpg.Record:
    unit = await results_store.units(conn, [org_id])
    if org_id not in unit:
        raise Problem(404, "Not Found", f"organisation {org_id} is not known to analytics")
    ensure_in_scope(principal, org_id, await ancestors(conn, org_id) or [])
    await record_access(
        conn, principal, action=action, entity_kind="org_unit", entity_ids=[org_id], detail=detail
    )
    return unit[org_id]


async def _names(conn: Connection, parts: Iterable[str]) -> dict[str, asyncpg.Record]:
    return await results_store.units(conn, sorted(set(parts)))


# --------------------------------------------------------------------------- query functions


async def results_stats(
    conn: Connection, principal: Principal, *, org_id: str, school_year: str, term: int
) -> ResultsStats:
    unit = await _authorised_unit(
        conn,
        principal,
        org_id,
        "read_results_statistics",
        {"school_year": school_year, "term": term},
    )
    by_class = unit["kind"] in LEAF_KINDS
    where: dict[str, Any] = {
        "org_id": org_id,
        "school_year": school_year,
        "term": term,
        "by_class": by_class,
    }
    level_rows = await results_store.levels_under(conn, **where)
    subject_rows = await results_store.subjects_under(conn, **where)
    levels_by_part = {r["part"]: r for r in level_rows}
    subjects_by_part: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for row in subject_rows:
        subjects_by_part[row["part"]].append(row)
    parts = sorted({*levels_by_part, *subjects_by_part})
    named = {} if by_class else await _names(conn, parts)
    empty = Counter({c: 0 for c in LEVEL_COUNTERS})
    return ResultsStats(
        org_id=org_id,
        kind=unit["kind"],
        name=unit["name"],
        school_year=school_year,
        term=term,
        levels=LevelFigures.of(_sum(level_rows, LEVEL_COUNTERS)),
        subjects=_subjects(subject_rows),
        breakdown=[
            ResultsPart(
                unit_id=part,
                kind="class" if by_class else (named[part]["kind"] if part in named else "unknown"),
                name=None if by_class or part not in named else named[part]["name"],
                levels=LevelFigures.of(levels_by_part.get(part, empty)),
                subjects=_subjects(subjects_by_part[part]),
            )
            for part in parts
        ],
    )


async def teacher_stats(
    conn: Connection, principal: Principal, *, org_id: str, school_year: str
) -> TeacherStats:
    require_role(principal, TEACHER_STATS_READERS)
    unit = await _authorised_unit(
        conn, principal, org_id, "read_teacher_statistics", {"school_year": school_year}
    )
    start = school_year_start(school_year)
    rows = await teacher_store.teachers_under(conn, org_id=org_id, start_year=start)
    by_subject: dict[str, list[asyncpg.Record]] = defaultdict(list)
    by_part: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for row in rows:
        by_subject[row["main_subject"]].append(row)
        by_part[row["part"]].append(row)
    leaf = unit["kind"] in LEAF_KINDS
    named = {} if leaf else await _names(conn, by_part)
    return TeacherStats(
        org_id=org_id,
        kind=unit["kind"],
        name=unit["name"],
        school_year=school_year,
        reference_day=reference_day(start),
        teachers=sum(int(r["teachers"]) for r in rows),
        age_bands=[name for name, _, _ in AGE_BANDS],
        by_age_band=_by_band(rows, start),
        subjects=[
            SubjectTeachers(
                subject_code=code,
                teachers=sum(int(r["teachers"]) for r in by_subject[code]),
                by_age_band=_by_band(by_subject[code], start),
            )
            for code in sorted(by_subject, key=lambda c: (c == NO_SUBJECT, c))
        ],
        breakdown=[]
        if leaf
        else [
            TeacherPart(
                unit_id=part,
                kind=named[part]["kind"] if part in named else "unknown",
                name=named[part]["name"] if part in named else None,
                teachers=sum(int(r["teachers"]) for r in by_part[part]),
                by_age_band=_by_band(by_part[part], start),
            )
            for part in sorted(by_part)
        ],
    )


# --------------------------------------------------------------------------- routes


@router.get(
    "/stats/results/{org_id}",
    response_model=ResultsStats,
    summary="Gradebook results of finalised terms (levels, subject averages), at or below a unit",
)
async def results_statistics(
    org_id: str,
    school_year: SchoolYearQuery,
    pool: PoolDep,
    principal: PrincipalDep,
    # An int with bounds, not Literal[0, 1, 2]: query values arrive as text, and pydantic
    # does not coerce "1" to a Literal of ints.
    term: Annotated[
        int, Query(ge=0, le=2, description="Semester 1 or 2, or 0 for the whole year")
    ] = 0,
) -> ResultsStats:
    async with pool.acquire() as conn, conn.transaction():
        return await results_stats(
            conn, principal, org_id=org_id, school_year=school_year, term=term
        )


@router.get(
    "/stats/teachers/{org_id}",
    response_model=TeacherStats,
    summary="Teachers by main subject, age band and sex in a school year, at or below a unit",
)
async def teacher_statistics(
    org_id: str,
    pool: PoolDep,
    principal: PrincipalDep,
    school_year: Annotated[
        str | None,
        Query(
            pattern=SCHOOL_YEAR_PATTERN,
            description="Defaults to the current school year (from September)",
        ),
    ] = None,
) -> TeacherStats:
    year = school_year or current_school_year(today_in_vietnam())
    start = school_year_start(year)
    if int(year.split("-")[1]) != start + 1:
        raise invalid("query.school_year", f"school_year: {year} is not two consecutive years")
    async with pool.acquire() as conn, conn.transaction():
        return await teacher_stats(conn, principal, org_id=org_id, school_year=year)
