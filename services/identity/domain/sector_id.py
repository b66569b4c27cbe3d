"""The platform's own sector ID: immutable, lifelong, readable and check-digit protected.

Issued at first entry to every person or unit, whether or not a personal identification number
is known yet; the personal number is linked to it later, once verified. It never changes, not
even when the person moves school or the province is reorganised.

Format: ``KK-PP-YYYY-SSSSSSS-C``, for example ``HS-31-2026-0000123-9``.

- ``KK`` kind: ``HS`` learner (học sinh), ``GV`` teacher (giáo viên), ``NV`` other staff
  (nhân viên), ``DV`` organisation unit (đơn vị: school, daycare group, centre, office).
- ``PP`` code of the issuing province, 01–99 (Hải Phòng 31, as in its personal-number code
  031). It records where the ID was issued, not where the holder lives, so it stays true after
  moves and after province mergers.
- ``YYYY`` year of issue, 2000–2999 (not the birth year).
- ``SSSSSSS`` sequence 0000001–9999999, unique per kind, province and year. Seven digits because
  the first load of the merged province issues about a million learner IDs in one year.
- ``C`` Damm check digit over the 14 digits ``K PP YYYY SSSSSSS``, where ``K`` is the kind
  digit: HS 1, GV 2, NV 3, DV 4.

Every single-character substitution and every adjacent transposition is rejected: either the
text no longer has the shape above or a known kind, or the check digit fails. The kind takes
part in the check as its own digit, so even one valid kind typed as another (``GV`` → ``NV``) is
caught. Kind digits are part of the format: never reuse or renumber them; a new kind gets the
next unused digit.

The canonical form is upper case with dashes (``HS-31-2026-0000123-9``); the compact form has
no dashes (``HS31202600001239``, 16 characters). Parsing accepts lower case and spaces or dashes
between groups, or none at all, but no separator inside a group or at either end: a misplaced
separator is reported, never silently moved. Sequences are allocated outside this module (one
counter per kind, province and year); this module only formats, parses and checks.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from services.identity.domain.damm import damm_check_digit

MIN_YEAR = 2000
MAX_YEAR = 2999
MIN_SEQUENCE = 1
MAX_SEQUENCE = 9_999_999
SEQUENCE_DIGITS = 7
COMPACT_LENGTH = 16  # 2 letters + 14 digits


class SectorIdKind(StrEnum):
    LEARNER = "HS"
    TEACHER = "GV"
    STAFF = "NV"
    ORGANISATION = "DV"


# Part of the format, see the module docstring: append, never renumber.
KIND_DIGITS: dict[SectorIdKind, int] = {
    SectorIdKind.LEARNER: 1,
    SectorIdKind.TEACHER: 2,
    SectorIdKind.STAFF: 3,
    SectorIdKind.ORGANISATION: 4,
}

FORMAT_DESCRIPTION = "KK-PP-YYYY-SSSSSSS-C"

_SEPARATOR_RUN = re.compile(r"[\s\-–]+")  # spaces, hyphens and the en dash word processors insert
_GROUPED = re.compile(r"([A-Z]{2})-?(\d{2})-?(\d{4})-?(\d{7})-?(\d)")


class InvalidSectorIdError(ValueError):
    """The text is not a valid sector ID; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class SectorId:
    kind: SectorIdKind
    province_code: int
    year: int
    sequence: int

    @property
    def check_digit(self) -> int:
        return damm_check_digit(self._payload_digits())

    def _payload_digits(self) -> str:
        return (
            f"{KIND_DIGITS[self.kind]}{self.province_code:02d}{self.year:04d}"
            f"{self.sequence:0{SEQUENCE_DIGITS}d}"
        )

    @property
    def compact(self) -> str:
        return str(self).replace("-", "")

    def __str__(self) -> str:
        return (
            f"{self.kind.value}-{self.province_code:02d}-{self.year:04d}-"
            f"{self.sequence:0{SEQUENCE_DIGITS}d}-{self.check_digit}"
        )


def format_sector_id(
    kind: SectorIdKind | str, province_code: int | str, year: int, sequence: int
) -> str:
    """Canonical text of a new sector ID; raises ValueError for out-of-range parts.

    ``province_code`` may be given as 31, "31" or "031" (the birth-registration form).
    """
    sector_id = SectorId(
        kind=_kind_from_text(str(kind).upper()),
        province_code=_province_from_input(province_code),
        year=year,
        sequence=sequence,
    )
    _check_ranges(sector_id)
    return str(sector_id)


def parse_sector_id(text: str) -> SectorId:
    """Parse and verify; raises :class:`InvalidSectorIdError` naming the problem."""
    normalised = _SEPARATOR_RUN.sub("-", text.strip().upper())
    if not normalised:
        raise InvalidSectorIdError("sector ID is empty")
    match = _GROUPED.fullmatch(normalised)
    if match is None:
        raise InvalidSectorIdError(_describe_format_problem(normalised))
    kind_text, province, year, sequence, check = match.groups()
    sector_id = SectorId(
        kind=_kind_from_text(kind_text),
        province_code=int(province),
        year=int(year),
        sequence=int(sequence),
    )
    if sector_id.check_digit != int(check):
        raise InvalidSectorIdError(
            f"check digit mismatch: {text.strip()!r} ends in {check}, "
            f"expected {sector_id.check_digit}; a character was probably mistyped or swapped"
        )
    _check_ranges(sector_id)
    return sector_id


def is_valid_sector_id(text: str) -> bool:
    try:
        parse_sector_id(text)
    except InvalidSectorIdError:
        return False
    return True


def _kind_from_text(text: str) -> SectorIdKind:
    try:
        return SectorIdKind(text)
    except ValueError:
        known = ", ".join(kind.value for kind in SectorIdKind)
        raise InvalidSectorIdError(
            f"unknown sector ID kind {text!r} (expected one of {known})"
        ) from None


def _province_from_input(province_code: int | str) -> int:
    if isinstance(province_code, str):
        digits = province_code.strip()
        if not (digits.isascii() and digits.isdigit()) or len(digits) not in (2, 3):
            raise InvalidSectorIdError(f"province code {province_code!r} must be 2 or 3 digits")
        return int(digits)
    return province_code


def _check_ranges(sector_id: SectorId) -> None:
    if not 1 <= sector_id.province_code <= 99:
        raise InvalidSectorIdError(f"province code {sector_id.province_code} out of range 01-99")
    if not MIN_YEAR <= sector_id.year <= MAX_YEAR:
        raise InvalidSectorIdError(
            f"issue year {sector_id.year} out of range {MIN_YEAR}-{MAX_YEAR}"
        )
    if not MIN_SEQUENCE <= sector_id.sequence <= MAX_SEQUENCE:
        raise InvalidSectorIdError(
            f"sequence {sector_id.sequence} out of range {MIN_SEQUENCE}-{MAX_SEQUENCE}"
        )


def _describe_format_problem(normalised: str) -> str:
    compact = normalised.replace("-", "")
    expected = f"expected {FORMAT_DESCRIPTION}, e.g. HS-31-2026-0000123-9"
    if len(compact) != COMPACT_LENGTH:
        return (
            f"sector ID has {len(compact)} letters and digits, {expected} "
            f"({COMPACT_LENGTH} without dashes)"
        )
    if not (compact[:2].isascii() and compact[:2].isalpha()):
        return f"sector ID must start with a two-letter kind, {expected}"
    if not (compact[2:].isascii() and compact[2:].isdigit()):
        return f"sector ID must have only digits after the kind, {expected}"
    return f"sector ID has a separator in the wrong place, {expected}"
