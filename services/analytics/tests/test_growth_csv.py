"""CSV round trip of the growth command: values, errors kept in place, Excel dialects."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.analytics.growth_csv import GrowthCsvSummary, convert_growth_csv, growth

OUT_COLUMNS = [
    "zhfa",
    "zwfa",
    "zbfa",
    "zwfh",
    "fhfa",
    "fwfa",
    "fbfa",
    "fwfh",
    "nutrition_status",
    "error",
]


def read_rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def test_round_trip_values_flags_and_bad_row(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        "student_id,sex,age_months,height_cm,weight_kg\n"
        # 10-year-old boy: hand-computed in test_growth (zhfa 0.35 from hfawho2007 row 120).
        "S1,1,120,140,\n"
        # 8-year-old boy, 60 kg: weight-for-age 5.72 by the restricted method (test_growth),
        # flagged.
        "S2,1,96,128,60\n"
        # Girl, 150.25 months, 150 cm / 40 kg: interpolated BMI-for-age -0.27.
        "S3,2,150.25,150,40\n"
        "S4,3,abc,130,-5\n"
        # WHO anthroplus example (age ~ 60 months).
        "S5,2,60.32,113.8,18.7\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    summary = convert_growth_csv(src, out)
    rows = read_rows(out)
    input_columns = ["student_id", "sex", "age_months", "height_cm", "weight_kg"]
    assert list(rows[0]) == [*input_columns, *OUT_COLUMNS]
    assert [r["student_id"] for r in rows] == ["S1", "S2", "S3", "S4", "S5"]  # nothing dropped

    s1, s2, s3, s4, s5 = rows
    assert (s1["zhfa"], s1["zwfa"], s1["zbfa"]) == ("0.35", "", "")
    assert (s1["fhfa"], s1["fwfa"], s1["fbfa"]) == ("0", "", "")
    assert s1["nutrition_status"] == "unknown" and s1["error"] == ""

    assert s2["zwfa"] == "5.72" and s2["fwfa"] == "1"
    # BMI 36.6 at 8 years is beyond +5 SD as well: the summary says "flagged", not "obese".
    assert (s2["zbfa"], s2["fbfa"], s2["nutrition_status"]) == ("7.45", "1", "flagged")
    assert s3["zbfa"] == "-0.27" and s3["zwfa"] == "" and s3["nutrition_status"] == "normal"
    assert (s5["zwfa"], s5["zbfa"], s5["zhfa"]) == ("0.21", "-0.58", "0.96")

    # The bad row keeps its data and says which fields broke which rule.
    assert (s4["sex"], s4["age_months"], s4["weight_kg"]) == ("3", "abc", "-5")
    assert s4["error"] == (
        "sex: must be 1 or M (male), 2 or F (female), got '3'; "
        "age_months: must be a number, got 'abc'; "
        "weight_kg: must be greater than 0, got '-5'"
    )
    assert all(s4[c] == "" for c in OUT_COLUMNS[:-1])

    assert summary == GrowthCsvSummary(
        rows=5,
        computed=4,
        errors=1,
        blank_rows=0,
        flagged=1,
        by_status={"normal": 2, "flagged": 1, "unknown": 1},
    )


def test_semicolons_bom_decimal_commas_mf_sex_and_oedema(tmp_path: Path) -> None:
    src = tmp_path / "excel.csv"
    content = (
        "Họ tên;Sex;Age_Months;Height_cm;Weight_kg;Oedema;measure\n"
        "Nguyễn Văn An;M;120;140,0;;n;\n"
        "Trần Thị Bình;f;150,25;150;40;N;\n"
        "Lê Văn Cường;m;30;90;13;;L\n"
        "Phạm Thị Dung;F;30;90;12;y;\n"
        ";;;;;;\n"
        "Hoàng Văn Em;M;30;90;13;maybe;\n"
    )
    src.write_bytes("\ufeff".encode() + content.encode("utf-8"))
    out = tmp_path / "out.csv"
    summary = convert_growth_csv(src, out)

    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM kept so Excel reads the names as UTF-8
    assert raw.count(b";") > raw.count(b",")  # same delimiter as the input
    rows = read_rows(out, ";")
    assert len(rows) == 6
    an, binh, cuong, dung, blank, em = rows
    assert an["Họ tên"] == "Nguyễn Văn An"
    assert an["zhfa"] == "0.35"
    assert binh["zbfa"] == "-0.27"
    # Under 5, measured lying at 30 months: 89.3 cm used (see test_growth for the arithmetic).
    assert (cuong["zhfa"], cuong["zwfa"], cuong["zbfa"], cuong["zwfh"]) == (
        "-0.77",
        "-0.19",
        "0.40",
        "0.27",
    )
    assert cuong["nutrition_status"] == "normal"
    # Oedema: weight-based z-scores are not computed; WHO counts it as severe wasting.
    assert (dung["zwfa"], dung["zbfa"], dung["zwfh"], dung["fwfa"]) == ("", "", "", "")
    assert dung["zhfa"] != ""
    assert dung["nutrition_status"] == "severely_wasted"
    assert all(v == "" for v in blank.values())  # the blank line stays, in place
    assert em["error"] == "oedema: must be y or n, got 'maybe'"
    assert summary.rows == 5 and summary.blank_rows == 1
    assert summary.computed == 4 and summary.errors == 1
    assert summary.by_status == {"normal": 2, "severely_wasted": 1, "unknown": 1}


def test_short_and_long_rows(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        "sex,age_months,height_cm,weight_kg,note\n1,120,140\n1,120,140,32,x,surplus\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    summary = convert_growth_csv(src, out)
    short, long_ = read_rows(out)
    assert short["zhfa"] == "0.35" and short["note"] == "" and short["error"] == ""
    assert long_["error"].startswith("row: has 6 fields but the header has 5")
    assert "surplus" in long_["error"]
    assert (summary.rows, summary.computed, summary.errors) == (2, 1, 1)


def test_age_out_of_range_is_a_row_error(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("sex,age_months,height_cm,weight_kg\n2,240,160,50\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    convert_growth_csv(src, out)
    (row,) = read_rows(out)
    assert row["error"].startswith("age_months: must be from 0 to under 229")


def test_rerun_on_output_replaces_result_columns(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("sex,age_months,height_cm,weight_kg\n1,120,140,32\n", encoding="utf-8")
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    convert_growth_csv(src, first)
    convert_growth_csv(first, second)
    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")


def test_missing_column_is_a_file_error_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("sex,age,height_cm,weight_kg\n1,120,140,32\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    with pytest.raises(ValueError, match="missing required column"):
        convert_growth_csv(src, out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary file left behind


def test_not_utf8_is_reported(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes("sex,age_months,height_cm,weight_kg,tên\n".encode("cp1258"))
    with pytest.raises(ValueError, match="not UTF-8"):
        convert_growth_csv(src, tmp_path / "out.csv")


def test_click_command(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        "sex,age_months,height_cm,weight_kg\n1,120,140,32\nx,120,140,32\n", encoding="utf-8"
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(growth, [str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == f"growth: 2 rows, 1 computed, 1 errors (normal 1) -> {out}\n"
    assert out.exists()

    result = CliRunner().invoke(growth, [str(src)])
    assert result.exit_code != 0 and "--output" in result.output

    bad = tmp_path / "bad.csv"
    bad.write_text("name\nx\n", encoding="utf-8")
    result = CliRunner().invoke(growth, [str(bad), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 1
    assert "missing required column(s) sex, age_months, height_cm, weight_kg" in result.output
