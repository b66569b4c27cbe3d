"""Folding enrolment events into count deltas (no IO).

Every learner contributes +1 to exactly one (school, school year): the placement of the
newest revision records has published. A newer event retracts the old contribution and adds
the new one; an event no newer than what we hold changes nothing. So duplicates and any
delivery order end in the same counts as a recomputation from the final state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from shared.events.contracts.records import StudentEnrolled


@dataclass(frozen=True)
class Placement:
    revision: int
    school_id: str
    school_year: str
    grade: int
    sex: str | None

    @property
    def cell(self) -> tuple[str, str]:
        return (self.school_id, self.school_year)


@dataclass
class FoldResult:
    placements: dict[str, Placement]  # learners whose placement changed, with the new one
    deltas: Counter[tuple[str, str]]  # (school_id, school_year) -> change of the count


def fold_enrolments(current: dict[str, Placement], events: Iterable[StudentEnrolled]) -> FoldResult:
    state = dict(current)
    changed: dict[str, Placement] = {}
    deltas: Counter[tuple[str, str]] = Counter()
    for event in events:
        held = state.get(event.learner_id)
        if held is not None and held.revision >= event.revision:
            continue  # stale or duplicate
        new = Placement(event.revision, event.school_id, event.school_year, event.grade, event.sex)
        if held is not None:
            deltas[held.cell] -= 1
        deltas[new.cell] += 1
        state[event.learner_id] = new
        changed[event.learner_id] = new
    return FoldResult(changed, Counter({cell: d for cell, d in deltas.items() if d}))
