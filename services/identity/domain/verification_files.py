"""Files exchanged with the national population register for verification campaigns.

The register (Cơ sở dữ liệu quốc gia về dân cư) is reached through government channels the
platform cannot call, so records travel as files: the sector sends a request batch, the
register's operator returns a response file, and staff work through the mismatches. The
format below is this platform's own design, not a format published by the register; it is
kept simple enough to be produced and read with Excel.

Verification file format (version 1)
====================================

Both files
----------
- CSV, UTF-8 with a byte-order mark, ``;`` between fields, one header line, CRLF line ends.
  The BOM makes Excel read Vietnamese letters correctly; ``;`` is the list separator of
  Vietnamese regional settings, so Excel splits the columns by itself. Readers accept files
  with or without the BOM.
- Fields containing ``;``, ``"`` or a line break are enclosed in ``"`` (``"`` doubled inside).
- Dates are ``dd/mm/yyyy`` (leading zeros may be dropped: ``5/3/2012``). Sex is ``Nam`` or
  ``Nữ``. Personal identification numbers are the 12 digits without separators.
- ``batch_id`` is chosen by the sector (for example ``HP-2026-03-0001``), at most 64
  characters, and is the same on every line of a request and of its response. ``row_no``
  numbers the request lines 1, 2, 3, ... and identifies each record in the response.
- Opening a file in Excel and saving it again drops the leading zero of personal numbers
  (every province code starts with 0). Import such columns as Text. When a response still
  arrives with 10 or 11 digits, the reader restores the zeros; a number Excel turned into
  ``3,12E+10`` has lost its digits and the line is reported.

Request batch (sector → register)
---------------------------------
``batch_id;row_no;sector_id;personal_number;full_name;birth_date;sex;birthplace;guardian_name``

- ``sector_id``: the platform's lifelong ID of the person (``HS-31-2026-0000123-9``).
- ``personal_number``: empty when the sector does not know it yet.
- ``full_name``: family name first, with diacritics (``Nguyễn Thị Ánh``).
- ``birthplace``, ``guardian_name``: may be empty; they help the register find a person
  without a personal number.

Response file (register → sector)
---------------------------------
``batch_id;row_no;sector_id;result;register_full_name;register_birth_date;register_sex;``
``register_personal_number;mismatched_fields`` (one line)

- ``batch_id``, ``row_no``, ``sector_id``: copied from the request line.
- ``result``: ``MATCHED`` (the register holds the person and every field agrees),
  ``MISMATCH`` (the person was found but some fields differ) or ``NOT_FOUND``.
- ``register_*``: the register's values, for MATCHED and MISMATCH; empty for NOT_FOUND.
- ``mismatched_fields``: for MISMATCH the request fields that differ, comma-separated, from
  ``personal_number, full_name, birth_date, sex, birthplace, guardian_name``; empty otherwise.

Reading a response
------------------
A line that cannot be used (bad date, unknown result, MISMATCH without fields, a sector ID
that fails its check digit, another batch, repeated row_no, ...) is reported with its line
number, row_no and field while the other lines are read; lines of bare separators are
skipped. The whole file is refused only when it cannot be a response to the
batch: not UTF-8, a header other than the one above, or no line of the expected batch.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from os import PathLike
from pathlib import Path
from typing import IO, TypeVar

from services.identity.domain.names import clean_name, normalise_name
from services.identity.domain.personal_number import PERSONAL_NUMBER_LENGTH, clean_personal_number
from services.identity.domain.sector_id import InvalidSectorIdError, parse_sector_id
from services.identity.domain.sex import Sex

DELIMITER = ";"
ENCODING = "utf-8-sig"  # writes the BOM, and strips it when reading
MAX_BATCH_ID_LENGTH = 64

REQUEST_COLUMNS = (
    "batch_id",
    "row_no",
    "sector_id",
    "personal_number",
    "full_name",
    "birth_date",
    "sex",
    "birthplace",
    "guardian_name",
)
RESPONSE_COLUMNS = (
    "batch_id",
    "row_no",
    "sector_id",
    "result",
    "register_full_name",
    "register_birth_date",
    "register_sex",
    "register_personal_number",
    "mismatched_fields",
)
# The request fields the register can report as differing, in worklist order.
COMPARED_FIELDS = (
    "personal_number",
    "full_name",
    "birth_date",
    "sex",
    "birthplace",
    "guardian_name",
)
SEX_LABELS = {Sex.MALE: "Nam", Sex.FEMALE: "Nữ"}

_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
# Excel drops the leading zeros of a 12-digit number: one for province codes 010–096, two for
# 001–009. Every province code starts with 0, so padding back to 12 digits is exact.
_SHORTEST_EXCEL_MANGLED_NUMBER = PERSONAL_NUMBER_LENGTH - 2

FileSource = str | PathLike[str] | IO[bytes]
T = TypeVar("T")


class VerificationResult(StrEnum):
    MATCHED = "MATCHED"
    MISMATCH = "MISMATCH"
    NOT_FOUND = "NOT_FOUND"


class VerificationFileError(ValueError):
    """The file as a whole cannot be used; the message names the problem."""


@dataclass(frozen=True, slots=True)
class VerificationRecord:
    """One person as the sector sends it for verification."""

    sector_id: str
    full_name: str
    birth_date: date
    sex: Sex
    personal_number: str | None = None
    birthplace: str | None = None
    guardian_name: str | None = None


@dataclass(frozen=True, slots=True)
class RequestRow:
    batch_id: str
    row_no: int
    record: VerificationRecord


@dataclass(frozen=True, slots=True)
class RegisterValues:
    """What the register returned about a person; None where it returned nothing."""

    full_name: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    personal_number: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseRow:
    batch_id: str
    row_no: int
    sector_id: str
    result: VerificationResult
    register: RegisterValues
    mismatched_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RowError:
    """A response line that could not be used. ``line`` counts from 1 (the header)."""

    line: int
    row_no: int | None
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class ParsedResponse:
    batch_id: str
    rows: tuple[ResponseRow, ...]
    errors: tuple[RowError, ...]

    def unanswered_row_numbers(self, sent_row_numbers: Iterable[int]) -> list[int]:
        """Request rows with no usable answer: not in the file, or on a line in error."""
        answered = {row.row_no for row in self.rows}
        return sorted(set(sent_row_numbers) - answered)


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """The register's record of one person; used to play the register in tests and demos."""

    personal_number: str
    full_name: str
    birth_date: date
    sex: Sex
    birthplace: str | None = None
    guardian_name: str | None = None


class DifferenceKind(StrEnum):
    DIFFERENT = "different"
    CASE_ONLY = "case_only"
    DIACRITICS_ONLY = "diacritics_only"
    PUNCTUATION_ONLY = "punctuation_only"
    WORD_ORDER = "word_order"
    DAY_MONTH_SWAPPED = "day_month_swapped"
    MISSING_HERE = "missing_here"
    REGISTER_FLAGGED = "register_flagged"

    @property
    def label(self) -> str:
        return _DIFFERENCE_LABELS[self]


_DIFFERENCE_LABELS = {
    DifferenceKind.DIFFERENT: "differs",
    DifferenceKind.CASE_ONLY: "differs only in upper/lower case",
    DifferenceKind.DIACRITICS_ONLY: "differs only in diacritics",
    DifferenceKind.PUNCTUATION_ONLY: "differs only in punctuation",
    DifferenceKind.WORD_ORDER: "same words in another order",
    DifferenceKind.DAY_MONTH_SWAPPED: "day and month swapped",
    DifferenceKind.MISSING_HERE: "missing in our record",
    DifferenceKind.REGISTER_FLAGGED: "flagged by the register, no value returned",
}


@dataclass(frozen=True, slots=True)
class FieldDifference:
    """One line of the staff worklist: our value and the register's side by side."""

    field: str
    ours: str
    register: str
    kind: DifferenceKind


# ---------------------------------------------------------------------------------------------
# Request batch
# ---------------------------------------------------------------------------------------------


def write_request_batch(
    file: FileSource, batch_id: str, records: Iterable[VerificationRecord]
) -> int:
    """Write a request batch; returns the number of records. Raises ValueError naming the
    record when one cannot be sent (the caller's data is validated on entry, so this is a
    programming error rather than something to skip)."""
    _check_batch_id(batch_id)
    lines = []
    for row_no, record in enumerate(records, start=1):
        lines.append(_request_line(batch_id, row_no, record))
    _write_csv(file, REQUEST_COLUMNS, lines)
    return len(lines)


def _request_line(batch_id: str, row_no: int, record: VerificationRecord) -> list[str]:
    if not clean_name(record.full_name):
        raise ValueError(f"record {record.sector_id}: full name is empty")
    number = _cleaned_number(record.personal_number)
    if number is not None and not _is_personal_number(number):
        raise ValueError(f"record {record.sector_id}: personal number {number!r} is not 12 digits")
    return [
        batch_id,
        str(row_no),
        record.sector_id,
        number or "",
        clean_name(record.full_name),
        format_date(record.birth_date),
        SEX_LABELS[record.sex],
        clean_name(record.birthplace or ""),
        clean_name(record.guardian_name or ""),
    ]


def read_request_batch(file: FileSource) -> list[RequestRow]:
    """Read a request batch, as the register's side does. Strict: the sector wrote the file
    with :func:`write_request_batch`, so any bad line raises VerificationFileError."""
    rows = []
    for line, values in _read_csv(file, REQUEST_COLUMNS, "request"):
        try:
            rows.append(_request_row(_by_column(REQUEST_COLUMNS, values)))
        except ValueError as error:
            raise VerificationFileError(f"request line {line}: {error}") from error
    return rows


def _request_row(values: Mapping[str, str]) -> RequestRow:
    record = VerificationRecord(
        sector_id=values["sector_id"].strip(),
        personal_number=_parse_personal_number(values["personal_number"]),
        full_name=clean_name(values["full_name"]),
        birth_date=parse_date(values["birth_date"]),
        sex=parse_sex(values["sex"]),
        birthplace=clean_name(values["birthplace"]) or None,
        guardian_name=clean_name(values["guardian_name"]) or None,
    )
    return RequestRow(
        batch_id=values["batch_id"].strip(), row_no=_parse_row_no(values["row_no"]), record=record
    )


# ---------------------------------------------------------------------------------------------
# Response file
# ---------------------------------------------------------------------------------------------


def write_response(file: FileSource, rows: Iterable[ResponseRow]) -> int:
    """Write a response file (the register's side; used by the simulation and the demo)."""
    lines = [
        [
            row.batch_id,
            str(row.row_no),
            row.sector_id,
            row.result.value,
            row.register.full_name or "",
            format_date(row.register.birth_date) if row.register.birth_date else "",
            SEX_LABELS[row.register.sex] if row.register.sex else "",
            row.register.personal_number or "",
            ",".join(row.mismatched_fields),
        ]
        for row in rows
    ]
    _write_csv(file, RESPONSE_COLUMNS, lines)
    return len(lines)


def parse_response(file: FileSource, *, expected_batch_id: str) -> ParsedResponse:
    """Read a response file: usable rows, and one RowError per problem of each unusable line.

    Raises VerificationFileError only when the file as a whole is unusable: not UTF-8, wrong
    header, or not a single line of ``expected_batch_id``.
    """
    lines = _read_csv(file, RESPONSE_COLUMNS, "response")
    batch_ids = {values[0].strip() for _, values in lines} - {""}
    if lines and expected_batch_id not in batch_ids:
        found = ", ".join(sorted(batch_ids)) or "none"
        raise VerificationFileError(
            f"no line belongs to batch {expected_batch_id!r} (batch ids in the file: {found}); "
            "is this the response to another batch?"
        )
    rows: list[ResponseRow] = []
    errors: list[RowError] = []
    first_line_of_row: dict[int, int] = {}
    for line, values in lines:
        try:
            by_column = _by_column(RESPONSE_COLUMNS, values)
        except ValueError as error:
            errors.append(RowError(line, None, "line", str(error)))
            continue
        row, row_errors = _response_row(line, by_column, expected_batch_id)
        if row is not None and row.row_no in first_line_of_row:
            row_errors.append(
                RowError(
                    line,
                    row.row_no,
                    "row_no",
                    f"row {row.row_no} already answered on line {first_line_of_row[row.row_no]}",
                )
            )
        if row_errors:
            errors += row_errors
        elif row is not None:
            first_line_of_row[row.row_no] = line
            rows.append(row)
    return ParsedResponse(batch_id=expected_batch_id, rows=tuple(rows), errors=tuple(errors))


class _LineErrors:
    """Collects the problems of one response line, so each field is checked independently."""

    def __init__(self, line: int) -> None:
        self.line = line
        self.row_no: int | None = None
        self.errors: list[RowError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(RowError(self.line, self.row_no, field, message))

    def parse(self, field: str, parser: Callable[[str], T], text: str) -> T | None:
        try:
            return parser(text)
        except ValueError as error:
            self.add(field, str(error))
            return None


def _response_row(
    line: int, values: Mapping[str, str], expected_batch_id: str
) -> tuple[ResponseRow | None, list[RowError]]:
    problems = _LineErrors(line)
    problems.row_no = problems.parse("row_no", _parse_row_no, values["row_no"])
    batch_id = values["batch_id"].strip()
    if batch_id != expected_batch_id:
        problems.add("batch_id", f"line belongs to batch {batch_id!r}, not {expected_batch_id!r}")
    sector_id = problems.parse("sector_id", _parse_sector_id, values["sector_id"])
    result = problems.parse("result", _parse_result, values["result"])
    register = RegisterValues(
        full_name=clean_name(values["register_full_name"]) or None,
        birth_date=problems.parse(
            "register_birth_date", _optional(parse_date), values["register_birth_date"]
        ),
        sex=problems.parse("register_sex", _optional(parse_sex), values["register_sex"]),
        personal_number=problems.parse(
            "register_personal_number", _parse_personal_number, values["register_personal_number"]
        ),
    )
    fields = problems.parse("mismatched_fields", _parse_fields, values["mismatched_fields"])
    if result is not None and fields is not None:
        _check_result_consistency(problems, result, register, fields)
    if problems.errors or problems.row_no is None or sector_id is None or result is None:
        return None, problems.errors
    row = ResponseRow(
        batch_id=batch_id,
        row_no=problems.row_no,
        sector_id=sector_id,
        result=result,
        register=register,
        mismatched_fields=fields or (),
    )
    return row, []


def _check_result_consistency(
    problems: _LineErrors,
    result: VerificationResult,
    register: RegisterValues,
    fields: tuple[str, ...],
) -> None:
    if result is VerificationResult.MISMATCH and not fields:
        problems.add("mismatched_fields", "MISMATCH must name the fields that differ")
    if result is not VerificationResult.MISMATCH and fields:
        problems.add("mismatched_fields", f"{result} must not name mismatched fields")
    if result is VerificationResult.NOT_FOUND and register != RegisterValues():
        problems.add("result", "NOT_FOUND but register values are filled in")


# ---------------------------------------------------------------------------------------------
# Comparing for the worklist
# ---------------------------------------------------------------------------------------------


def compare_with_register(
    our_record: VerificationRecord,
    register_values: RegisterValues,
    flagged_fields: Iterable[str] = (),
) -> list[FieldDifference]:
    """Fields where our record and the register disagree, side by side, in worklist order.

    Only fields the register returned a value for are compared. Names are compared exactly
    (after Unicode NFC and single spaces, which nobody can see) and, when they differ, again
    without case, diacritics, punctuation and word order, so the worklist can say what kind of
    difference it is. ``flagged_fields`` (the response's mismatched_fields) adds the fields
    the register reported without a value to compare, such as birthplace.
    """
    flagged = set(flagged_fields)
    differences = [
        difference
        for difference in (
            _personal_number_difference(our_record.personal_number, register_values),
            _name_difference(our_record.full_name, register_values.full_name),
            _birth_date_difference(our_record.birth_date, register_values.birth_date),
            _sex_difference(our_record.sex, register_values.sex),
        )
        if difference is not None
    ]
    explained = {difference.field for difference in differences}
    ours = _display_values(our_record)
    for field in COMPARED_FIELDS:
        if field in flagged and field not in explained:
            differences.append(
                FieldDifference(field, ours[field], "", DifferenceKind.REGISTER_FLAGGED)
            )
    order = {field: index for index, field in enumerate(COMPARED_FIELDS)}
    return sorted(differences, key=lambda difference: order[difference.field])


def _personal_number_difference(
    ours: str | None, register: RegisterValues
) -> FieldDifference | None:
    theirs = register.personal_number
    our_number = _cleaned_number(ours) or ""
    if theirs is None or our_number == theirs:
        return None
    kind = DifferenceKind.MISSING_HERE if not our_number else DifferenceKind.DIFFERENT
    return FieldDifference("personal_number", our_number, theirs, kind)


def _name_difference(ours: str, theirs: str | None) -> FieldDifference | None:
    if theirs is None:
        return None
    kind = name_difference_kind(ours, theirs)
    if kind is None:
        return None
    return FieldDifference("full_name", clean_name(ours), clean_name(theirs), kind)


def name_difference_kind(ours: str, theirs: str) -> DifferenceKind | None:
    """None when the names are the same text; otherwise the mildest kind of difference."""
    ours, theirs = clean_name(ours), clean_name(theirs)
    if ours == theirs:
        return None
    if ours.casefold() == theirs.casefold():
        return DifferenceKind.CASE_ONLY
    if _without_diacritics(ours).casefold() == _without_diacritics(theirs).casefold():
        return DifferenceKind.DIACRITICS_ONLY
    if normalise_name(ours) == normalise_name(theirs):
        return DifferenceKind.PUNCTUATION_ONLY
    if sorted(normalise_name(ours).split()) == sorted(normalise_name(theirs).split()):
        return DifferenceKind.WORD_ORDER
    return DifferenceKind.DIFFERENT


def _without_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    # đ is a letter of its own, not d with a mark, so NFD leaves it alone.
    return stripped.replace("đ", "d").replace("Đ", "D")


def _birth_date_difference(ours: date, theirs: date | None) -> FieldDifference | None:
    if theirs is None or ours == theirs:
        return None
    swapped = (ours.year, ours.month, ours.day) == (theirs.year, theirs.day, theirs.month)
    kind = DifferenceKind.DAY_MONTH_SWAPPED if swapped else DifferenceKind.DIFFERENT
    return FieldDifference("birth_date", format_date(ours), format_date(theirs), kind)


def _sex_difference(ours: Sex, theirs: Sex | None) -> FieldDifference | None:
    if theirs is None or ours == theirs:
        return None
    return FieldDifference("sex", SEX_LABELS[ours], SEX_LABELS[theirs], DifferenceKind.DIFFERENT)


def _display_values(record: VerificationRecord) -> dict[str, str]:
    return {
        "personal_number": record.personal_number or "",
        "full_name": clean_name(record.full_name),
        "birth_date": format_date(record.birth_date),
        "sex": SEX_LABELS[record.sex],
        "birthplace": record.birthplace or "",
        "guardian_name": record.guardian_name or "",
    }


# ---------------------------------------------------------------------------------------------
# Playing the register (tests and demo)
# ---------------------------------------------------------------------------------------------


def simulate_register_response(
    request_rows: Iterable[RequestRow], register: Mapping[str, RegisterEntry]
) -> list[ResponseRow]:
    """Answer request rows the way the register would, from entries keyed by personal number.

    The simulation looks people up by personal number only (a row without one is NOT_FOUND)
    and compares names without regard to case but with diacritics, dates and sex exactly,
    and birthplace and guardian only when both sides have one. The real register's rules are
    not published; these are a stand-in.
    """
    responses = []
    for row in request_rows:
        number = _cleaned_number(row.record.personal_number)
        entry = register.get(number) if number else None
        fields: tuple[str, ...] = ()
        if entry is None:
            result, values = VerificationResult.NOT_FOUND, RegisterValues()
        else:
            fields = _register_mismatches(row.record, entry)
            result = VerificationResult.MISMATCH if fields else VerificationResult.MATCHED
            values = RegisterValues(
                full_name=entry.full_name,
                birth_date=entry.birth_date,
                sex=entry.sex,
                personal_number=entry.personal_number,
            )
        responses.append(
            ResponseRow(row.batch_id, row.row_no, row.record.sector_id, result, values, fields)
        )
    return responses


def _register_mismatches(record: VerificationRecord, entry: RegisterEntry) -> tuple[str, ...]:
    differing = {
        "full_name": not _same_text(record.full_name, entry.full_name),
        "birth_date": record.birth_date != entry.birth_date,
        "sex": record.sex != entry.sex,
        "birthplace": _both_present_and_differ(record.birthplace, entry.birthplace),
        "guardian_name": _both_present_and_differ(record.guardian_name, entry.guardian_name),
    }
    return tuple(field for field in COMPARED_FIELDS if differing.get(field))


def _same_text(a: str, b: str) -> bool:
    return clean_name(a).casefold() == clean_name(b).casefold()


def _both_present_and_differ(ours: str | None, theirs: str | None) -> bool:
    return bool(ours and theirs and normalise_name(ours) != normalise_name(theirs))


# ---------------------------------------------------------------------------------------------
# Field formats
# ---------------------------------------------------------------------------------------------


def format_date(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def parse_date(text: str) -> date:
    match = _DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text.strip()!r} is not a date dd/mm/yyyy")
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError as error:
        raise ValueError(f"{text.strip()!r} is not a real date ({error})") from None


def parse_sex(text: str) -> Sex:
    label = unicodedata.normalize("NFC", text.strip()).casefold()
    for sex, sex_label in SEX_LABELS.items():
        if label == sex_label.casefold():
            return sex
    raise ValueError(f"{text.strip()!r} is not Nam or Nữ")


def _parse_row_no(text: str) -> int:
    stripped = text.strip()
    if not (stripped.isascii() and stripped.isdigit() and int(stripped) >= 1):
        raise ValueError(f"{stripped!r} is not a row number 1, 2, 3, ...")
    return int(stripped)


def _parse_sector_id(text: str) -> str:
    # The response echoes our own ID; one that fails its check digit cannot be trusted to
    # attach the result to the right person.
    try:
        return str(parse_sector_id(text))
    except InvalidSectorIdError as error:
        raise ValueError(str(error)) from None


def _parse_result(text: str) -> VerificationResult:
    try:
        return VerificationResult(text.strip().upper())
    except ValueError:
        allowed = ", ".join(result.value for result in VerificationResult)
        raise ValueError(f"{text.strip()!r} is not one of {allowed}") from None


def _parse_personal_number(text: str) -> str | None:
    number = _cleaned_number(text)
    if number is None:
        return None
    if "E+" in number.upper():
        raise ValueError(f"{text.strip()!r}: Excel turned the number into scientific notation")
    if number.isascii() and number.isdigit():
        if _SHORTEST_EXCEL_MANGLED_NUMBER <= len(number) < PERSONAL_NUMBER_LENGTH:
            number = number.zfill(PERSONAL_NUMBER_LENGTH)
        if len(number) == PERSONAL_NUMBER_LENGTH:
            return number
    raise ValueError(f"{text.strip()!r} is not a 12-digit personal number")


def _parse_fields(text: str) -> tuple[str, ...]:
    fields = tuple(field.strip() for field in text.split(",") if field.strip())
    unknown = [field for field in fields if field not in COMPARED_FIELDS]
    if unknown:
        raise ValueError(
            f"unknown field {', '.join(unknown)}; expected some of {', '.join(COMPARED_FIELDS)}"
        )
    return fields


def _optional(parser: Callable[[str], T]) -> Callable[[str], T | None]:
    def parse(text: str) -> T | None:
        return parser(text) if text.strip() else None

    return parse


def _cleaned_number(text: str | None) -> str | None:
    if text is None:
        return None
    return clean_personal_number(text.strip()) or None


def _is_personal_number(number: str) -> bool:
    return len(number) == PERSONAL_NUMBER_LENGTH and number.isascii() and number.isdigit()


def _check_batch_id(batch_id: str) -> None:
    if not batch_id.strip() or len(batch_id) > MAX_BATCH_ID_LENGTH or not batch_id.isprintable():
        raise ValueError(
            f"batch id {batch_id!r} must be 1–{MAX_BATCH_ID_LENGTH} printable characters"
        )


# ---------------------------------------------------------------------------------------------
# CSV plumbing
# ---------------------------------------------------------------------------------------------


def _write_csv(file: FileSource, header: Sequence[str], lines: Iterable[Sequence[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(lines)
    data = buffer.getvalue().encode(ENCODING)
    if isinstance(file, str | PathLike):
        Path(file).write_bytes(data)
    else:
        file.write(data)


def _read_csv(file: FileSource, header: Sequence[str], what: str) -> list[tuple[int, list[str]]]:
    """Data lines as (line number, values), blank lines skipped. Raises
    VerificationFileError for an undecodable file or a wrong header."""
    data = Path(file).read_bytes() if isinstance(file, str | PathLike) else file.read()
    try:
        text = data.decode(ENCODING)
    except UnicodeDecodeError as error:
        raise VerificationFileError(
            f"{what} file is not UTF-8 (byte {error.start}); save it as 'CSV UTF-8'"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITER)
    found = next(reader, None)
    if found is None:
        raise VerificationFileError(f"{what} file is empty: the header line is missing")
    _check_header(what, [name.strip() for name in found], header)
    lines = []
    for values in reader:
        if not any(value.strip() for value in values):
            continue  # Excel leaves lines of bare separators below the data
        lines.append((reader.line_num, values))
    return lines


def _by_column(header: Sequence[str], values: Sequence[str]) -> dict[str, str]:
    if len(values) != len(header):
        raise ValueError(f"{len(values)} values, the header has {len(header)}")
    return dict(zip(header, values, strict=True))


def _check_header(what: str, found: Sequence[str], expected: Sequence[str]) -> None:
    if list(found) == list(expected):
        return
    if len(found) == 1 and "," in found[0]:
        problem = "fields are separated by ',' instead of ';'"
    elif sorted(found) == sorted(expected):
        problem = "the columns are in the wrong order"
    else:
        missing = [name for name in expected if name not in found]
        unexpected = [name for name in found if name not in expected]
        problem = f"missing {missing or 'nothing'}, unexpected {unexpected or 'nothing'}"
    raise VerificationFileError(
        f"{what} file header is wrong: {problem}; expected {DELIMITER.join(expected)}"
    )
