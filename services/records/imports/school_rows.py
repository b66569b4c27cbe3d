"""Import kinds `class`, `enrolment` and `score`: what school software sends at the start of a
year and through it. Each row goes through the same use case as the HTTP API (so the same
rules and the same events), in its own savepoint; a row that says what is already stored is
`unchanged` and publishes nothing, so running a file again changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from services.records import lifecycle_store, store
from services.records.gradebook import handlers as gradebook
from services.records.gradebook.handlers import GradeCreate, GradeValue, validate_grade
from services.records.handlers import enrol_student
from services.records.imports.framework import (
    ImportRow,
    Outcome,
    RowError,
    RowKind,
    RowOutcome,
    register_kind,
)
from services.records.lifecycle import create_class
from services.records.schemas import EnrolmentCreate
from shared.auth import AuthorisationError, Principal
from shared.db.pool import Connection
from shared.http.problems import Problem


def _values(row: ImportRow, columns: tuple[str, ...]) -> dict[str, Any]:
    return {c: row.values[c] for c in columns if row.values.get(c, "") != ""}


def _rejected_by_validation(exc: ValidationError) -> RowOutcome:
    return RowOutcome.rejected(
        [RowError(".".join(str(p) for p in e["loc"]), e["type"], e["msg"]) for e in exc.errors()]
    )


def _rejected_by_problem(problem: Problem) -> RowOutcome:
    if problem.errors:
        return RowOutcome.rejected(
            [
                RowError(str(e["field"]).removeprefix("body."), str(e["type"]), str(e["message"]))
                for e in problem.errors
            ]
        )
    rule = problem.title.lower().replace(" ", "_")
    return RowOutcome.rejected([RowError("", rule, problem.detail or problem.title)])


def _parse_date(text: str | None) -> str | None:
    """Accept 2025-09-05 and 05/09/2025 (Vietnamese spreadsheets)."""
    if not text or "/" not in text:
        return text
    day, month, year = text.split("/")
    return date(int(year), int(month), int(day)).isoformat()


# --- classes ------------------------------------------------------------------------------------

CLASS_COLUMNS = ("school_id", "school_year", "grade", "name")
CLASS_OPTIONAL = ("homeroom_teacher_id", "sessions_per_day")


async def apply_class(conn: Connection, principal: Principal, row: ImportRow) -> RowOutcome:
    values = _values(row, CLASS_COLUMNS + CLASS_OPTIONAL)
    try:
        grade = int(values.get("grade", ""))
    except ValueError:
        return RowOutcome.rejected([RowError("grade", "int", "grade must be a whole number")])
    existing = await lifecycle_store.class_by_name(
        conn,
        school_id=values.get("school_id", ""),
        school_year=values.get("school_year", ""),
        name=values.get("name", ""),
    )
    if existing is not None:
        if existing["grade"] == grade:
            return RowOutcome(Outcome.UNCHANGED, existing["class_id"])
        return RowOutcome.rejected(
            [
                RowError(
                    "grade",
                    "conflict",
                    f"class {existing['class_id']} exists with grade {existing['grade']}",
                )
            ]
        )
    try:
        created = await create_class(
            conn,
            principal,
            school_id=values["school_id"],
            school_year=values["school_year"],
            grade=grade,
            name=values["name"],
            homeroom_teacher_id=values.get("homeroom_teacher_id"),
            sessions_per_day=int(values.get("sessions_per_day", "1")),
        )
    except (Problem, AuthorisationError, KeyError, ValueError) as exc:
        return _rejected(exc)
    return RowOutcome(Outcome.ACCEPTED, created["class_id"])


# --- enrolments ---------------------------------------------------------------------------------

ENROLMENT_COLUMNS = ("learner_id", "school_id", "school_year", "grade", "enrolled_on")
ENROLMENT_OPTIONAL = ("class_id", "sex", "birth_date")


async def apply_enrolment(conn: Connection, principal: Principal, row: ImportRow) -> RowOutcome:
    values = _values(row, ENROLMENT_COLUMNS + ENROLMENT_OPTIONAL)
    for column in ("enrolled_on", "birth_date"):
        try:
            values[column] = _parse_date(values.get(column))
        except ValueError:
            return RowOutcome.rejected([RowError(column, "date", f"{column} is not a date")])
    if "sex" in values:
        values["sex"] = {"nam": "male", "nữ": "female", "nu": "female"}.get(
            values["sex"].lower(), values["sex"].lower()
        )
    try:
        command = EnrolmentCreate.model_validate({k: v for k, v in values.items() if v})
    except ValidationError as exc:
        return _rejected_by_validation(exc)
    current = await store.active_enrolment(conn, command.learner_id)
    if current is not None and (
        current["school_id"],
        current["school_year"],
        current["grade"],
        current["class_id"],
    ) == (command.school_id, command.school_year, command.grade, command.class_id):
        return RowOutcome(Outcome.UNCHANGED, str(current["enrolment_id"]))
    try:
        created = await enrol_student(conn, principal, command)
    except (Problem, AuthorisationError) as exc:
        return _rejected(exc)
    return RowOutcome(Outcome.ACCEPTED, created["enrolment_id"])


# --- scores -------------------------------------------------------------------------------------

SCORE_COLUMNS = (
    "learner_id",
    "school_id",
    "class_id",
    "school_year",
    "semester",
    "subject_code",
    "assessment",
)
SCORE_OPTIONAL = ("sequence", "score", "comment_grade", "level", "reason")


async def _current_value(conn: Connection, command: GradeCreate) -> GradeValue | None:
    row = await conn.fetchrow(
        "SELECT score, comment_grade, level FROM grade_entries WHERE learner_id = $1 "
        "AND school_id = $2 AND class_id = $3 AND school_year = $4 AND semester = $5 "
        "AND subject_code = $6 AND assessment = $7 AND sequence = $8 "
        "AND superseded_by IS NULL",
        command.learner_id,
        command.school_id,
        command.class_id,
        command.school_year,
        command.semester,
        command.subject_code,
        command.assessment,
        command.sequence,
    )
    return None if row is None else GradeValue.of_row(dict(row))


async def apply_score(conn: Connection, principal: Principal, row: ImportRow) -> RowOutcome:
    values: dict[str, Any] = _values(row, SCORE_COLUMNS + SCORE_OPTIONAL)
    for column in ("semester", "sequence"):  # spreadsheet text; the contract wants numbers
        if column in values and values[column].isdigit():
            values[column] = int(values[column])
    try:
        command = GradeCreate.model_validate(values)
    except ValidationError as exc:
        return _rejected_by_validation(exc)
    try:
        enrolment = await gradebook.store.class_enrolment(
            conn,
            learner_id=command.learner_id,
            school_id=command.school_id,
            school_year=command.school_year,
            class_id=command.class_id,
        )
        if enrolment is not None:
            subject = await gradebook._subject(conn, enrolment["grade"], command.subject_code)
            held = await _current_value(conn, command)
            if held is not None and held == validate_grade(command, subject):
                return RowOutcome(Outcome.UNCHANGED)
        recorded = await gradebook.record_grade(conn, principal, command, now=datetime.now(UTC))
    except (Problem, AuthorisationError) as exc:
        return _rejected(exc)
    return RowOutcome(Outcome.ACCEPTED, str(recorded["entry_id"]))


def _rejected(exc: Exception) -> RowOutcome:
    if isinstance(exc, Problem):
        return _rejected_by_problem(exc)
    if isinstance(exc, AuthorisationError):
        return RowOutcome.rejected([RowError("school_id", "scope", str(exc))])
    return RowOutcome.rejected([RowError("", "invalid", str(exc))])


register_kind(
    RowKind(
        name="class",
        required_columns=CLASS_COLUMNS,
        optional_columns=CLASS_OPTIONAL,
        apply=apply_class,
        key_columns=("school_id", "school_year", "name"),
        description="Classes of a school year (lớp).",
    )
)
register_kind(
    RowKind(
        name="enrolment",
        required_columns=ENROLMENT_COLUMNS,
        optional_columns=ENROLMENT_OPTIONAL,
        apply=apply_enrolment,
        key_columns=("learner_id",),
        description="Learners enrolled in a school, grade and (optionally) class.",
    )
)
register_kind(
    RowKind(
        name="score",
        required_columns=SCORE_COLUMNS,
        optional_columns=SCORE_OPTIONAL,
        apply=apply_score,
        roles=("teacher", "school", "service"),  # as the gradebook: the office only reads
        key_columns=(
            "learner_id",
            "class_id",
            "school_year",
            "semester",
            "subject_code",
            "assessment",
            "sequence",
        ),
        description="Gradebook assessments (Circular 22/2021, 27/2020).",
    )
)
