"""Reading one legacy export and validating its rows (no database: known org IDs are passed in).

An export is a CSV file (comma or semicolon separated, UTF-8 with or without BOM) or an Excel
workbook (.xlsx, first sheet). The first row names the columns, in any order and case:

    legacy_id, kind, full_name, birth_date, sex, org_id          (required)
    personal_number, birthplace, guardian_name                     (optional)

Row numbers are the ones a spreadsheet shows (the header is row 1), so staff can jump straight
to a rejected row. Every broken rule of a row is reported as its own :class:`RowError`; a row
with any error is left out and the rest of the file still goes in. A file that lacks a required
column, or cannot be decoded, is rejected as a whole, with every data row counted as rejected.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from services.identity.domain.names import clean_name, normalise_name
from services.identity.domain.personal_number import (
    PERSONAL_NUMBER_LENGTH,
    clean_personal_number,
    validate_personal_number,
)
from services.identity.domain.sex import Sex

PersonKind = Literal["learner", "teacher", "staff"]

REQUIRED_COLUMNS = ("legacy_id", "kind", "full_name", "birth_date", "sex", "org_id")
OPTIONAL_COLUMNS = ("personal_number", "birthplace", "guardian_name")
HEADER_ROW = 1

# Keys are normalise_name() forms, so case, diacritics and NFC/NFD do not matter ("Nữ", "NU").
KIND_CODES: dict[str, PersonKind] = {
    "learner": "learner",
    "hs": "learner",  # học sinh
    "teacher": "teacher",
    "gv": "teacher",  # giáo viên
    "staff": "staff",
    "nv": "staff",  # nhân viên
}
SEX_CODES: dict[str, Sex] = {
    "male": Sex.MALE,
    "m": Sex.MALE,
    "nam": Sex.MALE,
    "female": Sex.FEMALE,
    "f": Sex.FEMALE,
    "nu": Sex.FEMALE,  # nữ
}

# The personal number cannot encode a birth before 1900, and nobody in the sector is older.
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_VIETNAMESE_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
PROGRESS_EVERY = 10_000


@dataclass(frozen=True, slots=True)
class LegacyRow:
    """One valid row of a legacy export, cleaned."""

    source: str  # "HP", "HD": which legacy database the row comes from
    row_number: int
    legacy_id: str
    kind: PersonKind
    full_name: str
    birth_date: date
    sex: Sex
    personal_number: str | None
    birthplace: str | None
    guardian_name: str | None
    org_id: str
    # The identifier the registry keeps for this row, e.g. "HP:12345". Stored, not derived on
    # each access: matching and planning look it up several million times in a large import.
    alias: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "alias", legacy_alias(self.source, self.legacy_id))


def legacy_alias(source: str, legacy_id: str) -> str:
    return f"{source}:{legacy_id}"


@dataclass(frozen=True, slots=True)
class RowError:
    """One broken rule of one row (or of the whole file, then ``row_number`` is the header)."""

    source: str
    row_number: int
    field: str
    rule: str
    message: str


@dataclass(slots=True)
class ExportReadResult:
    source: str
    path: Path
    rows: list[LegacyRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0  # data rows, blank lines not counted
    rejected_rows: int = 0  # rows with at least one error


class _FileError(Exception):
    def __init__(self, error_field: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.field = error_field
        self.rule = rule
        self.message = message


def read_export(
    path: Path,
    *,
    source: str,
    known_org_ids: Container[str],
    today: date,
    on_progress: Callable[[int], None] | None = None,
) -> ExportReadResult:
    """Read and validate one export. ``on_progress`` is called with the number of rows read
    since its previous call (every ``PROGRESS_EVERY`` rows and at the end)."""
    result = ExportReadResult(source=source, path=path)
    validator = _RowValidator(source=source, known_org_ids=known_org_ids, today=today)
    pending_progress = 0
    try:
        header, data_rows = _open_table(path)
        columns = _column_positions(header)
        for row_number, cells in data_rows:
            if not any(cell.strip() for cell in cells):
                continue
            result.rows_read += 1
            pending_progress += 1
            if on_progress is not None and pending_progress >= PROGRESS_EVERY:
                on_progress(pending_progress)
                pending_progress = 0
            if columns is None:
                continue  # counted only: the whole file is rejected below
            row, errors = validator.validate(row_number, _by_column(cells, columns))
            if errors:
                result.errors.extend(errors)
                result.rejected_rows += 1
            else:
                assert row is not None
                result.rows.append(row)
        if columns is None:
            missing = [c for c in REQUIRED_COLUMNS if c not in _header_names(header)]
            raise _FileError(
                missing[0],
                "file.missing_column",
                f"the header row lacks the required column(s) {', '.join(missing)}; "
                "no row of this file was imported",
            )
    except _FileError as problem:
        result.rows.clear()
        result.errors = [RowError(source, HEADER_ROW, problem.field, problem.rule, problem.message)]
        result.rejected_rows = result.rows_read
    if on_progress is not None and pending_progress:
        on_progress(pending_progress)
    return result


# --- tables: CSV and xlsx as (header, numbered rows of text cells) --------------------------


def _open_table(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _open_xlsx(path)
    if suffix in (".csv", ".txt"):
        return _open_csv(path)
    raise _FileError("", "file.format", f"{path.name}: expected a .csv or .xlsx file")


def _open_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    # The whole file is decoded up front so that a file in a legacy code page (TCVN3, VNI,
    # Windows-1258) is rejected before any of its rows are taken, not halfway through.
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _FileError(
            "",
            "file.encoding",
            f"{path.name} is not UTF-8 (byte {exc.start}); save it again as CSV UTF-8",
        ) from None
    if not text.strip():
        raise _FileError("", "file.empty", f"{path.name} is empty")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    # newline="" leaves line breaks inside quoted values to the csv module, as it requires.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader)

    def numbered() -> Iterator[tuple[int, list[str]]]:
        # line_num counts physical lines, so a quoted value spanning lines keeps numbers right.
        previous_line = reader.line_num
        for cells in reader:
            yield previous_line + 1, cells
            previous_line = reader.line_num

    return header, numbered()


def _open_xlsx(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    import openpyxl  # only needed for workbooks; keeps the CSV path light

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a broken file
        raise _FileError(
            "", "file.unreadable", f"{path.name}: not a readable .xlsx ({exc})"
        ) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    first = next(rows, None)
    if first is None:
        workbook.close()
        raise _FileError("", "file.empty", f"{path.name} has no rows")
    header = ["" if value is None else str(value) for value in first]
    names = _header_names(header)

    def numbered() -> Iterator[tuple[int, list[str]]]:
        try:
            for row_number, values in enumerate(rows, start=HEADER_ROW + 1):
                yield (
                    row_number,
                    [
                        _cell_text(names[i] if i < len(names) else "", value)
                        for i, value in enumerate(values)
                    ],
                )
        finally:
            workbook.close()

    return header, numbered()


def _cell_text(column: str, value: Any) -> str:
    """Excel cells come typed; turn them into the text a CSV export would have."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and column == "personal_number":
        # A number typed into a numeric cell loses its leading zero, and every province code
        # starts with 0 (001-096), so an 11-digit value is the 12-digit number without it.
        return f"{value:0{PERSONAL_NUMBER_LENGTH}d}"
    return str(value)


def _header_names(header: list[str]) -> list[str]:
    return [name.replace("\ufeff", "").strip().lower() for name in header]


def _column_positions(header: list[str]) -> dict[str, int] | None:
    """Position of every known column, or None when a required column is missing."""
    positions: dict[str, int] = {}
    for index, name in enumerate(_header_names(header)):
        if name in REQUIRED_COLUMNS or name in OPTIONAL_COLUMNS:
            positions.setdefault(name, index)
    if any(column not in positions for column in REQUIRED_COLUMNS):
        return None
    return positions


def _by_column(cells: list[str], positions: dict[str, int]) -> dict[str, str]:
    return {
        column: cells[index].strip() if index < len(cells) else ""
        for column, index in positions.items()
    }


# --- row rules -------------------------------------------------------------------------------


class _RowValidator:
    def __init__(self, *, source: str, known_org_ids: Container[str], today: date) -> None:
        self.source = source
        self.known_org_ids = known_org_ids
        self.today = today
        self.first_row_of_legacy_id: dict[str, int] = {}

    def validate(
        self, row_number: int, values: dict[str, str]
    ) -> tuple[LegacyRow | None, list[RowError]]:
        errors: list[RowError] = []

        def fail(error_field: str, rule: str, message: str) -> None:
            errors.append(RowError(self.source, row_number, error_field, rule, message))

        for column in REQUIRED_COLUMNS:
            if not values[column]:
                fail(column, f"{column}.required", f"{column} is empty")

        legacy_id = values["legacy_id"]
        if legacy_id:
            first = self.first_row_of_legacy_id.setdefault(legacy_id, row_number)
            if first != row_number:
                fail(
                    "legacy_id",
                    "legacy_id.duplicate",
                    f"legacy_id {legacy_id} already appears in row {first} of this file",
                )

        kind = KIND_CODES.get(normalise_name(values["kind"])) if values["kind"] else None
        if values["kind"] and kind is None:
            fail(
                "kind",
                "kind.unknown",
                f"kind {values['kind']!r} is not learner/teacher/staff or HS/GV/NV",
            )

        sex = SEX_CODES.get(normalise_name(values["sex"])) if values["sex"] else None
        if values["sex"] and sex is None:
            fail("sex", "sex.unknown", f"sex {values['sex']!r} is not male/female, M/F or Nam/Nữ")

        birth_date = None
        if values["birth_date"]:
            birth_date, problem = parse_birth_date(values["birth_date"], today=self.today)
            if problem is not None:
                fail("birth_date", *problem)

        org_id = values["org_id"]
        if org_id and org_id not in self.known_org_ids:
            fail("org_id", "org_id.unknown", f"organisation {org_id} is not in the registry")

        number = clean_personal_number(values.get("personal_number", "")) or None
        if number is not None:
            for issue in validate_personal_number(
                number, birth_date=birth_date, sex=sex, today=self.today
            ):
                fail(issue.field, str(issue.rule), issue.message)

        if errors:
            return None, errors
        assert kind is not None and sex is not None and birth_date is not None
        return (
            LegacyRow(
                source=self.source,
                row_number=row_number,
                legacy_id=legacy_id,
                kind=kind,
                full_name=clean_name(values["full_name"]),
                birth_date=birth_date,
                sex=sex,
                personal_number=number,
                birthplace=_optional_text(values.get("birthplace", "")),
                guardian_name=_optional_name(values.get("guardian_name", "")),
                org_id=org_id,
            ),
            [],
        )


def parse_birth_date(text: str, *, today: date) -> tuple[date | None, tuple[str, str] | None]:
    """``YYYY-MM-DD`` or ``DD/MM/YYYY``; the date, or None and a (rule, message) problem."""
    iso = _ISO_DATE.fullmatch(text)
    vietnamese = None if iso else _VIETNAMESE_DATE.fullmatch(text)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    elif vietnamese:
        day, month, year = (int(part) for part in vietnamese.groups())
    else:
        return None, ("birth_date.format", f"birth date {text!r} is not YYYY-MM-DD or DD/MM/YYYY")
    try:
        parsed = date(year, month, day)
    except ValueError:
        return None, ("birth_date.impossible", f"birth date {text!r} is not a calendar date")
    if parsed > today:
        return None, ("birth_date.in_future", f"birth date {parsed} is in the future")
    if parsed < EARLIEST_BIRTH_DATE:
        return None, ("birth_date.too_early", f"birth date {parsed} is before 1900")
    return parsed, None


def _optional_text(text: str) -> str | None:
    return " ".join(text.split()) or None


def _optional_name(text: str) -> str | None:
    return clean_name(text) or None
