"""The person record that duplicate detection works on, and its precomputed comparison form."""

from dataclasses import dataclass
from datetime import date, datetime

from services.identity.domain.names import NameToken, normalise_name, tokenise_name
from services.identity.domain.personal_number import PERSONAL_NUMBER_LENGTH, clean_personal_number
from services.identity.domain.sex import Sex

# Leading words that only say what kind of unit follows, so "TP. Hải Phòng" equals "Hải Phòng".
# Stripped once per comma-separated part and only at its start: "Huyện Quan Hóa" keeps "quan".
PLACE_TYPE_PREFIXES = (
    "thanh pho ",
    "thi xa ",
    "thi tran ",
    "dac khu ",
    "tinh ",
    "tp ",
    "quan ",
    "huyen ",
    "tx ",
    "tt ",
    "phuong ",
    "xa ",
    "p ",
)


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A learner or staff record from one source system.

    ``verified`` means the record was confirmed against the national population database;
    ``created_at`` is when the source first recorded it. Both only matter for picking the
    surviving record of a merge.
    """

    record_id: str
    full_name: str
    birth_date: date
    sex: Sex
    personal_number: str | None = None
    birthplace: str | None = None
    guardian_name: str | None = None
    source: str = ""
    verified: bool = False
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PreparedRecord:
    """Everything comparisons need, computed once per record instead of once per pair."""

    record: PersonRecord
    name_tokens: tuple[NameToken, ...]
    plain_name_words: tuple[str, ...]
    birth_date_digits: str  # YYYYMMDD, compared as text to spot one-keystroke typos
    personal_number: str | None  # cleaned; None when missing or not 12 digits
    birthplace_words: str | None
    guardian_tokens: tuple[NameToken, ...] | None


def prepare_record(record: PersonRecord) -> PreparedRecord:
    name_tokens = tokenise_name(record.full_name)
    return PreparedRecord(
        record=record,
        name_tokens=name_tokens,
        plain_name_words=tuple(token.plain for token in name_tokens),
        birth_date_digits=record.birth_date.strftime("%Y%m%d"),
        personal_number=usable_personal_number(record.personal_number),
        birthplace_words=_place_words(record.birthplace),
        guardian_tokens=tokenise_name(record.guardian_name) if record.guardian_name else None,
    )


def usable_personal_number(number: str | None) -> str | None:
    """The cleaned 12 digits, or None when missing or malformed (then it cannot be compared)."""
    if number is None:
        return None
    cleaned = clean_personal_number(number)
    if len(cleaned) == PERSONAL_NUMBER_LENGTH and cleaned.isascii() and cleaned.isdigit():
        return cleaned
    return None


def _place_words(place: str | None) -> str | None:
    if place is None:
        return None
    parts = [_without_place_type(normalise_name(part)) for part in place.split(",")]
    return " ".join(part for part in parts if part) or None


def _without_place_type(part: str) -> str:
    for prefix in PLACE_TYPE_PREFIXES:
        if part.startswith(prefix):
            return part[len(prefix) :]
    return part
