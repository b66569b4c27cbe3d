"""The Damm check digit algorithm (H. Michael Damm, 2004).

Why Damm: one decimal check digit that detects every single-digit substitution and every
adjacent transposition, with no extra symbol (ISO 7064 MOD 11-2 needs an "X"), and it is a
ten-line table lookup. The table is the order-10 weakly totally anti-symmetric quasigroup
published by Damm and reproduced in the Wikipedia article "Damm algorithm".
"""

from collections.abc import Iterable

_QUASIGROUP: tuple[tuple[int, ...], ...] = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def _interim(digits: Iterable[int]) -> int:
    interim = 0
    for digit in digits:
        interim = _QUASIGROUP[interim][digit]
    return interim


def _as_digits(text: str) -> list[int]:
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"Damm check digits need decimal digits, got {text!r}")
    return [int(char) for char in text]


def damm_check_digit(digits: str) -> int:
    """The digit to append to ``digits``."""
    return _interim(_as_digits(digits))


def is_valid_damm(digits_with_check: str) -> bool:
    """True when the last digit is the Damm check digit of the others."""
    return _interim(_as_digits(digits_with_check)) == 0
