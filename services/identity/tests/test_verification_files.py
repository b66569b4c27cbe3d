import io
from datetime import date
from pathlib import Path

import pytest

from services.identity.domain.sector_id import format_sector_id
from services.identity.domain.sex import Sex
from services.identity.domain.verification_files import (
    DifferenceKind,
    FieldDifference,
    ParsedResponse,
    RegisterEntry,
    RegisterValues,
    ResponseRow,
    RowError,
    VerificationFileError,
    VerificationRecord,
    VerificationResult,
    compare_with_register,
    name_difference_kind,
    parse_response,
    read_request_batch,
    simulate_register_response,
    write_request_batch,
    write_response,
)

BATCH = "HP-2026-03-0001"
BOM = b"\xef\xbb\xbf"
REQUEST_HEADER = (
    "batch_id;row_no;sector_id;personal_number;full_name;birth_date;sex;birthplace;guardian_name"
)
RESPONSE_HEADER = (
    "batch_id;row_no;sector_id;result;register_full_name;register_birth_date;register_sex;"
    "register_personal_number;mismatched_fields"
)


def sector_id(sequence: int) -> str:
    return format_sector_id("HS", 31, 2026, sequence)


ANH = VerificationRecord(
    sector_id=sector_id(1),
    personal_number="031312001234",
    full_name="Nguyễn Thị Ánh",
    birth_date=date(2012, 3, 5),
    sex=Sex.FEMALE,
    birthplace="Hải Phòng",
    guardian_name="Nguyễn Văn Hùng",
)
# Typed without the tone mark on the given name: the usual verification mismatch.
MINH = VerificationRecord(
    sector_id=sector_id(2),
    personal_number="031211004321",
    full_name="Trần Đức Minh",
    birth_date=date(2011, 7, 4),
    sex=Sex.MALE,
)
HUONG = VerificationRecord(
    sector_id=sector_id(3),
    personal_number="030312005555",
    full_name="Phạm Thu Huong",
    birth_date=date(2012, 10, 2),
    sex=Sex.FEMALE,
)
UNKNOWN = VerificationRecord(
    sector_id=sector_id(4),
    personal_number="031312009999",
    full_name="Lê Văn Nam",
    birth_date=date(2012, 1, 1),
    sex=Sex.MALE,
)
NO_NUMBER = VerificationRecord(
    sector_id=sector_id(5), full_name="Vũ Thị Lan", birth_date=date(2013, 2, 2), sex=Sex.FEMALE
)
RECORDS = [ANH, MINH, HUONG, UNKNOWN, NO_NUMBER]

REGISTER = {
    entry.personal_number: entry
    for entry in (
        RegisterEntry("031312001234", "NGUYỄN THỊ ÁNH", date(2012, 3, 5), Sex.FEMALE),
        # The register writes the date with day and month the other way round.
        RegisterEntry("031211004321", "Trần Đức Minh", date(2011, 4, 7), Sex.MALE),
        RegisterEntry("030312005555", "Phạm Thu Hương", date(2012, 10, 2), Sex.FEMALE),
    )
}


def request_bytes(records: list[VerificationRecord] = RECORDS) -> bytes:
    buffer = io.BytesIO()
    write_request_batch(buffer, BATCH, records)
    return buffer.getvalue()


def mistyped_check_digit(text: str) -> str:
    return text[:-1] + str((int(text[-1]) + 1) % 10)


def register_answer() -> bytes:
    request_rows = read_request_batch(io.BytesIO(request_bytes()))
    buffer = io.BytesIO()
    write_response(buffer, simulate_register_response(request_rows, REGISTER))
    return buffer.getvalue()


def parse(text: str, batch_id: str = BATCH) -> ParsedResponse:
    return parse_response(io.BytesIO(text.encode("utf-8")), expected_batch_id=batch_id)


def response_text(*lines: str) -> str:
    return "\r\n".join([RESPONSE_HEADER, *lines]) + "\r\n"


@pytest.fixture(scope="module")
def round_trip() -> dict[int, ResponseRow]:
    parsed = parse_response(io.BytesIO(register_answer()), expected_batch_id=BATCH)
    assert parsed.errors == ()
    return {row.row_no: row for row in parsed.rows}


def test_request_batch_format() -> None:
    data = request_bytes()
    assert data.startswith(BOM)
    lines = data[len(BOM) :].decode("utf-8").split("\r\n")
    assert lines[0] == REQUEST_HEADER
    assert lines[1] == (
        f"{BATCH};1;{sector_id(1)};031312001234;Nguyễn Thị Ánh;05/03/2012;Nữ;Hải Phòng;"
        "Nguyễn Văn Hùng"
    )
    assert lines[5] == f"{BATCH};5;{sector_id(5)};;Vũ Thị Lan;02/02/2013;Nữ;;"


def test_write_request_batch_counts_records() -> None:
    assert write_request_batch(io.BytesIO(), BATCH, RECORDS) == 5


def test_request_round_trips_through_the_register_side() -> None:
    rows = read_request_batch(io.BytesIO(request_bytes()))
    assert [row.row_no for row in rows] == [1, 2, 3, 4, 5]
    assert [row.record for row in rows] == RECORDS
    assert {row.batch_id for row in rows} == {BATCH}


def test_write_request_batch_rejects_a_malformed_personal_number() -> None:
    bad = VerificationRecord(sector_id(9), "Lê Na", date(2012, 1, 1), Sex.FEMALE, "03131200")
    with pytest.raises(ValueError, match=sector_id(9)):
        write_request_batch(io.BytesIO(), BATCH, [bad])


def test_response_file_format() -> None:
    data = register_answer()
    assert data.startswith(BOM)
    lines = data[len(BOM) :].decode("utf-8").split("\r\n")
    assert lines[0] == RESPONSE_HEADER
    assert lines[3] == (
        f"{BATCH};3;{sector_id(3)};MISMATCH;Phạm Thu Hương;02/10/2012;Nữ;030312005555;full_name"
    )
    assert lines[4] == f"{BATCH};4;{sector_id(4)};NOT_FOUND;;;;;"


def test_matched(round_trip: dict[int, ResponseRow]) -> None:
    row = round_trip[1]
    assert row.result is VerificationResult.MATCHED
    assert row.sector_id == sector_id(1)
    assert row.mismatched_fields == ()
    assert row.register == RegisterValues(
        "NGUYỄN THỊ ÁNH", date(2012, 3, 5), Sex.FEMALE, ANH.personal_number
    )
    # The register writes names in capitals; the worklist can hide a case-only difference.
    assert compare_with_register(ANH, row.register) == [
        FieldDifference("full_name", "Nguyễn Thị Ánh", "NGUYỄN THỊ ÁNH", DifferenceKind.CASE_ONLY)
    ]


def test_mismatch_puts_fields_side_by_side(round_trip: dict[int, ResponseRow]) -> None:
    minh, huong = round_trip[2], round_trip[3]
    assert minh.result is huong.result is VerificationResult.MISMATCH
    assert minh.mismatched_fields == ("birth_date",)
    assert compare_with_register(MINH, minh.register, minh.mismatched_fields) == [
        FieldDifference("birth_date", "04/07/2011", "07/04/2011", DifferenceKind.DAY_MONTH_SWAPPED)
    ]
    assert huong.mismatched_fields == ("full_name",)
    [difference] = compare_with_register(HUONG, huong.register, huong.mismatched_fields)
    assert difference == FieldDifference(
        "full_name", "Phạm Thu Huong", "Phạm Thu Hương", DifferenceKind.DIACRITICS_ONLY
    )
    assert difference.kind.label == "differs only in diacritics"


def test_not_found(round_trip: dict[int, ResponseRow]) -> None:
    for row_no in (4, 5):  # unknown number; no number at all
        assert round_trip[row_no].result is VerificationResult.NOT_FOUND
        assert round_trip[row_no].register == RegisterValues()


@pytest.mark.parametrize(
    ("ours", "theirs", "kind"),
    [
        ("Nguyễn Thị Ánh", "Nguyễn  Thị Ánh", None),
        ("Nguyễn Thị Ánh", "NGUYỄN THỊ ÁNH", DifferenceKind.CASE_ONLY),
        ("Nguyen Thi Anh", "Nguyễn Thị Ánh", DifferenceKind.DIACRITICS_ONLY),
        ("Dang Van Duc", "Đặng Văn Đức", DifferenceKind.DIACRITICS_ONLY),
        ("Phạm Thu Hường", "Phạm Thu Hương", DifferenceKind.DIACRITICS_ONLY),
        ("NGUYEN THI ANH", "Nguyễn Thị Ánh", DifferenceKind.DIACRITICS_ONLY),
        ("H'Hen Niê", "HHen Niê", DifferenceKind.PUNCTUATION_ONLY),
        ("Ánh Nguyễn Thị", "Nguyễn Thị Ánh", DifferenceKind.WORD_ORDER),
        ("Nguyễn Thị Ánh", "Nguyễn Thị Anh Thư", DifferenceKind.DIFFERENT),
    ],
)
def test_name_difference_kind(ours: str, theirs: str, kind: DifferenceKind | None) -> None:
    assert name_difference_kind(ours, theirs) is kind


def test_compare_reports_number_missing_here_and_fields_flagged_without_value() -> None:
    register = RegisterValues(personal_number="031313007777")
    assert compare_with_register(NO_NUMBER, register, ["birthplace"]) == [
        FieldDifference("personal_number", "", "031313007777", DifferenceKind.MISSING_HERE),
        FieldDifference("birthplace", "", "", DifferenceKind.REGISTER_FLAGGED),
    ]


def test_compare_ignores_fields_the_register_did_not_return() -> None:
    assert compare_with_register(ANH, RegisterValues()) == []


def test_malformed_rows_are_reported_while_the_rest_parse() -> None:
    good = f"{BATCH};1;{sector_id(1)};MATCHED;Nguyễn Thị Ánh;05/03/2012;Nữ;031312001234;"
    text = response_text(
        good,
        f"{BATCH};2;{sector_id(2)};MISMATCH;Trần Đức Minh;31/02/2011;Nam;031211004321;birth_date",
        f"{BATCH};3;{sector_id(3)};FOUND;;;;;",
        f"{BATCH};4;{sector_id(4)};MISMATCH;Lê Văn Nam;01/01/2012;Nam;031312009999;",
        f"{BATCH};5;{mistyped_check_digit(sector_id(5))};NOT_FOUND;;;;;",
        f"{BATCH};6;{sector_id(6)};NOT_FOUND;;;",
        f"{BATCH};x;{sector_id(7)};MATCHED;;;Nữ;;",
        f"{BATCH};8;{sector_id(8)};MISMATCH;Lê Na;01/01/2012;Nu;031312008888;name,sex",
        f"HP-2025-12-0042;9;{sector_id(9)};NOT_FOUND;;;;;",
        "",
        good,
    )
    parsed = parse(text)
    assert [row.row_no for row in parsed.rows] == [1]
    assert [(e.line, e.row_no, e.field) for e in parsed.errors] == [
        (3, 2, "register_birth_date"),
        (4, 3, "result"),
        (5, 4, "mismatched_fields"),
        (6, 5, "sector_id"),
        (7, None, "line"),
        (8, None, "row_no"),
        (9, 8, "register_sex"),
        (9, 8, "mismatched_fields"),
        (10, 9, "batch_id"),
        (12, 1, "row_no"),
    ]
    messages = {(error.line, error.field): error.message for error in parsed.errors}
    assert messages[(3, "register_birth_date")].startswith("'31/02/2011' is not a real date")
    assert messages[(4, "result")] == "'FOUND' is not one of MATCHED, MISMATCH, NOT_FOUND"
    assert messages[(5, "mismatched_fields")] == "MISMATCH must name the fields that differ"
    assert "check digit" in messages[(6, "sector_id")]
    assert messages[(7, "line")] == "7 values, the header has 9"
    assert messages[(9, "register_sex")] == "'Nu' is not Nam or Nữ"
    assert messages[(9, "mismatched_fields")].startswith("unknown field name")
    assert messages[(10, "batch_id")] == f"line belongs to batch 'HP-2025-12-0042', not '{BATCH}'"
    assert messages[(12, "row_no")] == "row 1 already answered on line 2"
    assert parsed.unanswered_row_numbers(range(1, 10)) == [2, 3, 4, 5, 6, 7, 8, 9]


def test_row_error_is_a_plain_record() -> None:
    parsed = parse(response_text(f"{BATCH};1;{sector_id(1)};MATCHED;;;Nam;12;"))
    assert parsed.errors == (
        RowError(2, 1, "register_personal_number", "'12' is not a 12-digit personal number"),
    )


def test_personal_number_that_lost_its_leading_zero_in_excel_is_restored() -> None:
    parsed = parse(response_text(f"{BATCH};1;{sector_id(1)};MATCHED;;;;31312001234;"))
    assert parsed.rows[0].register.personal_number == "031312001234"


def test_personal_number_in_scientific_notation_is_reported() -> None:
    parsed = parse(response_text(f"{BATCH};1;{sector_id(1)};MATCHED;;;;3,13E+10;"))
    assert parsed.rows == ()
    assert "scientific notation" in parsed.errors[0].message


def test_response_without_byte_order_mark_and_with_short_dates_is_read() -> None:
    parsed = parse(response_text(f"{BATCH};1;{sector_id(1)};matched;Lê Na;5/3/2012;nữ;;"))
    assert parsed.errors == ()
    assert parsed.rows[0].result is VerificationResult.MATCHED
    assert parsed.rows[0].register.birth_date == date(2012, 3, 5)
    assert parsed.rows[0].register.sex is Sex.FEMALE


def test_header_only_response_has_no_rows() -> None:
    assert parse(response_text()) == ParsedResponse(BATCH, (), ())


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (RESPONSE_HEADER.replace(";", ","), "separated by ',' instead of ';'"),
        (RESPONSE_HEADER.replace("result", "status"), "missing ['result'], unexpected ['status']"),
        (REQUEST_HEADER, "missing ["),
    ],
)
def test_wrong_header_is_rejected(header: str, problem: str) -> None:
    with pytest.raises(VerificationFileError, match="response file header is wrong") as raised:
        parse(header + "\r\n")
    assert problem in str(raised.value)


def test_columns_in_wrong_order_are_rejected() -> None:
    swapped = RESPONSE_HEADER.replace(
        "register_birth_date;register_sex", "register_sex;register_birth_date"
    )
    with pytest.raises(VerificationFileError, match="the columns are in the wrong order"):
        parse(swapped + "\r\n")


def test_response_to_another_batch_is_rejected() -> None:
    text = response_text(f"HP-2025-12-0042;1;{sector_id(1)};NOT_FOUND;;;;;")
    with pytest.raises(VerificationFileError) as raised:
        parse(text)
    assert f"no line belongs to batch '{BATCH}'" in str(raised.value)
    assert "HP-2025-12-0042" in str(raised.value)


def test_file_that_is_not_utf8_is_rejected() -> None:
    data = (RESPONSE_HEADER + "\r\n" + f"{BATCH};1;{sector_id(1)};MATCHED;Lê Na;;;;\r\n").encode(
        "cp1258"
    )
    with pytest.raises(VerificationFileError, match="not UTF-8"):
        parse_response(io.BytesIO(data), expected_batch_id=BATCH)


def test_empty_file_is_rejected() -> None:
    with pytest.raises(VerificationFileError, match="header line is missing"):
        parse("")


def test_files_can_be_given_as_paths(tmp_path: Path) -> None:
    request = tmp_path / "request.csv"
    response = tmp_path / "response.csv"
    write_request_batch(request, BATCH, [ANH])
    write_response(response, simulate_register_response(read_request_batch(request), REGISTER))
    parsed = parse_response(response, expected_batch_id=BATCH)
    assert [row.result for row in parsed.rows] == [VerificationResult.MATCHED]
