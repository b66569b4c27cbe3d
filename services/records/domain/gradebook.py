"""Gradebook rules for lower and upper secondary (Circular 22/2021/TT-BGDĐT).

Pure functions and value objects: no clock, no database. The caller passes the time and the
actor of a correction; the store persists what these functions return.

Legal source: Circular 22/2021/TT-BGDĐT on assessing lower and upper secondary students.
Article numbers and figures below were written from memory and checked only against secondary
summaries: they are marked "check" and must be verified against the gazetted text.

Rounding: the circular keeps averages "to one decimal after rounding". Vietnamese schools and
the Ministry's gradebook software round half up (8.25 -> 8.3), not half to even as Python's
round() does (and binary floats make even that unreliable: round(8.25, 1) == 8.2). So every
score and average is a Decimal and rounding uses ROUND_HALF_UP.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from enum import IntEnum, StrEnum

SCORE_MIN = Decimal("0")
SCORE_MAX = Decimal("10")
TENTH = Decimal("0.1")

ScoreInput = Decimal | int | float | str


# --- score validation -------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreIssue:
    """One reason a score was rejected; `rule` is a stable code an API can map to a message."""

    field: str
    rule: str
    value: object
    message: str


class InvalidScores(ValueError):
    """Raised with every issue found, so a form can show all invalid fields at once."""

    def __init__(self, issues: Sequence[ScoreIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(issue.message for issue in self.issues))


def _as_decimal(value: object) -> Decimal | None:
    # bool is an int subclass; True must not become a score of 1.
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr gives the shortest decimal that round-trips (7.25 -> "7.25"), not the binary
        # expansion, so the one-decimal rule judges what the teacher typed.
        return Decimal(repr(value))
    if isinstance(value, str):
        # Vietnamese writes the decimal separator as a comma: "7,5".
        try:
            return Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            return None
    return None


def score_issues(value: object, field: str) -> list[ScoreIssue]:
    """Why `value` is not a valid Circular 22 score (0 to 10, at most one decimal)."""
    number = _as_decimal(value)
    if number is None:
        return [ScoreIssue(field, "number", value, f"{field}: {value!r} is not a number")]
    if not number.is_finite():
        return [ScoreIssue(field, "finite", value, f"{field}: {value!r} is not a finite number")]
    issues = []
    if not SCORE_MIN <= number <= SCORE_MAX:
        issues.append(
            ScoreIssue(field, "range", value, f"{field}: {value!r} is outside the range 0 to 10")
        )
    if number != number.quantize(TENTH, rounding=ROUND_HALF_UP):
        issues.append(
            ScoreIssue(
                field, "one_decimal", value, f"{field}: {value!r} has more than one decimal place"
            )
        )
    return issues


def parse_score(value: object, field: str) -> Decimal:
    """The score as a one-decimal Decimal ("8" -> 8.0), or InvalidScores naming field and rule."""
    issues = score_issues(value, field)
    if issues:
        raise InvalidScores(issues)
    number = _as_decimal(value)
    assert number is not None  # score_issues reported every case where it is None
    return number.quantize(TENTH)


# --- how many regular assessments a subject needs ---------------------------------------------


@dataclass(frozen=True)
class RegularAssessmentRule:
    """Regular (thường xuyên) assessments per semester for scored subjects, by yearly periods.

    Circular 22/2021/TT-BGDĐT Art. 6(2) (check): 35 periods a year -> 2; more than 35 up to
    70 -> 3; more than 70 -> 4. The circular names exactly 35 for the lowest band; no
    secondary subject has fewer, so anything up to 35 gets the lowest count.
    """

    lowest_band_max_periods: int = 35
    middle_band_max_periods: int = 70
    lowest_band_count: int = 2
    middle_band_count: int = 3
    highest_band_count: int = 4
    # Comment-graded subjects record regular assessments too; 2 per semester is from memory
    # of Art. 6(2)(a) (check). Callers pass it as `required_regular` for those subjects.
    comment_subject_count: int = 2


CIRCULAR_22_REGULAR_ASSESSMENTS = RegularAssessmentRule()


def required_regular_assessments(
    periods_per_year: int, rule: RegularAssessmentRule = CIRCULAR_22_REGULAR_ASSESSMENTS
) -> int:
    if periods_per_year <= 0:
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year}")
    if periods_per_year <= rule.lowest_band_max_periods:
        return rule.lowest_band_count
    if periods_per_year <= rule.middle_band_max_periods:
        return rule.middle_band_count
    return rule.highest_band_count


# --- assessments of one learner, subject and semester -----------------------------------------


class CommentGrade(StrEnum):
    """Grade of a comment-assessed subject (PE, arts, experiential activities, local content)."""

    DAT = "Đạt"
    CHUA_DAT = "Chưa đạt"


def parse_comment_grade(value: str) -> CommentGrade:
    # School software may send decomposed Unicode (NFD); compare in NFC, ignoring case.
    wanted = unicodedata.normalize("NFC", value.strip()).casefold()
    for grade in CommentGrade:
        if grade.value.casefold() == wanted:
            return grade
    raise ValueError(f"{value!r} is not a comment grade (expected 'Đạt' or 'Chưa đạt')")


def _optional_score_issues(value: Decimal | None, field: str) -> list[ScoreIssue]:
    return [] if value is None else score_issues(value, field)


@dataclass(frozen=True)
class ScoredAssessments:
    """Scores of a scored subject in one semester; None means not yet assessed."""

    regular: tuple[Decimal, ...] = ()
    mid_term: Decimal | None = None
    end_term: Decimal | None = None

    def __post_init__(self) -> None:
        issues = [
            issue
            for index, score in enumerate(self.regular)
            for issue in score_issues(score, f"regular[{index}]")
        ]
        issues += _optional_score_issues(self.mid_term, "mid_term")
        issues += _optional_score_issues(self.end_term, "end_term")
        if issues:
            raise InvalidScores(issues)
        # Store one canonical form (8 -> 8.0) so equal scores compare and print alike.
        object.__setattr__(self, "regular", tuple(score.quantize(TENTH) for score in self.regular))
        if self.mid_term is not None:
            object.__setattr__(self, "mid_term", self.mid_term.quantize(TENTH))
        if self.end_term is not None:
            object.__setattr__(self, "end_term", self.end_term.quantize(TENTH))


@dataclass(frozen=True)
class CommentAssessments:
    """Comment grades of a comment-graded subject in one semester."""

    regular: tuple[CommentGrade, ...] = ()
    mid_term: CommentGrade | None = None
    end_term: CommentGrade | None = None


Assessments = ScoredAssessments | CommentAssessments


def scored_assessments(
    regular: Iterable[ScoreInput],
    mid_term: ScoreInput | None = None,
    end_term: ScoreInput | None = None,
) -> ScoredAssessments:
    """Build from raw input, reporting every invalid field in one InvalidScores."""
    issues: list[ScoreIssue] = []
    parsed: list[Decimal] = []
    for index, raw in enumerate(regular):
        found = score_issues(raw, f"regular[{index}]")
        issues += found
        if not found:
            parsed.append(parse_score(raw, f"regular[{index}]"))
    mid = end = None
    if mid_term is not None:
        issues += score_issues(mid_term, "mid_term")
    if end_term is not None:
        issues += score_issues(end_term, "end_term")
    if issues:
        raise InvalidScores(issues)
    if mid_term is not None:
        mid = parse_score(mid_term, "mid_term")
    if end_term is not None:
        end = parse_score(end_term, "end_term")
    return ScoredAssessments(regular=tuple(parsed), mid_term=mid, end_term=end)


class IncompleteAssessments(ValueError):
    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = tuple(missing)
        super().__init__("incomplete assessments: " + "; ".join(self.missing))


def missing_assessments(assessments: Assessments, *, required_regular: int) -> list[str]:
    """What keeps this semester from being complete (empty when complete)."""
    missing = []
    if len(assessments.regular) != required_regular:
        missing.append(f"regular: {len(assessments.regular)} recorded, {required_regular} required")
    if assessments.mid_term is None:
        missing.append("mid_term: not recorded")
    if assessments.end_term is None:
        missing.append("end_term: not recorded")
    return missing


# --- averages (Circular 22 Art. 9(1), check) --------------------------------------------------


def _divide_half_up(numerator: Decimal, denominator: int) -> Decimal:
    # The exact quotient of one-decimal scores over a small integer d is either a tie
    # (x.x5 exactly, which Decimal represents exactly) or at least 1/(20*d) away from one.
    # 28 significant digits are far finer than that, so quantizing the context-rounded
    # quotient gives the same result as rounding the exact value half up.
    with localcontext() as context:
        context.prec = 28
        return (numerator / Decimal(denominator)).quantize(TENTH, rounding=ROUND_HALF_UP)


def semester_average(assessments: ScoredAssessments, *, required_regular: int) -> Decimal:
    """ĐTBmhk = (sum of regular + 2 * mid-term + 3 * end-term) / (number of regular + 5)."""
    missing = missing_assessments(assessments, required_regular=required_regular)
    if missing:
        raise IncompleteAssessments(missing)
    assert assessments.mid_term is not None and assessments.end_term is not None
    total = sum(assessments.regular, Decimal(0))
    total += 2 * assessments.mid_term + 3 * assessments.end_term
    return _divide_half_up(total, len(assessments.regular) + 5)


def year_average(semester_1: ScoreInput, semester_2: ScoreInput) -> Decimal:
    """ĐTBmcn = (semester 1 + 2 * semester 2) / 3, from the rounded semester averages."""
    first = parse_score(semester_1, "semester_1")
    second = parse_score(semester_2, "semester_2")
    return _divide_half_up(first + 2 * second, 3)


# --- comment-graded subjects (Art. 9(1)(a), check) ---------------------------------------------


def comment_semester_result(
    assessments: CommentAssessments, *, required_regular: int
) -> CommentGrade:
    """Đạt when every required assessment was made and every one is Đạt; else Chưa đạt."""
    if missing_assessments(assessments, required_regular=required_regular):
        return CommentGrade.CHUA_DAT
    grades = [*assessments.regular, assessments.mid_term, assessments.end_term]
    if all(grade is CommentGrade.DAT for grade in grades):
        return CommentGrade.DAT
    return CommentGrade.CHUA_DAT


def comment_year_result(semester_2: CommentGrade) -> CommentGrade:
    """The year result of a comment-graded subject is its semester 2 result."""
    return semester_2


# --- semester state, finalisation and audited corrections -------------------------------------


class Semester(IntEnum):
    FIRST = 1
    SECOND = 2


class SemesterStatus(StrEnum):
    OPEN = "open"
    FINALIZED = "finalized"


@dataclass(frozen=True)
class GradebookEntry:
    """One learner's assessments in one subject and semester."""

    learner_id: str
    subject_code: str
    school_year: str
    semester: Semester
    assessments: Assessments
    status: SemesterStatus = SemesterStatus.OPEN
    # Incremented by every change, so the store can refuse a write based on a stale read.
    revision: int = 1


class GradebookStateError(ValueError):
    pass


class CorrectionReasonRequired(GradebookStateError):
    pass


def _describe(entry: GradebookEntry) -> str:
    return (
        f"learner {entry.learner_id}, subject {entry.subject_code}, "
        f"{entry.school_year} semester {int(entry.semester)}"
    )


def _check_same_kind(entry: GradebookEntry, assessments: Assessments) -> None:
    if type(assessments) is not type(entry.assessments):
        raise GradebookStateError(
            f"{_describe(entry)}: cannot replace {type(entry.assessments).__name__} "
            f"with {type(assessments).__name__}"
        )


def record_assessments(entry: GradebookEntry, assessments: Assessments) -> GradebookEntry:
    """Teachers edit freely while the semester is open; a finalized one needs a correction."""
    if entry.status is SemesterStatus.FINALIZED:
        raise GradebookStateError(
            f"{_describe(entry)} is finalized; use a correction with a reason"
        )
    _check_same_kind(entry, assessments)
    return replace(entry, assessments=assessments, revision=entry.revision + 1)


def finalize(entry: GradebookEntry) -> GradebookEntry:
    """Lock the semester. Completeness is checked by the caller with missing_assessments()."""
    if entry.status is SemesterStatus.FINALIZED:
        raise GradebookStateError(f"{_describe(entry)} is already finalized")
    return replace(entry, status=SemesterStatus.FINALIZED, revision=entry.revision + 1)


@dataclass(frozen=True)
class Correction:
    assessments: Assessments
    reason: str


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class GradeAuditRecord:
    """What a correction changed, who made it, when and why: kept for inspection."""

    learner_id: str
    subject_code: str
    school_year: str
    semester: Semester
    actor: str
    at: datetime
    reason: str
    revision_before: int
    revision_after: int
    changes: tuple[FieldChange, ...] = field(default_factory=tuple)


def _text(value: Decimal | CommentGrade | None) -> str | None:
    if value is None:
        return None
    return value.value if isinstance(value, CommentGrade) else str(value)


def _changes(before: Assessments, after: Assessments) -> tuple[FieldChange, ...]:
    changes = []
    for index in range(max(len(before.regular), len(after.regular))):
        old = before.regular[index] if index < len(before.regular) else None
        new = after.regular[index] if index < len(after.regular) else None
        if old != new:
            changes.append(FieldChange(f"regular[{index}]", _text(old), _text(new)))
    for name, old_value, new_value in (
        ("mid_term", before.mid_term, after.mid_term),
        ("end_term", before.end_term, after.end_term),
    ):
        if old_value != new_value:
            changes.append(FieldChange(name, _text(old_value), _text(new_value)))
    return tuple(changes)


def correct_finalized(
    entry: GradebookEntry, correction: Correction, actor: str, at: datetime
) -> tuple[GradebookEntry, GradeAuditRecord]:
    """Apply a correction to a finalized entry; return the new entry and its audit record.

    The entry stays finalized: a correction does not reopen the semester.
    """
    if entry.status is not SemesterStatus.FINALIZED:
        raise GradebookStateError(
            f"{_describe(entry)} is open; record the change directly instead of correcting it"
        )
    reason = correction.reason.strip()
    if not reason:
        raise CorrectionReasonRequired(
            f"{_describe(entry)}: a correction after finalisation requires a reason"
        )
    if not actor.strip():
        raise GradebookStateError(f"{_describe(entry)}: a correction requires an actor")
    if at.tzinfo is None:
        raise GradebookStateError("correction time must be timezone-aware")
    _check_same_kind(entry, correction.assessments)
    changes = _changes(entry.assessments, correction.assessments)
    if not changes:
        raise GradebookStateError(f"{_describe(entry)}: the correction changes nothing")
    corrected = replace(entry, assessments=correction.assessments, revision=entry.revision + 1)
    audit = GradeAuditRecord(
        learner_id=entry.learner_id,
        subject_code=entry.subject_code,
        school_year=entry.school_year,
        semester=entry.semester,
        actor=actor,
        at=at,
        reason=reason,
        revision_before=entry.revision,
        revision_after=corrected.revision,
        changes=changes,
    )
    return corrected, audit
