import csv
import io
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from services.identity.domain.oneroster import (
    AcademicSession,
    InvalidRosterError,
    RosterClass,
    RosterEnrollment,
    RosterName,
    RosterOrg,
    RosterUser,
    grade_code,
    split_vietnamese_name,
    validate_oneroster_zip,
    write_oneroster_zip,
)

# Written out by hand from the OneRoster 1.1 CSV tables, not taken from the module's data, so
# that a slip in the module's column lists fails here.
EXPECTED_HEADERS = {
    "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions.csv": (
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear"
    ),
    "courses.csv": (
        "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,"
        "orgSourcedId,subjects,subjectCodes"
    ),
    "classes.csv": (
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
        "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods"
    ),
    "users.csv": (
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
        "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,"
        "password"
    ),
    "enrollments.csv": (
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate"
    ),
}

EXPECTED_MANIFEST = [
    ["propertyName", "value"],
    ["manifest.version", "1.0"],
    ["oneroster.version", "1.1"],
    ["file.academicSessions", "bulk"],
    ["file.categories", "absent"],
    ["file.classes", "bulk"],
    ["file.classResources", "absent"],
    ["file.courses", "bulk"],
    ["file.courseResources", "absent"],
    ["file.demographics", "absent"],
    ["file.enrollments", "bulk"],
    ["file.lineItems", "absent"],
    ["file.orgs", "bulk"],
    ["file.resources", "absent"],
    ["file.results", "absent"],
    ["file.users", "bulk"],
]

DEPARTMENT = RosterOrg("dv-sgd-hp", "Sở Giáo dục và Đào tạo Hải Phòng", "district", "SGD-HP")
SCHOOL = RosterOrg(
    "dv-thpt-tran-phu", "Trường THPT Trần Phú", "school", "DV-31-2026-0000001-5", "dv-sgd-hp"
)
YEAR = AcademicSession(
    "ay-2025-2026", "Năm học 2025–2026", "schoolYear", date(2025, 9, 5), date(2026, 5, 31), 2026
)
SEMESTER = AcademicSession(
    "hk1-2025-2026",
    "Học kỳ I 2025–2026",
    "semester",
    date(2025, 9, 5),
    date(2026, 1, 15),
    2026,
    parent_sourced_id="ay-2025-2026",
)
CLASS_10A1 = RosterClass(
    "lop-10a1", "10A1", "dv-thpt-tran-phu", ("ay-2025-2026",), grades=(grade_code(10),)
)


def user(sourced_id: str, role: str, full_name: str, username: str) -> RosterUser:
    return RosterUser(
        sourced_id=sourced_id,
        role=role,
        username=username,
        name=split_vietnamese_name(full_name),
        org_sourced_ids=("dv-thpt-tran-phu",),
        grades=(grade_code(10),) if role == "student" else (),
        email=f"{username}@haiphong.edu.vn" if role == "teacher" else None,
    )


USERS = [
    user("gv-1", "teacher", "Trần Văn Bình", "binhtv"),
    user("hs-1", "student", "Nguyễn Thị Ánh", "anhnt.hs1"),
    user("hs-2", "student", "Nguyễn Thị Minh Anh", "anhntm.hs2"),
    user("hs-3", "student", "Lê Đức", "ducl.hs3"),
]
ENROLLMENTS = [
    RosterEnrollment("en-gv-1", "lop-10a1", "dv-thpt-tran-phu", "gv-1", "teacher", primary=True),
    *(
        RosterEnrollment(
            f"en-{u.sourced_id}", "lop-10a1", "dv-thpt-tran-phu", u.sourced_id, "student"
        )
        for u in USERS[1:]
    ),
]


def write_roster(destination: Path | io.BytesIO, **overrides: object) -> None:
    arguments: dict[str, object] = {
        "orgs": [DEPARTMENT, SCHOOL],
        "users": USERS,
        "classes": [CLASS_10A1],
        "enrollments": ENROLLMENTS,
        "sessions": [YEAR, SEMESTER],
    }
    arguments.update(overrides)
    write_oneroster_zip(destination, **arguments)  # type: ignore[arg-type]


@pytest.fixture
def roster_zip(tmp_path: Path) -> Path:
    path = tmp_path / "oneroster.zip"
    write_roster(path)
    return path


def read_rows(path: Path, file_name: str) -> list[list[str]]:
    with zipfile.ZipFile(path) as archive:
        text = archive.read(file_name).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def read_users(path: Path) -> dict[str, dict[str, str]]:
    header, *rows = read_rows(path, "users.csv")
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def rewrite_member(
    source: Path, target: Path, file_name: str, change: Callable[[str], str]
) -> Path:
    """A copy of ``source`` with one member's text changed."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            data = old.read(name)
            if name == file_name:
                data = change(data.decode("utf-8")).encode("utf-8")
            new.writestr(name, data)
    return target


def drop_column(text: str, column: str) -> str:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    index = rows[0].index(column)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(
        [row[:index] + row[index + 1 :] for row in rows]
    )
    return buffer.getvalue()


def test_written_roster_passes_validation(roster_zip: Path) -> None:
    assert validate_oneroster_zip(roster_zip) == []


def test_zip_holds_the_manifest_and_the_six_roster_files_at_top_level(roster_zip: Path) -> None:
    with zipfile.ZipFile(roster_zip) as archive:
        assert sorted(archive.namelist()) == sorted(["manifest.csv", *EXPECTED_HEADERS])


def test_manifest_declares_version_and_every_file(roster_zip: Path) -> None:
    assert read_rows(roster_zip, "manifest.csv") == EXPECTED_MANIFEST


@pytest.mark.parametrize("file_name", sorted(EXPECTED_HEADERS))
def test_every_column_present_in_specified_order(roster_zip: Path, file_name: str) -> None:
    header = read_rows(roster_zip, file_name)[0]
    assert header == EXPECTED_HEADERS[file_name].split(",")


@pytest.mark.parametrize("file_name", sorted(EXPECTED_HEADERS))
def test_bulk_rows_leave_status_and_date_last_modified_empty(
    roster_zip: Path, file_name: str
) -> None:
    header, *rows = read_rows(roster_zip, file_name)
    assert rows
    for row in rows:
        values = dict(zip(header, row, strict=True))
        assert values["status"] == ""
        assert values["dateLastModified"] == ""


def test_files_are_utf8_without_byte_order_mark(roster_zip: Path) -> None:
    with zipfile.ZipFile(roster_zip) as archive:
        for name in archive.namelist():
            assert not archive.read(name).startswith(b"\xef\xbb\xbf"), name
        assert "Nguyễn".encode() in archive.read("users.csv")


def test_vietnamese_names_split_family_middle_given(roster_zip: Path) -> None:
    users = read_users(roster_zip)
    names = {
        sourced_id: (row["familyName"], row["middleName"], row["givenName"])
        for sourced_id, row in users.items()
    }
    assert names == {
        "gv-1": ("Trần", "Văn", "Bình"),
        "hs-1": ("Nguyễn", "Thị", "Ánh"),
        "hs-2": ("Nguyễn", "Thị Minh", "Anh"),
        "hs-3": ("Lê", "", "Đức"),
    }


def test_user_row_values(roster_zip: Path) -> None:
    student = read_users(roster_zip)["hs-1"]
    assert student["enabledUser"] == "true"
    assert student["role"] == "student"
    assert student["orgSourcedIds"] == "dv-thpt-tran-phu"
    assert student["grades"] == "10"
    assert student["email"] == ""
    assert student["password"] == ""
    teacher = read_users(roster_zip)["gv-1"]
    assert teacher["email"] == "binhtv@haiphong.edu.vn"
    assert teacher["grades"] == ""


def test_sessions_dates_and_school_year(roster_zip: Path) -> None:
    header, *rows = read_rows(roster_zip, "academicSessions.csv")
    semester = dict(zip(header, rows[1], strict=True))
    assert semester["startDate"] == "2025-09-05"
    assert semester["endDate"] == "2026-01-15"
    assert semester["schoolYear"] == "2026"
    assert semester["parentSourcedId"] == "ay-2025-2026"


def test_courses_derived_one_per_class_when_not_given(roster_zip: Path) -> None:
    course_header, *courses = read_rows(roster_zip, "courses.csv")
    class_header, *classes = read_rows(roster_zip, "classes.csv")
    course = dict(zip(course_header, courses[0], strict=True))
    roster_class = dict(zip(class_header, classes[0], strict=True))
    assert len(courses) == 1
    assert course["sourcedId"] == roster_class["courseSourcedId"] == "lop-10a1-course"
    assert course["title"] == "10A1"
    assert course["orgSourcedId"] == "dv-thpt-tran-phu"
    assert course["schoolYearSourcedId"] == "ay-2025-2026"
    assert roster_class["classType"] == "homeroom"
    assert roster_class["termSourcedIds"] == "ay-2025-2026"


def test_list_values_are_quoted_comma_separated(tmp_path: Path) -> None:
    two_terms = RosterClass(
        "lop-10a1", "10A1", "dv-thpt-tran-phu", ("ay-2025-2026", "hk1-2025-2026")
    )
    path = tmp_path / "roster.zip"
    write_roster(path, classes=[two_terms])
    with zipfile.ZipFile(path) as archive:
        assert b'"ay-2025-2026,hk1-2025-2026"' in archive.read("classes.csv")
    assert validate_oneroster_zip(path) == []


def test_same_roster_gives_the_same_bytes() -> None:
    first, second = io.BytesIO(), io.BytesIO()
    write_roster(first)
    write_roster(second)
    assert first.getvalue() == second.getvalue()


def test_validator_detects_a_missing_required_column(roster_zip: Path, tmp_path: Path) -> None:
    broken = rewrite_member(
        roster_zip, tmp_path / "broken.zip", "users.csv", lambda text: drop_column(text, "username")
    )
    assert validate_oneroster_zip(broken) == ["users.csv: missing column 'username'"]


def test_validator_detects_columns_out_of_order(roster_zip: Path, tmp_path: Path) -> None:
    def swap_names(text: str) -> str:
        header, rest = text.split("\r\n", 1)
        return header.replace("givenName,familyName", "familyName,givenName") + "\r\n" + rest

    broken = rewrite_member(roster_zip, tmp_path / "broken.zip", "users.csv", swap_names)
    problems = validate_oneroster_zip(broken)
    assert len(problems) == 1
    assert problems[0].startswith("users.csv: columns out of order")


def test_validator_detects_empty_required_value_and_dangling_reference(
    roster_zip: Path, tmp_path: Path
) -> None:
    def break_rows(text: str) -> str:
        return text.replace(",hs-2,student", ",hs-99,student")

    broken = rewrite_member(roster_zip, tmp_path / "broken.zip", "enrollments.csv", break_rows)
    assert validate_oneroster_zip(broken) == [
        "enrollments.csv: line 4: userSourcedId: 'hs-99' is not in users.csv"
    ]
    no_name = rewrite_member(
        roster_zip,
        tmp_path / "no_name.zip",
        "orgs.csv",
        lambda t: t.replace("Trường THPT Trần Phú", ""),
    )
    assert validate_oneroster_zip(no_name) == ["orgs.csv: line 3: name is required"]


def test_validator_checks_the_manifest(roster_zip: Path, tmp_path: Path) -> None:
    broken = rewrite_member(
        roster_zip,
        tmp_path / "broken.zip",
        "manifest.csv",
        lambda text: text.replace("oneroster.version,1.1", "oneroster.version,1.2").replace(
            "file.users,bulk", "file.users,absent"
        ),
    )
    assert validate_oneroster_zip(broken) == [
        "manifest.csv: oneroster.version must be 1.1, found 1.2",
        "users.csv: in the ZIP but declared absent in the manifest",
        "users.csv: a roster needs this file, the manifest says absent",
    ]


def test_validator_rejects_a_byte_order_mark(roster_zip: Path, tmp_path: Path) -> None:
    broken = rewrite_member(roster_zip, tmp_path / "bom.zip", "orgs.csv", lambda t: "\ufeff" + t)
    problems = validate_oneroster_zip(broken)
    assert problems[0].startswith("orgs.csv: starts with a UTF-8 byte-order mark")


def test_validator_reports_a_file_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "roster.zip"
    path.write_text("sourcedId,name\n")
    assert validate_oneroster_zip(path)[0].startswith("not a readable ZIP file")


def test_writer_refuses_dangling_references() -> None:
    stray = RosterEnrollment("en-x", "lop-10a1", "dv-thpt-tran-phu", "hs-404", "student")
    with pytest.raises(InvalidRosterError) as raised:
        write_roster(io.BytesIO(), enrollments=[*ENROLLMENTS, stray])
    assert raised.value.problems == [
        "enrollments.csv: line 6: userSourcedId: 'hs-404' is not in users.csv"
    ]


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [
        ("Nguyễn Thị Ánh", RosterName(given="Ánh", family="Nguyễn", middle="Thị")),
        ("Nguyễn Thị Minh Anh", RosterName(given="Anh", family="Nguyễn", middle="Thị Minh")),
        ("  Lê   Đức ", RosterName(given="Đức", family="Lê", middle="")),
        # Both values are required in users.csv, so a one-word name fills both.
        ("Sùng", RosterName(given="Sùng", family="Sùng", middle="")),
    ],
)
def test_split_vietnamese_name(full_name: str, expected: RosterName) -> None:
    assert split_vietnamese_name(full_name) == expected


def test_split_vietnamese_name_composes_decomposed_input() -> None:
    name = split_vietnamese_name(unicodedata.normalize("NFD", "Nguyễn Thị Ánh"))
    assert name.family == unicodedata.normalize("NFC", "Nguyễn")


@pytest.mark.parametrize(
    "make",
    [
        lambda: RosterOrg("x", "X", "province"),
        lambda: user("p-1", "parent", "Nguyễn Văn A", "a"),
        lambda: RosterClass("c", "10A1", "s", ("t",), class_type="lop"),
        lambda: RosterClass("c", "10A1", "s", ("t",), grades=("10A",)),
        lambda: RosterClass("c", "10A1", "s", ()),
    ],
)
def test_records_reject_values_outside_the_specification(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        make()


def test_grade_code() -> None:
    assert [grade_code(grade) for grade in (1, 9, 12)] == ["01", "09", "12"]
    with pytest.raises(ValueError):
        grade_code(13)
