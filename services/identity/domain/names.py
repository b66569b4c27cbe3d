"""Vietnamese personal names: normalisation, parts and a similarity suited to them.

A Vietnamese full name is written family name first, then zero or more middle names, then the
given name (Nguyễn Thị Ánh: family Nguyễn, middle Thị, given Ánh). People are addressed and
filed by the given name, so it carries the most weight when comparing names.

The mismatches that national-database verification campaigns keep finding are diacritics
(typed without accents, a different tone mark), word order (given name written first), a
dropped middle name and single typing slips; :func:`name_similarity` tolerates each of them.
"""

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from services.identity.domain.string_similarity import damerau_levenshtein, jaro_winkler

# đ/Đ are separate letters, not d plus a combining mark, so NFD leaves them alone. ð/Ð (eth) and
# Ɖ/ɖ (African D) look identical and turn up when names are typed with the wrong keyboard.
_NON_DECOMPOSING_LETTERS = str.maketrans(
    {"đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ɖ": "d", "Ɖ": "D"}
)
# Apostrophes belong inside some minority names (H'Hen Niê), so they join, not split, a word.
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘ʼ`´"), None)

# Tone marks (huyền, sắc, ngã, hỏi, nặng). Vowel-quality marks (circumflex, breve, horn) are
# not listed: they change the letter (a, ă, â are different letters).
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")

FAMILY_WEIGHT = 0.3
MIDDLE_WEIGHT = 0.2  # shared by all middle names
GIVEN_WEIGHT = 0.5
# A middle name present on one side only barely counts: middle names are routinely dropped
# ("Nguyễn Ánh"). Two different middle names count in full (Nguyễn Văn An / Nguyễn Đức An).
UNMATCHED_MIDDLE_DISCOUNT = 0.25
# Below this token similarity two words are treated as different names rather than a typo.
TOKEN_MATCH_MIN = 0.8
# Same letters, both written with diacritics, but different ones (Hương / Hường): often really
# a different name, so less than a perfect match, yet the words still pair (≥ TOKEN_MATCH_MIN).
DIACRITIC_CONFLICT_SCORE = 0.8
# Floor for two words one keystroke apart (insert, delete, substitute or swap adjacent).
SINGLE_EDIT_SCORE = 0.85
# Words shorter than this that are two or more edits apart count as different words.
LONG_WORD_LENGTH = 5
# Same words in another order (given name first): almost certainly the same name.
ORDER_CHANGE_FACTOR = 0.95


@dataclass(frozen=True, slots=True)
class NameParts:
    family: str
    middle: tuple[str, ...]
    given: str


@dataclass(frozen=True, slots=True)
class NameToken:
    """One word of a name: ``plain`` without diacritics, ``marked`` a tone-order-free spelling
    with diacritics, or None when the word was typed without any (then it matches any marks)."""

    plain: str
    marked: str | None


def clean_name(text: str) -> str:
    """NFC, single spaces, no leading or trailing space; case and diacritics kept."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def normalise_name(text: str) -> str:
    """Lower case, no diacritics (đ → d), single spaces: ``"Nguyễn  Thị Ánh"`` → ``"nguyen thi
    anh"``. Works on precomposed (NFC) and decomposed (NFD) input alike; punctuation other than
    apostrophes becomes a space."""
    return " ".join(token.plain for token in tokenise_name(text))


def split_name(full_name: str) -> NameParts:
    """Family name first, given name last, anything between is middle.

    A one-word name is taken as a given name. Compound family names (Tôn Thất, Nguyễn Phúc)
    are not recognised: their second word lands in ``middle``, which costs little in matching.
    """
    words = clean_name(full_name).split()
    if not words:
        return NameParts(family="", middle=(), given="")
    if len(words) == 1:
        return NameParts(family="", middle=(), given=words[0])
    return NameParts(family=words[0], middle=tuple(words[1:-1]), given=words[-1])


def tokenise_name(full_name: str) -> tuple[NameToken, ...]:
    """The words of a name prepared for :func:`token_name_similarity` (compute once, reuse)."""
    return tuple(token for chunk in full_name.split() for token in _chunk_tokens(chunk))


@lru_cache(maxsize=1 << 16)
def _chunk_tokens(chunk: str) -> tuple[NameToken, ...]:
    # Cached per space-separated chunk: a province's names reuse a few thousand syllables, so
    # Unicode decomposition runs once per syllable instead of once per record.
    tokens = []
    for word in _words(chunk):
        plain = _plain_word(word)
        if plain:
            tokens.append(NameToken(plain=plain, marked=_marked_word(word, plain)))
    return tuple(tokens)


def name_similarity(a: str, b: str) -> float:
    """Similarity in [0, 1] of two full names; 1.0 means the same name."""
    return token_name_similarity(tokenise_name(a), tokenise_name(b))


def token_name_similarity(a: tuple[NameToken, ...], b: tuple[NameToken, ...]) -> float:
    """:func:`name_similarity` on pre-tokenised names.

    Words are paired greedily, best first; a pair counts with the average of the two words'
    role weights (family 0.3, middle 0.2 shared, given 0.5, rescaled for short names). Unpaired
    words count as zero with their own weight, discounted for a middle name that the other name
    simply lacks (every word of the other name is paired). The result is the
    weighted share of agreement, reduced a little when the paired words come in another order.
    """
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    weights_a = _role_weights(len(a))
    weights_b = _role_weights(len(b))
    pairs = _pair_tokens(a, b)
    paired_a = {i for i, _, _ in pairs}
    paired_b = {j for _, j, _ in pairs}
    agreement = sum(score * (weights_a[i] + weights_b[j]) for i, j, score in pairs)
    total = _weight_total(weights_a, paired_a, len(paired_b) == len(b)) + _weight_total(
        weights_b, paired_b, len(paired_a) == len(a)
    )
    similarity = agreement / total
    if _order_changed(pairs):
        similarity *= ORDER_CHANGE_FACTOR
    return similarity


def token_similarity(a: NameToken, b: NameToken) -> float:
    """Similarity of two words: 1.0 for the same word (unmarked matches any diacritics),
    DIACRITIC_CONFLICT_SCORE for conflicting diacritics, else Jaro-Winkler with the
    single-edit floor and the short-word rule."""
    if a.plain == b.plain:
        if a.marked is None or b.marked is None or a.marked == b.marked:
            return 1.0
        return DIACRITIC_CONFLICT_SCORE
    return _plain_similarity(a.plain, b.plain)


@lru_cache(maxsize=1 << 18)
def _plain_similarity(a: str, b: str) -> float:
    # Vietnamese names draw on a few thousand syllables, so a cache hits almost always.
    similarity = jaro_winkler(a, b)
    edits = damerau_levenshtein(a, b)
    if edits == 1:
        # Jaro-Winkler is harsh on two- and three-letter words ("an" / "na" scores 0), which
        # are common in Vietnamese; one slip of the keyboard is still one slip.
        return max(similarity, SINGLE_EDIT_SCORE)
    if min(len(a), len(b)) < LONG_WORD_LENGTH:
        # ...but generous to short words sharing a prefix: "ha" / "hanh" scores 0.91, and Hà
        # and Hạnh are two different names. Two slips in a short word are a different word.
        return 0.0
    return similarity


def _words(text: str) -> list[str]:
    # NFKD decomposes precomposed letters (and full-width forms), so decomposed and precomposed
    # input end up identical before marks are inspected.
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    spaced = "".join(
        char if char.isalnum() or unicodedata.combining(char) else " " for char in decomposed
    )
    return spaced.split()


def _plain_word(decomposed_word: str) -> str:
    stripped = "".join(char for char in decomposed_word if not unicodedata.combining(char))
    return stripped.translate(_NON_DECOMPOSING_LETTERS).casefold()


def _marked_word(decomposed_word: str, plain: str) -> str | None:
    lowered = decomposed_word.casefold()
    tones = "".join(sorted(char for char in lowered if char in _TONE_MARKS))
    # Tone marks may sit on either vowel (hoà / hòa), so they are kept as a sorted suffix.
    letters = "".join(char for char in lowered if char not in _TONE_MARKS)
    marked = unicodedata.normalize("NFC", letters) + "|" + tones
    return None if marked == plain + "|" else marked


def _role_weights(count: int) -> list[float]:
    if count == 1:
        return [1.0]
    if count == 2:
        total = FAMILY_WEIGHT + GIVEN_WEIGHT
        return [FAMILY_WEIGHT / total, GIVEN_WEIGHT / total]
    middle = MIDDLE_WEIGHT / (count - 2)
    return [FAMILY_WEIGHT, *([middle] * (count - 2)), GIVEN_WEIGHT]


def _is_middle(index: int, count: int) -> bool:
    return 0 < index < count - 1


def _weight_total(weights: list[float], paired: set[int], other_fully_paired: bool) -> float:
    total = 0.0
    for index, weight in enumerate(weights):
        missing_on_other_side = other_fully_paired and _is_middle(index, len(weights))
        if index in paired or not missing_on_other_side:
            total += weight
        else:
            total += weight * UNMATCHED_MIDDLE_DISCOUNT
    return total


def _pair_tokens(
    a: tuple[NameToken, ...], b: tuple[NameToken, ...]
) -> list[tuple[int, int, float]]:
    options = []
    for i, token_a in enumerate(a):
        for j, token_b in enumerate(b):
            score = token_similarity(token_a, token_b)
            if score >= TOKEN_MATCH_MIN:
                # Ties go to words at the same distance from the end (the given name anchors).
                offset = abs((len(a) - i) - (len(b) - j))
                options.append((-score, offset, i, j))
    options.sort()
    pairs: list[tuple[int, int, float]] = []
    used_a: set[int] = set()
    used_b: set[int] = set()
    for negative_score, _, i, j in options:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j, -negative_score))
    return pairs


def _order_changed(pairs: list[tuple[int, int, float]]) -> bool:
    in_order_of_a = [j for _, j, _ in sorted(pairs)]
    return any(later < earlier for earlier, later in pairwise(in_order_of_a))
