"""Enrolment on a date ("as of"), and frozen census figures (no IO).

Every lifecycle event records says "from `effective_on` (enrolled_on, transferred_on, left_on)
the learner's placement is P" (a leaver has none), at the learner's revision. On a date D the
learner stands where the NEWEST REVISION among the events effective on or before D puts them.
So a transfer recorded late but dated back moves the learner from its date on; an older
revision never overrides a newer one (the records state after revision r is what revision r
says); and the result is the same whatever order the events arrive in, and equals the live
count (newest revision wins) for any date on or after the last effective date.

Placement intervals are that rule written out per learner: event i holds on
[effective_on_i, min effective_on of every newer revision), or nowhere when that is empty.

Person merges: identity may later find that two learner IDs are one child. Records then ends
the retired ID's placement on the merge day and may re-place the survivor from the retired
record's enrolment date, so both IDs cover the days before the merge. On a date, a merged
child counts once: under the survivor's own placement if it has one that day, else under the
placement of the merged ID that started last (ties: the smallest ID). An undone merge stops
joining the two.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from shared.events.contracts.records import StudentEnrolled, StudentLeft, StudentTransferred

UNKNOWN_SEX = "unknown"
# As the org-tree queries: a loop in bad data cannot hang a fold or a query.
MAX_MERGE_CHAIN = 16
MAX_TREE_DEPTH = 16

LifecycleEvent = StudentEnrolled | StudentTransferred | StudentLeft
# (school_id, school_year, grade, sex) -> learners
SchoolCell = tuple[str, str, int, str]
# (school_year, grade, sex) of one unit
UnitCell = tuple[str, int, str]


# HistoryEvent and Interval are values (nothing changes one once built), built for every
# event on the consumer's path: not frozen, since a frozen dataclass sets each field through
# object.__setattr__, at about three times the cost.
@dataclass(slots=True)
class HistoryEvent:
    """What the history keeps of one lifecycle event."""

    learner_id: str
    revision: int
    event_type: str
    effective_on: date
    school_id: str | None  # None: the learner left
    school_year: str
    grade: int | None
    sex: str | None


@dataclass(slots=True)
class Interval:
    """One placement of a learner and the dates it holds: [valid_from, valid_to)."""

    learner_id: str
    revision: int
    school_id: str
    school_year: str
    grade: int
    sex: str
    valid_from: date
    valid_to: date | None  # None: still holds

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class Merge:
    merge_id: str
    survivor_id: str
    merged_id: str
    undone: bool = False


def history_event(event: LifecycleEvent) -> HistoryEvent:
    if isinstance(event, StudentEnrolled):
        return HistoryEvent(
            event.learner_id,
            event.revision,
            event.EVENT_TYPE,
            event.enrolled_on,
            event.school_id,
            event.school_year,
            event.grade,
            event.sex,
        )
    if isinstance(event, StudentTransferred):
        return HistoryEvent(
            event.learner_id,
            event.revision,
            event.EVENT_TYPE,
            event.transferred_on,
            event.to_school_id,
            event.school_year,
            event.grade,
            None,
        )
    return HistoryEvent(
        event.learner_id,
        event.revision,
        event.EVENT_TYPE,
        event.left_on,
        None,
        event.school_year,
        None,
        None,
    )


def learner_sex(events: Iterable[HistoryEvent]) -> str:
    """The sex the newest event that names one gives (transfers and leavers name none)."""
    named = [e for e in events if e.sex is not None]
    if not named:
        return UNKNOWN_SEX
    return max(named, key=lambda e: e.revision).sex or UNKNOWN_SEX


def placement_intervals(events: Iterable[HistoryEvent]) -> list[Interval]:
    """The intervals of ONE learner's events (duplicates by revision are ignored), oldest
    first."""
    by_revision = {e.revision: e for e in events}
    sex = learner_sex(by_revision.values())
    intervals: list[Interval] = []
    cutoff: date | None = None  # earliest effective date of every newer revision
    for revision in sorted(by_revision, reverse=True):
        event = by_revision[revision]
        if cutoff is None or event.effective_on < cutoff:
            if event.school_id is not None:
                intervals.append(
                    Interval(
                        event.learner_id,
                        revision,
                        event.school_id,
                        event.school_year,
                        event.grade if event.grade is not None else 0,
                        sex,
                        event.effective_on,
                        cutoff,
                    )
                )
            cutoff = event.effective_on
    return sorted(intervals, key=lambda i: (i.valid_from, i.revision))


def persons(merges: Iterable[Merge]) -> dict[str, str]:
    """learner_id -> the survivor it now belongs to, following chains (A into B, B into C),
    for every learner ID that an active merge retired."""
    survivor_of: dict[str, str] = {}
    for merge in sorted(merges, key=lambda m: (m.merged_id, m.survivor_id)):
        if not merge.undone:
            survivor_of.setdefault(merge.merged_id, merge.survivor_id)
    resolved: dict[str, str] = {}
    for learner in survivor_of:
        person = survivor_of[learner]
        for _ in range(MAX_MERGE_CHAIN - 1):
            if person not in survivor_of:
                break
            person = survivor_of[person]
        resolved[learner] = person
    return resolved


def headcount_on(
    intervals: Iterable[Interval], merges: Iterable[Merge], day: date
) -> Counter[SchoolCell]:
    """Learners per (school, school year, grade, sex) on `day`, each child once."""
    person_of = persons(merges)
    chosen: dict[str, tuple[tuple[bool, int, str], Interval]] = {}
    for interval in intervals:
        if not interval.covers(day):
            continue
        person = person_of.get(interval.learner_id, interval.learner_id)
        # The survivor's own placement first, then the latest start, then the smallest ID.
        rank = (
            interval.learner_id != person,
            -interval.valid_from.toordinal(),
            interval.learner_id,
        )
        if person not in chosen or rank < chosen[person][0]:
            chosen[person] = (rank, interval)
    return Counter((i.school_id, i.school_year, i.grade, i.sex) for _, i in chosen.values())


@dataclass(frozen=True)
class Unit:
    org_id: str
    kind: str
    name: str
    parent_id: str | None


def roll_up(
    cells: Mapping[SchoolCell, int], units: Sequence[Unit], root: str
) -> dict[str, Counter[UnitCell]]:
    """Figures of every unit at or below `root`: a school's cells count for the school and
    each unit above it up to `root`. Schools not under `root` are left out; every unit under
    `root` gets an entry, empty when nobody is enrolled there."""
    parent = {u.org_id: u.parent_id for u in units}
    figures: dict[str, Counter[UnitCell]] = {u.org_id: Counter() for u in units}
    for (school, year, grade, sex), count in cells.items():
        chain: list[str] = []
        unit: str | None = school
        while unit is not None and unit in parent and len(chain) <= MAX_TREE_DEPTH:
            chain.append(unit)
            if unit == root:
                break
            unit = parent[unit]
        if not chain or chain[-1] != root:
            continue  # not under the root
        for org_id in chain:
            figures[org_id][(year, grade, sex)] += count
    return figures


@dataclass(frozen=True)
class Correction:
    org_id: str
    school_year: str
    grade: int
    sex: str
    frozen: int
    recomputed: int

    @property
    def delta(self) -> int:
        return self.recomputed - self.frozen


def corrections(
    frozen: Mapping[str, Mapping[UnitCell, int]], recomputed: Mapping[str, Mapping[UnitCell, int]]
) -> list[Correction]:
    """Every cell of every unit where today's recompute differs from the frozen figure
    (late, back-dated events; merges found since; and moves of schools in the tree)."""
    found: list[Correction] = []
    for org_id in sorted(set(frozen) | set(recomputed)):
        before, now = frozen.get(org_id, {}), recomputed.get(org_id, {})
        for cell in sorted(set(before) | set(now)):
            if before.get(cell, 0) != now.get(cell, 0):
                year, grade, sex = cell
                found.append(
                    Correction(org_id, year, grade, sex, before.get(cell, 0), now.get(cell, 0))
                )
    return found
