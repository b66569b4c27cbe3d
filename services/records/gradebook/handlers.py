"""Use cases of the gradebook: record a grade (or correct one after finalisation), read a
class's gradebook and results, finalise a term, gather a learner's transcript.

The rules themselves live in services.records.domain (Circular 22 for secondary, Circular 27
for primary); this module turns stored entries into the domain's value objects and back.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.records.domain.gradebook import (
    CIRCULAR_22_REGULAR_ASSESSMENTS,
    Assessments,
    CommentAssessments,
    CommentGrade,
    Correction,
    FieldChange,
    GradebookEntry,
    GradebookStateError,
    ScoredAssessments,
    Semester,
    SemesterStatus,
    comment_semester_result,
    comment_year_result,
    correct_finalized,
    missing_assessments,
    parse_comment_grade,
    parse_score,
    record_assessments,
    required_regular_assessments,
    score_issues,
    semester_average,
    year_average,
)
from services.records.domain.learning_level import LearningLevel, LevelOutcome, learning_level
from services.records.domain.primary_assessment import (
    InvalidPrimaryAssessment,
    PrimarySubjectLevel,
    parse_periodic_test_score,
    parse_primary_level,
)
from services.records.gradebook import store
from services.records.gradebook.transcript import TranscriptData, TranscriptRow
from services.records.handlers import ensure_can_read_school, ensure_school_in_scope
from shared.audit import record_access
from shared.auth import AuthorisationError, Principal, require_role
from shared.db.pool import Connection
from shared.events.contracts.identity import OrgId
from shared.events.contracts.records import (
    SCHOOL_YEAR_PATTERN,
    GradeRecorded,
    LearnerTermResult,
    TermFinalized,
)
from shared.http.problems import Problem, field_error, invalid
from shared.orgs.mirror import ancestors, get_unit
from shared.outbox.writer import add_event

SOURCE = "/eduhub/records"
# Teachers enter grades; the school (principal's office) finalises and corrects too. The
# Department and communes read: they do not keep gradebooks (check with the Department).
RECORDERS = ["teacher", "school", "service"]
FINALIZERS = ["school", "service"]
READERS = ["department", "commune", "school", "teacher", "auditor", "service"]

LAST_PRIMARY_GRADE = 5
SECONDARY_KINDS = ("regular", "mid_term", "end_term")
PRIMARY_KINDS = ("level", "periodic_test")
# Primary assessment points within a semester (Circular 27 Art. 7, check): the mid-semester
# judgement and the end-of-semester one (end of year in semester 2).
PRIMARY_POINTS = {1: "mid-semester", 2: "end of semester"}

Scale = Literal["score", "comment", "level"]
CommentCode = Literal["dat", "chua_dat"]
PrimaryLevelCode = Literal["hoan_thanh_tot", "hoan_thanh", "chua_hoan_thanh"]
LevelCode = Literal["tot", "kha", "dat", "chua_dat"]
AssessmentKind = Literal["regular", "mid_term", "end_term", "level", "periodic_test"]
# The codes the event contracts use, for the domain's Vietnamese values.
COMMENT_CODES: dict[CommentGrade, CommentCode] = {
    CommentGrade.DAT: "dat",
    CommentGrade.CHUA_DAT: "chua_dat",
}
COMMENT_BY_CODE: dict[str, CommentGrade] = {code: grade for grade, code in COMMENT_CODES.items()}
PRIMARY_CODES: dict[PrimarySubjectLevel, PrimaryLevelCode] = {
    PrimarySubjectLevel.HOAN_THANH_TOT: "hoan_thanh_tot",
    PrimarySubjectLevel.HOAN_THANH: "hoan_thanh",
    PrimarySubjectLevel.CHUA_HOAN_THANH: "chua_hoan_thanh",
}
PRIMARY_BY_CODE: dict[str, PrimarySubjectLevel] = {
    code: level for level, code in PRIMARY_CODES.items()
}
LEVEL_CODES: dict[LearningLevel, LevelCode] = {
    LearningLevel.TOT: "tot",
    LearningLevel.KHA: "kha",
    LearningLevel.DAT: "dat",
    LearningLevel.CHUA_DAT: "chua_dat",
}


# --- commands and views -------------------------------------------------------------------------


class GradeCreate(BaseModel):
    """One assessment. Secondary: `regular` (sequence 1..n), `mid_term`, `end_term` with a
    `score` (scored subjects) or a `comment_grade` (comment subjects). Primary: `level` or
    `periodic_test` with sequence 1 = mid-semester, 2 = end of semester / end of year."""

    model_config = ConfigDict(extra="forbid")

    learner_id: str = Field(min_length=1, max_length=64)
    school_id: OrgId
    class_id: str = Field(min_length=1, max_length=64)
    school_year: str = Field(pattern=SCHOOL_YEAR_PATTERN, examples=["2025-2026"])
    semester: Literal[1, 2]
    subject_code: str = Field(min_length=1, max_length=40, examples=["toan"])
    assessment: AssessmentKind
    sequence: int = Field(default=1, ge=1, le=10)
    # A string too, so that "7,5" (Vietnamese decimal comma) reaches the domain's parser.
    score: Decimal | str | None = Field(default=None, examples=[7.5])
    comment_grade: str | None = Field(default=None, max_length=20, examples=["Đạt"])
    level: str | None = Field(default=None, max_length=30, examples=["Hoàn thành tốt"])
    reason: str | None = Field(
        default=None,
        max_length=500,
        description="Required to change a finalised term: the change is then a correction",
    )


class FinalizeCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    school_id: OrgId
    school_year: str = Field(pattern=SCHOOL_YEAR_PATTERN, examples=["2025-2026"])
    semester: Literal[0, 1, 2] = Field(description="1, 2, or 0 for the whole year")
    force: bool = Field(default=False, description="Finalise despite missing assessments")
    reason: str | None = Field(default=None, max_length=500, description="Required with force")


class GradeEntryPublic(BaseModel):
    entry_id: uuid.UUID
    learner_id: str
    school_id: str
    class_id: str
    school_year: str
    semester: int
    subject_code: str
    assessment: str
    sequence: int
    score: float | None
    comment_grade: str | None
    level: str | None
    recorded_by: str
    recorded_at: datetime
    corrects: uuid.UUID | None
    reason: str | None


class TermPublic(BaseModel):
    school_id: str
    class_id: str
    school_year: str
    semester: int
    status: Literal["open", "finalized"]
    grade: int | None
    finalized_at: datetime | None = None
    finalized_by: str | None = None
    forced_reason: str | None = None
    missing: list[dict[str, str]] = Field(default_factory=list)


class SubjectPublic(BaseModel):
    subject_code: str
    name_vi: str
    periods_per_year: int
    scale: Scale
    periodic_test: bool
    compulsory: bool
    required_regular: int | None


class SubjectResultPublic(BaseModel):
    subject_code: str
    name_vi: str
    scale: str
    average: float | None = None
    comment_grade: str | None = None
    level: str | None = None
    test_score: int | None = None
    missing: list[str] = Field(default_factory=list)


class LearnerResultPublic(BaseModel):
    learner_id: str
    enrolled: bool = Field(description="Still enrolled in the class (false: has left it)")
    subjects: list[SubjectResultPublic]
    learning_level: LevelCode | None
    learning_level_vi: str | None
    unadjusted_level: LevelCode | None
    adjusted_for_subject: str | None


class ClassResults(BaseModel):
    term: TermPublic
    learners: list[LearnerResultPublic]


class LearnerEntries(BaseModel):
    learner_id: str
    enrolled: bool
    entries: list[GradeEntryPublic]


class CorrectionPublic(BaseModel):
    entry_id: uuid.UUID
    corrects: uuid.UUID | None
    learner_id: str
    semester: int
    subject_code: str
    assessment: str
    sequence: int
    value_before: str | None
    value_after: str
    reason: str
    actor: str
    actor_role: str
    at: datetime


class ClassGradebook(BaseModel):
    term: TermPublic
    subjects: list[SubjectPublic]
    learners: list[LearnerEntries]
    corrections: list[CorrectionPublic]


# --- subjects and term results (pure) -----------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    code: str
    name_vi: str
    periods_per_year: int
    scale: Scale
    periodic_test: bool
    compulsory: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Subject:
        return cls(
            code=row["subject_code"],
            name_vi=row["name_vi"],
            periods_per_year=row["periods_per_year"],
            scale=row["scale"],
            periodic_test=row["periodic_test"],
            compulsory=row["compulsory"],
        )

    @property
    def required_regular(self) -> int:
        if self.scale == "comment":
            return CIRCULAR_22_REGULAR_ASSESSMENTS.comment_subject_count
        return required_regular_assessments(self.periods_per_year)

    def public(self) -> SubjectPublic:
        return SubjectPublic(
            subject_code=self.code,
            name_vi=self.name_vi,
            periods_per_year=self.periods_per_year,
            scale=self.scale,
            periodic_test=self.periodic_test,
            compulsory=self.compulsory,
            required_regular=None if self.scale == "level" else self.required_regular,
        )


# The current value of each (assessment, sequence) of one learner's subject-semester.
Slots = Mapping[tuple[str, int], Mapping[str, Any]]


@dataclass(frozen=True)
class SubjectResult:
    subject: Subject
    average: Decimal | None = None
    comment: CommentGrade | None = None
    level: PrimarySubjectLevel | None = None
    test_score: int | None = None
    missing: tuple[str, ...] = ()

    def public(self) -> SubjectResultPublic:
        return SubjectResultPublic(
            subject_code=self.subject.code,
            name_vi=self.subject.name_vi,
            scale=self.subject.scale,
            average=None if self.average is None else float(self.average),
            comment_grade=None if self.comment is None else COMMENT_CODES[self.comment],
            level=None if self.level is None else PRIMARY_CODES[self.level],
            test_score=self.test_score,
            missing=list(self.missing),
        )


@dataclass(frozen=True)
class LearnerResult:
    learner_id: str
    enrolled: bool
    subjects: tuple[SubjectResult, ...]
    outcome: LevelOutcome | None  # secondary only; None while anything is missing

    def public(self) -> LearnerResultPublic:
        outcome = self.outcome
        return LearnerResultPublic(
            learner_id=self.learner_id,
            enrolled=self.enrolled,
            subjects=[s.public() for s in self.subjects],
            learning_level=None if outcome is None else LEVEL_CODES[outcome.level],
            learning_level_vi=None if outcome is None else outcome.level.value,
            unadjusted_level=None if outcome is None else LEVEL_CODES[outcome.unadjusted_level],
            adjusted_for_subject=None if outcome is None else outcome.adjusted_for_subject,
        )


def secondary_assessments(subject: Subject, slots: Slots) -> Assessments:
    regular = [slots[key] for key in sorted(key for key in slots if key[0] == "regular")]
    mid, end = slots.get(("mid_term", 1)), slots.get(("end_term", 1))
    if subject.scale == "score":
        return ScoredAssessments(
            regular=tuple(Decimal(row["score"]) for row in regular),
            mid_term=None if mid is None else Decimal(mid["score"]),
            end_term=None if end is None else Decimal(end["score"]),
        )
    return CommentAssessments(
        regular=tuple(COMMENT_BY_CODE[row["comment_grade"]] for row in regular),
        mid_term=None if mid is None else COMMENT_BY_CODE[mid["comment_grade"]],
        end_term=None if end is None else COMMENT_BY_CODE[end["comment_grade"]],
    )


def _primary_semester_result(subject: Subject, slots: Slots) -> SubjectResult:
    missing = [
        f"level ({point}): not recorded"
        for sequence, point in PRIMARY_POINTS.items()
        if ("level", sequence) not in slots
    ]
    if subject.periodic_test and ("periodic_test", 2) not in slots:
        missing.append(f"periodic_test ({PRIMARY_POINTS[2]}): not recorded")
    level_row, test_row = slots.get(("level", 2)), slots.get(("periodic_test", 2))
    return SubjectResult(
        subject,
        level=None if level_row is None else PRIMARY_BY_CODE[level_row["level"]],
        test_score=None if test_row is None else int(test_row["score"]),
        missing=tuple(missing),
    )


def semester_result(subject: Subject, slots: Slots) -> SubjectResult:
    """A subject's semester: its average or comment result once complete, else what is missing."""
    if subject.scale == "level":
        return _primary_semester_result(subject, slots)
    assessments = secondary_assessments(subject, slots)
    required = subject.required_regular
    missing = tuple(missing_assessments(assessments, required_regular=required))
    if missing:
        return SubjectResult(subject, missing=missing)
    if isinstance(assessments, ScoredAssessments):
        return SubjectResult(
            subject, average=semester_average(assessments, required_regular=required)
        )
    return SubjectResult(
        subject, comment=comment_semester_result(assessments, required_regular=required)
    )


def year_result(first: SubjectResult, second: SubjectResult) -> SubjectResult:
    """A subject's year from its two semesters (Circular 22 Art. 9, check)."""
    subject = first.subject
    if subject.scale == "level":
        # Primary: the end-of-year judgement is the year's (Circular 27, check).
        missing = tuple(f"semester 2 {item}" for item in second.missing)
        return SubjectResult(
            subject, level=second.level, test_score=second.test_score, missing=missing
        )
    if subject.scale == "comment":
        if second.comment is None:
            return SubjectResult(subject, missing=("semester 2 result: not available",))
        return SubjectResult(subject, comment=comment_year_result(second.comment))
    if first.average is None or second.average is None:
        missing = tuple(
            f"semester {number} average: not available"
            for number, result in ((1, first), (2, second))
            if result.average is None
        )
        return SubjectResult(subject, missing=missing)
    return SubjectResult(subject, average=year_average(first.average, second.average))


def learner_outcome(subjects: Sequence[SubjectResult]) -> LevelOutcome | None:
    """The learning-result level (secondary), or None while any subject lacks its result."""
    graded = [s for s in subjects if s.subject.scale != "level"]
    if not graded or any(s.average is None and s.comment is None for s in graded):
        return None
    scored = {s.subject.code: s.average for s in graded if s.average is not None}
    commented = {s.subject.code: s.comment for s in graded if s.comment is not None}
    return learning_level(scored, commented)


def _slots_by_learner(
    entries: Iterable[Mapping[str, Any]],
) -> dict[str, dict[int, dict[str, dict[tuple[str, int], Mapping[str, Any]]]]]:
    """learner -> semester -> subject -> (assessment, sequence) -> entry; later rows win."""
    grouped: dict[str, dict[int, dict[str, dict[tuple[str, int], Mapping[str, Any]]]]] = (
        defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    )
    for row in entries:
        subject_slots = grouped[row["learner_id"]][row["semester"]][row["subject_code"]]
        subject_slots[(row["assessment"], row["sequence"])] = row
    return grouped


def subjects_in_use(
    subjects: Sequence[Subject], entries: Iterable[Mapping[str, Any]]
) -> list[Subject]:
    """Compulsory subjects and the electives the class has grades in (upper secondary, check)."""
    used = {row["subject_code"] for row in entries}
    return [s for s in subjects if s.compulsory or s.code in used]


def _subject_results(
    semester: int,
    subjects: Sequence[Subject],
    slots: Mapping[int, Mapping[str, Slots]],
) -> tuple[SubjectResult, ...]:
    def of(number: int, subject: Subject) -> SubjectResult:
        return semester_result(subject, slots.get(number, {}).get(subject.code, {}))

    if semester == 0:
        return tuple(year_result(of(1, s), of(2, s)) for s in subjects)
    return tuple(of(semester, s) for s in subjects)


def term_results(
    *,
    semester: int,
    subjects: Sequence[Subject],
    roster: Mapping[str, bool],
    entries: Sequence[Mapping[str, Any]],
) -> list[LearnerResult]:
    """Every learner's results in a semester (1, 2) or the year (0). `roster` maps learner to
    whether they are still enrolled; learners who left appear only if they have grades."""
    required = subjects_in_use(subjects, entries)
    grouped = _slots_by_learner(entries)
    learners = sorted({*(lid for lid, active in roster.items() if active), *grouped})
    results = []
    for learner_id in learners:
        subject_results = _subject_results(semester, required, grouped.get(learner_id, {}))
        results.append(
            LearnerResult(
                learner_id=learner_id,
                enrolled=roster.get(learner_id, False),
                subjects=subject_results,
                outcome=learner_outcome(subject_results),
            )
        )
    return results


def missing_of(results: Sequence[LearnerResult]) -> list[dict[str, str]]:
    """What keeps enrolled learners' results incomplete, one item per learner, subject, gap."""
    return [
        {"learner_id": r.learner_id, "subject_code": s.subject.code, "missing": item}
        for r in results
        if r.enrolled
        for s in r.subjects
        for item in s.missing
    ]


def term_finalized_event(
    *,
    school_id: str,
    class_id: str,
    school_year: str,
    semester: Literal[0, 1, 2],
    grade: int,
    results: Sequence[LearnerResult],
) -> TermFinalized:
    return TermFinalized(
        school_id=school_id,
        class_id=class_id,
        school_year=school_year,
        semester=semester,
        grade=grade,
        results=[_learner_term_result(r) for r in results],
    )


def _learner_term_result(result: LearnerResult) -> LearnerTermResult:
    # Primary subject levels (Hoàn thành tốt ...) have no field in LearnerTermResult v1, so a
    # primary learner's item carries only the learner id (reported to the contract owner).
    return LearnerTermResult(
        learner_id=result.learner_id,
        subject_averages={
            s.subject.code: None if s.average is None else float(s.average)
            for s in result.subjects
            if s.subject.scale == "score"
        },
        comment_grades={
            s.subject.code: None if s.comment is None else COMMENT_CODES[s.comment]
            for s in result.subjects
            if s.subject.scale == "comment"
        },
        learning_level=None if result.outcome is None else LEVEL_CODES[result.outcome.level],
    )


# --- validating a grade -------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeValue:
    """A validated value, in the form the domain and the store take."""

    score: Decimal | None = None
    comment: CommentGrade | None = None
    level: PrimarySubjectLevel | None = None

    def columns(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "comment_grade": None if self.comment is None else COMMENT_CODES[self.comment],
            "level": None if self.level is None else PRIMARY_CODES[self.level],
        }

    def text(self) -> str:
        if self.comment is not None:
            return self.comment.value
        if self.level is not None:
            return self.level.value
        return str(self.score)

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> GradeValue:
        return cls(
            score=None if row["score"] is None else Decimal(row["score"]),
            comment=None if row["comment_grade"] is None else COMMENT_BY_CODE[row["comment_grade"]],
            level=None if row["level"] is None else PRIMARY_BY_CODE[row["level"]],
        )


def _parse_comment(value: str) -> CommentGrade:
    # The codes of the event contract are accepted as well as the Vietnamese words.
    code = unicodedata.normalize("NFC", value.strip()).casefold()
    return COMMENT_BY_CODE.get(code) or parse_comment_grade(value)


def _parse_level(value: str) -> PrimarySubjectLevel:
    code = unicodedata.normalize("NFC", value.strip()).casefold()
    return PRIMARY_BY_CODE.get(code) or parse_primary_level(value, "level")


def _forbid(
    command: GradeCreate, names: Sequence[str], why: str, errors: list[dict[str, str]]
) -> None:
    for name in names:
        if getattr(command, name) is not None:
            errors.append(field_error(f"body.{name}", f"{name}: not allowed, {why}", "not_allowed"))


def _required(field: str, why: str) -> dict[str, str]:
    return field_error(f"body.{field}", f"{field}: required, {why}", "missing")


def _secondary_value(
    command: GradeCreate, subject: Subject, errors: list[dict[str, str]]
) -> GradeValue:
    name = f"{subject.name_vi} ({subject.code})"
    if command.assessment not in SECONDARY_KINDS:
        errors.append(
            field_error(
                "body.assessment",
                f"assessment: {command.assessment!r} is a primary assessment; {name} takes "
                "regular, mid_term or end_term",
                "assessment_kind",
            )
        )
    elif command.assessment == "regular" and command.sequence > subject.required_regular:
        errors.append(
            field_error(
                "body.sequence",
                f"sequence: {name} has {subject.required_regular} regular assessments a "
                f"semester ({subject.periods_per_year} periods a year), not {command.sequence}",
                "sequence",
            )
        )
    elif command.assessment != "regular" and command.sequence != 1:
        errors.append(
            field_error(
                "body.sequence",
                f"sequence: a semester has one {command.assessment}; sequence must be 1",
                "sequence",
            )
        )
    if subject.scale == "comment":
        _forbid(command, ("score", "level"), f"{name} is graded Đạt / Chưa đạt", errors)
        if command.comment_grade is None:
            errors.append(_required("comment_grade", f"{name} is graded Đạt / Chưa đạt"))
            return GradeValue()
        try:
            return GradeValue(comment=_parse_comment(command.comment_grade))
        except ValueError as exc:
            errors.append(field_error("body.comment_grade", f"comment_grade: {exc}", "comment"))
            return GradeValue()
    _forbid(command, ("comment_grade", "level"), f"{name} is scored from 0 to 10", errors)
    if command.score is None:
        errors.append(_required("score", f"{name} is scored from 0 to 10"))
        return GradeValue()
    issues = score_issues(command.score, "score")
    errors += [field_error(f"body.{i.field}", i.message, i.rule) for i in issues]
    if issues:
        return GradeValue()
    return GradeValue(score=parse_score(command.score, "score"))


def _primary_value(
    command: GradeCreate, subject: Subject, errors: list[dict[str, str]]
) -> GradeValue:
    name = f"{subject.name_vi} ({subject.code})"
    if command.assessment not in PRIMARY_KINDS:
        errors.append(
            field_error(
                "body.assessment",
                f"assessment: {command.assessment!r} is a secondary assessment; primary "
                f"{name} takes level or periodic_test",
                "assessment_kind",
            )
        )
        return GradeValue()
    if command.sequence not in PRIMARY_POINTS:
        errors.append(
            field_error(
                "body.sequence",
                "sequence: primary assessments are 1 (mid-semester) or 2 (end of semester)",
                "sequence",
            )
        )
    if command.assessment == "level":
        _forbid(command, ("score", "comment_grade"), f"{name} is judged by level", errors)
        if command.level is None:
            errors.append(_required("level", "one of Hoàn thành tốt, Hoàn thành, Chưa hoàn thành"))
            return GradeValue()
        try:
            return GradeValue(level=_parse_level(command.level))
        except InvalidPrimaryAssessment as exc:
            errors.append(field_error("body.level", str(exc), exc.rule))
            return GradeValue()
    _forbid(command, ("comment_grade", "level"), "a periodic test has a score", errors)
    if not subject.periodic_test:
        errors.append(
            field_error(
                "body.assessment",
                f"assessment: {name} has no periodic test (Circular 27 Art. 7, check)",
                "no_periodic_test",
            )
        )
        return GradeValue()
    if command.score is None:
        errors.append(_required("score", "a periodic test is scored 1 to 10"))
        return GradeValue()
    try:
        return GradeValue(score=Decimal(parse_periodic_test_score(command.score, "score")))
    except InvalidPrimaryAssessment as exc:
        errors.append(field_error(f"body.{exc.field}", str(exc), exc.rule))
        return GradeValue()


def validate_grade(command: GradeCreate, subject: Subject) -> GradeValue:
    """The value to store, or a 422 naming every invalid field and the rule it breaks."""
    errors: list[dict[str, str]] = []
    if subject.scale == "level":
        value = _primary_value(command, subject, errors)
    else:
        value = _secondary_value(command, subject, errors)
    if errors:
        raise Problem(422, "Invalid grade", "; ".join(e["message"] for e in errors), errors=errors)
    return value


# --- recording a grade --------------------------------------------------------------------------


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def _class_name(school_id: str, class_id: str, school_year: str, semester: int) -> str:
    term = "the year" if semester == 0 else f"semester {semester}"
    return f"class {class_id} of school {school_id}, {school_year} {term}"


async def _subjects(conn: Connection, grade: int) -> list[Subject]:
    return [Subject.from_row(dict(r)) for r in await store.subjects_of_grade(conn, grade=grade)]


async def _subject(conn: Connection, grade: int, code: str) -> Subject:
    subjects = await _subjects(conn, grade)
    for subject in subjects:
        if subject.code == code:
            return subject
    known = ", ".join(s.code for s in subjects) or "none"
    raise invalid(
        "body.subject_code", f"subject_code: {code!r} is not a subject of grade {grade} ({known})"
    )


@dataclass(frozen=True)
class CorrectionAudit:
    changes: tuple[FieldChange, ...]
    revision_before: int
    revision_after: int


def _finalized_conflict(term: Mapping[str, Any], detail: str) -> Problem:
    when = term["finalized_at"].isoformat() if term["finalized_at"] else "?"
    where = _class_name(term["school_id"], term["class_id"], term["school_year"], term["semester"])
    return Problem(
        409,
        "Term finalized",
        f"{detail}: {where} was finalized at {when} by {term['finalized_by']}; send the change "
        "with a reason to record it as a correction",
        errors=[
            field_error(
                "body.reason", "reason: required to change a finalized term", "correction_reason"
            )
        ],
    )


def _apply_secondary(
    command: GradeCreate,
    subject: Subject,
    slots: Slots,
    value: GradeValue,
    *,
    term: Mapping[str, Any],
    revision: int,
    reason: str | None,
    actor: str,
    at: datetime,
) -> CorrectionAudit | None:
    """Let the domain judge the change: free while open, a reasoned correction once final."""
    finalized = term["status"] == "finalized"
    entry = GradebookEntry(
        learner_id=command.learner_id,
        subject_code=subject.code,
        school_year=command.school_year,
        semester=Semester(command.semester),
        assessments=secondary_assessments(subject, slots),
        status=SemesterStatus.FINALIZED if finalized else SemesterStatus.OPEN,
        revision=revision,
    )
    after = secondary_assessments(
        subject, {**slots, (command.assessment, command.sequence): value.columns()}
    )
    try:
        if not finalized:
            record_assessments(entry, after)
            return None
        if reason is None:
            raise _finalized_conflict(
                term, f"learner {command.learner_id}, {subject.name_vi} ({subject.code})"
            )
        _, audit = correct_finalized(entry, Correction(after, reason), actor, at)
    except GradebookStateError as exc:
        raise Problem(409, "Gradebook conflict", str(exc)) from None
    return CorrectionAudit(audit.changes, audit.revision_before, audit.revision_after)


def _apply_primary(
    command: GradeCreate,
    subject: Subject,
    previous: Mapping[str, Any] | None,
    value: GradeValue,
    *,
    term: Mapping[str, Any],
    revision: int,
    reason: str | None,
) -> CorrectionAudit | None:
    # The domain has no state machine for primary records; the same rules apply by hand.
    if term["status"] != "finalized":
        return None
    if reason is None:
        raise _finalized_conflict(
            term, f"learner {command.learner_id}, {subject.name_vi} ({subject.code})"
        )
    before = None if previous is None else GradeValue.of_row(previous).text()
    if before == value.text():
        raise Problem(409, "Gradebook conflict", "the correction changes nothing")
    field = f"{command.assessment}[{command.sequence}]"
    return CorrectionAudit((FieldChange(field, before, value.text()),), revision, revision + 1)


async def record_grade(
    conn: Connection, principal: Principal, command: GradeCreate, *, now: datetime
) -> dict[str, Any]:
    """Record one assessment; in a finalised term only as a correction with a reason."""
    require_role(principal, RECORDERS)
    await ensure_school_in_scope(conn, principal, command.school_id, field="body.school_id")
    enrolment = await store.class_enrolment(
        conn,
        learner_id=command.learner_id,
        school_id=command.school_id,
        school_year=command.school_year,
        class_id=command.class_id,
    )
    if enrolment is None:
        raise invalid(
            "body.learner_id",
            f"learner_id: learner {command.learner_id} is not enrolled in class "
            f"{command.class_id} of school {command.school_id} in {command.school_year}",
        )
    if enrolment["grade"] < 1:
        raise invalid("body.class_id", "class_id: preschool classes keep no gradebook")
    subject = await _subject(conn, enrolment["grade"], command.subject_code)
    value = validate_grade(command, subject)
    where: dict[str, Any] = {
        "school_id": command.school_id,
        "class_id": command.class_id,
        "school_year": command.school_year,
    }
    term = dict(await store.lock_term(conn, **where, semester=command.semester))
    learner_subject: dict[str, Any] = {
        **where,
        "learner_id": command.learner_id,
        "semester": command.semester,
        "subject_code": subject.code,
    }
    current = await store.current_entries_of_subject(conn, **learner_subject)
    slots = {(row["assessment"], row["sequence"]): dict(row) for row in current}
    previous = slots.get((command.assessment, command.sequence))
    revision = await store.count_subject_history(conn, **learner_subject) + 1
    reason = _clean(command.reason)
    if subject.scale == "level":
        audit = _apply_primary(
            command, subject, previous, value, term=term, revision=revision, reason=reason
        )
    else:
        audit = _apply_secondary(
            command,
            subject,
            slots,
            value,
            term=term,
            revision=revision,
            reason=reason,
            actor=principal.subject,
            at=now,
        )
    entry_id = uuid.uuid4()
    corrects = None if previous is None else previous["entry_id"]
    if corrects is not None:
        await store.supersede(conn, entry_id=corrects, by=entry_id)
    row = await store.insert_entry(
        conn,
        **learner_subject,
        entry_id=entry_id,
        assessment=command.assessment,
        sequence=command.sequence,
        **value.columns(),
        recorded_by=principal.subject,
        recorded_at=now,
        corrects=corrects,
        reason=reason,
    )
    if audit is not None:
        await store.insert_correction(
            conn,
            **learner_subject,
            entry_id=entry_id,
            corrects=corrects,
            assessment=command.assessment,
            sequence=command.sequence,
            value_before=None if previous is None else GradeValue.of_row(previous).text(),
            value_after=value.text(),
            reason=reason or "",
            actor=principal.subject,
            actor_role=principal.role,
            actor_org=principal.org_id,
            at=now,
            revision_before=audit.revision_before,
            revision_after=audit.revision_after,
            changes=[asdict(change) for change in audit.changes],
        )
    await record_access(
        conn,
        principal,
        action="correct" if audit is not None else "update",
        entity_kind="learner",
        entity_ids=[command.learner_id],
        detail={"what": "grade", "entry_id": str(entry_id), "subject_code": subject.code},
    )
    public = GradeEntryPublic.model_validate(dict(row))
    await add_event(
        conn,
        GradeRecorded(
            entry_id=entry_id,
            learner_id=command.learner_id,
            school_id=command.school_id,
            class_id=command.class_id,
            school_year=command.school_year,
            semester=command.semester,
            subject_code=subject.code,
            assessment=command.assessment,
            sequence=command.sequence,
            score=public.score,
            comment_grade=None if value.comment is None else COMMENT_CODES[value.comment],
            level=None if value.level is None else PRIMARY_CODES[value.level],
            corrects=corrects,
            reason=reason,
        ),
        source=SOURCE,
    )
    if audit is not None:
        await _republish_finalized(conn, where, command.semester)
    return public.model_dump(mode="json")


async def _republish_finalized(
    conn: Connection, where: Mapping[str, Any], semester: Literal[1, 2]
) -> None:
    """A correction changes published results: publish the corrected term again (and the year,
    if it is finalised too), so subscribers replace the old figures instead of keeping them."""
    terms = await store.terms_of_class(conn, **where)
    corrected: tuple[Literal[0, 1, 2], ...] = (1, 0) if semester == 1 else (2, 0)
    for term in corrected:
        if term not in terms or terms[term]["status"] != "finalized":
            continue
        view = await _load_class(conn, **where, semesters=_semesters_of(term))
        results = term_results(
            semester=term, subjects=view.subjects, roster=view.roster, entries=view.entries
        )
        await add_event(
            conn,
            term_finalized_event(**where, semester=term, grade=view.grade, results=results),
            source=SOURCE,
        )


# --- reading a class ----------------------------------------------------------------------------


def _term_public(
    terms: Mapping[int, Mapping[str, Any]],
    *,
    school_id: str,
    class_id: str,
    school_year: str,
    semester: int,
    grade: int | None,
) -> TermPublic:
    row = terms.get(semester)
    if row is None:
        return TermPublic(
            school_id=school_id,
            class_id=class_id,
            school_year=school_year,
            semester=semester,
            status="open",
            grade=grade,
        )
    return TermPublic.model_validate({**dict(row), "grade": row["grade"] or grade})


@dataclass(frozen=True)
class ClassView:
    """What every reading of a class needs: its learners, grade, subjects and entries."""

    roster: dict[str, bool]
    grade: int
    subjects: list[Subject]
    entries: list[Mapping[str, Any]]
    terms: dict[int, Mapping[str, Any]]


async def _load_class(
    conn: Connection, *, school_id: str, class_id: str, school_year: str, semesters: list[int]
) -> ClassView:
    where = {"school_id": school_id, "class_id": class_id, "school_year": school_year}
    rows = await store.class_roster(conn, **where)
    if not rows:
        raise Problem(
            404,
            "Not Found",
            f"no learners are enrolled in class {class_id} of school {school_id} in {school_year}",
        )
    # Every learner of a class is in one grade; the highest wins if a record says otherwise.
    grade = max(int(r["grade"]) for r in rows)
    if grade < 1:
        raise Problem(404, "Not Found", f"class {class_id} is a preschool class: no gradebook")
    return ClassView(
        roster={r["learner_id"]: bool(r["active"]) for r in rows},
        grade=grade,
        subjects=await _subjects(conn, grade),
        entries=[
            dict(r)
            for r in await store.current_entries_of_class(conn, **where, semesters=semesters)
        ],
        terms={n: dict(r) for n, r in (await store.terms_of_class(conn, **where)).items()},
    )


async def class_gradebook(
    conn: Connection,
    principal: Principal,
    class_id: str,
    *,
    school_id: str,
    school_year: str,
    semester: int,
) -> ClassGradebook:
    """Every current entry of a class's semester, with the corrections made after finalising."""
    require_role(principal, READERS)
    await ensure_can_read_school(conn, principal, school_id, field="query.school_id")
    view = await _load_class(
        conn, school_id=school_id, class_id=class_id, school_year=school_year, semesters=[semester]
    )
    by_learner: dict[str, list[GradeEntryPublic]] = defaultdict(list)
    for row in view.entries:
        by_learner[row["learner_id"]].append(GradeEntryPublic.model_validate(dict(row)))
    learner_ids = sorted({*(lid for lid, active in view.roster.items() if active), *by_learner})
    corrections = await store.corrections_of_class(
        conn, school_id=school_id, class_id=class_id, school_year=school_year, semesters=[semester]
    )
    await record_access(
        conn,
        principal,
        action="read",
        entity_kind="learner",
        entity_ids=learner_ids,
        detail={
            "what": "gradebook",
            "class_id": class_id,
            "school_year": school_year,
            "semester": semester,
        },
    )
    return ClassGradebook(
        term=_term_public(
            view.terms,
            school_id=school_id,
            class_id=class_id,
            school_year=school_year,
            semester=semester,
            grade=view.grade,
        ),
        subjects=[s.public() for s in view.subjects],
        learners=[
            LearnerEntries(
                learner_id=lid, enrolled=view.roster.get(lid, False), entries=by_learner[lid]
            )
            for lid in learner_ids
        ],
        corrections=[CorrectionPublic.model_validate(dict(r)) for r in corrections],
    )


def _semesters_of(semester: int) -> list[int]:
    return [1, 2] if semester == 0 else [semester]


async def class_results(
    conn: Connection,
    principal: Principal,
    class_id: str,
    *,
    school_id: str,
    school_year: str,
    semester: int,
) -> ClassResults:
    """Averages, comment results and learning-result levels of a semester (1, 2) or year (0)."""
    require_role(principal, READERS)
    await ensure_can_read_school(conn, principal, school_id, field="query.school_id")
    view = await _load_class(
        conn,
        school_id=school_id,
        class_id=class_id,
        school_year=school_year,
        semesters=_semesters_of(semester),
    )
    results = term_results(
        semester=semester, subjects=view.subjects, roster=view.roster, entries=view.entries
    )
    await record_access(
        conn,
        principal,
        action="read",
        entity_kind="learner",
        entity_ids=[r.learner_id for r in results],
        detail={
            "what": "results",
            "class_id": class_id,
            "school_year": school_year,
            "semester": semester,
        },
    )
    return ClassResults(
        term=_term_public(
            view.terms,
            school_id=school_id,
            class_id=class_id,
            school_year=school_year,
            semester=semester,
            grade=view.grade,
        ),
        learners=[r.public() for r in results],
    )


# --- finalising a term --------------------------------------------------------------------------


def _missing_problem(
    missing: Sequence[Mapping[str, str]], subjects: Sequence[Subject], where: str
) -> Problem:
    names = {s.code: s.name_vi for s in subjects}
    errors = [
        field_error(
            f"learners.{m['learner_id']}.{m['subject_code']}",
            f"learner {m['learner_id']}, {names.get(m['subject_code'], '?')} "
            f"({m['subject_code']}): {m['missing']}",
            "missing_assessment",
        )
        for m in missing
    ]
    learners = len({m["learner_id"] for m in missing})
    return Problem(
        409,
        "Assessments missing",
        f"{where}: {len(missing)} assessments are missing for {learners} learners; record "
        "them, or finalise with force and a reason",
        errors=errors,
    )


async def finalize_term(
    conn: Connection,
    principal: Principal,
    class_id: str,
    command: FinalizeCommand,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Lock a class's semester (or year) and publish every learner's results once."""
    require_role(principal, FINALIZERS)
    await ensure_school_in_scope(conn, principal, command.school_id, field="body.school_id")
    reason = _clean(command.reason)
    if command.force and reason is None:
        raise invalid("body.reason", "reason: required when finalising with force")
    where: dict[str, Any] = {
        "school_id": command.school_id,
        "class_id": class_id,
        "school_year": command.school_year,
    }
    name = _class_name(**where, semester=command.semester)
    term = await store.lock_term(conn, **where, semester=command.semester)
    if term["status"] == "finalized":
        raise Problem(
            409,
            "Already finalized",
            f"{name} was finalized at {term['finalized_at'].isoformat()} by {term['finalized_by']}",
        )
    view = await _load_class(conn, **where, semesters=_semesters_of(command.semester))
    if command.semester == 0:
        still_open = [
            n for n in (1, 2) if n not in view.terms or view.terms[n]["status"] != "finalized"
        ]
        if still_open:
            raise Problem(
                409,
                "Semesters open",
                f"{name}: finalise semester {' and '.join(map(str, still_open))} first",
            )
    results = term_results(
        semester=command.semester,
        subjects=view.subjects,
        roster=view.roster,
        entries=view.entries,
    )
    missing = missing_of(results)
    if missing and not command.force:
        raise _missing_problem(missing, view.subjects, name)
    row = await store.mark_finalized(
        conn,
        **where,
        semester=command.semester,
        grade=view.grade,
        at=now,
        by=principal.subject,
        forced_reason=reason if command.force else None,
        missing=missing,
    )
    await add_event(
        conn,
        term_finalized_event(**where, semester=command.semester, grade=view.grade, results=results),
        source=SOURCE,
    )
    await record_access(
        conn,
        principal,
        action="finalize",
        entity_kind="learner",
        entity_ids=[r.learner_id for r in results],
        detail={**where, "semester": command.semester, "forced": bool(missing)},
    )
    return ClassResults(
        term=TermPublic.model_validate(dict(row)), learners=[r.public() for r in results]
    ).model_dump(mode="json")


# --- a learner's transcript (học bạ) ------------------------------------------------------------


def _cell(result: SubjectResult) -> str:
    """How a result reads in the học bạ: Vietnamese decimal comma, words for comment grades."""
    if result.average is not None:
        return str(result.average).replace(".", ",")
    if result.comment is not None:
        return result.comment.value
    if result.level is not None:
        score = "" if result.test_score is None else f" ({result.test_score})"
        return result.level.value + score
    return ""


def _level_text(subjects: Sequence[SubjectResult]) -> str:
    outcome = learner_outcome(subjects)
    return "" if outcome is None else outcome.level.value


async def _place_names(conn: Connection, school_id: str) -> tuple[str, list[str]]:
    unit = await get_unit(conn, school_id)
    school = unit["name"] if unit is not None else school_id
    names = []
    for parent_id in await ancestors(conn, school_id) or []:
        parent = await get_unit(conn, parent_id)
        if parent is not None:
            names.append(parent["name"])
    return school, names


async def transcript_data(
    conn: Connection, principal: Principal, learner_id: str, school_year: str, *, now: datetime
) -> TranscriptData:
    """A learner's year: each subject's semester and year results, and the levels. A learner
    out of the caller's scope looks like one without a transcript (existence is private)."""
    require_role(principal, READERS)
    not_found = Problem(
        404, "Not Found", f"no transcript of learner {learner_id} for {school_year}"
    )
    enrolment = await store.latest_enrolment_in_year(
        conn, learner_id=learner_id, school_year=school_year
    )
    if enrolment is None or enrolment["grade"] < 1:
        raise not_found
    try:
        await ensure_can_read_school(
            conn, principal, enrolment["school_id"], field="path.learner_id"
        )
    except (AuthorisationError, Problem):
        raise not_found from None
    subjects = await _subjects(conn, enrolment["grade"])
    entries = [
        dict(r)
        for r in await store.current_entries_of_learner(
            conn, learner_id=learner_id, school_year=school_year
        )
    ]
    slots = _slots_by_learner(entries).get(learner_id, {})
    firsts, seconds, years = [], [], []
    for subject in subjects_in_use(subjects, entries):
        firsts.append(semester_result(subject, slots.get(1, {}).get(subject.code, {})))
        seconds.append(semester_result(subject, slots.get(2, {}).get(subject.code, {})))
        years.append(year_result(firsts[-1], seconds[-1]))
    school_name, parents = await _place_names(conn, enrolment["school_id"])
    class_id = enrolment["class_id"]
    class_name = await store.class_name(conn, class_id) if class_id else None
    terms = await store.terms_of_class(
        conn,
        school_id=enrolment["school_id"],
        class_id=enrolment["class_id"] or "",
        school_year=school_year,
    )
    await record_access(
        conn,
        principal,
        action="read",
        entity_kind="learner",
        entity_ids=[learner_id],
        detail={"what": "transcript", "school_year": school_year},
    )

    def finalized(semester: int) -> bool:
        return semester in terms and terms[semester]["status"] == "finalized"

    return TranscriptData(
        learner_id=learner_id,
        school_year=school_year,
        grade=enrolment["grade"],
        class_name=class_name or class_id,
        school_name=school_name,
        parent_names=tuple(parents),
        primary=enrolment["grade"] <= LAST_PRIMARY_GRADE,
        rows=tuple(
            TranscriptRow(first.subject.name_vi, _cell(first), _cell(second), _cell(year))
            for first, second, year in zip(firsts, seconds, years, strict=True)
        ),
        levels=(_level_text(firsts), _level_text(seconds), _level_text(years)),
        finalized=(finalized(1), finalized(2), finalized(0)),
        printed_at=now,
    )
