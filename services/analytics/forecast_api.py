"""HTTP routes of the teacher-shortage forecast: JSON, an Excel workbook and a chart.

The forecast itself is `domain/teacher_forecast.py`; this module feeds it from the maintained
tables (schools from the organisation mirror, enrolment by grade from the learner placements,
teachers from records.staff.updated) and shows it. The projection always runs over every school
of the caller's province, because grade 10 is filled from all the province's grade-9 leavers;
only the figures of the unit asked (and, for the province, of each commune) are returned.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from fractions import Fraction
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.analytics import forecast_store
from services.analytics.domain.teacher_forecast import (
    LEVEL_GRADES,
    LEVELS,
    MAX_HORIZON,
    CohortAssumptions,
    ForecastNorms,
    GradeEnrolment,
    Level,
    LevelStaffing,
    School,
    SubjectForecast,
    Teacher,
    TeacherForecast,
    # One school's figures need the per-area step of the forecast, which the domain module
    # keeps private: it only groups by commune. TODO: a public per-school entry point there.
    _Area,
    _AreaForecast,
    forecast_teachers,
)
from shared.audit import record_access
from shared.auth import Principal, ensure_in_scope
from shared.db.pool import Connection
from shared.http.deps import PoolDep, PrincipalDep
from shared.http.problems import Problem
from shared.orgs.mirror import ancestors, get_unit

router = APIRouter(tags=["teacher forecast"])

DECIMALS = 2
SCHOOL_TYPE_LEVELS: dict[str, tuple[Level, ...]] = {
    "primary": ("primary",),
    "lower_secondary": ("lower_secondary",),
    "upper_secondary": ("upper_secondary",),
}
LEVEL_NAMES: dict[str, str] = {
    "primary": "Tiểu học",
    "lower_secondary": "THCS",
    "upper_secondary": "THPT",
}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

YearsQuery = Annotated[
    int, Query(ge=1, le=MAX_HORIZON, description="School years to project after the base year")
]
BaseYearQuery = Annotated[
    int | None,
    Query(
        ge=2000,
        le=2100,
        description="Base school year by its first calendar year (2025 = 2025-2026); "
        "default: the latest school year with placements",
    ),
]


def _round(value: Fraction | int) -> float:
    return round(float(value), DECIMALS)


def school_year_name(year: int) -> str:
    return f"{year}-{year + 1}"


# --------------------------------------------------------------------------- models


class GradeFigures(BaseModel):
    grade: int
    learners: int
    classes: int
    periods_per_class: float = Field(description="Electives: periods x share of classes")
    periods: float


class YearFigures(BaseModel):
    year: int = Field(description="2025 = school year 2025-2026")
    school_year: str
    demand: float = Field(description="Full-time teachers: periods / (weekly norm x weeks)")
    supply: int = Field(description="Teachers of this subject who teach the whole year")
    shortage: float = Field(description="demand - supply; negative: surplus")
    periods: float = Field(description="Periods a year, all classes")
    weekly_norm: int = Field(description="Periods a week of one full-time teacher")
    weeks: int
    retirements: int = Field(description="Teachers who reach retirement age this school year")
    retiring_staff_ids: list[str]
    grades: list[GradeFigures]


class SubjectFigures(BaseModel):
    level: str
    subject: str = Field(description="Staffing subject (primary class teachers: van_hoa)")
    years: list[YearFigures]


class LevelFigures(BaseModel):
    """All subjects of a level against the staffing-norm cap (Circular 20/2023)."""

    level: str
    year: int
    classes: int
    demand: float
    staffing_cap: float
    supply: int
    shortage: float
    shortage_within_cap: float


class AreaForecast(BaseModel):
    org_id: str
    kind: str
    name: str
    subjects: list[SubjectFigures]
    levels: list[LevelFigures]


class TeacherForecastReport(BaseModel):
    org_id: str
    kind: str
    name: str
    base_year: int
    years: list[int]
    area: AreaForecast = Field(description="The unit asked")
    communes: list[AreaForecast] = Field(description="For a province: each commune")


# --------------------------------------------------------------------------- query function


async def teacher_forecast(
    conn: Connection,
    principal: Principal,
    *,
    org_id: str,
    years: int = 5,
    base_year: int | None = None,
) -> TeacherForecastReport:
    unit = await get_unit(conn, org_id)
    if unit is None:
        raise Problem(404, "Not Found", f"organisation {org_id} is not known to analytics")
    chain = await ancestors(conn, org_id) or []
    ensure_in_scope(principal, org_id, chain)
    await record_access(
        conn,
        principal,
        action="read_teacher_forecast",
        entity_kind="org_unit",
        entity_ids=[org_id],
        detail={"years": years, "base_year": base_year},
    )
    province = chain[-1] if chain else org_id
    school_rows = await forecast_store.schools_under(conn, province)
    school_ids = [r["org_id"] for r in school_rows]
    if base_year is None:
        latest = await forecast_store.latest_school_year(conn, school_ids)
        if latest is None:
            raise Problem(404, "Not Found", "no enrolment is known for this province yet")
        base_year = int(latest[:4])
    enrolment_rows = await forecast_store.enrolment_by_grade(
        conn, school_ids, school_year_name(base_year)
    )
    observed: dict[str, set[int]] = defaultdict(set)
    for row in enrolment_rows:
        observed[row["school_id"]].add(row["grade"])
    schools = [
        school
        for r in school_rows
        if (school := _school(r["org_id"], r["parent_id"] or province, r["school_type"], observed))
    ]
    by_id = {s.school_id: s for s in schools}
    enrolment = [
        GradeEnrolment(r["school_id"], r["grade"], base_year, r["learners"])
        for r in enrolment_rows
        if r["school_id"] in by_id
    ]
    norms = ForecastNorms()
    start = date(base_year, norms.school_year_start_month, 1)
    teacher_rows = await forecast_store.teachers_at(
        conn, list(by_id), start, date(base_year + 1, norms.school_year_start_month, 1)
    )
    teachers = [
        Teacher(
            r["staff_id"],
            r["school_id"],
            _teacher_level(by_id[r["school_id"]], r["main_subject"], norms),
            r["main_subject"],
            r["birth_date"],
            r["sex"],
        )
        for r in teacher_rows
    ]
    result = forecast_teachers(schools, enrolment, teachers, base_year, years, norms)

    communes: list[AreaForecast] = []
    if unit["kind"] == "school":
        school = by_id.get(org_id)
        subjects, levels = _school_rows(school, teachers, result, norms) if school else ([], [])
        area = _area(org_id, unit["kind"], unit["name"], subjects, levels)
    else:
        subject_rows: dict[str | None, list[SubjectForecast]] = defaultdict(list)
        for subject_row in result.subjects:
            subject_rows[subject_row.commune_id].append(subject_row)
        level_rows: dict[str | None, list[LevelStaffing]] = defaultdict(list)
        for staffing in result.levels:
            level_rows[staffing.commune_id].append(staffing)
        # The province's rows have no commune; a unit with no school of its own has no rows.
        key = None if org_id == province else org_id
        area = _area(org_id, unit["kind"], unit["name"], subject_rows[key], level_rows[key])
        if org_id == province:
            named = await forecast_store.units(conn, sorted({s.commune_id for s in schools}))
            for commune in sorted({s.commune_id for s in schools}):
                c = named.get(commune)
                kind, name = (c["kind"], c["name"]) if c else ("unknown", commune)
                communes.append(
                    _area(commune, kind, name, subject_rows[commune], level_rows[commune])
                )
    return TeacherForecastReport(
        org_id=org_id,
        kind=unit["kind"],
        name=unit["name"],
        base_year=base_year,
        years=list(result.enrolment.years),
        area=area,
        communes=communes,
    )


def _school(
    school_id: str, commune_id: str, school_type: str | None, observed: dict[str, set[int]]
) -> School | None:
    """General-education levels by school type, and any level with learners placed (a
    multi-level school or a continuing-education centre says which by its enrolment)."""
    levels = set(SCHOOL_TYPE_LEVELS.get(school_type or "", ()))
    for grade in observed.get(school_id, ()):
        levels |= {level for level in LEVELS if grade in LEVEL_GRADES[level]}
    if not levels:
        return None
    ordered = [level for level in LEVELS if level in levels]
    return School(school_id, commune_id, LEVEL_GRADES[ordered[0]][0], LEVEL_GRADES[ordered[-1]][-1])


def _teacher_level(school: School, main_subject: str, norms: ForecastNorms) -> Level:
    """A multi-level school's teacher teaches the first of its levels that has their subject."""
    for level in school.levels:
        known = set(norms.periods[level]) | set(norms.staffing_subjects.get(level, {}))
        if main_subject in known:
            return level
    return school.levels[0]


def _school_rows(
    school: School,
    teachers: Sequence[Teacher],
    result: TeacherForecast,
    norms: ForecastNorms,
) -> tuple[list[SubjectForecast], list[LevelStaffing]]:
    """One school's figures, on the province-wide enrolment projection."""
    subjects: list[SubjectForecast] = []
    levels: list[LevelStaffing] = []
    for level in school.levels:
        staff = [t for t in teachers if t.school_id == school.school_id and t.level == level]
        area = _Area(level, school.school_id, [school], staff)
        calculator = _AreaForecast(
            area, result.enrolment, result.retirements, norms, CohortAssumptions()
        )
        for year in result.enrolment.years:
            rows, staffing = calculator.year(year)
            subjects.extend(rows)
            levels.append(staffing)
    return subjects, levels


def _area(
    org_id: str,
    kind: str,
    name: str,
    subjects: Sequence[SubjectForecast],
    levels: Sequence[LevelStaffing],
) -> AreaForecast:
    """The figures of one area (province, commune or school), grouped by subject."""
    by_subject: dict[tuple[str, str], list[SubjectForecast]] = defaultdict(list)
    for row in subjects:
        by_subject[(row.level, row.subject)].append(row)
    order: dict[str, int] = {level: i for i, level in enumerate(LEVELS)}
    return AreaForecast(
        org_id=org_id,
        kind=kind,
        name=name,
        subjects=[
            SubjectFigures(
                level=level,
                subject=subject,
                years=[_year(r) for r in sorted(rows, key=lambda r: r.year)],
            )
            for (level, subject), rows in sorted(
                by_subject.items(), key=lambda item: (order[item[0][0]], item[0][1])
            )
        ],
        levels=[
            LevelFigures(
                level=r.level,
                year=r.year,
                classes=r.classes,
                demand=_round(r.demand),
                staffing_cap=_round(r.staffing_cap),
                supply=r.supply,
                shortage=_round(r.shortage),
                shortage_within_cap=_round(r.shortage_within_cap),
            )
            for r in sorted(levels, key=lambda r: (order[r.level], r.year))
        ],
    )


def _year(row: SubjectForecast) -> YearFigures:
    return YearFigures(
        year=row.year,
        school_year=school_year_name(row.year),
        demand=_round(row.demand),
        supply=row.supply,
        shortage=_round(row.shortage),
        periods=_round(row.periods),
        weekly_norm=row.weekly_norm,
        weeks=row.weeks,
        retirements=len(row.retiring),
        retiring_staff_ids=list(row.retiring),
        grades=[
            GradeFigures(
                grade=g.grade,
                learners=g.learners,
                classes=g.classes,
                periods_per_class=_round(g.periods_per_class),
                periods=_round(g.periods),
            )
            for g in row.grades
        ],
    )


# --------------------------------------------------------------------------- workbook and chart

SHEET_HEADERS = (
    "Cấp học",
    "Môn (mã)",
    "Năm học",
    "Số lớp theo khối",
    "Số tiết/năm",
    "Định mức (tiết/tuần)",
    "Số tuần",
    "Nhu cầu (GV)",
    "Hiện có (GV)",
    "Nghỉ hưu trong năm",
    "Thiếu (+) / thừa (−)",
)
COLUMN_FORMATS = {5: "#,##0.0", 8: "0.00", 9: "0", 10: "0", 11: "0.00"}
COLUMN_WIDTHS = (10, 22, 11, 34, 12, 12, 9, 13, 13, 12, 14)
SUMMARY_SHEET = "Tổng hợp"


def forecast_workbook(report: TeacherForecastReport) -> bytes:
    """A summary sheet for the unit asked and one sheet per commune, Vietnamese headers."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    workbook = openpyxl.Workbook()
    used: set[str] = set()
    for index, area in enumerate([report.area, *report.communes]):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        assert sheet is not None
        sheet.title = SUMMARY_SHEET if index == 0 else _sheet_title(area.name, used)
        used.add(sheet.title)
        sheet.append([f"Dự báo thiếu giáo viên theo môn: {area.name} ({area.org_id})"])
        sheet.append(
            [
                f"Năm học cơ sở {school_year_name(report.base_year)}; dự báo đến năm học "
                f"{school_year_name(report.years[-1])}. Nhu cầu = số tiết/năm : "
                "(định mức tiết/tuần x số tuần)."
            ]
        )
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([])
        sheet.append(list(SHEET_HEADERS))
        for cell in sheet[4]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for subject in area.subjects:
            for year in subject.years:
                classes = ", ".join(f"lớp {g.grade}: {g.classes}" for g in year.grades)
                sheet.append(
                    [
                        LEVEL_NAMES.get(subject.level, subject.level),
                        subject.subject,
                        year.school_year,
                        classes,
                        year.periods,
                        year.weekly_norm,
                        year.weeks,
                        year.demand,
                        year.supply,
                        year.retirements,
                        year.shortage,
                    ]
                )
                for column, number_format in COLUMN_FORMATS.items():
                    sheet.cell(row=sheet.max_row, column=column).number_format = number_format
        for column, width in enumerate(COLUMN_WIDTHS, start=1):
            sheet.column_dimensions[openpyxl.utils.get_column_letter(column)].width = width
        sheet.freeze_panes = "A5"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(name: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in name).strip() or "Xã"
    title, n = clean[:31], 2
    while title in used:
        suffix = f" ({n})"
        title, n = clean[: 31 - len(suffix)] + suffix, n + 1
    return title


def forecast_chart(report: TeacherForecastReport, subject: str) -> bytes:
    """Demand and supply of one staffing subject (all levels together) over the years."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = [s for s in report.area.subjects if s.subject == subject]
    if not rows:
        raise Problem(404, "Not Found", f"no forecast for subject {subject} in {report.org_id}")
    demand = [sum(s.years[i].demand for s in rows) for i in range(len(report.years))]
    supply = [sum(s.years[i].supply for s in rows) for i in range(len(report.years))]
    labels = [school_year_name(y) for y in report.years]
    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.subplots()
    axes.plot(labels, demand, marker="o", label="Nhu cầu (GV)")
    axes.plot(labels, supply, marker="s", label="Hiện có (GV)")
    axes.fill_between(
        labels,
        supply,
        demand,
        where=[d > s for d, s in zip(demand, supply, strict=True)],
        alpha=0.2,
        color="red",
        interpolate=True,
        label="Thiếu",
    )
    axes.set_title(f"{subject}: nhu cầu và số giáo viên, {report.name}")
    axes.set_xlabel("Năm học")
    axes.set_ylabel("Giáo viên (toàn thời gian)")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


# --------------------------------------------------------------------------- routes


@router.get(
    "/forecast/teachers",
    response_model=TeacherForecastReport,
    summary="Teacher shortage by subject for the coming school years (province, commune, school)",
)
async def teacher_forecast_json(
    pool: PoolDep,
    principal: PrincipalDep,
    org_id: Annotated[str, Query(min_length=1, max_length=64)],
    years: YearsQuery = 5,
    base_year: BaseYearQuery = None,
) -> TeacherForecastReport:
    async with pool.acquire() as conn, conn.transaction():
        return await teacher_forecast(
            conn, principal, org_id=org_id, years=years, base_year=base_year
        )


@router.get(
    "/forecast/teachers.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}}}},
    summary="The teacher-shortage forecast as an Excel workbook",
)
async def teacher_forecast_xlsx(
    pool: PoolDep,
    principal: PrincipalDep,
    org_id: Annotated[str, Query(min_length=1, max_length=64)],
    years: YearsQuery = 5,
    base_year: BaseYearQuery = None,
) -> Response:
    async with pool.acquire() as conn, conn.transaction():
        report = await teacher_forecast(
            conn, principal, org_id=org_id, years=years, base_year=base_year
        )
    filename = f"du-bao-giao-vien-{report.org_id}-{report.base_year}.xlsx"
    return Response(
        forecast_workbook(report),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/forecast/teachers.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
    summary="Demand and supply of one subject's teachers over the years, as a chart",
)
async def teacher_forecast_png(
    pool: PoolDep,
    principal: PrincipalDep,
    org_id: Annotated[str, Query(min_length=1, max_length=64)],
    subject: Annotated[str, Query(min_length=1, max_length=40, description="e.g. toan")],
    years: YearsQuery = 5,
    base_year: BaseYearQuery = None,
) -> Response:
    async with pool.acquire() as conn, conn.transaction():
        report = await teacher_forecast(
            conn, principal, org_id=org_id, years=years, base_year=base_year
        )
    return Response(forecast_chart(report, subject), media_type="image/png")
