"""The 12-digit personal identification number (số định danh cá nhân, the CCCD number).

Structure (Decree 137/2015/NĐ-CP art. 13, Circular 07/2016/TT-BCA art. 7)::

    PPP C YY RRRRRR
    031 2 12 345678

- ``PPP`` province code of birth registration, see :mod:`province_codes` (pre-2025 codes; numbers
  already issued keep them after the merger);
- ``C`` century and sex: the century starting in 1900 + 100·(C // 2), male when C is even and
  female when odd (1900s 0/1, 2000s 2/3, 2100s 4/5, 2200s 6/7, 2300s 8/9);
- ``YY`` the last two digits of the birth year;
- ``RRRRRR`` random, no check digit, so nothing more can be validated offline.

Validation is strict about the text: callers normalise input with :func:`clean_personal_number`
first, so that the stored value is exactly the 12 digits.
"""

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from services.identity.domain.issues import ValidationIssue
from services.identity.domain.province_codes import PROVINCE_CODES
from services.identity.domain.sex import Sex

PERSONAL_NUMBER_LENGTH = 12
FIRST_ENCODED_CENTURY = 1900

FIELD_PERSONAL_NUMBER = "personal_number"
FIELD_BIRTH_DATE = "birth_date"
FIELD_SEX = "sex"

_SEPARATORS = re.compile(r"[\s.\-]+")


class PersonalNumberRule(StrEnum):
    """Stable rule codes; one per independent check."""

    LENGTH = "personal_number.length"
    DIGITS_ONLY = "personal_number.digits_only"
    PROVINCE_CODE = "personal_number.province_code"
    CENTURY_MATCHES_BIRTH_DATE = "personal_number.century_matches_birth_date"
    YEAR_MATCHES_BIRTH_DATE = "personal_number.year_matches_birth_date"
    SEX_MATCHES = "personal_number.sex_matches"
    BIRTH_YEAR_NOT_IN_FUTURE = "personal_number.birth_year_not_in_future"


@dataclass(frozen=True, slots=True)
class PersonalNumberInfo:
    """What a structurally valid number says about its holder."""

    province_code: str
    province_name: str | None
    sex: Sex
    birth_year: int


class InvalidPersonalNumberError(ValueError):
    """Raised by :func:`ensure_valid_personal_number`; carries every broken rule."""

    def __init__(self, issues: list[ValidationIssue]) -> None:
        self.issues = issues
        super().__init__("; ".join(issue.message for issue in issues))


def clean_personal_number(text: str) -> str:
    """Drop the spaces, dots and dashes people type between digit groups."""
    return _SEPARATORS.sub("", text)


def century_sex_digit(birth_year: int, sex: Sex) -> int:
    """The digit 4 a person born in ``birth_year`` with ``sex`` must have."""
    century_index = (birth_year - FIRST_ENCODED_CENTURY) // 100
    if not 0 <= century_index <= 4:
        raise ValueError(f"birth year {birth_year} cannot be encoded (1900–2399 only)")
    return 2 * century_index + (1 if sex is Sex.FEMALE else 0)


def decode_personal_number(number: str) -> PersonalNumberInfo:
    """Read province, sex and birth year; raises ValueError if the text is not 12 digits."""
    if len(number) != PERSONAL_NUMBER_LENGTH or not _is_ascii_digits(number):
        raise ValueError(f"personal number must be exactly {PERSONAL_NUMBER_LENGTH} digits")
    century_digit = int(number[3])
    century_start = FIRST_ENCODED_CENTURY + 100 * (century_digit // 2)
    return PersonalNumberInfo(
        province_code=number[:3],
        province_name=PROVINCE_CODES.get(number[:3]),
        sex=Sex.FEMALE if century_digit % 2 else Sex.MALE,
        birth_year=century_start + int(number[4:6]),
    )


def validate_personal_number(
    number: str,
    *,
    birth_date: date | None = None,
    sex: Sex | None = None,
    today: date | None = None,
    province_codes: Collection[str] = PROVINCE_CODES.keys(),
) -> list[ValidationIssue]:
    """Every rule ``number`` breaks, in a fixed order; an empty list means valid.

    The century/year rules are reported on the ``birth_date`` field and the sex rule on ``sex``,
    because the number is usually the verified value and the form field is what staff correct.
    Rules that need ``birth_date``, ``sex`` or ``today`` are skipped when that value is None.
    ``province_codes`` lets callers add country codes for births registered abroad.
    """
    issues = _format_issues(number)
    if issues:
        # Positions mean nothing in malformed text, so stop at the format problems.
        return issues
    info = decode_personal_number(number)
    if info.province_code not in province_codes:
        issues.append(_unknown_province(info.province_code))
    if birth_date is not None:
        issues.extend(_birth_date_issues(number, info, birth_date))
    if sex is not None and sex is not info.sex:
        issues.append(_sex_mismatch(info.sex, sex))
    if today is not None and info.birth_year > today.year:
        issues.append(_future_birth_year(info.birth_year))
    return issues


def ensure_valid_personal_number(
    number: str,
    *,
    birth_date: date | None = None,
    sex: Sex | None = None,
    today: date | None = None,
    province_codes: Collection[str] = PROVINCE_CODES.keys(),
) -> None:
    """Like :func:`validate_personal_number` but raises :class:`InvalidPersonalNumberError`."""
    issues = validate_personal_number(
        number, birth_date=birth_date, sex=sex, today=today, province_codes=province_codes
    )
    if issues:
        raise InvalidPersonalNumberError(issues)


def is_valid_personal_number(number: str) -> bool:
    """Structure and province code only (no birth date or sex to compare with)."""
    return not validate_personal_number(number)


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() accepts other scripts' digits (e.g. "١٢٣"), which the registry never issues.
    return text.isascii() and text.isdigit()


def _format_issues(number: str) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    if len(number) != PERSONAL_NUMBER_LENGTH:
        issues.append(
            ValidationIssue(
                field=FIELD_PERSONAL_NUMBER,
                rule=PersonalNumberRule.LENGTH,
                message=(
                    f"personal number must be exactly {PERSONAL_NUMBER_LENGTH} characters long "
                    f"(got {len(number)})"
                ),
                message_vi=(
                    f"Số định danh cá nhân phải gồm đúng {PERSONAL_NUMBER_LENGTH} chữ số "
                    f"(hiện có {len(number)} ký tự)"
                ),
            )
        )
    if not _is_ascii_digits(number):
        issues.append(
            ValidationIssue(
                field=FIELD_PERSONAL_NUMBER,
                rule=PersonalNumberRule.DIGITS_ONLY,
                message="personal number must contain only the digits 0-9",
                message_vi="Số định danh cá nhân chỉ được gồm các chữ số 0-9",
            )
        )
    return issues


def _unknown_province(code: str) -> ValidationIssue:
    return ValidationIssue(
        field=FIELD_PERSONAL_NUMBER,
        rule=PersonalNumberRule.PROVINCE_CODE,
        message=(
            f"digits 1-3 ({code}) must be a province code of birth registration "
            "(Circular 07/2016/TT-BCA)"
        ),
        message_vi=(
            f"Ba chữ số đầu ({code}) phải là mã tỉnh, thành phố nơi đăng ký khai sinh "
            "(Thông tư 07/2016/TT-BCA)"
        ),
    )


def _birth_date_issues(
    number: str, info: PersonalNumberInfo, birth_date: date
) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    encoded_century = info.birth_year // 100 * 100
    if birth_date.year // 100 * 100 != encoded_century:
        issues.append(
            ValidationIssue(
                field=FIELD_BIRTH_DATE,
                rule=PersonalNumberRule.CENTURY_MATCHES_BIRTH_DATE,
                message=(
                    f"digit 4 of the personal number ({number[3]}) means born in the "
                    f"{encoded_century}s, but the birth date is in {birth_date.year}"
                ),
                message_vi=(
                    f"Chữ số thứ 4 của số định danh ({number[3]}) ứng với thế kỷ bắt đầu năm "
                    f"{encoded_century}, nhưng ngày sinh thuộc năm {birth_date.year}"
                ),
            )
        )
    if birth_date.year % 100 != int(number[4:6]):
        issues.append(
            ValidationIssue(
                field=FIELD_BIRTH_DATE,
                rule=PersonalNumberRule.YEAR_MATCHES_BIRTH_DATE,
                message=(
                    f"digits 5-6 of the personal number ({number[4:6]}) must equal the last two "
                    f"digits of the birth year {birth_date.year}"
                ),
                message_vi=(
                    f"Chữ số thứ 5-6 của số định danh ({number[4:6]}) phải trùng hai số cuối "
                    f"của năm sinh {birth_date.year}"
                ),
            )
        )
    return issues


_SEX_VI = {Sex.MALE: "nam", Sex.FEMALE: "nữ"}


def _sex_mismatch(encoded: Sex, recorded: Sex) -> ValidationIssue:
    return ValidationIssue(
        field=FIELD_SEX,
        rule=PersonalNumberRule.SEX_MATCHES,
        message=(
            f"digit 4 of the personal number encodes sex {encoded.value}, "
            f"but the recorded sex is {recorded.value}"
        ),
        message_vi=(
            f"Chữ số thứ 4 của số định danh ứng với giới tính {_SEX_VI[encoded]}, "
            f"nhưng giới tính đã ghi là {_SEX_VI[recorded]}"
        ),
    )


def _future_birth_year(birth_year: int) -> ValidationIssue:
    return ValidationIssue(
        field=FIELD_PERSONAL_NUMBER,
        rule=PersonalNumberRule.BIRTH_YEAR_NOT_IN_FUTURE,
        message=(
            f"digits 4-6 of the personal number encode birth year {birth_year}, in the future"
        ),
        message_vi=(
            f"Chữ số thứ 4-6 của số định danh ứng với năm sinh {birth_year}, trong tương lai"
        ),
    )
