"""The learner lifecycle as a pure state machine (grades 1 to 12).

A learner record has one lifelong identity in the sector; this machine tracks where the
learner stands in it: enrolled in a class, between classes after a year rollover (promoted or
repeating), in transit between schools, graduated, or gone. Each transition is a function that
returns a new record or raises InvalidTransition naming the learner, the state and the move.

The learner holds at most one class at a time by construction: only ENROLLED records carry a
placement, and enrolling an ENROLLED learner is refused (move_class or transfer instead).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

FIRST_GRADE = 1
LAST_GRADE = 12
# Last grade of each school level (General Education Law: primary 1-5, lower secondary 6-9,
# upper secondary 10-12).
LAST_PRIMARY_GRADE = 5
LAST_LOWER_SECONDARY_GRADE = 9

_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")


def school_year_start(school_year: str) -> int:
    match = _SCHOOL_YEAR.match(school_year)
    if not match or int(match[2]) != int(match[1]) + 1:
        raise ValueError(f"school year {school_year!r} is not of the form 2024-2025")
    return int(match[1])


def next_school_year(school_year: str) -> str:
    start = school_year_start(school_year) + 1
    return f"{start}-{start + 1}"


class LearnerState(StrEnum):
    ENROLLED = "enrolled"
    TRANSFERRED_OUT = "transferred_out"  # left a school for another, not yet enrolled there
    REPEATED = "repeated"  # held back at rollover, waiting for a class of the same grade
    PROMOTED = "promoted"  # moved up at rollover, waiting for a class of the next grade
    GRADUATED = "graduated"
    LEFT = "left"  # left schooling (dropped out, moved abroad, ...); may come back


class Transition(StrEnum):
    ENROL = "enrol"
    MOVE_CLASS = "move_class"
    TRANSFER = "transfer"
    REPEAT = "repeat"
    PROMOTE = "promote"
    GRADUATE = "graduate"
    LEAVE = "leave"


class SchoolLevel(StrEnum):
    PRIMARY = "primary"
    LOWER_SECONDARY = "lower_secondary"
    UPPER_SECONDARY = "upper_secondary"


@dataclass(frozen=True)
class ClassPlacement:
    school_id: str
    commune_code: str
    class_id: str
    grade: int
    school_year: str

    def __post_init__(self) -> None:
        if not FIRST_GRADE <= self.grade <= LAST_GRADE:
            raise ValueError(f"grade {self.grade} is outside {FIRST_GRADE}–{LAST_GRADE}")
        school_year_start(self.school_year)


@dataclass(frozen=True)
class TransferDestination:
    school_id: str
    # None when the receiving school is outside the province and its commune is not ours.
    commune_code: str | None


@dataclass(frozen=True)
class LearnerRecord:
    learner_id: str
    state: LearnerState
    # The grade the learner is in, or will be placed in next.
    grade: int
    # The single current class; set exactly when ENROLLED.
    placement: ClassPlacement | None
    # The class most recently held, kept after leaving it (for "from where" questions).
    last_placement: ClassPlacement
    # Earliest school year the next enrolment may be in (None while enrolled).
    awaiting_school_year: str | None = None
    transfer_to: TransferDestination | None = None
    # Set by promotion out of grade 5 or 9 (and 12): the learner finished a school level.
    completed_level: SchoolLevel | None = None

    def __post_init__(self) -> None:
        enrolled = self.state is LearnerState.ENROLLED
        if enrolled != (self.placement is not None):
            raise ValueError(
                f"learner {self.learner_id}: a placement is required exactly when enrolled"
            )
        if self.placement is not None and self.placement.grade != self.grade:
            raise ValueError(f"learner {self.learner_id}: placement grade differs from grade")

    @property
    def transfer_crosses_commune(self) -> bool:
        if self.transfer_to is None:
            return False
        return self.transfer_to.commune_code != self.last_placement.commune_code


class InvalidTransition(ValueError):
    def __init__(
        self, learner_id: str, state: LearnerState, transition: Transition, reason: str
    ) -> None:
        self.learner_id = learner_id
        self.state = state
        self.transition = transition
        self.reason = reason
        super().__init__(
            f"learner {learner_id} is {state.value}; cannot {transition.value}: {reason}"
        )


def _refuse(record: LearnerRecord, transition: Transition, reason: str) -> InvalidTransition:
    return InvalidTransition(record.learner_id, record.state, transition, reason)


def _require_state(
    record: LearnerRecord, transition: Transition, allowed: tuple[LearnerState, ...]
) -> None:
    if record.state not in allowed:
        names = ", ".join(state.value for state in allowed)
        raise _refuse(record, transition, f"only allowed from {names}")


# --- entering and moving ----------------------------------------------------------------------


def enrol_new(learner_id: str, placement: ClassPlacement) -> LearnerRecord:
    """First entry of a learner into the sector's records."""
    return LearnerRecord(
        learner_id=learner_id,
        state=LearnerState.ENROLLED,
        grade=placement.grade,
        placement=placement,
        last_placement=placement,
    )


def enrol(record: LearnerRecord, placement: ClassPlacement) -> LearnerRecord:
    """Place a learner who holds no class into one."""
    transition = Transition.ENROL
    if record.state is LearnerState.ENROLLED:
        assert record.placement is not None
        raise _refuse(
            record,
            transition,
            f"already in class {record.placement.class_id} at school "
            f"{record.placement.school_id}; a learner is in at most one class at a time",
        )
    _require_state(
        record,
        transition,
        (
            LearnerState.PROMOTED,
            LearnerState.REPEATED,
            LearnerState.TRANSFERRED_OUT,
            LearnerState.LEFT,
        ),
    )
    # A learner coming back after leaving may resume at any grade the school decides.
    if record.state is not LearnerState.LEFT and placement.grade != record.grade:
        raise _refuse(
            record,
            transition,
            f"class is grade {placement.grade}, learner is due grade {record.grade}",
        )
    if record.awaiting_school_year is not None and school_year_start(
        placement.school_year
    ) < school_year_start(record.awaiting_school_year):
        raise _refuse(
            record,
            transition,
            f"class is in {placement.school_year}, before {record.awaiting_school_year}",
        )
    if record.transfer_to is not None and placement.school_id != record.transfer_to.school_id:
        raise _refuse(
            record,
            transition,
            f"transferred to school {record.transfer_to.school_id}, not {placement.school_id}",
        )
    return LearnerRecord(
        learner_id=record.learner_id,
        state=LearnerState.ENROLLED,
        grade=placement.grade,
        placement=placement,
        last_placement=placement,
    )


def move_class(record: LearnerRecord, placement: ClassPlacement) -> LearnerRecord:
    """Change class within the same school, grade and school year."""
    transition = Transition.MOVE_CLASS
    _require_state(record, transition, (LearnerState.ENROLLED,))
    current = record.placement
    assert current is not None
    if (placement.school_id, placement.grade, placement.school_year) != (
        current.school_id,
        current.grade,
        current.school_year,
    ):
        raise _refuse(
            record, transition, "the new class must be in the same school, grade and year"
        )
    if placement.class_id == current.class_id:
        raise _refuse(record, transition, f"already in class {current.class_id}")
    return replace(record, placement=placement, last_placement=placement)


def transfer(record: LearnerRecord, destination: TransferDestination) -> LearnerRecord:
    """Leave the current school for another one, possibly in another commune or province."""
    transition = Transition.TRANSFER
    _require_state(
        record,
        transition,
        (LearnerState.ENROLLED, LearnerState.PROMOTED, LearnerState.REPEATED),
    )
    if destination.school_id == record.last_placement.school_id:
        raise _refuse(
            record, transition, f"already at school {destination.school_id}; use move_class"
        )
    # Mid-year transfers continue the same school year; after rollover the wait carries over.
    awaiting = record.awaiting_school_year or record.last_placement.school_year
    return replace(
        record,
        state=LearnerState.TRANSFERRED_OUT,
        placement=None,
        awaiting_school_year=awaiting,
        transfer_to=destination,
    )


# --- year rollover ----------------------------------------------------------------------------


def _require_closing_year(
    record: LearnerRecord, transition: Transition, closing_school_year: str
) -> None:
    assert record.placement is not None
    if record.placement.school_year != closing_school_year:
        raise _refuse(
            record,
            transition,
            f"learner's class is in {record.placement.school_year}, not the closing year "
            f"{closing_school_year}",
        )


def repeat_grade(record: LearnerRecord, closing_school_year: str) -> LearnerRecord:
    transition = Transition.REPEAT
    _require_state(record, transition, (LearnerState.ENROLLED,))
    _require_closing_year(record, transition, closing_school_year)
    return replace(
        record,
        state=LearnerState.REPEATED,
        placement=None,
        awaiting_school_year=next_school_year(closing_school_year),
    )


def _graduated(record: LearnerRecord) -> LearnerRecord:
    return replace(
        record,
        state=LearnerState.GRADUATED,
        placement=None,
        completed_level=SchoolLevel.UPPER_SECONDARY,
    )


def promote(record: LearnerRecord, closing_school_year: str) -> LearnerRecord:
    """Move up a grade at rollover; grade 12 graduates, grades 5 and 9 finish a level."""
    transition = Transition.PROMOTE
    _require_state(record, transition, (LearnerState.ENROLLED,))
    _require_closing_year(record, transition, closing_school_year)
    if record.grade == LAST_GRADE:
        return _graduated(record)
    completed = {
        LAST_PRIMARY_GRADE: SchoolLevel.PRIMARY,
        LAST_LOWER_SECONDARY_GRADE: SchoolLevel.LOWER_SECONDARY,
    }.get(record.grade)
    return replace(
        record,
        state=LearnerState.PROMOTED,
        grade=record.grade + 1,
        placement=None,
        awaiting_school_year=next_school_year(closing_school_year),
        completed_level=completed,
    )


def graduate(record: LearnerRecord, closing_school_year: str) -> LearnerRecord:
    """Graduate from upper secondary: only a grade 12 learner in the closing year."""
    transition = Transition.GRADUATE
    _require_state(record, transition, (LearnerState.ENROLLED,))
    if record.grade != LAST_GRADE:
        raise _refuse(record, transition, f"learner is in grade {record.grade}, not 12")
    _require_closing_year(record, transition, closing_school_year)
    return _graduated(record)


# --- leaving ----------------------------------------------------------------------------------


def leave(record: LearnerRecord, reason: str) -> LearnerRecord:
    transition = Transition.LEAVE
    _require_state(
        record,
        transition,
        (
            LearnerState.ENROLLED,
            LearnerState.PROMOTED,
            LearnerState.REPEATED,
            LearnerState.TRANSFERRED_OUT,
        ),
    )
    if not reason.strip():
        raise _refuse(record, transition, "a reason is required")
    # A returning learner may enrol in any later year, so keep the year they left in.
    awaiting = record.awaiting_school_year or record.last_placement.school_year
    return replace(
        record,
        state=LearnerState.LEFT,
        placement=None,
        awaiting_school_year=awaiting,
        transfer_to=None,
    )


# --- rosters ----------------------------------------------------------------------------------


def conflicting_enrolments(
    placements: Iterable[tuple[str, ClassPlacement]],
) -> dict[str, list[ClassPlacement]]:
    """Learners placed in more than one class of the same school year (e.g. in an import).

    The state machine prevents this for one record; bulk imports from school software need
    the same rule checked across rows before anything is applied.
    """
    by_learner_year: dict[tuple[str, str], list[ClassPlacement]] = defaultdict(list)
    for learner_id, placement in placements:
        by_learner_year[(learner_id, placement.school_year)].append(placement)
    conflicts: dict[str, list[ClassPlacement]] = {}
    for (learner_id, _year), found in by_learner_year.items():
        distinct = list(dict.fromkeys(found))
        if len(distinct) > 1:
            conflicts.setdefault(learner_id, []).extend(distinct)
    return conflicts
