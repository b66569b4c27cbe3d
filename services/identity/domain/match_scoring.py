"""Scoring one pair of person records: a number in [0, 1], the reasons, and a decision.

The score adds up evidence points and clips the sum to [0, 1]. Default points
(:class:`EvidenceWeights`):

==========================  ========  ========================================================
evidence                    points    why
==========================  ========  ========================================================
name similar (s ≥ 0.85)     +0.40 × s s = :func:`names.name_similarity`
name differs (s < 0.85)     −0.20     twins share everything but the given name
same birth date             +0.30
birth date one slip away    +0.20     one digit wrong, two adjacent digits swapped, day and
                                      month swapped, or one day apart
different birth date        −0.30
same / different sex        ±0.05     sex is sometimes entered wrongly: weak evidence
same personal number        +0.50     both present; it is issued once per citizen
different personal number   −0.50     both present
same guardian               +0.15     guardian names similar ≥ 0.92; both present
different guardian          −0.10     sources record the father or the mother: only mildly
same / different birthplace ±0.05     free text of varying detail; one containing the other,
                                      word for word, counts as the same
==========================  ========  ========================================================

A missing value is neither evidence for nor against. Without personal numbers the best possible
score is 0.95, and the same name, birth date and sex alone give 0.75: in a million learners
thousands of different children share a common name and a birthday, so name and date alone are
only worth a review, never an automatic merge.

Decisions (:class:`MatchThresholds`): ``auto_merge`` when the personal numbers are equal and the
birth dates agree, or when the score is at least ``auto_merge`` (default 0.93, which needs a
same guardian or personal number on top of a near-perfect name and date); ``review`` when the
score is at least ``review`` (default 0.70) or the personal numbers are equal but the birth
dates are not; otherwise no candidate.
"""

from dataclasses import dataclass
from enum import StrEnum

from services.identity.domain.names import token_name_similarity
from services.identity.domain.person_record import PreparedRecord

DEFAULT_AUTO_MERGE_THRESHOLD = 0.93
DEFAULT_REVIEW_THRESHOLD = 0.70


class MatchDecision(StrEnum):
    AUTO_MERGE = "auto_merge"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class MatchThresholds:
    auto_merge: float = DEFAULT_AUTO_MERGE_THRESHOLD
    review: float = DEFAULT_REVIEW_THRESHOLD

    def __post_init__(self) -> None:
        if not 0.0 <= self.review <= self.auto_merge <= 1.0:
            raise ValueError("thresholds must satisfy 0 <= review <= auto_merge <= 1")


@dataclass(frozen=True, slots=True)
class EvidenceWeights:
    name_similar_max: float = 0.40
    name_similar_min: float = 0.85
    name_differs: float = -0.20
    same_birth_date: float = 0.30
    near_birth_date: float = 0.20
    different_birth_date: float = -0.30
    same_sex: float = 0.05
    different_sex: float = -0.05
    same_personal_number: float = 0.50
    different_personal_number: float = -0.50
    same_guardian: float = 0.15
    different_guardian: float = -0.10
    guardian_similar_min: float = 0.92
    same_birthplace: float = 0.05
    different_birthplace: float = -0.05


@dataclass(frozen=True, slots=True)
class MatchCandidate:
    """A pair worth acting on; ``a`` < ``b`` are record IDs."""

    a: str
    b: str
    score: float
    decision: MatchDecision
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PairScore:
    score: float
    reasons: tuple[str, ...]
    same_personal_number: bool
    same_birth_date: bool
    different_personal_number: bool


def score_pair(
    a: PreparedRecord,
    b: PreparedRecord,
    weights: EvidenceWeights = EvidenceWeights(),
    *,
    give_up_below: float | None = None,
) -> PairScore | None:
    """Score a pair. With ``give_up_below`` it returns None as soon as the score provably stays
    below that value and the personal numbers are not equal; the cheap comparisons run first,
    so most non-matching pairs never reach the name comparison."""
    points = 0.0
    reasons: list[str] = []

    same_number = different_number = False
    if a.personal_number is not None and b.personal_number is not None:
        same_number = a.personal_number == b.personal_number
        different_number = not same_number
        points += weights.same_personal_number if same_number else weights.different_personal_number
        reasons.append("same personal number" if same_number else "different personal number")

    same_date = a.birth_date_digits == b.birth_date_digits
    if same_date:
        points += weights.same_birth_date
        reasons.append("same birth date")
    elif _birth_dates_one_slip_apart(a, b):
        points += weights.near_birth_date
        reasons.append("birth date one typing slip apart")
    else:
        points += weights.different_birth_date
        reasons.append("different birth date")

    if a.record.sex is b.record.sex:
        points += weights.same_sex
        reasons.append("same sex")
    else:
        points += weights.different_sex
        reasons.append("different sex")

    if a.birthplace_words is not None and b.birthplace_words is not None:
        if _places_agree(a.birthplace_words, b.birthplace_words):
            points += weights.same_birthplace
            reasons.append("same birthplace")
        else:
            points += weights.different_birthplace
            reasons.append("different birthplace")

    both_have_guardian = a.guardian_tokens is not None and b.guardian_tokens is not None
    guardian_best = weights.same_guardian if both_have_guardian else 0.0
    if _hopeless(points + weights.name_similar_max + guardian_best, give_up_below, same_number):
        return None

    name = token_name_similarity(a.name_tokens, b.name_tokens)
    if name >= weights.name_similar_min:
        points += weights.name_similar_max * name
        reasons.append(f"name similar {name:.2f}")
    else:
        points += weights.name_differs
        reasons.append(f"name differs {name:.2f}")

    if _hopeless(points + guardian_best, give_up_below, same_number):
        return None

    if a.guardian_tokens is not None and b.guardian_tokens is not None:
        guardian = token_name_similarity(a.guardian_tokens, b.guardian_tokens)
        if guardian >= weights.guardian_similar_min:
            points += weights.same_guardian
            reasons.append("same guardian")
        else:
            points += weights.different_guardian
            reasons.append("different guardian")

    return PairScore(
        score=min(1.0, max(0.0, points)),
        reasons=tuple(reasons),
        same_personal_number=same_number,
        same_birth_date=same_date,
        different_personal_number=different_number,
    )


def _hopeless(best_possible: float, give_up_below: float | None, same_number: bool) -> bool:
    # Equal personal numbers always make a candidate, whatever the score.
    return give_up_below is not None and not same_number and best_possible < give_up_below


def decide(pair: PairScore, thresholds: MatchThresholds) -> MatchDecision | None:
    if pair.same_personal_number and pair.same_birth_date:
        return MatchDecision.AUTO_MERGE
    if pair.score >= thresholds.auto_merge and not pair.different_personal_number:
        return MatchDecision.AUTO_MERGE
    if pair.score >= thresholds.review or pair.same_personal_number:
        # Equal personal numbers with different birth dates: one record holds a mistyped date
        # or somebody else's number; a person has to look.
        return MatchDecision.REVIEW
    return None


def _birth_dates_one_slip_apart(a: PreparedRecord, b: PreparedRecord) -> bool:
    """One wrong or swapped digit in YYYYMMDD, day and month swapped, or one day apart (a
    birth around midnight, or a date counted from registration)."""
    if abs((a.record.birth_date - b.record.birth_date).days) == 1:
        return True
    x, y = a.birth_date_digits, b.birth_date_digits
    day_month_swapped = x[:4] == y[:4] and x[4:6] == y[6:8] and x[6:8] == y[4:6]
    return day_month_swapped or _one_keystroke_apart(x, y)


def _one_keystroke_apart(a: str, b: str) -> bool:
    # Equal-length digit strings: one edit is one differing digit or two adjacent digits
    # swapped (Damerau-Levenshtein distance 1 without the general algorithm's cost).
    differing = [position for position, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(differing) == 1:
        return True
    if len(differing) == 2 and differing[1] == differing[0] + 1:
        first = differing[0]
        return a[first] == b[first + 1] and a[first + 1] == b[first]
    return False


def _places_agree(a: str, b: str) -> bool:
    # Birthplaces are free text of varying detail ("Hải Phòng" vs "Bệnh viện Phụ sản Hải
    # Phòng"), so one containing the other, word for word, counts as agreement.
    shorter, longer = sorted((a, b), key=len)
    return f" {shorter} " in f" {longer} "
