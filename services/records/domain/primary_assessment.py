"""Primary-school assessment records (Circular 27/2020/TT-BGDĐT; check).

Teachers judge each subject at one of three levels; periodic tests are scored in whole numbers
from 1 to 10 (no 0, no decimals). The circular does not derive the level from the test score,
so nothing here does: both are validated and stored side by side as the teacher recorded them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

TEST_SCORE_MIN = 1
TEST_SCORE_MAX = 10


class PrimarySubjectLevel(StrEnum):
    HOAN_THANH_TOT = "Hoàn thành tốt"
    HOAN_THANH = "Hoàn thành"
    CHUA_HOAN_THANH = "Chưa hoàn thành"


# Primary gradebooks commonly abbreviate the levels as T / H / C (school practice, not text
# of the circular); accepted on input, never stored.
_LEVEL_ABBREVIATIONS = {
    "t": PrimarySubjectLevel.HOAN_THANH_TOT,
    "h": PrimarySubjectLevel.HOAN_THANH,
    "c": PrimarySubjectLevel.CHUA_HOAN_THANH,
}


class AssessmentPoint(StrEnum):
    """When periodic assessment happens (Circular 27 Art. 7, from memory: check)."""

    MID_SEMESTER_1 = "mid_semester_1"
    END_SEMESTER_1 = "end_semester_1"
    MID_SEMESTER_2 = "mid_semester_2"
    END_OF_YEAR = "end_of_year"


class InvalidPrimaryAssessment(ValueError):
    def __init__(self, field: str, rule: str, value: object, message: str) -> None:
        self.field = field
        self.rule = rule
        self.value = value
        super().__init__(message)


def parse_primary_level(value: str, field: str = "level") -> PrimarySubjectLevel:
    # Compare in NFC and ignoring case: school software may send decomposed Vietnamese.
    wanted = unicodedata.normalize("NFC", value.strip()).casefold()
    for level in PrimarySubjectLevel:
        if level.value.casefold() == wanted:
            return level
    if wanted in _LEVEL_ABBREVIATIONS:
        return _LEVEL_ABBREVIATIONS[wanted]
    raise InvalidPrimaryAssessment(
        field,
        "level",
        value,
        f"{field}: {value!r} is not one of Hoàn thành tốt, Hoàn thành, Chưa hoàn thành",
    )


def parse_periodic_test_score(value: object, field: str = "test_score") -> int:
    """A periodic test score: a whole number from 1 to 10 ("8", 8 and 8.0 are all 8)."""
    number: Decimal | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            number = None
    if number is None or not number.is_finite():
        raise InvalidPrimaryAssessment(
            field, "number", value, f"{field}: {value!r} is not a number"
        )
    if number != number.to_integral_value():
        raise InvalidPrimaryAssessment(
            field, "whole_number", value, f"{field}: {value!r} is not a whole number"
        )
    if not TEST_SCORE_MIN <= number <= TEST_SCORE_MAX:
        raise InvalidPrimaryAssessment(
            field, "range", value, f"{field}: {value!r} is outside the range 1 to 10"
        )
    return int(number)


@dataclass(frozen=True)
class PrimarySubjectResult:
    """A teacher's periodic judgement of one subject, with the test score if there was a test."""

    learner_id: str
    subject_code: str
    school_year: str
    point: AssessmentPoint
    level: PrimarySubjectLevel
    test_score: int | None = None

    def __post_init__(self) -> None:
        if self.test_score is not None:
            # Re-validate so an object built directly cannot hold 0 or 11.
            parse_periodic_test_score(self.test_score)
