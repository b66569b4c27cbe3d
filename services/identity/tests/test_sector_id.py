import random
import string

import pytest

from services.identity.domain.damm import damm_check_digit, is_valid_damm
from services.identity.domain.sector_id import (
    InvalidSectorIdError,
    SectorId,
    SectorIdKind,
    format_sector_id,
    is_valid_sector_id,
    parse_sector_id,
)

EXAMPLE = "HS-31-2026-0000123-9"


def sample_ids(count: int, seed: int = 20260701) -> list[str]:
    rng = random.Random(seed)
    return [
        format_sector_id(
            rng.choice(list(SectorIdKind)),
            rng.choice((30, 31, 1, 79, 99)),
            rng.randint(2000, 2999),
            rng.randint(1, 9_999_999),
        )
        for _ in range(count)
    ]


def test_damm_reference_value() -> None:
    # The worked example of the algorithm: 572 → check digit 4.
    assert damm_check_digit("572") == 4
    assert is_valid_damm("5724")
    assert not is_valid_damm("5723")


def test_format_and_parse_round_trip() -> None:
    assert format_sector_id(SectorIdKind.LEARNER, 31, 2026, 123) == EXAMPLE
    parsed = parse_sector_id(EXAMPLE)
    assert parsed == SectorId(SectorIdKind.LEARNER, 31, 2026, 123)
    assert str(parsed) == EXAMPLE
    assert parsed.compact == "HS31202600001239"
    assert parsed.check_digit == 9


def test_format_accepts_kind_text_and_three_digit_province() -> None:
    assert format_sector_id("hs", "031", 2026, 123) == EXAMPLE
    assert format_sector_id("GV", "30", 2018, 1).startswith("GV-30-2018-0000001-")


@pytest.mark.parametrize(
    "text",
    [
        "hs-31-2026-0000123-9",
        "HS 31 2026 0000123 9",
        "HS31202600001239",
        "  hs31 2026-0000123 9 ",
        "HS–31–2026–0000123–9",  # en dashes from a word processor
        "HS - 31 - 2026 - 0000123 - 9",
    ],
)
def test_parse_is_lenient_about_case_and_separators(text: str) -> None:
    assert str(parse_sector_id(text)) == EXAMPLE


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "sector ID is empty"),
        ("  - ", "has 0 letters and digits"),
        ("HS-31-2026-0000123-9-", "separator in the wrong place"),
        ("-HS-31-2026-0000123-9", "separator in the wrong place"),
        ("HS-31-2026-0000123-0", "check digit mismatch"),
        ("XX-31-2026-0000123-9", "unknown sector ID kind 'XX'"),
        ("HS-31-2026-000123-9", "has 15 letters and digits"),
        ("HS-3-12026-0000123-9", "separator in the wrong place"),
        ("1S-31-2026-0000123-9", "must start with a two-letter kind"),
        ("HS-31-2026-00001A3-9", "only digits after the kind"),
        ("HS-00-2026-0000001-" + str(damm_check_digit("10020260000001")), "province code 0"),
        ("HS-31-1999-0000001-" + str(damm_check_digit("13119990000001")), "issue year 1999"),
        ("HS-31-2026-0000000-" + str(damm_check_digit("13120260000000")), "sequence 0"),
    ],
)
def test_parse_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(InvalidSectorIdError, match=message):
        parse_sector_id(text)
    assert not is_valid_sector_id(text)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("HS", 0, 2026, 1), "province code 0 out of range"),
        (("HS", 100, 2026, 1), "province code 100 out of range"),
        (("HS", "3a", 2026, 1), "must be 2 or 3 digits"),
        (("HS", 31, 3000, 1), "issue year 3000"),
        (("HS", 31, 2026, 10_000_000), "sequence 10000000"),
        (("HS", 31, 2026, -1), "sequence -1"),
        (("TR", 31, 2026, 1), "unknown sector ID kind 'TR'"),
    ],
)
def test_format_rejects_out_of_range_parts(
    args: tuple[str, int | str, int, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        format_sector_id(*args)


def test_distinct_kinds_have_distinct_check_input() -> None:
    # A kind typed as another kind must change the check digit input.
    ids = {kind: format_sector_id(kind, 31, 2026, 4242) for kind in SectorIdKind}
    for kind, text in ids.items():
        for other in SectorIdKind:
            if other is not kind:
                assert not is_valid_sector_id(other.value + text[2:])


SUBSTITUTES = string.ascii_uppercase + string.digits + "- "


def _single_substitutions(text: str) -> list[str]:
    variants = []
    for position, original in enumerate(text):
        for replacement in SUBSTITUTES:
            if replacement == original:
                continue
            if original in "- " and replacement in "- ":
                continue  # one separator for another is the same ID, not an error
            variants.append(text[:position] + replacement + text[position + 1 :])
    return variants


def _adjacent_transpositions(text: str) -> list[str]:
    return [
        text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        for i in range(len(text) - 1)
        if text[i] != text[i + 1]
    ]


def test_every_single_substitution_is_detected() -> None:
    tried = 0
    for canonical in sample_ids(60):
        compact = canonical.replace("-", "")
        for text in (canonical, compact):
            for variant in _single_substitutions(text):
                tried += 1
                assert not is_valid_sector_id(variant), (text, variant)
    assert tried > 60 * 2 * 15 * 30


def test_every_adjacent_transposition_is_detected() -> None:
    tried = 0
    for canonical in sample_ids(300):
        compact = canonical.replace("-", "")
        for text in (canonical, compact):
            for variant in _adjacent_transpositions(text):
                tried += 1
                assert not is_valid_sector_id(variant), (text, variant)
    assert tried > 300 * 2 * 10


def test_transposition_next_to_check_digit_in_compact_form() -> None:
    # 0000123 then check digit 9: swapping "3" and "9" must be caught too.
    assert not is_valid_sector_id("HS31202600001293")
