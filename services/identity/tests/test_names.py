import unicodedata

import pytest

from services.identity.domain.names import (
    NameParts,
    clean_name,
    name_similarity,
    normalise_name,
    split_name,
)
from services.identity.domain.string_similarity import damerau_levenshtein, jaro, jaro_winkler


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Nguyễn  Thị Ánh", "nguyen thi anh"),
        ("Đặng Văn Đức", "dang van duc"),
        ("đinh đức", "dinh duc"),
        ("NGUYỄN THỊ ÁNH", "nguyen thi anh"),
        ("  Trần\tThị\u00a0Hương  ", "tran thi huong"),
        ("Phạm Ngọc Ưng Ơn Ắ Ẫ", "pham ngoc ung on a a"),
        ("Lê-Thị Hoa.", "le thi hoa"),
        ("H'Hen Niê", "hhen nie"),
        ("Ðào Ɖức", "dao duc"),  # eth and African D typed for Đ
        ("Ｎｇｕｙễｎ", "nguyen"),  # full-width letters
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


def test_normalise_decomposed_input_equals_precomposed() -> None:
    precomposed = "Nguyễn Thị Ánh Hường Đức"
    decomposed = unicodedata.normalize("NFD", precomposed)
    assert decomposed != precomposed
    assert normalise_name(decomposed) == normalise_name(precomposed) == "nguyen thi anh huong duc"


def test_clean_name_keeps_diacritics_and_composes() -> None:
    assert clean_name(unicodedata.normalize("NFD", "  Nguyễn   Ánh ")) == "Nguyễn Ánh"


@pytest.mark.parametrize(
    ("full_name", "parts"),
    [
        ("Nguyễn Thị Ánh", NameParts("Nguyễn", ("Thị",), "Ánh")),
        ("  Nguyễn   Ánh ", NameParts("Nguyễn", (), "Ánh")),
        ("Nguyễn Thị Minh Anh", NameParts("Nguyễn", ("Thị", "Minh"), "Anh")),
        ("Ánh", NameParts("", (), "Ánh")),
        ("", NameParts("", (), "")),
    ],
)
def test_split_name(full_name: str, parts: NameParts) -> None:
    assert split_name(full_name) == parts


def test_jaro_winkler_reference_values() -> None:
    # Values from Winkler's papers, used by every implementation's tests.
    assert jaro_winkler("martha", "marhta") == pytest.approx(0.9611, abs=1e-4)
    assert jaro_winkler("dwayne", "duane") == pytest.approx(0.84, abs=1e-4)
    assert jaro_winkler("dixon", "dicksonx") == pytest.approx(0.8133, abs=1e-4)
    assert jaro("", "abc") == 0.0
    assert jaro_winkler("abc", "abc") == 1.0


def test_damerau_levenshtein() -> None:
    assert damerau_levenshtein("nguyen", "ngyuen") == 1
    assert damerau_levenshtein("an", "na") == 1
    assert damerau_levenshtein("kitten", "sitting") == 3
    assert damerau_levenshtein("", "abc") == 3
    assert damerau_levenshtein("ca", "abc") == 3  # restricted variant, not 2


BASE = "Nguyễn Văn An"


@pytest.mark.parametrize(
    "variant",
    ["Nguyễn Văn An", "Nguyen Van An", "NGUYỄN VĂN AN", unicodedata.normalize("NFD", BASE)],
)
def test_same_name_in_other_spellings_is_identical(variant: str) -> None:
    assert name_similarity(BASE, variant) == 1.0


def test_tone_mark_position_does_not_matter() -> None:
    # Old and new tone placement (hoà / hòa) spell the same name.
    assert name_similarity("Nguyễn Thị Hoà", "Nguyễn Thị Hòa") == 1.0
    assert name_similarity("Lê Thuý", "Lê Thúy") == 1.0


def test_tolerated_differences_stay_high() -> None:
    assert name_similarity(BASE, "An Nguyễn Văn") == pytest.approx(0.95)  # given name first
    assert name_similarity(BASE, "Nguyễn An") > 0.95  # middle name dropped
    assert name_similarity(BASE, "Nguyễn Văn Ann") > 0.9  # one typo
    assert name_similarity(BASE, "Ngyuen Van An") > 0.9  # swapped letters, no diacritics
    assert name_similarity(BASE, "Nguyễn Văn Na") > 0.9  # typo in a two-letter word


def test_similarity_ordering() -> None:
    ranked = [
        "Nguyễn Văn An",  # identical
        "Nguyễn An",  # missing middle name
        "Nguyễn Văn Ann",  # one typo
        "An Nguyễn Văn",  # order swapped
        "Nguyễn Đức An",  # another middle name
        "Trần Văn An",  # another family name
        "Nguyễn Văn Bình",  # another given name
        "Lê Thị Hoa",  # nothing in common
    ]
    scores = [name_similarity(BASE, other) for other in ranked]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores)
    assert scores[-1] == 0.0


def test_conflicting_diacritics_lower_the_score() -> None:
    # Hương and Hường are different names; written without marks either could be meant.
    conflicting = name_similarity("Nguyễn Thị Hương", "Nguyễn Thị Hường")
    unmarked = name_similarity("Nguyễn Thị Hương", "Nguyen Thi Huong")
    assert unmarked == 1.0
    assert 0.85 <= conflicting < 0.95


def test_different_short_given_names_are_not_typos() -> None:
    # Hà / Hạnh share a prefix but are different names: below the matching gate.
    assert name_similarity("Nguyễn Thị Hà", "Nguyễn Thị Hạnh") < 0.85
    assert name_similarity("Nguyễn Văn An", "Nguyễn Văn Bình") == pytest.approx(0.5)


def test_similarity_is_symmetric_and_bounded() -> None:
    names = ["Nguyễn Văn An", "An", "Trần Thị Minh Hoa", "Hoa Trần", "Lê", ""]
    for a in names:
        for b in names:
            score = name_similarity(a, b)
            assert 0.0 <= score <= 1.0
            assert score == pytest.approx(name_similarity(b, a))


def test_empty_names_are_not_similar() -> None:
    assert name_similarity("", "") == 0.0
    assert name_similarity("Nguyễn Văn An", "  ") == 0.0
