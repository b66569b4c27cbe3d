"""Circular 22 gradebook rules, learning-result levels and Circular 27 primary records."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.records.domain.gradebook import (
    CommentAssessments,
    CommentGrade,
    Correction,
    CorrectionReasonRequired,
    FieldChange,
    GradebookEntry,
    GradebookStateError,
    IncompleteAssessments,
    InvalidScores,
    ScoredAssessments,
    Semester,
    SemesterStatus,
    comment_semester_result,
    comment_year_result,
    correct_finalized,
    finalize,
    missing_assessments,
    parse_comment_grade,
    parse_score,
    record_assessments,
    required_regular_assessments,
    score_issues,
    scored_assessments,
    semester_average,
    year_average,
)
from services.records.domain.learning_level import (
    LearningLevel,
    LearningLevelThresholds,
    learning_level,
    level_by_thresholds,
)
from services.records.domain.primary_assessment import (
    AssessmentPoint,
    InvalidPrimaryAssessment,
    PrimarySubjectLevel,
    PrimarySubjectResult,
    parse_periodic_test_score,
    parse_primary_level,
)

D = Decimal
DAT = CommentGrade.DAT
CHUA_DAT = CommentGrade.CHUA_DAT


# --- score validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, D("0.0")),
        (10, D("10.0")),
        (8, D("8.0")),
        ("7,5", D("7.5")),  # Vietnamese decimal comma
        (" 6.5 ", D("6.5")),
        (7.1, D("7.1")),
        (D("7.50"), D("7.5")),  # trailing zero is still one decimal
    ],
)
def test_valid_scores_are_normalised_to_one_decimal(value: object, expected: Decimal) -> None:
    parsed = parse_score(value, "mid_term")
    assert parsed == expected
    assert str(parsed) == str(expected)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (7.25, "one_decimal"),
        ("7.25", "one_decimal"),
        (11, "range"),
        (10.1, "range"),
        (-1, "range"),
        (float("nan"), "finite"),
        (D("NaN"), "finite"),
        (float("inf"), "finite"),
        ("abc", "number"),
        (True, "number"),  # a bool must not pass as the score 1
        (None, "number"),
    ],
)
def test_invalid_scores_name_field_and_rule(value: object, rule: str) -> None:
    issues = score_issues(value, "end_term")
    assert [issue.rule for issue in issues] == [rule]
    assert issues[0].field == "end_term"
    assert issues[0].message.startswith("end_term: ")
    with pytest.raises(InvalidScores) as raised:
        parse_score(value, "end_term")
    assert raised.value.issues == tuple(issues)


def test_out_of_range_and_too_precise_reports_both_rules() -> None:
    # 10.25 breaks both the 0-10 range and the one-decimal rule.
    assert [issue.rule for issue in score_issues("10.25", "x")] == ["range", "one_decimal"]


def test_scored_assessments_report_every_invalid_field_at_once() -> None:
    with pytest.raises(InvalidScores) as raised:
        scored_assessments([7, 7.25, 8], mid_term=6, end_term=11)
    found = [(issue.field, issue.rule) for issue in raised.value.issues]
    assert found == [("regular[1]", "one_decimal"), ("end_term", "range")]
    assert "regular[1]" in str(raised.value)


def test_scored_assessments_refuse_invalid_decimals_built_directly() -> None:
    with pytest.raises(InvalidScores) as raised:
        ScoredAssessments(regular=(D("7.25"),), mid_term=D("6"), end_term=D("12"))
    assert [(i.field, i.rule) for i in raised.value.issues] == [
        ("regular[0]", "one_decimal"),
        ("end_term", "range"),
    ]


# --- regular assessment counts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("periods", "count"),
    [
        (1, 2),
        (35, 2),  # e.g. Civic education, IT
        (36, 3),
        (52, 3),  # Technology grades 8-9
        (70, 3),
        (71, 4),
        (105, 4),  # Foreign language
        (140, 4),  # Toán, Ngữ văn
    ],
)
def test_required_regular_assessments_by_yearly_periods(periods: int, count: int) -> None:
    assert required_regular_assessments(periods) == count


@pytest.mark.parametrize("periods", [0, -35])
def test_required_regular_assessments_rejects_non_positive_periods(periods: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        required_regular_assessments(periods)


# --- semester and year averages ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("regular", "mid", "end", "expected"),
    [
        # (7 + 8) + 2*6 + 3*9 = 15 + 12 + 27 = 54; 54 / 7 = 7.714... -> 7.7
        (["7", "8"], "6", "9", "7.7"),
        # (8 + 8 + 8) + 2*9 + 3*8 = 24 + 18 + 24 = 66; 66 / 8 = 8.25 exactly -> 8.3 (half up;
        # half-to-even would give 8.2)
        (["8", "8", "8"], "9", "8", "8.3"),
        # (6 + 6 + 6.2) + 2*6.5 + 3*6.8 = 18.2 + 13 + 20.4 = 51.6; 51.6 / 8 = 6.45 -> 6.5:
        # the tie decides whether the subject reaches the 6.5 threshold of Tốt
        (["6", "6", "6.2"], "6.5", "6.8", "6.5"),
        # (7 + 7 + 7) + 2*7 + 3*7.3 = 21 + 14 + 21.9 = 56.9; 56.9 / 8 = 7.1125 -> 7.1
        (["7", "7", "7"], "7", "7.3", "7.1"),
        # (8 + 8 + 8) + 2*8 + 3*8.3 = 24 + 16 + 24.9 = 64.9; 64.9 / 8 = 8.1125 -> 8.1
        (["8", "8", "8"], "8", "8.3", "8.1"),
        # (9 + 8.5 + 7 + 10) + 2*8 + 3*7.5 = 34.5 + 16 + 22.5 = 73; 73 / 9 = 8.111... -> 8.1
        (["9", "8.5", "7", "10"], "8", "7.5", "8.1"),
        # (6 + 7 + 5 + 6) + 2*5.5 + 3*6 = 24 + 11 + 18 = 53; 53 / 9 = 5.888... -> 5.9
        (["6", "7", "5", "6"], "5.5", "6", "5.9"),
        # all tens: (10*3 + 20 + 30) / 8 = 80 / 8 = 10.0; all zeros: 0.0
        (["10", "10", "10"], "10", "10", "10.0"),
        (["0", "0", "0"], "0", "0", "0.0"),
    ],
)
def test_semester_average(regular: list[str], mid: str, end: str, expected: str) -> None:
    assessments = scored_assessments(regular, mid, end)
    result = semester_average(assessments, required_regular=len(regular))
    assert result == D(expected)
    assert str(result) == expected


def test_semester_average_rounds_a_tie_below_the_next_tenth_down() -> None:
    # (7.9 + 8 + 8) + 2*8 + 3*8 = 23.9 + 16 + 24 = 63.9; 63.9 / 8 = 7.9875 -> 8.0
    # (7.5 + 8 + 8) + 2*8 + 3*8 = 23.5 + 40 = 63.5; 63.5 / 8 = 7.9375 -> 7.9
    assert semester_average(
        scored_assessments(["7.9", "8", "8"], "8", "8"), required_regular=3
    ) == D("8.0")
    assert semester_average(
        scored_assessments(["7.5", "8", "8"], "8", "8"), required_regular=3
    ) == D("7.9")


def test_semester_average_requires_the_required_number_of_regular_scores() -> None:
    assessments = scored_assessments(["8", "7"], "6", "9")
    with pytest.raises(IncompleteAssessments) as raised:
        semester_average(assessments, required_regular=3)
    assert raised.value.missing == ("regular: 2 recorded, 3 required",)


def test_semester_average_requires_mid_and_end_term() -> None:
    assessments = scored_assessments(["8", "7"])
    with pytest.raises(IncompleteAssessments) as raised:
        semester_average(assessments, required_regular=2)
    assert raised.value.missing == ("mid_term: not recorded", "end_term: not recorded")


def _exact_half_up(numerator: Fraction, denominator: int) -> Decimal:
    # Oracle: floor(x * 10 + 1/2) / 10 on the exact rational value.
    tenths = (numerator * 10 / denominator + Fraction(1, 2)).__floor__()
    return D(tenths) / 10


scores = st.integers(min_value=0, max_value=100).map(lambda tenths: D(tenths) / 10)


@given(
    regular=st.lists(scores, min_size=2, max_size=4),
    mid=scores,
    end=scores,
)
def test_semester_average_matches_exact_rational_rounding(
    regular: list[Decimal], mid: Decimal, end: Decimal
) -> None:
    exact_total = sum((Fraction(score) for score in regular), Fraction(0))
    exact_total += 2 * Fraction(mid) + 3 * Fraction(end)
    expected = _exact_half_up(exact_total, len(regular) + 5)
    got = semester_average(
        ScoredAssessments(tuple(regular), mid, end), required_regular=len(regular)
    )
    assert got == expected


@pytest.mark.parametrize(
    ("semester_1", "semester_2", "expected"),
    [
        # (6.4 + 2*6.5) / 3 = 19.4 / 3 = 6.466... -> 6.5
        ("6.4", "6.5", "6.5"),
        # (8.0 + 2*8.1) / 3 = 24.2 / 3 = 8.066... -> 8.1
        ("8.0", "8.1", "8.1"),
        # (7.0 + 2*5.0) / 3 = 17 / 3 = 5.666... -> 5.7
        ("7.0", "5.0", "5.7"),
        # (5.0 + 2*4.9) / 3 = 14.8 / 3 = 4.933... -> 4.9
        ("5.0", "4.9", "4.9"),
        # (9.0 + 2*6.0) / 3 = 21 / 3 = 7.0
        ("9.0", "6.0", "7.0"),
        # (7.6 + 2*8.2) / 3 = 24 / 3 = 8.0: semester 2 counts double
        ("7.6", "8.2", "8.0"),
    ],
)
def test_year_average(semester_1: str, semester_2: str, expected: str) -> None:
    assert year_average(semester_1, semester_2) == D(expected)


def test_year_average_matches_exact_rounding_for_every_pair_of_averages() -> None:
    # A year average is N/30 for an integer N, so it is never exactly x.x5
    # (2N = 3(2k + 1) has no integer solution); every pair still goes through the oracle.
    for first in range(101):
        for second in range(101):
            got = year_average(D(first) / 10, D(second) / 10)
            expected = _exact_half_up(Fraction(first, 10) + 2 * Fraction(second, 10), 3)
            assert got == expected


def test_year_average_rejects_invalid_semester_averages() -> None:
    with pytest.raises(InvalidScores) as raised:
        year_average("6.45", "7")
    assert raised.value.issues[0].field == "semester_1"
    assert raised.value.issues[0].rule == "one_decimal"


# --- comment-graded subjects ------------------------------------------------------------------


def test_comment_subject_is_dat_when_complete_and_all_dat() -> None:
    assessments = CommentAssessments((DAT, DAT), DAT, DAT)
    assert comment_semester_result(assessments, required_regular=2) is DAT


def test_comment_subject_is_chua_dat_when_any_assessment_is_chua_dat() -> None:
    assessments = CommentAssessments((DAT, DAT), DAT, CHUA_DAT)
    assert comment_semester_result(assessments, required_regular=2) is CHUA_DAT


def test_comment_subject_is_chua_dat_when_an_assessment_is_missing() -> None:
    assert comment_semester_result(CommentAssessments((DAT,), DAT, DAT), required_regular=2) is (
        CHUA_DAT
    )
    assert comment_semester_result(CommentAssessments((DAT, DAT), DAT), required_regular=2) is (
        CHUA_DAT
    )


@pytest.mark.parametrize(("semester_2", "year"), [(DAT, DAT), (CHUA_DAT, CHUA_DAT)])
def test_comment_subject_year_result_is_semester_2(
    semester_2: CommentGrade, year: CommentGrade
) -> None:
    assert comment_year_result(semester_2) is year


def test_parse_comment_grade_accepts_labels_in_any_case_and_normal_form() -> None:
    assert parse_comment_grade("Đạt") is DAT
    assert parse_comment_grade(" chưa đạt ") is CHUA_DAT
    assert parse_comment_grade(unicodedata.normalize("NFD", "Chưa đạt")) is CHUA_DAT
    with pytest.raises(ValueError, match="not a comment grade"):
        parse_comment_grade("Dat")


def test_missing_assessments_is_empty_when_complete() -> None:
    complete = scored_assessments(["8", "7", "9"], "6", "9")
    assert missing_assessments(complete, required_regular=3) == []


# --- semester state and corrections -----------------------------------------------------------

AT = datetime(2025, 1, 20, 9, 30, tzinfo=UTC)


def _entry(status: SemesterStatus = SemesterStatus.OPEN) -> GradebookEntry:
    return GradebookEntry(
        learner_id="L-001",
        subject_code="TOAN",
        school_year="2024-2025",
        semester=Semester.FIRST,
        assessments=scored_assessments(["8", "7", "9", "6.5"], "7", "6.5"),
        status=status,
        revision=3,
    )


def test_open_entry_can_be_edited_and_finalized() -> None:
    entry = _entry()
    edited = record_assessments(entry, scored_assessments(["8", "8", "9", "6.5"], "7", "6.5"))
    assert edited.assessments.regular[1] == D("8.0")
    assert edited.revision == 4
    finalized = finalize(edited)
    assert finalized.status is SemesterStatus.FINALIZED
    assert finalized.revision == 5


def test_finalized_entry_refuses_direct_edits_and_second_finalisation() -> None:
    entry = _entry(SemesterStatus.FINALIZED)
    with pytest.raises(GradebookStateError, match="is finalized"):
        record_assessments(entry, scored_assessments(["8"] * 4, "7", "6.5"))
    with pytest.raises(GradebookStateError, match="already finalized"):
        finalize(entry)


def test_correction_after_finalisation_returns_new_entry_and_audit_record() -> None:
    entry = _entry(SemesterStatus.FINALIZED)
    correction = Correction(
        assessments=scored_assessments(["8", "8", "9", "6.5"], "7", "7"),
        reason="  Nhập nhầm điểm, đối chiếu bài kiểm tra gốc  ",
    )
    corrected, audit = correct_finalized(entry, correction, actor="teacher-42", at=AT)

    assert corrected.status is SemesterStatus.FINALIZED  # a correction does not reopen
    assert corrected.assessments == correction.assessments
    assert corrected.revision == 4
    assert entry.assessments.regular[1] == D("7.0")  # the input is left untouched
    assert audit.changes == (
        FieldChange("regular[1]", "7.0", "8.0"),
        FieldChange("end_term", "6.5", "7.0"),
    )
    assert audit.reason == "Nhập nhầm điểm, đối chiếu bài kiểm tra gốc"
    assert (audit.actor, audit.at) == ("teacher-42", AT)
    assert (audit.learner_id, audit.subject_code, audit.school_year) == (
        "L-001",
        "TOAN",
        "2024-2025",
    )
    assert audit.semester is Semester.FIRST
    assert (audit.revision_before, audit.revision_after) == (3, 4)


def test_correction_that_adds_and_removes_scores_records_absent_values() -> None:
    entry = _entry(SemesterStatus.FINALIZED)
    fewer = scored_assessments(["8", "7", "9"], "7", "6.5")
    _, audit = correct_finalized(entry, Correction(fewer, "duplicate column"), "admin", AT)
    assert audit.changes == (FieldChange("regular[3]", "6.5", None),)


@pytest.mark.parametrize("reason", ["", "   "])
def test_correction_without_reason_is_refused(reason: str) -> None:
    entry = _entry(SemesterStatus.FINALIZED)
    correction = Correction(scored_assessments(["8", "8", "9", "6.5"], "7", "7"), reason)
    with pytest.raises(CorrectionReasonRequired, match="requires a reason"):
        correct_finalized(entry, correction, actor="teacher-42", at=AT)


def test_correction_of_open_entry_is_refused() -> None:
    correction = Correction(scored_assessments(["8", "8", "9", "6.5"], "7", "7"), "typo")
    with pytest.raises(GradebookStateError, match="is open"):
        correct_finalized(_entry(), correction, actor="teacher-42", at=AT)


def test_correction_that_changes_nothing_is_refused() -> None:
    entry = _entry(SemesterStatus.FINALIZED)
    with pytest.raises(GradebookStateError, match="changes nothing"):
        correct_finalized(entry, Correction(entry.assessments, "recheck"), "teacher-42", AT)


def test_correction_needs_actor_aware_time_and_same_kind_of_assessments() -> None:
    entry = _entry(SemesterStatus.FINALIZED)
    correction = Correction(scored_assessments(["8", "8", "9", "6.5"], "7", "7"), "typo")
    with pytest.raises(GradebookStateError, match="actor"):
        correct_finalized(entry, correction, actor=" ", at=AT)
    with pytest.raises(GradebookStateError, match="timezone-aware"):
        correct_finalized(entry, correction, actor="t", at=datetime(2025, 1, 20, 9, 30))
    comments = Correction(CommentAssessments((DAT, DAT), DAT, DAT), "wrong subject type")
    with pytest.raises(GradebookStateError, match="CommentAssessments"):
        correct_finalized(entry, comments, actor="t", at=AT)


def test_comment_entry_correction_records_grade_labels() -> None:
    entry = GradebookEntry(
        learner_id="L-002",
        subject_code="GDTC",
        school_year="2024-2025",
        semester=Semester.SECOND,
        assessments=CommentAssessments((DAT, CHUA_DAT), DAT, DAT),
        status=SemesterStatus.FINALIZED,
    )
    fixed = CommentAssessments((DAT, DAT), DAT, DAT)
    corrected, audit = correct_finalized(entry, Correction(fixed, "make-up test"), "t", AT)
    assert audit.changes == (FieldChange("regular[1]", "Chưa đạt", "Đạt"),)
    assert corrected.revision == 2


# --- learning-result levels -------------------------------------------------------------------


def _scored(*averages: str) -> dict[str, str]:
    return {f"S{index}": average for index, average in enumerate(averages, start=1)}


ALL_DAT = {"GDTC": DAT, "NT": DAT, "HDTN": DAT, "GDDP": DAT}
ONE_CHUA_DAT = {**ALL_DAT, "GDDP": CHUA_DAT}
TWO_CHUA_DAT = {**ONE_CHUA_DAT, "NT": CHUA_DAT}


@pytest.mark.parametrize(
    ("averages", "commented", "expected"),
    [
        # Tốt at its boundaries: exactly 6 subjects at 8.0, the others exactly 6.5.
        (("8.0",) * 6 + ("6.5", "6.5"), ALL_DAT, LearningLevel.TOT),
        # Only 5 subjects reach 8.0 -> not Tốt; all >= 5.0 and 8 >= 6.5 -> Khá.
        (("8.0",) * 5 + ("7.9", "6.5", "6.5"), ALL_DAT, LearningLevel.KHA),
        # One subject at 6.4 < 6.5 -> not Tốt -> Khá.
        (("8.0",) * 6 + ("6.4", "6.5"), ALL_DAT, LearningLevel.KHA),
        # Khá at its boundaries: exactly 6 subjects at 6.5, the others exactly 5.0.
        (("6.5",) * 6 + ("5.0", "5.0"), ALL_DAT, LearningLevel.KHA),
        # Only 5 subjects reach 6.5 -> not Khá; 8 subjects >= 5.0, none < 3.5 -> Đạt.
        (("6.5",) * 5 + ("6.4", "5.0", "5.0"), ALL_DAT, LearningLevel.DAT),
        # One subject at 4.9 < 5.0 -> not Khá -> Đạt.
        (("6.5",) * 6 + ("4.9", "5.0"), ALL_DAT, LearningLevel.DAT),
        # Khá scores but one comment subject Chưa đạt -> Đạt.
        (("6.5",) * 6 + ("5.0", "5.0"), ONE_CHUA_DAT, LearningLevel.DAT),
        # Đạt at its boundaries: 6 subjects at 5.0, others 3.5, one comment Chưa đạt.
        (("5.0",) * 6 + ("3.5", "3.5"), ONE_CHUA_DAT, LearningLevel.DAT),
        # Only 5 subjects reach 5.0 -> Chưa đạt.
        (("5.0",) * 5 + ("4.9", "3.5", "3.5"), ALL_DAT, LearningLevel.CHUA_DAT),
        # One subject at 3.4 < 3.5 -> Chưa đạt.
        (("5.0",) * 6 + ("3.4", "3.5"), ALL_DAT, LearningLevel.CHUA_DAT),
        # Two comment subjects Chưa đạt -> Chưa đạt.
        (("5.0",) * 6 + ("3.5", "3.5"), TWO_CHUA_DAT, LearningLevel.CHUA_DAT),
    ],
)
def test_level_boundaries(
    averages: tuple[str, ...], commented: dict[str, CommentGrade], expected: LearningLevel
) -> None:
    outcome = learning_level(_scored(*averages), commented)
    assert outcome.level is expected
    # None of these cases triggers the single-subject adjustment.
    assert outcome.unadjusted_level is expected
    assert outcome.adjusted_for_subject is None


@pytest.mark.parametrize(
    ("averages", "commented", "unadjusted", "adjusted", "culprit"),
    [
        # Tốt but for S8 = 4.0 (< 5.0 kills Khá) -> Đạt, two steps below Tốt -> Khá.
        (("8.0",) * 6 + ("7.0", "4.0"), ALL_DAT, LearningLevel.DAT, LearningLevel.KHA, "S8"),
        # Tốt but for S8 = 3.4 (< 3.5 kills Đạt) -> Chưa đạt, three below Tốt -> Đạt.
        (("8.0",) * 6 + ("7.0", "3.4"), ALL_DAT, LearningLevel.CHUA_DAT, LearningLevel.DAT, "S8"),
        # Khá but for S8 = 3.0 -> Chưa đạt, two below Khá -> Đạt.
        (("6.5",) * 6 + ("5.0", "3.0"), ALL_DAT, LearningLevel.CHUA_DAT, LearningLevel.DAT, "S8"),
        # Tốt scores but one comment subject Chưa đạt -> Đạt, two below Tốt -> Khá.
        (("8.0",) * 6 + ("6.5", "6.5"), ONE_CHUA_DAT, LearningLevel.DAT, LearningLevel.KHA, "GDDP"),
    ],
)
def test_single_subject_drop_of_two_levels_is_raised_one_level(
    averages: tuple[str, ...],
    commented: dict[str, CommentGrade],
    unadjusted: LearningLevel,
    adjusted: LearningLevel,
    culprit: str,
) -> None:
    outcome = learning_level(_scored(*averages), commented)
    assert outcome.unadjusted_level is unadjusted
    assert outcome.level is adjusted
    assert outcome.adjusted_for_subject == culprit


def test_single_subject_drop_of_one_level_is_not_adjusted() -> None:
    # Khá but for S8 = 4.0 -> Đạt: only one step down, so it stays Đạt.
    outcome = learning_level(_scored(*("6.5",) * 6, "5.0", "4.0"), ALL_DAT)
    assert (outcome.level, outcome.adjusted_for_subject) == (LearningLevel.DAT, None)


def test_drop_caused_by_two_subjects_is_not_adjusted() -> None:
    # Two subjects at 3.0: setting either aside still leaves the other below 3.5.
    outcome = learning_level(_scored(*("8.0",) * 6, "3.0", "3.0"), ALL_DAT)
    assert (outcome.level, outcome.adjusted_for_subject) == (LearningLevel.CHUA_DAT, None)


def test_adjustment_can_be_switched_off() -> None:
    no_adjustment = LearningLevelThresholds(raise_single_subject_drop=False)
    outcome = learning_level(_scored(*("8.0",) * 6, "7.0", "4.0"), ALL_DAT, no_adjustment)
    assert outcome.level is LearningLevel.DAT


def test_year_level_from_year_averages() -> None:
    # Semester pairs (7.6, 8.2) give (7.6 + 16.4) / 3 = 8.0, counted among the 8.0 subjects;
    # (6.0, 7.0) gives (6.0 + 14.0) / 3 = 6.666... -> 6.7 >= 6.5.
    year = {f"S{i}": year_average("7.6", "8.2") for i in range(1, 7)}
    year |= {"S7": year_average("6.0", "7.0"), "S8": year_average("6.0", "7.0")}
    assert year["S1"] == D("8.0") and year["S7"] == D("6.7")
    assert learning_level(year, ALL_DAT).level is LearningLevel.TOT


def test_level_inputs_are_validated() -> None:
    with pytest.raises(InvalidScores) as raised:
        learning_level({"TOAN": "6.45"}, {})
    assert raised.value.issues[0].field == "scored[TOAN]"
    with pytest.raises(ValueError, match="both scored and comment-graded"):
        learning_level({"GDTC": "8.0"}, {"GDTC": DAT})


def test_fewer_than_six_scored_subjects_cannot_reach_dat() -> None:
    assert level_by_thresholds({f"S{i}": D("9.0") for i in range(5)}, ALL_DAT) is (
        LearningLevel.CHUA_DAT
    )


# --- primary (Circular 27) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("Hoàn thành tốt", PrimarySubjectLevel.HOAN_THANH_TOT),
        ("hoàn thành", PrimarySubjectLevel.HOAN_THANH),
        ("Chưa hoàn thành", PrimarySubjectLevel.CHUA_HOAN_THANH),
        (unicodedata.normalize("NFD", "Hoàn thành tốt"), PrimarySubjectLevel.HOAN_THANH_TOT),
        ("T", PrimarySubjectLevel.HOAN_THANH_TOT),
        ("h", PrimarySubjectLevel.HOAN_THANH),
        ("C", PrimarySubjectLevel.CHUA_HOAN_THANH),
    ],
)
def test_primary_levels_parse(text: str, level: PrimarySubjectLevel) -> None:
    assert parse_primary_level(text) is level


def test_primary_level_rejects_other_words() -> None:
    with pytest.raises(InvalidPrimaryAssessment) as raised:
        parse_primary_level("Giỏi")
    assert (raised.value.field, raised.value.rule) == ("level", "level")


@pytest.mark.parametrize(("value", "score"), [(1, 1), (10, 10), ("7", 7), (8.0, 8), ("9,0", 9)])
def test_periodic_test_scores_are_whole_numbers_1_to_10(value: object, score: int) -> None:
    assert parse_periodic_test_score(value) == score


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (0, "range"),
        (11, "range"),
        (-3, "range"),
        (7.5, "whole_number"),
        ("7.5", "whole_number"),
        ("abc", "number"),
        (True, "number"),
        (float("nan"), "number"),
    ],
)
def test_periodic_test_score_rejections(value: object, rule: str) -> None:
    with pytest.raises(InvalidPrimaryAssessment) as raised:
        parse_periodic_test_score(value, field="end_of_year_test")
    assert (raised.value.field, raised.value.rule) == ("end_of_year_test", rule)
    assert "end_of_year_test" in str(raised.value)


def test_primary_result_stores_level_and_score_as_given() -> None:
    # The circular derives no level from the score, so a 10 with Chưa hoàn thành is stored
    # as the teacher recorded it.
    result = PrimarySubjectResult(
        learner_id="L-003",
        subject_code="TOAN",
        school_year="2024-2025",
        point=AssessmentPoint.END_OF_YEAR,
        level=PrimarySubjectLevel.CHUA_HOAN_THANH,
        test_score=10,
    )
    assert (result.level, result.test_score) == (PrimarySubjectLevel.CHUA_HOAN_THANH, 10)
    untested = PrimarySubjectResult(
        "L-003", "GDTC", "2024-2025", AssessmentPoint.MID_SEMESTER_1, PrimarySubjectLevel.HOAN_THANH
    )
    assert untested.test_score is None


def test_primary_result_refuses_invalid_test_score() -> None:
    with pytest.raises(InvalidPrimaryAssessment, match="outside the range 1 to 10"):
        PrimarySubjectResult(
            "L-003",
            "TOAN",
            "2024-2025",
            AssessmentPoint.END_SEMESTER_1,
            PrimarySubjectLevel.HOAN_THANH,
            test_score=0,
        )
