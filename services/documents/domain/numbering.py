"""Number and notation of documents (số, ký hiệu văn bản) and arrival numbers (số đến).

Rules, from Decree 30/2020/NĐ-CP (Article 15 and Appendix I; arrival numbers Article 22),
checked against secondary sources only (check):

- The number is the order in which the issuing body signs its documents in a year: it starts
  at 01 on 1 January and ends on 31 December, so numbering restarts each year. A number and
  notation is unique per issuing body and year, the same for the paper and electronic copy.
- Secret documents get a separate number series (hệ thống số riêng). The law speaks of secret
  documents as one class, so mật, tối mật and tuyệt mật share that one series.
- Advisory bodies (Hội đồng, Ban, Tổ) that issue in their own name keep their own series: they
  are issuers in their own right here.
- Numbers below 10 are written with a leading zero ("05").
- Notation: `number/TYPE-ISSUER` for documents with a type name (`15/QĐ-SGDĐT`); a công văn has
  no type abbreviation and names the issuer and the drafting unit or field (`05/SGDĐT-VP`).
  Some bodies also append the drafting unit to typed documents (`15/QĐ-SGDĐT-VP`); that is
  optional.
- Incoming documents get an arrival number, sequential in order of receipt within a year and
  restarting on 1 January. Registering secret incoming documents in their own series follows
  the same practice as outgoing ones (check: Decree 30 defers to the state-secrets rules).

Everything here is pure: the store keeps the last number of each series and calls
`next_number` inside the transaction that issues the document.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from services.documents.domain.classification import Secrecy, Urgency
from services.documents.domain.document_types import CONG_VAN, DocumentType, type_by_abbreviation

__all__ = [
    "ArrivalSeries",
    "InvalidNotation",
    "Notation",
    "NumberSeries",
    "Secrecy",
    "SeriesClass",
    "Urgency",
    "arrival_series",
    "format_code",
    "format_notation",
    "format_number",
    "next_arrival_number",
    "next_number",
    "number_series",
    "parse_notation",
    "series_class",
]


class SeriesClass(StrEnum):
    ORDINARY = "ordinary"
    SECRET = "secret"


def series_class(secrecy: Secrecy | None) -> SeriesClass:
    """Every secrecy level goes to the one secret series; unclassified documents to the other."""
    return SeriesClass.ORDINARY if secrecy is None else SeriesClass.SECRET


@dataclass(frozen=True)
class NumberSeries:
    """One run of outgoing numbers: the store keeps one counter per value of this key."""

    issuer: str
    year: int
    series_class: SeriesClass


@dataclass(frozen=True)
class ArrivalSeries:
    """One run of arrival numbers of a receiving body."""

    receiver: str
    year: int
    series_class: SeriesClass


def number_series(issuer: str, issue_date: date, secrecy: Secrecy | None) -> NumberSeries:
    return NumberSeries(issuer, issue_date.year, series_class(secrecy))


def arrival_series(receiver: str, arrival_date: date, secrecy: Secrecy | None) -> ArrivalSeries:
    return ArrivalSeries(receiver, arrival_date.year, series_class(secrecy))


def next_number(last_issued: int | None, year_of_last: int | None, issue_date: date) -> int:
    """The number a document signed on `issue_date` gets, given the series' last number.

    `last_issued` is None when the series has never issued. A new year starts again at 1. An
    issue date in a year before the last number's year is refused: that year's series is
    closed, and taking a number in it would back-date a document.
    """
    if last_issued is None:
        return 1
    if last_issued < 1:
        raise ValueError(f"last issued number {last_issued} is not a positive number")
    if year_of_last is None:
        raise ValueError("the year of the last issued number is needed to continue a series")
    if issue_date.year < year_of_last:
        raise ValueError(
            f"issue date {issue_date.isoformat()} falls in {issue_date.year}, before the last "
            f"number's year {year_of_last}: the series of a past year is closed"
        )
    if issue_date.year > year_of_last:
        return 1
    return last_issued + 1


def next_arrival_number(
    last_arrival: int | None, year_of_last: int | None, arrival_date: date
) -> int:
    """Arrival numbers follow the same yearly rule as outgoing numbers."""
    return next_number(last_arrival, year_of_last, arrival_date)


def format_number(number: int) -> str:
    """The number as written in a notation: at least two digits ("05", "15", "123")."""
    if isinstance(number, bool) or number < 1:
        raise ValueError(f"document number {number!r} must be a positive integer")
    return f"{number:02d}"


# Separators of a notation. An abbreviation may contain neither, nor whitespace.
_NUMBER_SEPARATOR = "/"
_PART_SEPARATOR = "-"
_FORBIDDEN_IN_ABBREVIATION = re.compile(r"[\s/-]")
# Typed text often holds an en dash or a minus sign where a hyphen belongs.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")


def _abbreviation(value: str, what: str) -> str:
    value = unicodedata.normalize("NFC", value)
    if not value:
        raise ValueError(f"{what} abbreviation is empty")
    if _FORBIDDEN_IN_ABBREVIATION.search(value):
        raise ValueError(f"{what} abbreviation {value!r} contains a space, '/' or '-'")
    return value


def _drafting_unit(value: str) -> str:
    # A drafting unit may itself be hyphenated ("VP-TCCB": a section of the office), so a
    # hyphen is allowed between non-empty parts.
    value = unicodedata.normalize("NFC", value)
    for part in value.split(_PART_SEPARATOR):
        _abbreviation(part, f"drafting unit {value!r}: part")
    return value


def format_code(
    doc_type: DocumentType, issuer_abbrev: str, drafting_unit_abbrev: str | None = None
) -> str:
    """The notation without its number (ký hiệu): "QĐ-SGDĐT", "SGDĐT-VP" for a công văn."""
    parts = []
    if doc_type.abbreviation is not None:
        parts.append(doc_type.abbreviation)
    parts.append(_abbreviation(issuer_abbrev, "issuer"))
    if drafting_unit_abbrev is not None:
        parts.append(_drafting_unit(drafting_unit_abbrev))
    elif doc_type.abbreviation is None:
        # Decree 30: a công văn's notation names the drafting unit (or the field handled).
        raise ValueError(f"a {doc_type.name_vi} notation needs the drafting unit abbreviation")
    return _PART_SEPARATOR.join(parts)


def format_notation(
    number: int,
    doc_type: DocumentType,
    issuer_abbrev: str,
    drafting_unit_abbrev: str | None = None,
) -> str:
    """`15/QĐ-SGDĐT`, `05/SGDĐT-VP` (công văn), `15/QĐ-SGDĐT-VP` (with drafting unit)."""
    code = format_code(doc_type, issuer_abbrev, drafting_unit_abbrev)
    return f"{format_number(number)}{_NUMBER_SEPARATOR}{code}"


@dataclass(frozen=True)
class Notation:
    number: int
    doc_type: DocumentType
    issuer: str
    drafting_unit: str | None = None

    @property
    def code(self) -> str:
        return format_code(self.doc_type, self.issuer, self.drafting_unit)

    def __str__(self) -> str:
        return format_notation(self.number, self.doc_type, self.issuer, self.drafting_unit)


class InvalidNotation(ValueError):
    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"notation {text!r}: {reason}")


_NUMBER_PREFIX = re.compile(r"^số\s*[:.]?\s*", re.IGNORECASE)
_AROUND_SEPARATORS = re.compile(r"\s*([/-])\s*")
_NOTATION = re.compile(r"^([0-9]+)/(.+)$")


def parse_notation(text: str) -> Notation:
    """Read a number and notation as printed on a document ("Số: 15/QĐ-SGDĐT").

    Tolerates the "Số:" prefix, spaces around separators, dashes typed as en dashes, missing
    zero padding and any letter case in the type abbreviation. The first part decides the
    type: a known abbreviation makes a typed document, anything else a công văn. That is
    ambiguous only for an issuer whose abbreviation equals a type's (a công văn of an issuer
    abbreviated "TC" reads as a thông cáo), which the notation itself cannot resolve.
    """
    cleaned = unicodedata.normalize("NFC", text).translate(_DASHES).strip()
    cleaned = _NUMBER_PREFIX.sub("", cleaned)
    cleaned = _AROUND_SEPARATORS.sub(r"\1", cleaned)
    match = _NOTATION.match(cleaned)
    if match is None:
        raise InvalidNotation(text, "expected number/code, e.g. 15/QĐ-SGDĐT or 05/SGDĐT-VP")
    number = int(match[1])
    if number < 1:
        raise InvalidNotation(text, "the number must be at least 1")
    parts = match[2].split(_PART_SEPARATOR)
    if any(not part or _FORBIDDEN_IN_ABBREVIATION.search(part) for part in parts):
        raise InvalidNotation(text, "empty part or stray separator in the code")
    if len(parts) < 2:
        raise InvalidNotation(
            text, "the code needs a type and an issuer, or for a công văn an issuer and a unit"
        )
    doc_type = type_by_abbreviation(parts[0])
    if doc_type is not None:
        unit = _PART_SEPARATOR.join(parts[2:]) or None
        return Notation(number, doc_type, parts[1], unit)
    return Notation(number, CONG_VAN, parts[0], _PART_SEPARATOR.join(parts[1:]))
