"""OneRoster 1.1 CSV export: the bulk roster ZIP from which online-learning accounts are issued.

Microsoft School Data Sync, learning platforms and content vendors import rosters as a ZIP of
CSV files in the 1EdTech (IMS Global) OneRoster v1.1 "CSV Tables" format. This module writes
such a ZIP from plain dataclasses and validates a ZIP against the column tables of the
specification. It does no IO beyond the ZIP it is given.

What the export contains
------------------------
- ``manifest.csv`` (``propertyName,value``): ``manifest.version`` 1.0, ``oneroster.version``
  1.1, and one ``file.<name>`` line per data file of the specification, ``bulk`` for the six
  files written here and ``absent`` for the others.
- ``orgs.csv``, ``academicSessions.csv``, ``courses.csv``, ``classes.csv``, ``users.csv``,
  ``enrollments.csv``: every column of the specification's table, in its order, even when
  empty. ``status`` and ``dateLastModified`` stay empty: in bulk mode the file is the whole
  truth, so there is nothing to date or to delete.
- UTF-8 without a byte-order mark (a BOM turns the first header into ``\\ufeffsourcedId``
  for some importers), CRLF line ends, fields quoted only when needed; list values
  (``orgSourcedIds``, ``grades``, ``termSourcedIds``) are comma-separated inside one quoted
  field, as the specification prescribes. Dates are ``YYYY-MM-DD``.
- Files sit at the top level of the ZIP with a fixed timestamp, so the same roster always
  produces the same bytes.

Vietnamese names
----------------
A Vietnamese full name is family name first, given name last (see :mod:`names`).
:func:`split_vietnamese_name` maps ``Nguyễn Thị Ánh`` to familyName ``Nguyễn``, middleName
``Thị`` and givenName ``Ánh``; several middle names stay together, space-separated, as the
specification allows (``Nguyễn Thị Minh Anh`` → middleName ``Thị Minh``). Compound family
names (Tôn Thất, Nguyễn Phúc) are not recognised: their second word becomes a middle name. A
one-word name fills both givenName and familyName, because both are required values.
Receiving systems usually display "givenName familyName" (Ánh Nguyễn); that is their
convention, not a fault of the export.

Mapping the sector onto OneRoster
---------------------------------
Suggested, not enforced: the Department (Sở GD&ĐT) as an org of type ``district`` (the top
organisation importers expect), schools as ``school`` with the Department as parent; a class
(lớp, e.g. 10A1) as a ``homeroom`` class; the school year as an academic session of type
``schoolYear`` and each semester (học kỳ) as a ``semester`` whose parent is the year;
``schoolYear`` is the year in which the school year ends (2025–2026 → 2026). Grades 1–12 are
CEDS codes ``01``–``12`` (:func:`grade_code`). The personal identification number is never
exported: vendors need a stable key (``sourcedId``) and a username, not the CCCD number.
Passwords are never exported either.
"""

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from os import PathLike
from typing import IO

from services.identity.domain.names import split_name

# ---------------------------------------------------------------------------------------------
# The specification as data.
#
# Source: 1EdTech OneRoster v1.1 "CSV Tables" (Final Release 1.1.1, 22 August 2023),
# https://www.imsglobal.org/oneroster-v11-final-csv-tables. Section 2 lists the files and the
# manifest; section 3 gives one table per file with the column names in the order the header
# must have them and whether each value is required. Enumerations come from the same tables.
# Column names are case sensitive.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    required: bool  # the value must be non-empty on every row


def required(name: str) -> Column:
    return Column(name, required=True)


def optional(name: str) -> Column:
    return Column(name, required=False)


MANIFEST = "manifest.csv"
ORGS = "orgs.csv"
ACADEMIC_SESSIONS = "academicSessions.csv"
COURSES = "courses.csv"
CLASSES = "classes.csv"
USERS = "users.csv"
ENROLLMENTS = "enrollments.csv"

MANIFEST_COLUMNS = ("propertyName", "value")
MANIFEST_VERSION = "1.0"
ONEROSTER_VERSION = "1.1"
# Every data file of OneRoster 1.1, in the order its manifest lists them (section 2).
ALL_DATA_FILES = (
    ACADEMIC_SESSIONS,
    "categories.csv",
    CLASSES,
    "classResources.csv",
    COURSES,
    "courseResources.csv",
    "demographics.csv",
    ENROLLMENTS,
    "lineItems.csv",
    ORGS,
    "resources.csv",
    "results.csv",
    USERS,
)
FILE_MODES = frozenset({"absent", "bulk", "delta"})

# The files a bulk roster (accounts, classes, enrolments) consists of.
SPEC_COLUMNS: dict[str, tuple[Column, ...]] = {
    ORGS: (
        required("sourcedId"),
        optional("status"),
        optional("dateLastModified"),
        required("name"),
        required("type"),
        optional("identifier"),
        optional("parentSourcedId"),
    ),
    ACADEMIC_SESSIONS: (
        required("sourcedId"),
        optional("status"),
        optional("dateLastModified"),
        required("title"),
        required("type"),
        required("startDate"),
        required("endDate"),
        optional("parentSourcedId"),
        required("schoolYear"),
    ),
    COURSES: (
        required("sourcedId"),
        optional("status"),
        optional("dateLastModified"),
        optional("schoolYearSourcedId"),
        required("title"),
        optional("courseCode"),
        optional("grades"),
        required("orgSourcedId"),
        optional("subjects"),
        optional("subjectCodes"),
    ),
    CLASSES: (
        required("sourcedId"),
        optional("status"),
        optional("dateLastModified"),
        required("title"),
        optional("grades"),
        required("courseSourcedId"),
        optional("classCode"),
        required("classType"),
        optional("location"),
        required("schoolSourcedId"),
        required("termSourcedIds"),
        optional("subjects"),
        optional("subjectCodes"),
        optional("periods"),
    ),
    USERS: (
        required("sourcedId"),
        optional("status"),
        optional("dateLastModified"),
        required("enabledUser"),
        required("orgSourcedIds"),
        required("role"),
        required("username"),
        optional("userIds"),
        required("givenName"),
        required("familyName"),
        optional("middleName"),
        optional("identifier"),
        optional("email"),
        optional("sms"),
        optional("phone"),
        optional("agentSourcedIds"),
        optional("grades"),
        optional("password"),
    ),
    ENROLLMENTS: (
        required("sourcedId"),
        optional("status"),
        optional("dateLastModified"),
        required("classSourcedId"),
        required("schoolSourcedId"),
        required("userSourcedId"),
        required("role"),
        optional("primary"),
        optional("beginDate"),
        optional("endDate"),
    ),
}
ROSTER_FILES = tuple(SPEC_COLUMNS)

ORG_TYPES = frozenset({"department", "school", "district", "local", "state", "national"})
ROLES = frozenset(
    {"administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"}
)
SESSION_TYPES = frozenset({"gradingPeriod", "semester", "schoolYear", "term"})
CLASS_TYPES = frozenset({"homeroom", "scheduled"})
BOOLEANS = frozenset({"true", "false"})
STATUSES = frozenset({"active", "tobedeleted"})
# CEDS "Entry Grade Level" codes, the vocabulary the specification names for grades.
CEDS_GRADE_CODES = frozenset(
    {"IT", "PR", "PK", "TK", "KG", *(f"{grade:02d}" for grade in range(1, 14)), "PS", "UG"}
    | {"Other"}
)

ENUMERATIONS: dict[tuple[str, str], frozenset[str]] = {
    (ORGS, "type"): ORG_TYPES,
    (ACADEMIC_SESSIONS, "type"): SESSION_TYPES,
    (CLASSES, "classType"): CLASS_TYPES,
    (USERS, "enabledUser"): BOOLEANS,
    (USERS, "role"): ROLES,
    (ENROLLMENTS, "role"): ROLES,
    (ENROLLMENTS, "primary"): BOOLEANS,
}
DATE_COLUMNS = frozenset(
    {
        (ACADEMIC_SESSIONS, "startDate"),
        (ACADEMIC_SESSIONS, "endDate"),
        (ENROLLMENTS, "beginDate"),
        (ENROLLMENTS, "endDate"),
    }
)
GRADE_COLUMNS = frozenset({(COURSES, "grades"), (CLASSES, "grades"), (USERS, "grades")})
# (file, column, referenced file): in a bulk set every reference must resolve inside the ZIP.
REFERENCES = (
    (ORGS, "parentSourcedId", ORGS),
    (ACADEMIC_SESSIONS, "parentSourcedId", ACADEMIC_SESSIONS),
    (COURSES, "schoolYearSourcedId", ACADEMIC_SESSIONS),
    (COURSES, "orgSourcedId", ORGS),
    (CLASSES, "courseSourcedId", COURSES),
    (CLASSES, "schoolSourcedId", ORGS),
    (CLASSES, "termSourcedIds", ACADEMIC_SESSIONS),
    (USERS, "orgSourcedIds", ORGS),
    (USERS, "agentSourcedIds", USERS),
    (ENROLLMENTS, "classSourcedId", CLASSES),
    (ENROLLMENTS, "schoolSourcedId", ORGS),
    (ENROLLMENTS, "userSourcedId", USERS),
)

# The roles this platform exports; the validator accepts every role of the specification.
EXPORTED_USER_ROLES = frozenset({"student", "teacher"})

# Any fixed time gives reproducible ZIP bytes; 1980-01-01 is the earliest a ZIP can store.
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


class InvalidRosterError(ValueError):
    """The roster given to :func:`write_oneroster_zip` would not make a valid export."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


# ---------------------------------------------------------------------------------------------
# Input records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RosterOrg:
    sourced_id: str
    name: str
    type: str  # one of ORG_TYPES
    identifier: str = ""  # human-readable code, e.g. the school's sector ID
    parent_sourced_id: str | None = None

    def __post_init__(self) -> None:
        _require_member("org type", self.type, ORG_TYPES)


@dataclass(frozen=True, slots=True)
class AcademicSession:
    sourced_id: str
    title: str
    type: str  # one of SESSION_TYPES
    start_date: date
    end_date: date
    school_year: int  # the calendar year in which the school year ends
    parent_sourced_id: str | None = None

    def __post_init__(self) -> None:
        _require_member("session type", self.type, SESSION_TYPES)
        if self.end_date < self.start_date:
            raise ValueError(f"session {self.sourced_id}: ends before it starts")


@dataclass(frozen=True, slots=True)
class RosterCourse:
    sourced_id: str
    title: str
    org_sourced_id: str
    school_year_sourced_id: str | None = None
    course_code: str = ""
    grades: tuple[str, ...] = ()  # CEDS codes, see grade_code()
    subjects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _require_grades(self.grades)


@dataclass(frozen=True, slots=True)
class RosterClass:
    """A class. ``course_sourced_id`` may be left out when no courses are passed to the writer:
    it then derives one course per class (see :func:`write_oneroster_zip`)."""

    sourced_id: str
    title: str
    school_sourced_id: str
    term_sourced_ids: tuple[str, ...]
    course_sourced_id: str | None = None
    class_code: str = ""
    class_type: str = "homeroom"  # a Vietnamese lớp is a homeroom class
    grades: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    location: str = ""

    def __post_init__(self) -> None:
        _require_member("class type", self.class_type, CLASS_TYPES)
        _require_grades(self.grades)
        if not self.term_sourced_ids:
            raise ValueError(f"class {self.sourced_id}: at least one term is required")


@dataclass(frozen=True, slots=True)
class RosterName:
    given: str
    family: str
    middle: str = ""  # several middle names separated by spaces


@dataclass(frozen=True, slots=True)
class RosterUser:
    sourced_id: str
    role: str  # "student" or "teacher"
    username: str
    name: RosterName
    org_sourced_ids: tuple[str, ...]
    email: str | None = None
    grades: tuple[str, ...] = ()
    identifier: str = ""  # human-readable: the sector ID, never the personal number
    enabled: bool = True

    def __post_init__(self) -> None:
        _require_member("user role", self.role, EXPORTED_USER_ROLES)
        _require_grades(self.grades)
        if not self.org_sourced_ids:
            raise ValueError(f"user {self.sourced_id}: at least one org is required")


@dataclass(frozen=True, slots=True)
class RosterEnrollment:
    sourced_id: str
    class_sourced_id: str
    school_sourced_id: str
    user_sourced_id: str
    role: str  # "student" or "teacher"
    primary: bool | None = None  # for teachers: the class's main teacher (chủ nhiệm)
    begin_date: date | None = None
    end_date: date | None = None

    def __post_init__(self) -> None:
        _require_member("enrollment role", self.role, EXPORTED_USER_ROLES)


def split_vietnamese_name(full_name: str) -> RosterName:
    """Family name first, given name last: ``Nguyễn Thị Ánh`` → family Nguyễn, middle Thị,
    given Ánh. A one-word name fills both given and family name (both are required)."""
    parts = split_name(full_name)
    if not parts.given:
        raise ValueError("name is empty")
    return RosterName(
        given=parts.given, family=parts.family or parts.given, middle=" ".join(parts.middle)
    )


def grade_code(grade: int) -> str:
    """CEDS code of Vietnamese grade (lớp) 1–12: ``01``–``12``."""
    if not 1 <= grade <= 12:
        raise ValueError(f"grade {grade} is not a school grade 1–12")
    return f"{grade:02d}"


def _require_member(what: str, value: str, allowed: frozenset[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not one of {sorted(allowed)}")


def _require_grades(grades: Iterable[str]) -> None:
    for grade in grades:
        _require_member("grade", grade, CEDS_GRADE_CODES)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

Row = dict[str, str]


def write_oneroster_zip(
    destination: str | PathLike[str] | IO[bytes],
    *,
    orgs: Sequence[RosterOrg],
    users: Sequence[RosterUser],
    classes: Sequence[RosterClass],
    enrollments: Sequence[RosterEnrollment],
    sessions: Sequence[AcademicSession],
    courses: Sequence[RosterCourse] | None = None,
) -> None:
    """Write a bulk OneRoster 1.1 ZIP to a path or a binary file.

    Without ``courses``, one course per class is derived (sourcedId ``<class>-course``, the
    class's title, school and school-year session): a Vietnamese homeroom class has no course
    of its own, but the specification requires every class to name one. Raises
    :class:`InvalidRosterError` listing every problem (dangling references, duplicate ids,
    ...) before anything is written.
    """
    if courses is None:
        courses, classes = _derive_courses(classes, sessions)
    tables = {
        ORGS: [_org_row(org) for org in orgs],
        ACADEMIC_SESSIONS: [_session_row(session) for session in sessions],
        COURSES: [_course_row(course) for course in courses],
        CLASSES: [_class_row(roster_class) for roster_class in classes],
        USERS: [_user_row(user) for user in users],
        ENROLLMENTS: [_enrollment_row(enrollment) for enrollment in enrollments],
    }
    problems = check_tables(tables, modes=dict.fromkeys(tables, "bulk"))
    if problems:
        raise InvalidRosterError(problems)
    with zipfile.ZipFile(destination, "w") as archive:
        _add_file(archive, MANIFEST, _csv_bytes(MANIFEST_COLUMNS, _manifest_rows(set(tables))))
        for file_name, rows in tables.items():
            header = tuple(column.name for column in SPEC_COLUMNS[file_name])
            _add_file(archive, file_name, _csv_bytes(header, rows))


def _derive_courses(
    classes: Sequence[RosterClass], sessions: Sequence[AcademicSession]
) -> tuple[list[RosterCourse], list[RosterClass]]:
    school_years = {s.sourced_id for s in sessions if s.type == "schoolYear"}
    courses = []
    linked_classes = []
    for roster_class in classes:
        if roster_class.course_sourced_id is not None:
            raise InvalidRosterError(
                [
                    f"class {roster_class.sourced_id} names course "
                    f"{roster_class.course_sourced_id} but no courses were given"
                ]
            )
        course_id = f"{roster_class.sourced_id}-course"
        year = next((t for t in roster_class.term_sourced_ids if t in school_years), None)
        courses.append(
            RosterCourse(
                sourced_id=course_id,
                title=roster_class.title,
                org_sourced_id=roster_class.school_sourced_id,
                school_year_sourced_id=year,
                grades=roster_class.grades,
                subjects=roster_class.subjects,
            )
        )
        linked_classes.append(replace(roster_class, course_sourced_id=course_id))
    return courses, linked_classes


def _org_row(org: RosterOrg) -> Row:
    return {
        "sourcedId": org.sourced_id,
        "name": org.name,
        "type": org.type,
        "identifier": org.identifier,
        "parentSourcedId": org.parent_sourced_id or "",
    }


def _session_row(session: AcademicSession) -> Row:
    return {
        "sourcedId": session.sourced_id,
        "title": session.title,
        "type": session.type,
        "startDate": session.start_date.isoformat(),
        "endDate": session.end_date.isoformat(),
        "parentSourcedId": session.parent_sourced_id or "",
        "schoolYear": f"{session.school_year:04d}",
    }


def _course_row(course: RosterCourse) -> Row:
    return {
        "sourcedId": course.sourced_id,
        "schoolYearSourcedId": course.school_year_sourced_id or "",
        "title": course.title,
        "courseCode": course.course_code,
        "grades": _list(course.grades),
        "orgSourcedId": course.org_sourced_id,
        "subjects": _list(course.subjects),
    }


def _class_row(roster_class: RosterClass) -> Row:
    return {
        "sourcedId": roster_class.sourced_id,
        "title": roster_class.title,
        "grades": _list(roster_class.grades),
        "courseSourcedId": roster_class.course_sourced_id or "",
        "classCode": roster_class.class_code,
        "classType": roster_class.class_type,
        "location": roster_class.location,
        "schoolSourcedId": roster_class.school_sourced_id,
        "termSourcedIds": _list(roster_class.term_sourced_ids),
        "subjects": _list(roster_class.subjects),
    }


def _user_row(user: RosterUser) -> Row:
    return {
        "sourcedId": user.sourced_id,
        "enabledUser": _boolean(user.enabled),
        "orgSourcedIds": _list(user.org_sourced_ids),
        "role": user.role,
        "username": user.username,
        "givenName": user.name.given,
        "familyName": user.name.family,
        "middleName": user.name.middle,
        "identifier": user.identifier,
        "email": user.email or "",
        "grades": _list(user.grades),
    }


def _enrollment_row(enrollment: RosterEnrollment) -> Row:
    return {
        "sourcedId": enrollment.sourced_id,
        "classSourcedId": enrollment.class_sourced_id,
        "schoolSourcedId": enrollment.school_sourced_id,
        "userSourcedId": enrollment.user_sourced_id,
        "role": enrollment.role,
        "primary": "" if enrollment.primary is None else _boolean(enrollment.primary),
        "beginDate": enrollment.begin_date.isoformat() if enrollment.begin_date else "",
        "endDate": enrollment.end_date.isoformat() if enrollment.end_date else "",
    }


def _list(values: Iterable[str]) -> str:
    return ",".join(values)


def _boolean(value: bool) -> str:
    return "true" if value else "false"


def _manifest_rows(bulk_files: set[str]) -> list[Row]:
    rows = [
        {"propertyName": "manifest.version", "value": MANIFEST_VERSION},
        {"propertyName": "oneroster.version", "value": ONEROSTER_VERSION},
    ]
    for file_name in ALL_DATA_FILES:
        mode = "bulk" if file_name in bulk_files else "absent"
        rows.append({"propertyName": _manifest_property(file_name), "value": mode})
    return rows


def _manifest_property(file_name: str) -> str:
    return "file." + file_name.removesuffix(".csv")


def _csv_bytes(header: Sequence[str], rows: Iterable[Mapping[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _add_file(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIMESTAMP)
    archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)


# ---------------------------------------------------------------------------------------------
# Validating
# ---------------------------------------------------------------------------------------------


def validate_oneroster_zip(source: str | PathLike[str] | IO[bytes]) -> list[str]:
    """Problems found in a OneRoster 1.1 roster ZIP; an empty list means it passed.

    Checks the manifest; that the six roster files are present and declared; every header
    against the specification (all columns, in order; extension columns ``metadata.*`` may
    follow); on every row the required values, enumerations, dates, grade codes, unique
    ``sourcedId``; and in bulk files that every reference resolves. Other OneRoster files
    (demographics, gradebook) are only checked against the manifest.
    """
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        return [f"not a readable ZIP file: {error}"]
    with archive:
        names = set(archive.namelist())
        nested = sorted(name for name in names if "/" in name)
        problems = [f"{name}: files must sit at the top level of the ZIP" for name in nested]
        if MANIFEST not in names:
            return [*problems, f"{MANIFEST} is missing"]
        manifest, manifest_problems = _read_manifest(archive)
        problems += manifest_problems
        problems += _check_declared_files(manifest, names)
        tables: dict[str, list[Row | None]] = {}
        for file_name in ROSTER_FILES:
            if file_name in names:
                rows, file_problems = _read_table(archive, file_name)
                problems += file_problems
                if rows is not None:
                    tables[file_name] = rows
        problems += check_tables(tables, modes=manifest)
    return problems


def _read_manifest(archive: zipfile.ZipFile) -> tuple[dict[str, str], list[str]]:
    """File modes by file name, and the problems of the manifest itself."""
    try:
        header, rows = _read_csv(archive, MANIFEST)
    except ValueError as error:
        return {}, [f"{MANIFEST}: {error}"]
    problems = []
    if tuple(header) != MANIFEST_COLUMNS:
        problems.append(f"{MANIFEST}: header must be {','.join(MANIFEST_COLUMNS)}")
    properties = {row[0]: row[1] for row in rows if len(row) >= 2}
    for name, expected in (
        ("manifest.version", MANIFEST_VERSION),
        ("oneroster.version", ONEROSTER_VERSION),
    ):
        if properties.get(name) != expected:
            problems.append(f"{MANIFEST}: {name} must be {expected}, found {properties.get(name)}")
    modes = {}
    for file_name in ALL_DATA_FILES:
        property_name = _manifest_property(file_name)
        mode = properties.get(property_name)
        if mode not in FILE_MODES:
            problems.append(
                f"{MANIFEST}: {property_name} must be one of {sorted(FILE_MODES)}, found {mode}"
            )
        else:
            modes[file_name] = mode
    return modes, problems


def _check_declared_files(modes: Mapping[str, str], names: set[str]) -> list[str]:
    problems = []
    for file_name in ALL_DATA_FILES:
        mode = modes.get(file_name)
        present = file_name in names
        if mode in ("bulk", "delta") and not present:
            problems.append(f"{file_name}: declared {mode} in the manifest but not in the ZIP")
        elif mode == "absent" and present:
            problems.append(f"{file_name}: in the ZIP but declared absent in the manifest")
    for file_name in ROSTER_FILES:
        if modes.get(file_name) == "absent":
            problems.append(f"{file_name}: a roster needs this file, the manifest says absent")
    known = {MANIFEST, *ALL_DATA_FILES}
    problems += [f"{name}: not a OneRoster 1.1 file" for name in sorted(names - known)]
    return problems


def _read_table(
    archive: zipfile.ZipFile, file_name: str
) -> tuple[list[Row | None] | None, list[str]]:
    """The rows keyed by column name (None for a row with the wrong number of values), or no
    rows at all when the header is too broken to read them."""
    try:
        header, rows = _read_csv(archive, file_name)
    except ValueError as error:
        return None, [f"{file_name}: {error}"]
    problems = _check_header(file_name, header)
    if problems:
        return None, problems
    table: list[Row | None] = []
    for line, values in enumerate(rows, start=2):
        if len(values) == len(header):
            table.append(dict(zip(header, values, strict=True)))
        else:
            problems.append(
                f"{file_name}: line {line}: {len(values)} values, the header has {len(header)}"
            )
            table.append(None)  # values cannot be told apart; keep later line numbers right
    return table, problems


def _read_csv(archive: zipfile.ZipFile, file_name: str) -> tuple[list[str], list[list[str]]]:
    data = archive.read(file_name)
    if data.startswith(b"\xef\xbb\xbf"):
        raise ValueError("starts with a UTF-8 byte-order mark; importers may misread line 1")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 (byte {error.start})") from error
    lines = list(csv.reader(io.StringIO(text, newline="")))
    if not lines:
        raise ValueError("empty file: the header line is required")
    return lines[0], lines[1:]


def _check_header(file_name: str, header: Sequence[str]) -> list[str]:
    expected = [column.name for column in SPEC_COLUMNS[file_name]]
    spec_part = list(header[: len(expected)])
    extensions = list(header[len(expected) :])
    missing = [name for name in expected if name not in header]
    if missing:
        return [f"{file_name}: missing column {name!r}" for name in missing]
    if spec_part != expected:
        return [
            f"{file_name}: columns out of order: expected {','.join(expected)}, "
            f"found {','.join(header)}"
        ]
    return [
        f"{file_name}: unknown column {name!r} (extensions must be named metadata.*)"
        for name in extensions
        if not name.startswith("metadata.")
    ]


def check_tables(
    tables: Mapping[str, Sequence[Row | None]], *, modes: Mapping[str, str]
) -> list[str]:
    """Row-level problems of roster files given as rows keyed by column name (a missing key
    is an empty value; None is an unreadable row, already reported). ``modes`` maps each
    file name to its manifest mode, bulk or delta."""
    problems = []
    ids = {name: _sourced_ids(rows) for name, rows in tables.items()}
    for file_name, rows in tables.items():
        problems += _check_unique_ids(file_name, rows)
        for line, row in _numbered(rows):
            problems += _check_row(file_name, line, row, delta=modes.get(file_name) == "delta")
    for file_name, column, target in REFERENCES:
        # A delta file may refer to records sent earlier, so only bulk sets must be complete.
        # A file whose header was unreadable is missing from tables and cannot be checked.
        both_bulk = modes.get(file_name) == modes.get(target) == "bulk"
        if both_bulk and file_name in tables and target in tables:
            problems += _check_references(file_name, column, tables[file_name], ids[target])
    return problems


def _numbered(rows: Sequence[Row | None]) -> list[tuple[int, Row]]:
    """Readable rows with their line in the file (line 1 is the header)."""
    return [(line, row) for line, row in enumerate(rows, start=2) if row is not None]


def _sourced_ids(rows: Sequence[Row | None]) -> set[str]:
    return {row.get("sourcedId", "") for _, row in _numbered(rows)} - {""}


def _check_unique_ids(file_name: str, rows: Sequence[Row | None]) -> list[str]:
    first_line: dict[str, int] = {}
    problems = []
    for line, row in _numbered(rows):
        sourced_id = row.get("sourcedId", "")
        if sourced_id in first_line:
            problems.append(
                f"{file_name}: line {line}: sourcedId {sourced_id!r} repeats line "
                f"{first_line[sourced_id]}"
            )
        elif sourced_id:
            first_line[sourced_id] = line
    return problems


def _check_row(file_name: str, line: int, row: Row, *, delta: bool) -> list[str]:
    problems = []
    where = f"{file_name}: line {line}"
    for column in SPEC_COLUMNS[file_name]:
        value = row.get(column.name, "")
        if not value:
            if column.required:
                problems.append(f"{where}: {column.name} is required")
            continue
        problem = _value_problem(file_name, column.name, value)
        if problem:
            problems.append(f"{where}: {column.name}: {problem}")
    if delta and not (row.get("status") and row.get("dateLastModified")):
        problems.append(f"{where}: a delta file needs status and dateLastModified on every row")
    return problems


def _value_problem(file_name: str, column: str, value: str) -> str | None:
    allowed = ENUMERATIONS.get((file_name, column))
    if allowed is not None and value not in allowed:
        return f"{value!r} is not one of {sorted(allowed)}"
    if (file_name, column) in DATE_COLUMNS and not _is_date(value):
        return f"{value!r} is not a date YYYY-MM-DD"
    if (file_name, column) in GRADE_COLUMNS:
        unknown = [grade for grade in _split_list(value) if grade not in CEDS_GRADE_CODES]
        if unknown:
            return f"{', '.join(unknown)} not a CEDS grade code (01–12, KG, PK, ...)"
    if column == "status" and value not in STATUSES:
        return f"{value!r} is not one of {sorted(STATUSES)}"
    if column == "dateLastModified" and not _is_datetime(value):
        return f"{value!r} is not an ISO 8601 date-time"
    if column == "schoolYear" and not (len(value) == 4 and value.isdigit()):
        return f"{value!r} is not a year YYYY"
    return None


def _check_references(
    file_name: str, column: str, rows: Sequence[Row | None], known_ids: set[str]
) -> list[str]:
    target = next(target for f, c, target in REFERENCES if (f, c) == (file_name, column))
    return [
        f"{file_name}: line {line}: {column}: {reference!r} is not in {target}"
        for line, row in _numbered(rows)
        for reference in _split_list(row.get(column, ""))
        if reference not in known_ids
    ]


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == len("YYYY-MM-DD")


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
