"""The import plan: which persons to create from the valid rows of both sources (pure).

Duplicate detection (:func:`find_duplicates`) runs over the rows of both exports together;
``auto_merge`` pairs are joined into clusters by :func:`build_merge_clusters`. Then:

- every cluster becomes one new person whose fields are the survivor's (the survivor rule of
  :mod:`merge_clusters`); birthplace and guardian, when the survivor lacks them, come from the
  next-ranked member that has them, so merging never loses information;
- every row outside a cluster becomes a person of its own;
- ``review`` pairs, and ``auto_merge`` pairs refused because they would join two different
  personal numbers, become review pairs between the two planned persons;
- a personal number can be held by one active person only (a unique index says so). When two
  planned persons still share one (same number, different birth dates: a review case), the
  best-ranked keeps it, the other is created without it, and the pair goes to review.

The plan names persons by the alias of their survivor row (``HP:12345``); sector IDs are only
allocated when the plan is loaded. The plan is deterministic for the same input files, which is
what makes a re-run after a crash skip exactly what was loaded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from services.identity.domain.match_scoring import score_pair
from services.identity.domain.matching import (
    MatchCandidate,
    MatchDecision,
    MatchResult,
    MatchThresholds,
    PersonRecord,
    build_merge_clusters,
    find_duplicates,
)
from services.identity.domain.merge_clusters import survivor_rank
from services.identity.domain.person_record import prepare_record
from services.identity.domain.sex import Sex
from services.identity.legacy.rows import LegacyRow, PersonKind

REFUSED_REASON = "automatic merge refused: it would join two different personal numbers"


@dataclass(frozen=True, slots=True)
class PlannedPerson:
    key: str  # alias of the survivor row, e.g. "HP:12345"
    aliases: tuple[str, ...]  # survivor first, then the rows merged into it (sorted)
    kind: PersonKind
    full_name: str
    birth_date: date
    sex: Sex
    personal_number: str | None
    birthplace: str | None
    guardian_name: str | None
    org_id: str
    withheld_personal_number: str | None = None  # kept by another planned person


@dataclass(frozen=True, slots=True)
class ReviewPair:
    """Two planned persons that may be one; ``person_a`` < ``person_b`` (plan keys)."""

    person_a: str
    person_b: str
    record_a: str  # the rows that matched, on the side of person_a and person_b
    record_b: str
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AutoMerge:
    """Evidence for one automatically merged pair of rows, kept for the report."""

    person: str
    record_a: str
    record_b: str
    score: float
    reasons: tuple[str, ...]


@dataclass(slots=True)
class PlanCounts:
    valid_rows: int = 0
    compared_pairs: int = 0
    auto_merge_pairs: int = 0
    review_candidates: int = 0
    refused_auto_merges: int = 0
    clusters: int = 0
    rows_merged: int = 0  # rows that became aliases of another row's person
    persons: int = 0
    review_pairs: int = 0
    personal_numbers_withheld: int = 0


@dataclass(slots=True)
class ImportPlan:
    persons: list[PlannedPerson]
    review_pairs: list[ReviewPair]
    auto_merges: list[AutoMerge]
    rows_by_alias: dict[str, LegacyRow]
    counts: PlanCounts = field(default_factory=PlanCounts)


def person_record(row: LegacyRow) -> PersonRecord:
    """The matching view of a row; its alias is the record ID, unique across both sources."""
    return PersonRecord(
        record_id=row.alias,
        full_name=row.full_name,
        birth_date=row.birth_date,
        sex=row.sex,
        personal_number=row.personal_number,
        birthplace=row.birthplace,
        guardian_name=row.guardian_name,
        source=row.source,
    )


def score_records(a: PersonRecord, b: PersonRecord) -> tuple[float, tuple[str, ...]]:
    """Score and reasons of one pair, for pairs that matching did not produce itself."""
    pair = score_pair(prepare_record(a), prepare_record(b))
    assert pair is not None  # score_pair only gives up when asked to
    return round(pair.score, 4), pair.reasons


def match_rows(
    rows: Sequence[LegacyRow],
    *,
    thresholds: MatchThresholds = MatchThresholds(),
    track: Callable[[Iterable[PersonRecord]], Iterable[PersonRecord]] | None = None,
) -> MatchResult:
    """Duplicate candidates among the rows of all sources; ``track`` may wrap the records in
    a progress bar (it sees them while they are prepared, before pairs are scored)."""
    records: Iterable[PersonRecord] = (person_record(row) for row in rows)
    return find_duplicates(track(records) if track else records, thresholds=thresholds)


def build_plan(rows: Sequence[LegacyRow], match: MatchResult) -> ImportPlan:
    rows_by_alias = {row.alias: row for row in rows}
    auto_pairs = [c for c in match.candidates if c.decision is MatchDecision.AUTO_MERGE]
    # Clustering only looks at rows named in automatic-merge pairs: a few percent of a million.
    in_pairs = {alias for c in auto_pairs for alias in (c.a, c.b)}
    clustering = build_merge_clusters(
        (person_record(rows_by_alias[alias]) for alias in sorted(in_pairs)), auto_pairs
    )
    members_of = {c.survivor_id: (c.survivor_id, *c.merged_ids) for c in clustering.clusters}
    merged_away = {merged for c in clustering.clusters for merged in c.merged_ids}

    persons: list[PlannedPerson] = []
    for row in rows:  # file order, so batches follow the exports
        if row.alias in merged_away:
            continue
        members = members_of.get(row.alias)
        if members is None:
            persons.append(_single_person(row))
        else:
            persons.append(_merged_person([rows_by_alias[alias] for alias in members]))
    persons, withheld_pairs = _one_holder_per_personal_number(persons, rows_by_alias)

    person_of = {alias: person.key for person in persons for alias in person.aliases}
    refused = {(c.a, c.b) for c in clustering.refused}
    review_pairs = _review_pairs(
        [c for c in match.candidates if c.decision is MatchDecision.REVIEW],
        clustering.refused,
        withheld_pairs,
        person_of,
    )
    auto_merges = [
        AutoMerge(person_of[c.a], c.a, c.b, c.score, c.reasons)
        for c in auto_pairs
        if (c.a, c.b) not in refused
    ]
    counts = PlanCounts(
        valid_rows=len(rows),
        compared_pairs=match.stats.compared_pairs,
        auto_merge_pairs=len(auto_pairs),
        review_candidates=sum(c.decision is MatchDecision.REVIEW for c in match.candidates),
        refused_auto_merges=len(clustering.refused),
        clusters=len(clustering.clusters),
        rows_merged=len(merged_away),
        persons=len(persons),
        review_pairs=len(review_pairs),
        personal_numbers_withheld=sum(p.withheld_personal_number is not None for p in persons),
    )
    return ImportPlan(persons, review_pairs, auto_merges, rows_by_alias, counts)


def _single_person(row: LegacyRow) -> PlannedPerson:
    return PlannedPerson(
        key=row.alias,
        aliases=(row.alias,),
        kind=row.kind,
        full_name=row.full_name,
        birth_date=row.birth_date,
        sex=row.sex,
        personal_number=row.personal_number,
        birthplace=row.birthplace,
        guardian_name=row.guardian_name,
        org_id=row.org_id,
    )


def _merged_person(members: list[LegacyRow]) -> PlannedPerson:
    """One person from a cluster; ``members`` start with the survivor."""
    survivor = members[0]
    # Optional fields the survivor lacks come from the best-ranked member that has them.
    ranked = sorted(members, key=lambda row: survivor_rank(person_record(row)))
    return PlannedPerson(
        key=survivor.alias,
        aliases=tuple(row.alias for row in members),
        kind=survivor.kind,
        full_name=survivor.full_name,
        birth_date=survivor.birth_date,
        sex=survivor.sex,
        personal_number=survivor.personal_number,
        birthplace=next((r.birthplace for r in ranked if r.birthplace), None),
        guardian_name=next((r.guardian_name for r in ranked if r.guardian_name), None),
        org_id=survivor.org_id,
    )


def _one_holder_per_personal_number(
    persons: list[PlannedPerson], rows_by_alias: dict[str, LegacyRow]
) -> tuple[list[PlannedPerson], list[ReviewPair]]:
    """Withhold a number shared by several planned persons from all but the best-ranked one."""
    holders: defaultdict[str, list[int]] = defaultdict(list)
    for index, person in enumerate(persons):
        if person.personal_number is not None:
            holders[person.personal_number].append(index)
    pairs: list[ReviewPair] = []
    for number, indexes in holders.items():
        if len(indexes) < 2:
            continue
        records = {i: person_record(rows_by_alias[persons[i].key]) for i in indexes}
        keeper, *others = sorted(indexes, key=lambda i: survivor_rank(records[i]))
        for index in others:
            person = persons[index]
            persons[index] = _without_number(person, number)
            keeper_key = persons[keeper].key
            score, reasons = score_records(records[keeper], records[index])
            pairs.append(
                _ordered_pair(
                    keeper_key,
                    person.key,
                    keeper_key,
                    person.key,
                    score,
                    (
                        *reasons,
                        f"personal number {number} kept on {keeper_key}, "
                        f"withheld from {person.key}",
                    ),
                )
            )
    return persons, pairs


def _without_number(person: PlannedPerson, number: str) -> PlannedPerson:
    return PlannedPerson(
        key=person.key,
        aliases=person.aliases,
        kind=person.kind,
        full_name=person.full_name,
        birth_date=person.birth_date,
        sex=person.sex,
        personal_number=None,
        birthplace=person.birthplace,
        guardian_name=person.guardian_name,
        org_id=person.org_id,
        withheld_personal_number=number,
    )


def _review_pairs(
    review: list[MatchCandidate],
    refused: list[MatchCandidate],
    withheld: list[ReviewPair],
    person_of: dict[str, str],
) -> list[ReviewPair]:
    """One pair per two planned persons: the best score, every distinct reason."""
    found: dict[tuple[str, str], ReviewPair] = {}

    def add(pair: ReviewPair) -> None:
        key = (pair.person_a, pair.person_b)
        earlier = found.get(key)
        if earlier is None:
            found[key] = pair
            return
        best, other = (pair, earlier) if pair.score > earlier.score else (earlier, pair)
        reasons = tuple(dict.fromkeys((*best.reasons, *other.reasons)))
        found[key] = ReviewPair(
            best.person_a, best.person_b, best.record_a, best.record_b, best.score, reasons
        )

    for candidate, note in [(c, None) for c in review] + [(c, REFUSED_REASON) for c in refused]:
        person_a, person_b = person_of[candidate.a], person_of[candidate.b]
        if person_a == person_b:
            continue  # both rows already ended up in one person through other pairs
        reasons = candidate.reasons if note is None else (*candidate.reasons, note)
        add(
            _ordered_pair(
                person_a, person_b, candidate.a, candidate.b, candidate.score, tuple(reasons)
            )
        )
    for pair in withheld:
        add(pair)
    return sorted(found.values(), key=lambda p: (-p.score, p.person_a, p.person_b))


def _ordered_pair(
    person_a: str,
    person_b: str,
    record_a: str,
    record_b: str,
    score: float,
    reasons: tuple[str, ...],
) -> ReviewPair:
    if person_b < person_a:
        person_a, person_b, record_a, record_b = person_b, person_a, record_b, record_a
    return ReviewPair(person_a, person_b, record_a, record_b, score, reasons)
