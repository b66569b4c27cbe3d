"""Folding lifecycle events into count deltas (no IO).

Every learner contributes +1 to exactly one (school, school year) while enrolled: the
placement of the newest revision records has published. Enrolments and transfers carry the
placement after the change; a leaver has none. A newer event retracts the old contribution and
adds the new one; an event no newer than what we hold changes nothing. So duplicates and any
delivery order end in the same counts as a recomputation from the final state.

What we hold is the learner's history (every lifecycle event received, by revision, kept for
"as of" figures): the placement the fold starts from is the one its newest event gives
(`placement_of`). It is not stored again: a table of current placements cost a row and two
index entries per enrolment, and its open interval in the history says the same.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from services.analytics.domain.census import UNKNOWN_SEX, HistoryEvent, learner_sex
from shared.events.contracts.records import StudentEnrolled, StudentLeft, StudentTransferred

LifecycleEvent = StudentEnrolled | StudentTransferred | StudentLeft


@dataclass(slots=True)  # a value; not frozen for speed (see census.HistoryEvent)
class Placement:
    """Where a learner stands at a revision; school_id None once they left."""

    revision: int
    school_id: str | None
    school_year: str
    grade: int
    sex: str | None

    @property
    def cell(self) -> tuple[str, str] | None:
        return (self.school_id, self.school_year) if self.school_id is not None else None


@dataclass
class FoldResult:
    placements: dict[str, Placement]  # learners whose placement changed, with the new one
    deltas: Counter[tuple[str, str]]  # (school_id, school_year) -> change of the count


def placement_after(event: LifecycleEvent, held: Placement | None) -> Placement:
    sex = held.sex if held is not None else None
    if isinstance(event, StudentEnrolled):
        return Placement(
            event.revision, event.school_id, event.school_year, event.grade, event.sex or sex
        )
    if isinstance(event, StudentTransferred):
        return Placement(event.revision, event.to_school_id, event.school_year, event.grade, sex)
    grade = held.grade if held is not None else 0
    return Placement(event.revision, None, event.school_year, grade, sex)


def placement_of(history: Iterable[HistoryEvent]) -> Placement | None:
    """Where a learner's held events place them: the newest revision's school (None once they
    left), school year and grade, with the sex the newest event naming one gives."""
    events = list(history)
    if not events:
        return None
    newest = max(events, key=lambda e: e.revision)
    sex = learner_sex(events)
    return Placement(
        newest.revision,
        newest.school_id,
        newest.school_year,
        newest.grade if newest.grade is not None else 0,
        None if sex == UNKNOWN_SEX else sex,
    )


def fold_enrolments(current: dict[str, Placement], events: Iterable[LifecycleEvent]) -> FoldResult:
    state = dict(current)
    changed: dict[str, Placement] = {}
    deltas: Counter[tuple[str, str]] = Counter()
    for event in events:
        held = state.get(event.learner_id)
        if held is not None and held.revision >= event.revision:
            continue  # stale or duplicate
        new = placement_after(event, held)
        if held is not None and held.cell is not None:
            deltas[held.cell] -= 1
        if new.cell is not None:
            deltas[new.cell] += 1
        state[event.learner_id] = new
        changed[event.learner_id] = new
    return FoldResult(changed, Counter({cell: d for cell, d in deltas.items() if d}))
