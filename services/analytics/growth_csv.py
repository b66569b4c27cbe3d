"""Score a CSV of child measurements with WHO growth z-scores (``growth`` command).

Input columns (header names are matched case-insensitively, surrounding spaces ignored):
``sex`` (1/2, M/F, also Vietnamese Nam/Nữ), ``age_months``, ``height_cm``, ``weight_kg``, and
optionally ``oedema`` (y/n, or WHO's 1/2) and ``measure`` (L = recumbent length, H = standing
height; only matters under 5, see ``services.analytics.domain.growth``). Empty height or weight
is allowed: the z-scores that need it stay empty.

The output has every input column unchanged, in order, plus ``zhfa``, ``zwfa``, ``zbfa``,
``zwfh`` (two decimals, empty where not defined), ``fhfa``, ``fwfa``, ``fbfa``, ``fwfh`` (1
flagged, 0 not, empty where the z-score is empty), ``nutrition_status`` and ``error``. ``zwfh``/
``fwfh`` (weight-for-length/height, under 5 only) are there because the under-5 status is
derived from them. If the input already has one of these columns (a re-run on an output file),
its values are replaced in place.

Rows are never dropped, so the output lines up with the input row for row (people paste the
result back next to their spreadsheet): a bad row keeps its data, gets an ``error`` that names
the field and the rule, and empty results; an all-empty row (Excel leaves ``;;;`` lines) is
written back empty and counted as blank.

Files exported by Excel are handled: a UTF-8 byte order mark is accepted (and written back if
the input had one, so Excel keeps reading Vietnamese text as UTF-8), the delimiter is ``,``,
``;`` or tab (whichever the header uses most; the output uses the same), and decimal commas
("112,5") are accepted in numbers because Vietnamese-locale Excel writes them.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import click

from services.analytics.domain.growth import GrowthResult, assess

REQUIRED_COLUMNS = ("sex", "age_months", "height_cm", "weight_kg")
OPTIONAL_COLUMNS = ("oedema", "measure")
OUTPUT_COLUMNS = (
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
)

_SEX_CODES = {"1": 1, "m": 1, "nam": 1, "2": 2, "f": 2, "nữ": 2, "nu": 2}
# WHO anthro/anthroplus accept y/n and the numeric codes 1 = yes, 2 = no.
_OEDEMA_CODES = {"y": True, "yes": True, "1": True, "n": False, "no": False, "2": False, "": False}


@dataclass(frozen=True)
class GrowthCsvSummary:
    """Counts of one conversion. ``rows`` excludes blank rows; ``rows = computed + errors``."""

    rows: int
    computed: int
    errors: int
    blank_rows: int = 0
    flagged: int = 0  # computed rows with at least one implausible (flagged) z-score
    by_status: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        statuses = ", ".join(f"{name} {count}" for name, count in self.by_status.items())
        text = f"{self.rows} rows, {self.computed} computed, {self.errors} errors"
        if self.flagged:
            text += f", {self.flagged} flagged"
        if self.blank_rows:
            text += f", {self.blank_rows} blank"
        return f"{text} ({statuses})" if statuses else text


class _Writer(Protocol):
    def writerow(self, row: list[str], /) -> Any: ...


class _RowError(ValueError):
    pass


def _number(raw: str, name: str, *, required: bool, zero_ok: bool = False) -> float | None:
    text = raw.strip()
    if text == "":
        if required:
            raise _RowError(f"{name}: is required")
        return None
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # decimal comma from a Vietnamese-locale export
    try:
        value = float(text)
    except ValueError:
        raise _RowError(f"{name}: must be a number, got {raw.strip()!r}") from None
    if not math.isfinite(value):
        raise _RowError(f"{name}: must be a finite number, got {raw.strip()!r}")
    # Checked here as well as in assess() so that every bad field of a row is reported at once.
    if value < 0 or (value == 0 and not zero_ok):
        rule = "0 or more" if zero_ok else "greater than 0"
        raise _RowError(f"{name}: must be {rule}, got {raw.strip()!r}")
    return value


def _sex(raw: str) -> int:
    text = raw.strip().lower()
    if text == "":
        raise _RowError("sex: is required (1 or M = male, 2 or F = female)")
    if text not in _SEX_CODES:
        raise _RowError(f"sex: must be 1 or M (male), 2 or F (female), got {raw.strip()!r}")
    return _SEX_CODES[text]


def _oedema(raw: str) -> bool:
    text = raw.strip().lower()
    if text not in _OEDEMA_CODES:
        raise _RowError(f"oedema: must be y or n, got {raw.strip()!r}")
    return _OEDEMA_CODES[text]


def _score(values: dict[str, str]) -> GrowthResult:
    """Parse one row's fields and assess it; every problem found is reported together."""
    problems: list[str] = []
    sex = age = None
    height = weight = None
    oedema = False
    try:
        sex = _sex(values["sex"])
    except _RowError as exc:
        problems.append(str(exc))
    try:
        age = _number(values["age_months"], "age_months", required=True, zero_ok=True)
    except _RowError as exc:
        problems.append(str(exc))
    try:
        height = _number(values["height_cm"], "height_cm", required=False)
    except _RowError as exc:
        problems.append(str(exc))
    try:
        weight = _number(values["weight_kg"], "weight_kg", required=False)
    except _RowError as exc:
        problems.append(str(exc))
    try:
        oedema = _oedema(values.get("oedema", ""))
    except _RowError as exc:
        problems.append(str(exc))
    if problems or sex is None or age is None:
        raise _RowError("; ".join(problems))
    measure = values.get("measure", "").strip() or None
    try:
        return assess(sex, age, height, weight, oedema=oedema, measure=measure)
    except ValueError as exc:  # range rules; the message names the field
        raise _RowError(str(exc)) from None


def _z(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _flag(z: float | None, flagged: bool) -> str:
    if z is None:
        return ""
    return "1" if flagged else "0"


def _result_cells(result: GrowthResult) -> list[str]:
    return [
        _z(result.zhfa),
        _z(result.zwfa),
        _z(result.zbfa),
        _z(result.zwfh),
        _flag(result.zhfa, result.fhfa),
        _flag(result.zwfa, result.fwfa),
        _flag(result.zbfa, result.fbfa),
        _flag(result.zwfh, result.fwfh),
        result.nutrition_status,
        "",
    ]


def _sniff_delimiter(header_line: str) -> str:
    # The header holds only names, so the separator is simply the most frequent candidate;
    # csv.Sniffer guesses from data lines too and is thrown off by decimal commas.
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _lines(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def convert_growth_csv(
    input_path: str | os.PathLike[str], output_path: str | os.PathLike[str]
) -> GrowthCsvSummary:
    """Read INPUT, write OUTPUT with WHO z-scores, flags, status and per-row errors.

    Raises ValueError for problems with the file as a whole (not UTF-8, no header, a required
    column missing, OUTPUT = INPUT); row problems go to the ``error`` column instead. OUTPUT is
    written to a temporary file and moved into place, so a failure never leaves half a file.
    """
    source = Path(input_path)
    target = Path(output_path)
    if target.exists() and target.resolve() == source.resolve():
        raise ValueError("output: must not be the input file")

    with source.open(encoding="utf-8", newline="") as infile:
        try:
            first = infile.readline()
        except UnicodeDecodeError:
            raise ValueError(_NOT_UTF8.format(source)) from None
        had_bom = first.startswith("\ufeff")
        first = first.removeprefix("\ufeff")
        if not first.strip():
            raise ValueError(f"{source}: empty file or empty header line")
        delimiter = _sniff_delimiter(first)
        reader = csv.reader(_lines(first, infile), delimiter=delimiter)
        header = next(reader)
        names = [name.strip().lower() for name in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise ValueError(
                f"{source}: missing required column(s) {', '.join(missing)}"
                f" (found: {', '.join(header)})"
            )
        # First occurrence wins if a name repeats.
        index = {c: names.index(c) for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in names}
        # Output columns already present (a re-run) are overwritten where they stand.
        out_index = [names.index(c) if c in names else None for c in OUTPUT_COLUMNS]
        out_header = list(header)
        for column, position in zip(OUTPUT_COLUMNS, out_index, strict=True):
            if position is None:
                out_header.append(column)

        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        encoding = "utf-8-sig" if had_bom else "utf-8"
        try:
            with os.fdopen(fd, "w", encoding=encoding, newline="") as out:
                writer = csv.writer(out, delimiter=delimiter)
                writer.writerow(out_header)
                try:
                    tally = _write_rows(reader, writer, len(header), index, out_index)
                except UnicodeDecodeError:
                    raise ValueError(_NOT_UTF8.format(source)) from None
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
    return tally.summary()


@dataclass
class _Tally:
    rows: int = 0
    computed: int = 0
    errors: int = 0
    blank: int = 0
    flagged: int = 0
    statuses: Counter[str] = field(default_factory=Counter)

    def summary(self) -> GrowthCsvSummary:
        known = [s for s in _STATUS_ORDER if s in self.statuses]
        order = known + sorted(s for s in self.statuses if s not in _STATUS_ORDER)
        return GrowthCsvSummary(
            rows=self.rows,
            computed=self.computed,
            errors=self.errors,
            blank_rows=self.blank,
            flagged=self.flagged,
            by_status={s: self.statuses[s] for s in order},
        )


def _write_rows(
    reader: Iterator[list[str]],
    writer: _Writer,
    width: int,
    index: dict[str, int],
    out_index: list[int | None],
) -> _Tally:
    tally = _Tally()
    no_result = [""] * (len(OUTPUT_COLUMNS) - 1)
    for record in reader:
        cells, shape_error = _fit(record, width)
        if not any(cell.strip() for cell in cells):
            tally.blank += 1
            writer.writerow(_merge(cells, out_index, [*no_result, ""]))
            continue
        tally.rows += 1
        try:
            result = _score({c: cells[i] for c, i in index.items()})
        except _RowError as exc:
            tally.errors += 1
            message = "; ".join(p for p in (shape_error, str(exc)) if p)
            new = [*no_result, message]
        else:
            if shape_error:
                # The named columns were fine but the row has stray extra values: it is
                # probably shifted, so its numbers are not trusted.
                tally.errors += 1
                new = [*no_result, shape_error]
            else:
                tally.computed += 1
                tally.statuses[result.nutrition_status] += 1
                if result.fhfa or result.fwfa or result.fbfa or result.fwfh:
                    tally.flagged += 1
                new = _result_cells(result)
        writer.writerow(_merge(cells, out_index, new))
    return tally


_NOT_UTF8 = "{}: is not UTF-8 text; save it from Excel as 'CSV UTF-8 (Comma delimited)'"

_STATUS_ORDER = (
    "normal",
    "overweight",
    "obese",
    "thin",
    "severely_thin",
    "wasted",
    "severely_wasted",
    "flagged",
    "unknown",
)


def _fit(record: list[str], width: int) -> tuple[list[str], str]:
    """Pad a short row (Excel drops trailing empty cells); report a long one, losing nothing."""
    if len(record) <= width:
        return record + [""] * (width - len(record)), ""
    extra = record[width:]
    if not any(cell.strip() for cell in extra):
        return record[:width], ""
    return record[:width], (
        f"row: has {len(record)} fields but the header has {width};"
        f" extra values not scored: {extra!r}"
    )


def _merge(cells: list[str], out_index: list[int | None], new: list[str]) -> list[str]:
    row = list(cells)
    for position, value in zip(out_index, new, strict=True):
        if position is None:
            row.append(value)
        else:
            row[position] = value
    return row


@click.command("growth")
@click.argument(
    "input_path",
    metavar="INPUT",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "-o",
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV to write: the input columns plus z-scores, flags, status and errors.",
)
def growth(input_path: Path, output_path: Path) -> None:
    """Compute WHO growth z-scores and nutrition status for the measurements in INPUT."""
    try:
        summary = convert_growth_csv(input_path, output_path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"growth: {summary.line()} -> {output_path}")
