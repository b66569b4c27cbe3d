"""Gradebook results: folding finalised terms and person merges into cells (pure: no IO).

What is remembered.  Every ``records.term.finalized`` received (a *finalisation*: one class, one
school year, one term, with every learner's results) and every learner's item of it (their
*figures*: the subject averages of scored subjects, the Đạt / Chưa đạt of comment subjects, the
learning-result level). Every person merge and unmerge received.

Which figures count.  A finalisation is ordered by (event time, event id), the CloudEvents time
being records' outbox time. Only the newest finalisation of a (school, class, school year,
term) is live: records republishing a class's term after a correction (same v1 contract)
retracts what the older one added and adds the new figures, whatever order the two arrive in.
A learner counts once per term and *slot* (a subject, or ``LEVEL_SLOT`` for the learning-result
level), under their person (the survivor of any merges): among the live figures of that
person's IDs for the slot, the one that counts is the first by

1. having a result (an average, a comment grade or a level: a learner finalised with the term
   forced while a subject was incomplete has the subject with no result),
2. being the person's own ID (a merge keeps the survivor's value where both records have one,
   as records does),
3. the newest finalisation (a learner who changed class during the term may be in two).

A counted figure stays with the school, class and grade of its finalisation.

What a counted figure adds.  A subject slot adds to the subject cell (school, class, grade,
school year, term, subject): a scored subject one learner to ``averaged``, the average in tenths
to ``sum_tenths`` (averages have one decimal, so the mean is exact: sum / averaged / 10) and
one to its band; a comment subject one to ``dat`` or ``chua_dat``; a subject with no result one
to ``no_result``. The level slot adds one learner to the level cell (school, class, grade,
school year, term) and one to the level (``no_level`` when there is none: forced
finalisations, and every primary item, since v1 ``LearnerTermResult`` has no field for the
Circular 27 subject levels).

The fold is given everything remembered about the IDs the batch touches and every ID linked to
them by merges (the consumer loads that component), computes the counted figures of those
persons before and after the batch with the same function ``counted_shares`` that
``recount`` applies to everything, and returns the difference of their cells. So duplicates,
any delivery order and any batch split end in the cells of a recount from scratch. Since the
retraction is recomputed rather than stored, a change of the rules in this module needs the
cells rebuilt from the memory (``recount``; ``results_store.rebuild_cells``).
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal, TypeVar

from shared.events.contracts.identity import PersonMerged, PersonUnmerged
from shared.events.contracts.records import TermFinalized

LEVEL_SLOT = ""  # the slot of the learning-result level (subject slots are subject codes)
LEVELS = ("tot", "kha", "dat", "chua_dat")  # Circular 22 Art. 9: Tốt, Khá, Đạt, Chưa đạt
COMMENT_GRADES = ("dat", "chua_dat")

# Bands of subject averages at the thresholds the Circular 22 levels use (3.5, 5.0, 6.5, 8.0;
# check, like records' LearningLevelThresholds): lower bound in tenths, inclusive.
AVERAGE_BANDS: tuple[tuple[str, int], ...] = (
    ("avg_below_3_5", 0),
    ("avg_3_5_to_5", 35),
    ("avg_5_to_6_5", 50),
    ("avg_6_5_to_8", 65),
    ("avg_8_plus", 80),
)
SUBJECT_COUNTERS = (
    "averaged",
    "sum_tenths",
    *(name for name, _ in AVERAGE_BANDS),
    *COMMENT_GRADES,
    "no_result",
)
LEVEL_COUNTERS = ("learners", *LEVELS, "no_level")

ClassTerm = tuple[str, str, str, int]  # (school_id, class_id, school_year, term: 1, 2, 0 = year)
Order = tuple[datetime, uuid.UUID]
# (school_id, class_id, grade, school_year, term, subject_code)
SubjectCellKey = tuple[str, str, int, str, int, str]
LevelCellKey = tuple[str, str, int, str, int]  # (school_id, class_id, grade, school_year, term)
ShareKey = tuple[str, str, int, str]  # (person_id, school_year, term, slot)
K = TypeVar("K")


def _aware(time: datetime) -> datetime:
    return time if time.tzinfo is not None else time.replace(tzinfo=UTC)


def tenths(average: float) -> int:
    """An average of one decimal in tenths (7.3 -> 73), rounding half up should an event carry
    more decimals than records publishes."""
    # floor(x + 0.5) with a guard against binary fractions just below .5 (6.45 * 10 = 64.4999..)
    return math.floor(average * 10 + 0.5 + 1e-9)


def average_band(average_tenths: int) -> str:
    name = AVERAGE_BANDS[0][0]
    for band, low in AVERAGE_BANDS:
        if average_tenths >= low:
            name = band
    return name


# --------------------------------------------------------------------------- memory


@dataclass(frozen=True, slots=True)
class Finalization:
    """A finalised class term as remembered (without the learners' figures)."""

    event_id: uuid.UUID
    event_time: datetime
    school_id: str
    class_id: str
    school_year: str
    term: int
    grade: int

    @property
    def order(self) -> Order:
        return (self.event_time, self.event_id)

    @property
    def class_term(self) -> ClassTerm:
        return (self.school_id, self.class_id, self.school_year, self.term)


@dataclass(frozen=True, slots=True)
class Figures:
    """One learner's item of one finalisation."""

    event_id: uuid.UUID
    learner_id: str
    averages: tuple[tuple[str, float | None], ...]  # sorted by subject code
    comments: tuple[tuple[str, str | None], ...]
    level: str | None

    @property
    def key(self) -> tuple[uuid.UUID, str]:
        return (self.event_id, self.learner_id)


@dataclass(frozen=True, slots=True)
class Merge:
    """A person merge as known: `undone` once its unmerge was received (even before it)."""

    merge_id: uuid.UUID
    survivor_id: str
    merged_id: str
    undone: bool


@dataclass(frozen=True, slots=True)
class Timed:
    """An event as the fold takes it: its id and CloudEvents time, and its data."""

    event_id: uuid.UUID
    time: datetime
    data: TermFinalized | PersonMerged | PersonUnmerged


@dataclass
class ResultsMemory:
    """What is remembered about a set of IDs (or everything, for a recount).

    `finalizations` must hold every finalisation of each class term that any of `figures`
    belongs to, so that the live one is known."""

    finalizations: dict[uuid.UUID, Finalization] = field(default_factory=dict)
    figures: dict[tuple[uuid.UUID, str], Figures] = field(default_factory=dict)
    merges: dict[uuid.UUID, Merge] = field(default_factory=dict)

    def copy(self) -> ResultsMemory:
        return ResultsMemory(dict(self.finalizations), dict(self.figures), dict(self.merges))


def finalization_of(event_id: uuid.UUID, time: datetime, event: TermFinalized) -> Finalization:
    return Finalization(
        event_id=event_id,
        event_time=_aware(time),
        school_id=event.school_id,
        class_id=event.class_id,
        school_year=event.school_year,
        term=event.semester,
        grade=event.grade,
    )


def figures_of(event_id: uuid.UUID, event: TermFinalized) -> list[Figures]:
    # A learner listed twice in one event: the last item wins (records never does this).
    items = {item.learner_id: item for item in event.results}
    return [
        Figures(
            event_id=event_id,
            learner_id=item.learner_id,
            averages=tuple(sorted(item.subject_averages.items())),
            comments=tuple(sorted(item.comment_grades.items())),
            level=item.learning_level,
        )
        for item in items.values()
    ]


# --------------------------------------------------------------------------- persons


def merge_links(merges: Iterable[Merge]) -> dict[str, str]:
    """retired ID -> survivor ID, for merges not undone. Should one ID have been merged twice
    without an unmerge (identity never does this), the larger merge id wins, for determinism."""
    links: dict[str, tuple[uuid.UUID, str]] = {}
    for m in merges:
        if m.undone or m.merged_id == m.survivor_id:
            continue
        held = links.get(m.merged_id)
        if held is None or held[0] < m.merge_id:
            links[m.merged_id] = (m.merge_id, m.survivor_id)
    return {retired: survivor for retired, (_, survivor) in links.items()}


def person_of(learner_id: str, links: Mapping[str, str]) -> str:
    """The ID a learner counts under: the end of the chain of merges. A cycle (never made by
    identity) resolves to its smallest ID."""
    seen = [learner_id]
    current = learner_id
    while current in links:
        current = links[current]
        if current in seen:
            return min(seen[seen.index(current) :])
        seen.append(current)
    return current


# --------------------------------------------------------------------------- shares


@dataclass(frozen=True, slots=True)
class Share:
    """What one counted figure adds: where, and the value (None: no result)."""

    school_id: str
    class_id: str
    grade: int
    scale: Literal["score", "comment", "level"]
    average_tenths: int | None = None
    value: str | None = None  # the comment grade or the level


def live_finalizations(finalizations: Mapping[uuid.UUID, Finalization]) -> set[uuid.UUID]:
    newest: dict[ClassTerm, Finalization] = {}
    for f in finalizations.values():
        held = newest.get(f.class_term)
        if held is None or held.order < f.order:
            newest[f.class_term] = f
    return {f.event_id for f in newest.values()}


def counted_shares(memory: ResultsMemory) -> dict[ShareKey, Share]:
    """Per person, term and slot, the share of the figure that counts (see the module doc)."""
    live = live_finalizations(memory.finalizations)
    links = merge_links(memory.merges.values())
    # (person, year, term, slot) -> (rank, share); the highest rank counts
    best: dict[ShareKey, tuple[tuple[bool, bool, Order, str], Share]] = {}

    def offer(
        key: ShareKey, has_value: bool, own: bool, f: Finalization, share: Share, learner: str
    ) -> None:
        # The learner id breaks the last tie (two retired ids of one person in one
        # finalisation), so the winner never depends on the order rows were loaded in.
        rank = (has_value, own, f.order, learner)
        held = best.get(key)
        if held is None or held[0] < rank:
            best[key] = (rank, share)

    for figures in memory.figures.values():
        if figures.event_id not in live:
            continue
        f = memory.finalizations[figures.event_id]
        person = person_of(figures.learner_id, links)
        own = person == figures.learner_id
        where = (f.school_id, f.class_id, f.grade)
        for subject, average in figures.averages:
            share = Share(
                *where, "score", average_tenths=None if average is None else tenths(average)
            )
            offer(
                (person, f.school_year, f.term, subject),
                average is not None,
                own,
                f,
                share,
                figures.learner_id,
            )
        for subject, comment in figures.comments:
            share = Share(*where, "comment", value=comment)
            offer(
                (person, f.school_year, f.term, subject),
                comment is not None,
                own,
                f,
                share,
                figures.learner_id,
            )
        level = Share(*where, "level", value=figures.level)
        offer(
            (person, f.school_year, f.term, LEVEL_SLOT),
            figures.level is not None,
            own,
            f,
            level,
            figures.learner_id,
        )
    return {key: share for key, (_, share) in best.items()}


# --------------------------------------------------------------------------- cells


@dataclass
class ResultCells:
    """Counts (or count deltas) per subject cell and per level cell."""

    subjects: dict[SubjectCellKey, Counter[str]] = field(default_factory=dict)
    levels: dict[LevelCellKey, Counter[str]] = field(default_factory=dict)

    def add(self, key: ShareKey, share: Share, sign: int = 1) -> None:
        _, school_year, term, slot = key
        where = (share.school_id, share.class_id, share.grade, school_year, term)
        if share.scale == "level":
            cell = self.levels.setdefault(where, Counter())
            cell["learners"] += sign
            cell[share.value or "no_level"] += sign
            return
        cell = self.subjects.setdefault((*where, slot), Counter())
        if share.scale == "score" and share.average_tenths is not None:
            cell["averaged"] += sign
            cell["sum_tenths"] += sign * share.average_tenths
            cell[average_band(share.average_tenths)] += sign
        elif share.scale == "comment" and share.value is not None:
            cell[share.value] += sign
        else:
            cell["no_result"] += sign

    def without_zeros(self) -> ResultCells:
        return ResultCells(_nonzero(self.subjects), _nonzero(self.levels))


def _nonzero(cells: Mapping[K, Counter[str]]) -> dict[K, Counter[str]]:
    kept: dict[K, Counter[str]] = {}
    for key, counts in cells.items():
        nonzero = Counter({c: n for c, n in counts.items() if n})
        if nonzero:
            kept[key] = nonzero
    return kept


def cells_of(shares: Mapping[ShareKey, Share]) -> ResultCells:
    cells = ResultCells()
    for key, share in shares.items():
        cells.add(key, share)
    return cells


def recount(memory: ResultsMemory) -> ResultCells:
    """The cells from scratch: what the maintained cells must equal."""
    return cells_of(counted_shares(memory)).without_zeros()


# --------------------------------------------------------------------------- fold


@dataclass
class ResultsFold:
    new_finalizations: list[Finalization]
    new_figures: list[Figures]
    merges: list[Merge]  # merges to save (new, or now undone)
    deltas: ResultCells


def apply_events(memory: ResultsMemory, events: Sequence[Timed]) -> ResultsFold:
    """Add the batch to `memory` (in place); what is new, with empty deltas."""
    fold = ResultsFold([], [], [], ResultCells())
    changed_merges: dict[uuid.UUID, Merge] = {}
    for event in events:
        data = event.data
        if isinstance(data, TermFinalized):
            if event.event_id in memory.finalizations:
                continue  # the same event again
            final = finalization_of(event.event_id, event.time, data)
            memory.finalizations[final.event_id] = final
            fold.new_finalizations.append(final)
            for figures in figures_of(event.event_id, data):
                memory.figures[figures.key] = figures
                fold.new_figures.append(figures)
            continue
        held = memory.merges.get(data.merge_id)
        undone = isinstance(data, PersonUnmerged)
        if held is None:
            merge = Merge(data.merge_id, data.survivor_id, data.merged_id, undone)
        elif undone and not held.undone:
            merge = replace(held, undone=True)
        else:
            continue  # a merge known already, or its unmerge seen first: nothing changes
        memory.merges[merge.merge_id] = merge
        changed_merges[merge.merge_id] = merge
    fold.merges = list(changed_merges.values())
    return fold


def fold_results(memory: ResultsMemory, events: Sequence[Timed]) -> ResultsFold:
    """Fold a batch into the memory of the IDs it touches (and their merge component): what to
    remember, and the cell deltas. `memory` is not changed."""
    before = counted_shares(memory)
    after_memory = memory.copy()
    fold = apply_events(after_memory, events)
    after = counted_shares(after_memory)
    deltas = ResultCells()
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is not None:
            deltas.add(key, old, -1)
        if new is not None:
            deltas.add(key, new, +1)
    fold.deltas = deltas.without_zeros()
    return fold


def touched_ids(events: Iterable[Timed]) -> set[str]:
    """IDs whose figures a batch may change (before the component is closed over merges)."""
    ids: set[str] = set()
    for event in events:
        data = event.data
        if isinstance(data, TermFinalized):
            ids.update(item.learner_id for item in data.results)
        else:
            ids.update((data.survivor_id, data.merged_id))
    return ids


def class_terms(events: Iterable[Timed]) -> set[ClassTerm]:
    """The class terms a batch finalises (their earlier finalisations' learners are touched)."""
    return {
        (e.data.school_id, e.data.class_id, e.data.school_year, e.data.semester)
        for e in events
        if isinstance(e.data, TermFinalized)
    }
