"""Reading the spreadsheets schools and vendors send: CSV (comma or semicolon, UTF-8 with or
without BOM, as Vietnamese Excel saves it) or Excel .xlsx. Rows come back as dicts keyed by
the trimmed, lower-cased header, with their 1-based line number (header = line 1)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class TableError(ValueError):
    """The file as a whole cannot be read (not the fault of one row)."""


@dataclass(frozen=True)
class TableRow:
    line: int
    values: dict[str, str]


def read_table(content: bytes, filename: str) -> tuple[list[str], list[TableRow]]:
    if filename.lower().endswith(".xlsx") or content[:2] == b"PK":
        return _read_xlsx(content)
    return _read_csv(content)


def _read_csv(content: bytes) -> tuple[list[str], list[TableRow]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError("the file is not UTF-8 text; save it as 'CSV UTF-8' or .xlsx") from None
    if not text.strip():
        raise TableError("the file is empty")
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    rows = [
        TableRow(line, _row(header, values))
        for line, values in enumerate(reader, start=2)
        if any(v.strip() for v in values)
    ]
    return header, rows


def _read_xlsx(content: bytes) -> tuple[list[str], list[TableRow]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a broken file
        raise TableError(f"not a readable .xlsx workbook ({exc})") from None
    sheet = workbook.worksheets[0]
    lines: Iterator[tuple[Any, ...]] = sheet.iter_rows(values_only=True)
    try:
        header = [str(h or "").strip().lower() for h in next(lines)]
    except StopIteration:
        raise TableError("the first sheet is empty") from None
    rows = []
    for line, values in enumerate(lines, start=2):
        texts = [_cell_text(v) for v in values]
        if any(texts):
            rows.append(TableRow(line, _row(header, texts)))
    workbook.close()
    return header, rows


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour"):  # a datetime cell: keep the date
        return str(value.date().isoformat())
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _row(header: list[str], values: list[str]) -> dict[str, str]:
    return {
        name: (values[i].strip() if i < len(values) else "")
        for i, name in enumerate(header)
        if name
    }


def require_columns(header: list[str], required: list[str]) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise TableError(f"missing column(s): {', '.join(missing)}; found: {', '.join(header)}")
