"""Learning-result level of a semester or a year (Circular 22/2021/TT-BGDĐT, Art. 9; check).

The same rules grade a semester (from semester subject averages, ĐTBmhk) and a year (from year
subject averages, ĐTBmcn), together with the Đạt / Chưa đạt results of comment-graded subjects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from services.records.domain.gradebook import CommentGrade, parse_score


class LearningLevel(StrEnum):
    TOT = "Tốt"
    KHA = "Khá"
    DAT = "Đạt"
    CHUA_DAT = "Chưa đạt"


# Best first: "one level up" means one step towards the start of this tuple.
LEVELS_BEST_FIRST = (
    LearningLevel.TOT,
    LearningLevel.KHA,
    LearningLevel.DAT,
    LearningLevel.CHUA_DAT,
)


@dataclass(frozen=True)
class LearningLevelThresholds:
    """Thresholds of Circular 22/2021/TT-BGDĐT Art. 9(2) and the adjustment of Art. 9(3).

    Written from memory and matched only against secondary summaries: check against the
    gazetted text before relying on them.
    - Tốt: every comment subject Đạt; every scored subject >= 6.5; at least 6 subjects >= 8.0.
    - Khá: every comment subject Đạt; every scored subject >= 5.0; at least 6 subjects >= 6.5.
    - Đạt: at most 1 comment subject Chưa đạt; at least 6 scored subjects >= 5.0; none < 3.5.
    - Chưa đạt: every other case.
    - Art. 9(3): a level two or more steps below Tốt or Khá only because of one subject is
      raised by one step.
    """

    tot_every_subject_min: Decimal = Decimal("6.5")
    tot_counted_subject_min: Decimal = Decimal("8.0")
    kha_every_subject_min: Decimal = Decimal("5.0")
    kha_counted_subject_min: Decimal = Decimal("6.5")
    dat_counted_subject_min: Decimal = Decimal("5.0")
    dat_no_subject_below: Decimal = Decimal("3.5")
    counted_subjects_required: int = 6
    dat_comment_failures_allowed: int = 1
    raise_single_subject_drop: bool = True


CIRCULAR_22_THRESHOLDS = LearningLevelThresholds()


@dataclass(frozen=True)
class LevelOutcome:
    level: LearningLevel
    # The level before the Art. 9(3) adjustment, and the one subject that caused the drop.
    unadjusted_level: LearningLevel
    adjusted_for_subject: str | None = None


def _count_at_least(averages: Mapping[str, Decimal], threshold: Decimal) -> int:
    return sum(1 for average in averages.values() if average >= threshold)


def _all_at_least(averages: Mapping[str, Decimal], threshold: Decimal) -> bool:
    return all(average >= threshold for average in averages.values())


def level_by_thresholds(
    scored: Mapping[str, Decimal],
    commented: Mapping[str, CommentGrade],
    thresholds: LearningLevelThresholds = CIRCULAR_22_THRESHOLDS,
) -> LearningLevel:
    """Art. 9(2) alone, without the single-subject adjustment."""
    comment_failures = sum(1 for grade in commented.values() if grade is CommentGrade.CHUA_DAT)
    required = thresholds.counted_subjects_required
    if comment_failures == 0:
        if (
            _all_at_least(scored, thresholds.tot_every_subject_min)
            and _count_at_least(scored, thresholds.tot_counted_subject_min) >= required
        ):
            return LearningLevel.TOT
        if (
            _all_at_least(scored, thresholds.kha_every_subject_min)
            and _count_at_least(scored, thresholds.kha_counted_subject_min) >= required
        ):
            return LearningLevel.KHA
    if (
        comment_failures <= thresholds.dat_comment_failures_allowed
        and _count_at_least(scored, thresholds.dat_counted_subject_min) >= required
        and _all_at_least(scored, thresholds.dat_no_subject_below)
    ):
        return LearningLevel.DAT
    return LearningLevel.CHUA_DAT


def _rank(level: LearningLevel) -> int:
    return LEVELS_BEST_FIRST.index(level)


def _single_subject_causing_drop(
    scored: Mapping[str, Decimal],
    commented: Mapping[str, CommentGrade],
    actual: LearningLevel,
    thresholds: LearningLevelThresholds,
) -> str | None:
    """The one subject without which the level would be Tốt or Khá and 2+ steps higher.

    Interpretation (check): "only because of one subject" is tested by setting each subject
    aside in turn. Setting a subject aside never adds to the "at least 6 subjects" counts,
    so it cannot credit the learner with a result they did not earn, unlike replacing the
    subject by a perfect score. If no subject, or more than one, qualifies, nothing is raised.
    """
    culprits = []
    for subject in [*scored, *commented]:
        without_scored = {code: avg for code, avg in scored.items() if code != subject}
        without_commented = {code: g for code, g in commented.items() if code != subject}
        would_be = level_by_thresholds(without_scored, without_commented, thresholds)
        if would_be in (LearningLevel.TOT, LearningLevel.KHA) and (
            _rank(actual) - _rank(would_be) >= 2
        ):
            culprits.append(subject)
    return culprits[0] if len(culprits) == 1 else None


def learning_level(
    scored: Mapping[str, object],
    commented: Mapping[str, CommentGrade],
    thresholds: LearningLevelThresholds = CIRCULAR_22_THRESHOLDS,
) -> LevelOutcome:
    """Level of a semester or a year.

    `scored` maps subject code to its average (semester averages for a semester level, year
    averages for a year level); `commented` maps subject code to its Đạt / Chưa đạt result.
    """
    overlap = set(scored) & set(commented)
    if overlap:
        raise ValueError(f"subjects both scored and comment-graded: {sorted(overlap)}")
    averages = {code: parse_score(value, f"scored[{code}]") for code, value in scored.items()}
    actual = level_by_thresholds(averages, commented, thresholds)
    if not thresholds.raise_single_subject_drop:
        return LevelOutcome(level=actual, unadjusted_level=actual)
    culprit = _single_subject_causing_drop(averages, commented, actual, thresholds)
    if culprit is None:
        return LevelOutcome(level=actual, unadjusted_level=actual)
    raised = LEVELS_BEST_FIRST[_rank(actual) - 1]
    return LevelOutcome(level=raised, unadjusted_level=actual, adjusted_for_subject=culprit)
