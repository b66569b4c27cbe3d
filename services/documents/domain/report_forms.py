"""Rules of report requests, free of IO: the form a unit fills, the files it may upload, and
when a submission is late.

A form is a list of named fields with a type. Values are checked and normalised (a number
given as "12" is 12) so that the Department's summary workbook has one column per field with
comparable values. A file answer is accepted by its bytes, not its name alone: an .xlsx/.docx
is a ZIP container, a PDF starts with %PDF-, a CSV is UTF-8 text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FieldType = Literal["text", "integer", "number", "date", "boolean", "choice"]

# Extension -> media type; the only files a unit may submit.
REPORT_FILE_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "csv": "text/csv",
}
_ZIP_MAGIC = b"PK\x03\x04"


class FormField(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$", description="Key, e.g. pupils"
    )
    label: str = Field(min_length=1, max_length=300, description="What the unit sees")
    type: FieldType = "text"
    required: bool = True
    choices: tuple[str, ...] = Field(default=(), max_length=100)
    min: float | None = Field(default=None, description="Lowest allowed (integer, number)")
    max: float | None = Field(default=None, description="Highest allowed (integer, number)")

    @model_validator(mode="after")
    def _choices_only_for_choice(self) -> FormField:
        if self.type == "choice" and not self.choices:
            raise ValueError("a choice field needs its choices")
        if self.type != "choice" and self.choices:
            raise ValueError("choices are only for a choice field")
        return self


def check_form(fields: list[FormField]) -> list[tuple[str, str]]:
    """Problems with the form itself: (field path, message)."""
    problems = []
    seen: set[str] = set()
    for index, field in enumerate(fields):
        if field.name in seen:
            problems.append((f"form[{index}].name", f"duplicate field name {field.name!r}"))
        seen.add(field.name)
    return problems


def _number(value: Any, *, integer: bool) -> int | float:
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if integer and not value.is_integer():
            raise ValueError("expected a whole number")
        return int(value) if integer else value
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        try:
            parsed = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if not parsed.is_finite():
            raise ValueError(f"{value!r} is not a number")
        if integer:
            if parsed != parsed.to_integral_value():
                raise ValueError("expected a whole number")
            return int(parsed)
        return float(parsed)
    raise ValueError("expected a number")


def _value(field: FormField, value: Any) -> Any:
    if field.type == "text":
        if not isinstance(value, str):
            raise ValueError("expected text")
        if len(value) > 10_000:
            raise ValueError("at most 10000 characters")
        return value
    if field.type in ("integer", "number"):
        number = _number(value, integer=field.type == "integer")
        if field.min is not None and number < field.min:
            raise ValueError(f"{number} is below the minimum {field.min:g}")
        if field.max is not None and number > field.max:
            raise ValueError(f"{number} is above the maximum {field.max:g}")
        return number
    if field.type == "date":
        if not isinstance(value, str):
            raise ValueError("expected a date YYYY-MM-DD")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError(f"{value!r} is not a date YYYY-MM-DD") from None
    if field.type == "boolean":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if value not in field.choices:
        raise ValueError(f"{value!r} is not one of {', '.join(field.choices)}")
    return value


def validate_values(
    fields: list[FormField], values: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """(normalised values, problems as (field path, message)); every problem at once."""
    problems: list[tuple[str, str]] = []
    known = {f.name for f in fields}
    for name in values:
        if name not in known:
            problems.append((f"values.{name}", "not a field of this report"))
    clean: dict[str, Any] = {}
    for field in fields:
        value = values.get(field.name)
        if value is None or value == "":
            if field.required:
                problems.append((f"values.{field.name}", f"{field.label}: required"))
            clean[field.name] = None
            continue
        try:
            clean[field.name] = _value(field, value)
        except ValueError as exc:
            problems.append((f"values.{field.name}", f"{field.label}: {exc}"))
    return clean, problems


@dataclass(frozen=True)
class FileVerdict:
    extension: str
    content_type: str


def check_report_file(filename: str, content: bytes, limit: int) -> FileVerdict:
    """The file's type from its name, confirmed by its bytes; ValueError says what is wrong."""
    match = re.search(r"\.([A-Za-z0-9]+)$", filename.strip())
    extension = match.group(1).lower() if match else ""
    if extension not in REPORT_FILE_TYPES:
        raise ValueError(
            f"{filename!r}: only {', '.join(sorted(REPORT_FILE_TYPES))} files are accepted"
        )
    if not content:
        raise ValueError("the file is empty")
    if len(content) > limit:
        raise ValueError(
            f"{len(content)} bytes; the limit is {limit} bytes (DOCUMENTS_MAX_ATTACHMENT_BYTES)"
        )
    if extension in ("xlsx", "docx") and not content.startswith(_ZIP_MAGIC):
        raise ValueError(f"{filename!r} is not an Office Open XML file (.{extension})")
    if extension == "pdf" and b"%PDF-" not in content[:1024]:
        raise ValueError(f"{filename!r} is not a PDF")
    if extension == "csv":
        try:
            content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError(f"{filename!r} is not UTF-8 text (save the CSV as UTF-8)") from None
    return FileVerdict(extension, REPORT_FILE_TYPES[extension])


def is_late(submitted_at: datetime, deadline: datetime) -> bool:
    """Late when it arrives after the deadline instant (both timezone-aware)."""
    return submitted_at > deadline


SubmissionState = Literal["submitted", "late", "missing"]


def submission_state(submitted_at: datetime | None, late: bool | None) -> SubmissionState:
    if submitted_at is None:
        return "missing"
    return "late" if late else "submitted"
