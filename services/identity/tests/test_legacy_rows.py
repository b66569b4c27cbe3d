"""Reading and validating legacy exports: every row rule, both CSV dialects, and .xlsx."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from services.identity.domain.sex import Sex
from services.identity.legacy.rows import ExportReadResult, LegacyRow, read_export

TODAY = date(2026, 1, 15)
ORGS = {"HP-S1", "HD-S1"}
HEADER = "legacy_id,kind,full_name,birth_date,sex,personal_number,birthplace,guardian_name,org_id"
# 031 Hải Phòng, 3 = female born 2000-2099, 14 = 2014.
VALID = "1001,learner,Nguyễn Thị Ánh,2014-03-08,female,031314123456,Lê Chân,Nguyễn Văn Bình,HP-S1"


def read_csv(tmp_path: Path, text: str, *, encoding: str = "utf-8", name: str = "hp.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return read_export(path, source="HP", known_org_ids=ORGS, today=TODAY)


def only_errors(result: ExportReadResult) -> set[tuple[int, str, str]]:
    return {(e.row_number, e.field, e.rule) for e in result.errors}


def rows_with(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


# --- dialects ---------------------------------------------------------------------------------


def test_comma_separated_utf8_row_is_cleaned_into_a_legacy_row(tmp_path):
    result = read_csv(tmp_path, rows_with(VALID))
    assert result.errors == []
    assert result.rows == [
        LegacyRow(
            source="HP",
            row_number=2,
            legacy_id="1001",
            kind="learner",
            full_name="Nguyễn Thị Ánh",
            birth_date=date(2014, 3, 8),
            sex=Sex.FEMALE,
            personal_number="031314123456",
            birthplace="Lê Chân",
            guardian_name="Nguyễn Văn Bình",
            org_id="HP-S1",
        )
    ]
    assert result.rows[0].alias == "HP:1001"
    assert (result.rows_read, result.rejected_rows) == (1, 0)


def test_semicolon_bom_vietnamese_codes_and_day_first_dates(tmp_path):
    text = (
        "Org_ID ; legacy_id;FULL_NAME;sex;birth_date;kind;guardian_name;personal_number;note\n"
        "HD-S1;77;Trần Văn Nam;Nam;08/03/2014;HS;;030214123456;extra column ignored\n"
        "HD-S1;78;Lê Thị Hoa;Nữ;1/2/1985;GV;;;\n"
        f"HD-S1;79;Phạm Thu;{unicodedata.normalize('NFD', 'Nữ')};01/02/1990;nv;;;\n"
        "HD-S1;80;Vũ An;NU;01/02/1990;Staff;;;\n"
        "HD-S1;81;Đỗ Minh;M;01/02/1990;teacher;;;\n"
    )
    result = read_csv(tmp_path, text, encoding="utf-8-sig")
    assert result.errors == []
    by_id = {row.legacy_id: row for row in result.rows}
    assert by_id["77"].birth_date == date(2014, 3, 8)
    assert (by_id["77"].kind, by_id["77"].sex) == ("learner", Sex.MALE)
    assert by_id["77"].personal_number == "030214123456"
    assert by_id["77"].guardian_name is None and by_id["77"].birthplace is None
    assert (by_id["78"].kind, by_id["78"].sex, by_id["78"].birth_date) == (
        "teacher",
        Sex.FEMALE,
        date(1985, 2, 1),
    )
    assert (by_id["79"].kind, by_id["79"].sex) == ("staff", Sex.FEMALE)
    assert (by_id["80"].kind, by_id["80"].sex) == ("staff", Sex.FEMALE)
    assert (by_id["81"].kind, by_id["81"].sex) == ("teacher", Sex.MALE)


def test_quoted_values_blank_lines_and_row_numbers_as_a_spreadsheet_shows_them(tmp_path):
    text = (
        f"{HEADER}\n"
        '1,learner,"Nguyễn  Văn   An",2014-03-08,male,,"Số 5, phố Lạch Tray\nLê Chân",,HP-S1\n'
        "\n"
        "2,learner,Trần An,2014-13-08,male,,,,HP-S1\n"
    )
    result = read_csv(tmp_path, text)
    assert result.rows[0].full_name == "Nguyễn Văn An"
    assert result.rows[0].birthplace == "Số 5, phố Lạch Tray Lê Chân"
    # Line 2-3 hold the quoted row, line 4 is blank, line 5 the broken row.
    assert only_errors(result) == {(5, "birth_date", "birth_date.impossible")}
    assert (result.rows_read, result.rejected_rows) == (2, 1)


def test_decomposed_names_are_stored_composed(tmp_path):
    line = VALID.replace("Nguyễn Thị Ánh", unicodedata.normalize("NFD", "Nguyễn Thị Ánh"))
    result = read_csv(tmp_path, rows_with(line))
    assert result.rows[0].full_name == unicodedata.normalize("NFC", "Nguyễn Thị Ánh")


def test_progress_is_reported_for_every_row_read(tmp_path):
    seen: list[int] = []
    path = tmp_path / "hp.csv"
    path.write_text(rows_with(*[VALID.replace("1001", str(n)) for n in range(25)]))
    result = read_export(
        path, source="HP", known_org_ids=ORGS, today=TODAY, on_progress=seen.append
    )
    assert sum(seen) == result.rows_read == 25


# --- row rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "position"),
    [("legacy_id", 0), ("kind", 1), ("full_name", 2), ("birth_date", 3), ("sex", 4), ("org_id", 8)],
)
def test_every_required_value_must_be_present(tmp_path, column, position):
    cells = VALID.split(",")
    cells[position] = " "
    if column in ("birth_date", "sex"):
        cells[5] = ""  # the personal number would be checked against the missing value
    result = read_csv(tmp_path, rows_with(",".join(cells)))
    assert only_errors(result) == {(2, column, f"{column}.required")}
    assert result.rows == []


@pytest.mark.parametrize(
    ("replace", "by", "field", "rule"),
    [
        ("learner", "pupil", "kind", "kind.unknown"),
        ("female", "x", "sex", "sex.unknown"),
        ("2014-03-08", "8.3.2014", "birth_date", "birth_date.format"),
        ("2014-03-08", "2014-02-30", "birth_date", "birth_date.impossible"),
        ("2014-03-08", "31/04/2014", "birth_date", "birth_date.impossible"),
        ("HP-S1", "HP-S9", "org_id", "org_id.unknown"),
    ],
)
def test_each_broken_value_is_reported_with_its_row_field_and_rule(
    tmp_path, replace, by, field, rule
):
    line = VALID.replace(replace, by).replace("031314123456", "")
    result = read_csv(tmp_path, rows_with(VALID.replace("1001", "1000"), line))
    assert only_errors(result) == {(3, field, rule)}
    assert [row.legacy_id for row in result.rows] == ["1000"]


def test_birth_dates_in_the_future_or_before_1900_are_refused(tmp_path):
    future = VALID.replace("2014-03-08", "2026-01-16").replace("031314123456", "")
    old = VALID.replace("1001", "1002").replace("2014-03-08", "1899-12-31")
    old = old.replace("031314123456", "")
    result = read_csv(tmp_path, rows_with(future, old))
    assert only_errors(result) == {
        (2, "birth_date", "birth_date.in_future"),
        (3, "birth_date", "birth_date.too_early"),
    }


@pytest.mark.parametrize(
    ("number", "field", "rule"),
    [
        ("03131412345", "personal_number", "personal_number.length"),
        ("03131412345X", "personal_number", "personal_number.digits_only"),
        ("999314123456", "personal_number", "personal_number.province_code"),
        ("031315123456", "birth_date", "personal_number.year_matches_birth_date"),
        ("031114123456", "birth_date", "personal_number.century_matches_birth_date"),
        ("031214123456", "sex", "personal_number.sex_matches"),
    ],
)
def test_personal_number_is_checked_against_birth_date_and_sex(tmp_path, number, field, rule):
    result = read_csv(tmp_path, rows_with(VALID.replace("031314123456", number)))
    assert (2, field, rule) in only_errors(result)
    assert result.rows == []


def test_personal_number_separators_are_dropped_and_an_empty_number_is_none(tmp_path):
    spaced = VALID.replace("031314123456", "031 314.123-456")
    without = VALID.replace("1001", "1002").replace("031314123456", "  ")
    result = read_csv(tmp_path, rows_with(spaced, without))
    assert [row.personal_number for row in result.rows] == ["031314123456", None]


def test_a_repeated_legacy_id_keeps_the_first_row_and_names_it(tmp_path):
    second = VALID.replace("Nguyễn Thị Ánh", "Trần Thị Bé").replace("031314123456", "")
    result = read_csv(tmp_path, rows_with(VALID, second))
    assert only_errors(result) == {(3, "legacy_id", "legacy_id.duplicate")}
    assert "row 2" in result.errors[0].message
    assert [row.full_name for row in result.rows] == ["Nguyễn Thị Ánh"]


def test_every_broken_rule_of_a_row_is_reported_and_the_row_counted_once(tmp_path):
    line = "1001,pupil,,2014-02-30,x,,,,HP-S9"
    result = read_csv(tmp_path, rows_with(line, VALID.replace("1001", "1002")))
    assert only_errors(result) == {
        (2, "kind", "kind.unknown"),
        (2, "full_name", "full_name.required"),
        (2, "birth_date", "birth_date.impossible"),
        (2, "sex", "sex.unknown"),
        (2, "org_id", "org_id.unknown"),
    }
    assert (result.rows_read, result.rejected_rows, len(result.rows)) == (2, 1, 1)


# --- whole-file problems ------------------------------------------------------------------


def test_a_missing_required_column_rejects_the_file_naming_the_column(tmp_path):
    header = HEADER.replace("birth_date,", "")
    line = VALID.replace("2014-03-08,", "")
    result = read_csv(tmp_path, f"{header}\n{line}\n{line}\n")
    [error] = result.errors
    assert (error.row_number, error.field, error.rule) == (1, "birth_date", "file.missing_column")
    assert "birth_date" in error.message
    assert (result.rows_read, result.rejected_rows, result.rows) == (2, 2, [])


def test_a_file_in_a_legacy_code_page_is_rejected_before_any_row_goes_in(tmp_path):
    # Windows-1258 writes "Lê Chân" with single bytes that are not valid UTF-8.
    line = "1001,learner,Le Thi An,2014-03-08,female,,Lê Chân,,HP-S1"
    result = read_csv(tmp_path, rows_with(line), encoding="cp1258")
    assert [(e.rule, e.row_number) for e in result.errors] == [("file.encoding", 1)]
    assert result.rows == []


def test_other_file_types_are_refused(tmp_path):
    result = read_csv(tmp_path, rows_with(VALID), name="hp.json")
    assert [e.rule for e in result.errors] == ["file.format"]


def test_an_empty_file_is_reported(tmp_path):
    result = read_csv(tmp_path, "")
    assert [e.rule for e in result.errors] == ["file.empty"]


# --- xlsx -----------------------------------------------------------------------------------


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_typed_cells_become_the_same_values_as_csv_text(tmp_path):
    header: list[object] = [
        "Full_Name", "legacy_id", "kind", "birth_date", "sex", "personal_number", "org_id"
    ]  # fmt: skip
    path = write_xlsx(
        tmp_path / "hd.xlsx",
        [
            header,
            ["Trần Văn Nam", 77, "HS", datetime(2014, 3, 8), "Nam", 30214123456, "HD-S1"],
            ["Lê Thị Hoa", 78.0, "GV", "01/02/1985", "Nữ", "030185123456", "HD-S1"],
            [None, None, None, None, None, None, None],
            ["Phạm An", 79, "HS", date(2014, 2, 1), "Nam", None, "HD-S9"],
        ],
    )
    result = read_export(path, source="HD", known_org_ids=ORGS, today=TODAY)
    assert [(r.legacy_id, r.birth_date, r.personal_number) for r in result.rows] == [
        ("77", date(2014, 3, 8), "030214123456"),  # the numeric cell lost its leading zero
        ("78", date(1985, 2, 1), "030185123456"),
    ]
    assert result.rows[0].alias == "HD:77"
    assert only_errors(result) == {(5, "org_id", "org_id.unknown")}
    assert (result.rows_read, result.rejected_rows) == (3, 1)


def test_xlsx_without_a_required_column_is_rejected_as_a_whole(tmp_path):
    path = write_xlsx(
        tmp_path / "hd.xlsx",
        [["legacy_id", "kind", "full_name", "birth_date", "org_id"], [1, "HS", "An", None, "X"]],
    )
    result = read_export(path, source="HD", known_org_ids=ORGS, today=TODAY)
    [error] = result.errors
    assert (error.field, error.rule) == ("sex", "file.missing_column")
    assert result.rejected_rows == 1


def test_a_broken_workbook_is_reported_not_raised(tmp_path):
    path = tmp_path / "hd.xlsx"
    path.write_bytes(b"not a zip file")
    result = read_export(path, source="HD", known_org_ids=ORGS, today=TODAY)
    assert [e.rule for e in result.errors] == ["file.unreadable"]
