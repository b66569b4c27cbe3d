"""Decree 30 numbers and notations, number series and arrival numbers."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from services.documents.domain.document_types import (
    CONG_VAN,
    DOCUMENT_TYPES,
    DocumentType,
    document_type,
    type_by_abbreviation,
)
from services.documents.domain.numbering import (
    ArrivalSeries,
    InvalidNotation,
    Notation,
    NumberSeries,
    Secrecy,
    SeriesClass,
    Urgency,
    arrival_series,
    format_code,
    format_notation,
    format_number,
    next_arrival_number,
    next_number,
    number_series,
    parse_notation,
    series_class,
)

QD = document_type("quyet_dinh")
CTR = document_type("chuong_trinh")
KH = document_type("ke_hoach")


# --- formatting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "written"), [(1, "01"), (5, "05"), (9, "09"), (10, "10"), (99, "99"), (123, "123")]
)
def test_numbers_below_ten_get_a_leading_zero(number: int, written: str) -> None:
    assert format_number(number) == written


@pytest.mark.parametrize("number", [0, -1, True])
def test_a_number_must_be_a_positive_integer(number: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        format_number(number)


def test_typed_document_notation_is_number_type_issuer() -> None:
    assert format_notation(15, QD, "SGDĐT") == "15/QĐ-SGDĐT"
    assert format_notation(3, CTR, "SGDĐT") == "03/CTr-SGDĐT"
    assert format_notation(7, KH, "UBND") == "07/KH-UBND"


def test_typed_document_may_name_the_drafting_unit() -> None:
    assert format_notation(15, QD, "SGDĐT", "VP") == "15/QĐ-SGDĐT-VP"


def test_cong_van_notation_has_no_type_abbreviation() -> None:
    assert format_notation(5, CONG_VAN, "SGDĐT", "VP") == "05/SGDĐT-VP"
    assert format_code(CONG_VAN, "SGDĐT", "GDTrH") == "SGDĐT-GDTrH"


def test_cong_van_needs_the_drafting_unit() -> None:
    with pytest.raises(ValueError, match="drafting unit"):
        format_notation(5, CONG_VAN, "SGDĐT")


@pytest.mark.parametrize("issuer", ["", "SGD ĐT", "SGD-ĐT", "SGD/ĐT"])
def test_issuer_abbreviation_cannot_hold_separators(issuer: str) -> None:
    with pytest.raises(ValueError, match="issuer"):
        format_notation(15, QD, issuer)


def test_drafting_unit_may_be_hyphenated_but_not_empty_in_parts() -> None:
    assert format_notation(2, CONG_VAN, "SGDĐT", "VP-TCCB") == "02/SGDĐT-VP-TCCB"
    with pytest.raises(ValueError, match="drafting unit"):
        format_notation(2, CONG_VAN, "SGDĐT", "VP-")


def test_notation_value_prints_as_the_notation() -> None:
    notation = Notation(15, QD, "SGDĐT")
    assert str(notation) == "15/QĐ-SGDĐT"
    assert notation.code == "QĐ-SGDĐT"


# --- document types ---------------------------------------------------------------------------


def test_type_table_holds_decree_30_abbreviations() -> None:
    abbreviations = {t.name_vi: t.abbreviation for t in DOCUMENT_TYPES.values()}
    assert abbreviations["Nghị quyết"] == "NQ"
    assert abbreviations["Quyết định"] == "QĐ"
    assert abbreviations["Chỉ thị"] == "CT"
    assert abbreviations["Quy chế"] == "QC"
    assert abbreviations["Quy định"] == "QyĐ"
    assert abbreviations["Thông báo"] == "TB"
    assert abbreviations["Hướng dẫn"] == "HD"
    assert abbreviations["Chương trình"] == "CTr"
    assert abbreviations["Kế hoạch"] == "KH"
    assert abbreviations["Phương án"] == "PA"
    assert abbreviations["Đề án"] == "ĐA"
    assert abbreviations["Báo cáo"] == "BC"
    assert abbreviations["Biên bản"] == "BB"
    assert abbreviations["Tờ trình"] == "TTr"
    assert abbreviations["Hợp đồng"] == "HĐ"
    assert abbreviations["Giấy mời"] == "GM"
    assert abbreviations["Giấy giới thiệu"] == "GGT"
    assert abbreviations["Giấy ủy quyền"] == "GUQ"
    assert abbreviations["Công văn"] is None


def test_abbreviation_lookup_ignores_case_but_keeps_ct_and_ctr_apart() -> None:
    assert type_by_abbreviation("CTR") == CTR
    assert type_by_abbreviation("ctr") == CTR
    assert type_by_abbreviation("CT") == document_type("chi_thi")
    assert type_by_abbreviation("qyđ") == document_type("quy_dinh")
    assert type_by_abbreviation("SGDĐT") is None


def test_unknown_type_key_names_the_key() -> None:
    with pytest.raises(KeyError, match="cong_dien_tu"):
        document_type("cong_dien_tu")


# --- parsing ----------------------------------------------------------------------------------


def test_parse_typed_notation() -> None:
    assert parse_notation("15/QĐ-SGDĐT") == Notation(15, QD, "SGDĐT", None)


def test_parse_cong_van_notation() -> None:
    assert parse_notation("05/SGDĐT-VP") == Notation(5, CONG_VAN, "SGDĐT", "VP")


def test_parse_typed_notation_with_drafting_unit() -> None:
    assert parse_notation("15/QĐ-SGDĐT-VP-TCCB") == Notation(15, QD, "SGDĐT", "VP-TCCB")


@pytest.mark.parametrize(
    "text",
    [
        "Số: 15/QĐ-SGDĐT",
        "số 15/QĐ-SGDĐT",
        "  15 / QĐ - SGDĐT ",
        "15/QĐ\u2013SGDĐT",  # en dash
        "015/QĐ-SGDĐT",
        "15/qđ-SGDĐT",
    ],
)
def test_parse_tolerates_how_notations_are_typed(text: str) -> None:
    assert parse_notation(text) == Notation(15, QD, "SGDĐT")


def test_parse_reads_unpadded_numbers_and_writes_them_padded() -> None:
    notation = parse_notation("5/CTr-SGDĐT")
    assert notation == Notation(5, CTR, "SGDĐT")
    assert str(notation) == "05/CTr-SGDĐT"


def test_parse_normalises_decomposed_vietnamese() -> None:
    decomposed = unicodedata.normalize("NFD", "05/SGDĐT-PHÒNG")
    assert parse_notation(decomposed).drafting_unit == "PHÒNG"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "expected number/code"),
        ("QĐ-SGDĐT", "expected number/code"),
        ("0/QĐ-SGDĐT", "at least 1"),
        ("15/QĐ", "needs a type and an issuer"),
        ("15/SGDĐT", "needs a type and an issuer"),
        ("15/QĐ--SGDĐT", "empty part"),
        ("15/QĐ-SGDĐT-", "empty part"),
        ("15/2020/TT-BGDĐT", "stray separator"),
        ("١٥/QĐ-SGDĐT", "expected number/code"),  # Arabic-Indic digits are not a number here
    ],
)
def test_parse_refuses_what_is_not_a_notation(text: str, reason: str) -> None:
    with pytest.raises(InvalidNotation, match=reason) as raised:
        parse_notation(text)
    assert raised.value.text == text


ABBREVIATION = st.text(
    alphabet="ABCDĐEGHKLMNOPQRSTUVXYÂĂÊÔƠƯ0123456789abcdđ", min_size=1, max_size=8
)


@given(
    number=st.integers(min_value=1, max_value=99_999),
    doc_type=st.sampled_from(sorted(DOCUMENT_TYPES.values(), key=lambda t: t.key)),
    issuer=ABBREVIATION,
    unit_parts=st.lists(ABBREVIATION, max_size=2),
)
def test_format_then_parse_round_trips(
    number: int, doc_type: DocumentType, issuer: str, unit_parts: list[str]
) -> None:
    unit = "-".join(unit_parts) or None
    if doc_type is CONG_VAN:
        assume(unit is not None)
        # A công văn of an issuer abbreviated like a type cannot be told apart (documented).
        assume(type_by_abbreviation(issuer) is None)
    notation = Notation(number, doc_type, issuer, unit)
    text = str(notation)
    assert parse_notation(text) == notation
    assert str(parse_notation(text)) == text


# --- number series ----------------------------------------------------------------------------


def test_first_number_of_a_series_is_1() -> None:
    assert next_number(None, None, date(2025, 3, 5)) == 1


def test_numbers_follow_on_within_the_year() -> None:
    assert next_number(14, 2025, date(2025, 6, 1)) == 15


def test_numbering_restarts_at_1_on_1_january() -> None:
    # 31 December takes the next number of the old year; 1 January starts the new series.
    issued: list[tuple[date, int]] = []
    last: int | None = 239
    year: int | None = 2025
    for day in (date(2025, 12, 30), date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 2)):
        number = next_number(last, year, day)
        issued.append((day, number))
        last, year = number, day.year
    assert issued == [
        (date(2025, 12, 30), 240),
        (date(2025, 12, 31), 241),
        (date(2026, 1, 1), 1),
        (date(2026, 1, 2), 2),
    ]
    assert format_number(issued[2][1]) == "01"


def test_a_gap_of_years_still_restarts_at_1() -> None:
    assert next_number(87, 2023, date(2025, 2, 1)) == 1


def test_a_past_year_series_is_closed() -> None:
    with pytest.raises(ValueError, match="series of a past year is closed"):
        next_number(3, 2026, date(2025, 12, 31))


def test_continuing_a_series_needs_its_year() -> None:
    with pytest.raises(ValueError, match="year of the last"):
        next_number(3, None, date(2025, 1, 2))


def test_last_number_must_be_positive() -> None:
    with pytest.raises(ValueError, match="not a positive"):
        next_number(0, 2025, date(2025, 1, 2))


def test_secret_documents_have_their_own_series() -> None:
    counters: dict[NumberSeries, tuple[int, int]] = {}

    def issue(issuer: str, day: date, secrecy: Secrecy | None) -> int:
        series = number_series(issuer, day, secrecy)
        last = counters.get(series)
        number = next_number(last[0] if last else None, last[1] if last else None, day)
        counters[series] = (number, day.year)
        return number

    day = date(2025, 4, 1)
    assert issue("SGDĐT", day, None) == 1
    assert issue("SGDĐT", day, Secrecy.MAT) == 1
    assert issue("SGDĐT", day, None) == 2
    # Mật, tối mật and tuyệt mật share the one secret series.
    assert issue("SGDĐT", day, Secrecy.TOI_MAT) == 2
    assert issue("SGDĐT", day, Secrecy.TUYET_MAT) == 3
    assert issue("SGDĐT", day, None) == 3
    # Another issuer (an advisory council issuing in its own name) counts on its own.
    assert issue("HĐTĐ", day, None) == 1
    assert set(counters) == {
        NumberSeries("SGDĐT", 2025, SeriesClass.ORDINARY),
        NumberSeries("SGDĐT", 2025, SeriesClass.SECRET),
        NumberSeries("HĐTĐ", 2025, SeriesClass.ORDINARY),
    }


def test_series_class_of_each_secrecy() -> None:
    assert series_class(None) is SeriesClass.ORDINARY
    assert {series_class(level) for level in Secrecy} == {SeriesClass.SECRET}


def test_arrival_numbers_run_per_year_and_restart_on_1_january() -> None:
    numbers = []
    last: int | None = None
    year: int | None = None
    start = date(2025, 12, 29)
    for offset in range(5):
        day = start + timedelta(days=offset)
        number = next_arrival_number(last, year, day)
        numbers.append(number)
        last, year = number, day.year
    assert numbers == [1, 2, 3, 1, 2]  # 29, 30, 31 December; 1, 2 January


def test_arrival_series_keeps_secret_documents_apart() -> None:
    day = date(2025, 5, 6)
    assert arrival_series("SGDĐT", day, None) == ArrivalSeries("SGDĐT", 2025, SeriesClass.ORDINARY)
    assert arrival_series("SGDĐT", day, Secrecy.MAT) == ArrivalSeries(
        "SGDĐT", 2025, SeriesClass.SECRET
    )


# --- urgency and secrecy ----------------------------------------------------------------------


def test_urgency_codes_and_labels() -> None:
    assert [(u.value, u.label_vi, u.rank) for u in Urgency] == [
        ("khan", "Khẩn", 1),
        ("thuong_khan", "Thượng khẩn", 2),
        ("hoa_toc", "Hỏa tốc", 3),
    ]


def test_secrecy_codes_and_labels() -> None:
    assert [(s.value, s.label_vi, s.rank) for s in Secrecy] == [
        ("mat", "Mật", 1),
        ("toi_mat", "Tối mật", 2),
        ("tuyet_mat", "Tuyệt mật", 3),
    ]
    assert Secrecy("toi_mat").label_en == "Secret"
