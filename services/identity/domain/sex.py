"""Sex as recorded for a person (giới tính)."""

from enum import StrEnum


class Sex(StrEnum):
    """The two values the personal identification number can encode (digit 4 parity)."""

    MALE = "male"
    FEMALE = "female"
