from datetime import date

import pytest

from services.identity.domain.issues import ValidationIssue
from services.identity.domain.personal_number import (
    InvalidPersonalNumberError,
    PersonalNumberRule,
    century_sex_digit,
    clean_personal_number,
    decode_personal_number,
    ensure_valid_personal_number,
    is_valid_personal_number,
    validate_personal_number,
)
from services.identity.domain.province_codes import PROVINCE_CODES
from services.identity.domain.sex import Sex

# Born in Hải Phòng (031), 2000s male (2), in 2012 (12), random 345678.
VALID = "031212345678"
BIRTH_DATE = date(2012, 5, 1)


def rules(issues: list[ValidationIssue]) -> list[str]:
    return [issue.rule for issue in issues]


def test_valid_number_has_no_issues() -> None:
    assert validate_personal_number(VALID, birth_date=BIRTH_DATE, sex=Sex.MALE) == []
    assert is_valid_personal_number(VALID)


def test_length_rule_alone() -> None:
    issues = validate_personal_number("03121234567", birth_date=BIRTH_DATE, sex=Sex.MALE)
    assert issues == [
        ValidationIssue(
            field="personal_number",
            rule=PersonalNumberRule.LENGTH,
            message="personal number must be exactly 12 characters long (got 11)",
            message_vi="Số định danh cá nhân phải gồm đúng 12 chữ số (hiện có 11 ký tự)",
        )
    ]


def test_digits_only_rule_alone() -> None:
    issues = validate_personal_number("03121234567X", birth_date=BIRTH_DATE, sex=Sex.MALE)
    assert issues == [
        ValidationIssue(
            field="personal_number",
            rule=PersonalNumberRule.DIGITS_ONLY,
            message="personal number must contain only the digits 0-9",
            message_vi="Số định danh cá nhân chỉ được gồm các chữ số 0-9",
        )
    ]


def test_non_ascii_digits_are_not_digits() -> None:
    arabic_indic_one = "\u0661"
    issues = validate_personal_number("03121234567" + arabic_indic_one)
    assert rules(issues) == [PersonalNumberRule.DIGITS_ONLY]


def test_length_and_digits_together_and_positions_are_not_checked() -> None:
    # "999" would be an unknown province, but in malformed text positions mean nothing.
    issues = validate_personal_number("999 2-12", birth_date=BIRTH_DATE, sex=Sex.FEMALE)
    assert rules(issues) == [PersonalNumberRule.LENGTH, PersonalNumberRule.DIGITS_ONLY]


def test_empty_text() -> None:
    assert rules(validate_personal_number("")) == [
        PersonalNumberRule.LENGTH,
        PersonalNumberRule.DIGITS_ONLY,
    ]


def test_province_rule_alone() -> None:
    issues = validate_personal_number("032212345678", birth_date=BIRTH_DATE, sex=Sex.MALE)
    assert issues == [
        ValidationIssue(
            field="personal_number",
            rule=PersonalNumberRule.PROVINCE_CODE,
            message=(
                "digits 1-3 (032) must be a province code of birth registration "
                "(Circular 07/2016/TT-BCA)"
            ),
            message_vi=(
                "Ba chữ số đầu (032) phải là mã tỉnh, thành phố nơi đăng ký khai sinh "
                "(Thông tư 07/2016/TT-BCA)"
            ),
        )
    ]


def test_century_rule_alone() -> None:
    issues = validate_personal_number(VALID, birth_date=date(1912, 5, 1), sex=Sex.MALE)
    assert issues == [
        ValidationIssue(
            field="birth_date",
            rule=PersonalNumberRule.CENTURY_MATCHES_BIRTH_DATE,
            message=(
                "digit 4 of the personal number (2) means born in the 2000s, "
                "but the birth date is in 1912"
            ),
            message_vi=(
                "Chữ số thứ 4 của số định danh (2) ứng với thế kỷ bắt đầu năm 2000, "
                "nhưng ngày sinh thuộc năm 1912"
            ),
        )
    ]


def test_year_rule_alone() -> None:
    issues = validate_personal_number(VALID, birth_date=date(2013, 5, 1), sex=Sex.MALE)
    assert issues == [
        ValidationIssue(
            field="birth_date",
            rule=PersonalNumberRule.YEAR_MATCHES_BIRTH_DATE,
            message=(
                "digits 5-6 of the personal number (12) must equal the last two digits of "
                "the birth year 2013"
            ),
            message_vi=(
                "Chữ số thứ 5-6 của số định danh (12) phải trùng hai số cuối của năm sinh 2013"
            ),
        )
    ]


def test_sex_rule_alone() -> None:
    issues = validate_personal_number(VALID, birth_date=BIRTH_DATE, sex=Sex.FEMALE)
    assert issues == [
        ValidationIssue(
            field="sex",
            rule=PersonalNumberRule.SEX_MATCHES,
            message=(
                "digit 4 of the personal number encodes sex male, but the recorded sex is female"
            ),
            message_vi=(
                "Chữ số thứ 4 của số định danh ứng với giới tính nam, nhưng giới tính đã ghi là nữ"
            ),
        )
    ]


def test_future_birth_year_rule_alone() -> None:
    issues = validate_personal_number("031412345678", today=date(2026, 1, 1))
    assert issues == [
        ValidationIssue(
            field="personal_number",
            rule=PersonalNumberRule.BIRTH_YEAR_NOT_IN_FUTURE,
            message="digits 4-6 of the personal number encode birth year 2112, in the future",
            message_vi="Chữ số thứ 4-6 của số định danh ứng với năm sinh 2112, trong tương lai",
        )
    ]


def test_every_positional_rule_broken_at_once() -> None:
    issues = validate_personal_number(
        "099512345678", birth_date=date(1999, 1, 1), sex=Sex.MALE, today=date(2026, 1, 1)
    )
    assert rules(issues) == [
        PersonalNumberRule.PROVINCE_CODE,
        PersonalNumberRule.CENTURY_MATCHES_BIRTH_DATE,
        PersonalNumberRule.YEAR_MATCHES_BIRTH_DATE,
        PersonalNumberRule.SEX_MATCHES,
        PersonalNumberRule.BIRTH_YEAR_NOT_IN_FUTURE,
    ]


def test_rules_needing_missing_values_are_skipped() -> None:
    assert validate_personal_number("031512345678") == []


@pytest.mark.parametrize(
    ("digit", "century_start", "sex"),
    [
        (0, 1900, Sex.MALE),
        (1, 1900, Sex.FEMALE),
        (2, 2000, Sex.MALE),
        (3, 2000, Sex.FEMALE),
        (4, 2100, Sex.MALE),
        (5, 2100, Sex.FEMALE),
        (6, 2200, Sex.MALE),
        (7, 2200, Sex.FEMALE),
        (8, 2300, Sex.MALE),
        (9, 2300, Sex.FEMALE),
    ],
)
def test_century_and_sex_digit(digit: int, century_start: int, sex: Sex) -> None:
    number = f"030{digit}07123456"
    birth_date = date(century_start + 7, 3, 8)
    assert validate_personal_number(number, birth_date=birth_date, sex=sex) == []
    assert century_sex_digit(century_start + 7, sex) == digit
    info = decode_personal_number(number)
    assert (info.birth_year, info.sex, info.province_name) == (century_start + 7, sex, "Hải Dương")


def test_century_outside_encodable_range() -> None:
    with pytest.raises(ValueError, match="1900–2399"):
        century_sex_digit(1899, Sex.MALE)
    issues = validate_personal_number("031099123456", birth_date=date(1899, 1, 1), sex=Sex.MALE)
    assert rules(issues) == [PersonalNumberRule.CENTURY_MATCHES_BIRTH_DATE]


def test_province_table_is_the_63_pre_merger_codes() -> None:
    assert len(PROVINCE_CODES) == 63
    assert PROVINCE_CODES["001"] == "Hà Nội"
    assert PROVINCE_CODES["030"] == "Hải Dương"
    assert PROVINCE_CODES["031"] == "Hải Phòng"
    assert PROVINCE_CODES["079"] == "TP Hồ Chí Minh"
    assert PROVINCE_CODES["096"] == "Cà Mau"
    assert all(len(code) == 3 and code.isdigit() for code in PROVINCE_CODES)


def test_numbers_issued_in_former_hai_duong_stay_valid() -> None:
    assert (
        validate_personal_number("030309123456", birth_date=date(2009, 9, 9), sex=Sex.FEMALE) == []
    )


def test_extra_codes_can_be_accepted() -> None:
    assert rules(validate_personal_number("400212345678")) == [PersonalNumberRule.PROVINCE_CODE]
    assert validate_personal_number("400212345678", province_codes={"400"}) == []


def test_ensure_valid_raises_with_every_issue() -> None:
    with pytest.raises(InvalidPersonalNumberError) as raised:
        ensure_valid_personal_number(VALID, birth_date=date(2013, 1, 1), sex=Sex.FEMALE)
    assert rules(raised.value.issues) == [
        PersonalNumberRule.YEAR_MATCHES_BIRTH_DATE,
        PersonalNumberRule.SEX_MATCHES,
    ]
    assert isinstance(raised.value, ValueError)
    assert "birth year 2013" in str(raised.value)
    ensure_valid_personal_number(VALID, birth_date=BIRTH_DATE, sex=Sex.MALE)


def test_clean_removes_typed_separators() -> None:
    assert clean_personal_number(" 031 212.345-678 ") == VALID


def test_decode_rejects_malformed_text() -> None:
    with pytest.raises(ValueError, match="12 digits"):
        decode_personal_number("0312")
