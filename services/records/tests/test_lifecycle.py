"""Learner lifecycle state machine: every transition, valid and invalid."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.records.domain.lifecycle import (
    ClassPlacement,
    InvalidTransition,
    LearnerRecord,
    LearnerState,
    SchoolLevel,
    TransferDestination,
    Transition,
    conflicting_enrolments,
    enrol,
    enrol_new,
    graduate,
    leave,
    move_class,
    next_school_year,
    promote,
    repeat_grade,
    transfer,
)

YEAR = "2024-2025"
NEXT = "2025-2026"


def _class(
    grade: int = 3,
    class_id: str = "3A",
    school_id: str = "TH-LE-LOI",
    commune_code: str = "11311",
    school_year: str = YEAR,
) -> ClassPlacement:
    return ClassPlacement(
        school_id=school_id,
        commune_code=commune_code,
        class_id=class_id,
        grade=grade,
        school_year=school_year,
    )


def _enrolled(grade: int = 3) -> LearnerRecord:
    return enrol_new("L-001", _class(grade=grade, class_id=f"{grade}A"))


OTHER_SCHOOL = TransferDestination(school_id="TH-TRAN-PHU", commune_code="11311")
OTHER_COMMUNE = TransferDestination(school_id="TH-KIEN-AN", commune_code="11680")
OUT_OF_PROVINCE = TransferDestination(school_id="HN-0001", commune_code=None)


def _in_state(state: LearnerState) -> LearnerRecord:
    """A grade-3 learner brought into `state` through valid transitions."""
    record = _enrolled()
    if state is LearnerState.TRANSFERRED_OUT:
        return transfer(record, OTHER_SCHOOL)
    if state is LearnerState.REPEATED:
        return repeat_grade(record, YEAR)
    if state is LearnerState.PROMOTED:
        return promote(record, YEAR)
    if state is LearnerState.GRADUATED:
        return promote(_enrolled(12), YEAR)
    if state is LearnerState.LEFT:
        return leave(record, "moved abroad")
    return record


# --- school years and placements --------------------------------------------------------------


def test_next_school_year() -> None:
    assert next_school_year("2024-2025") == "2025-2026"


@pytest.mark.parametrize("bad", ["2024-2026", "2024", "24-25", "2024/2025"])
def test_malformed_school_years_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="school year"):
        next_school_year(bad)
    with pytest.raises(ValueError, match="school year"):
        _class(school_year=bad)


@pytest.mark.parametrize("grade", [0, 13])
def test_grades_outside_1_to_12_are_refused(grade: int) -> None:
    with pytest.raises(ValueError, match="outside 1–12"):
        _class(grade=grade)


def test_record_invariant_placement_exactly_when_enrolled() -> None:
    with pytest.raises(ValueError, match="exactly when enrolled"):
        LearnerRecord("L-001", LearnerState.ENROLLED, 3, None, _class())
    with pytest.raises(ValueError, match="exactly when enrolled"):
        LearnerRecord("L-001", LearnerState.LEFT, 3, _class(), _class())
    with pytest.raises(ValueError, match="grade differs"):
        LearnerRecord("L-001", LearnerState.ENROLLED, 4, _class(grade=3), _class(grade=3))


# --- enrol ------------------------------------------------------------------------------------


def test_enrol_new_learner() -> None:
    record = _enrolled()
    assert record.state is LearnerState.ENROLLED
    assert record.grade == 3
    assert record.placement == _class(grade=3, class_id="3A")
    assert record.last_placement == record.placement


def test_enrolling_an_enrolled_learner_is_refused_one_class_at_a_time() -> None:
    record = _enrolled()
    with pytest.raises(InvalidTransition) as raised:
        enrol(record, _class(class_id="3B"))
    error = raised.value
    assert (error.learner_id, error.state, error.transition) == (
        "L-001",
        LearnerState.ENROLLED,
        Transition.ENROL,
    )
    assert str(error).startswith("learner L-001 is enrolled; cannot enrol: already in class 3A")


def test_enrolling_a_graduate_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="is graduated; cannot enrol"):
        enrol(_in_state(LearnerState.GRADUATED), _class(grade=12))


# --- move class -------------------------------------------------------------------------------


def test_move_class_within_school_grade_and_year() -> None:
    moved = move_class(_enrolled(), _class(class_id="3B"))
    assert moved.state is LearnerState.ENROLLED
    assert moved.placement is not None and moved.placement.class_id == "3B"
    assert moved.last_placement.class_id == "3B"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (_class(class_id="3B", school_id="TH-TRAN-PHU"), "same school, grade and year"),
        (_class(grade=4, class_id="4A"), "same school, grade and year"),
        (_class(class_id="3B", school_year=NEXT), "same school, grade and year"),
        (_class(class_id="3A"), "already in class 3A"),
    ],
)
def test_move_class_refusals(target: ClassPlacement, message: str) -> None:
    with pytest.raises(InvalidTransition, match=message):
        move_class(_enrolled(), target)


# --- transfer ---------------------------------------------------------------------------------


def test_transfer_within_commune_then_enrol_at_destination() -> None:
    moved_out = transfer(_enrolled(), OTHER_SCHOOL)
    assert moved_out.state is LearnerState.TRANSFERRED_OUT
    assert moved_out.placement is None
    assert moved_out.transfer_to == OTHER_SCHOOL
    assert moved_out.awaiting_school_year == YEAR  # mid-year transfer continues the year
    assert moved_out.transfer_crosses_commune is False

    arrived = enrol(moved_out, _class(class_id="3C", school_id="TH-TRAN-PHU"))
    assert arrived.state is LearnerState.ENROLLED
    assert arrived.placement is not None and arrived.placement.school_id == "TH-TRAN-PHU"
    assert arrived.transfer_to is None


@pytest.mark.parametrize("destination", [OTHER_COMMUNE, OUT_OF_PROVINCE])
def test_transfer_to_another_commune_or_province(destination: TransferDestination) -> None:
    assert transfer(_enrolled(), destination).transfer_crosses_commune is True


def test_transfer_after_promotion_waits_for_the_next_year() -> None:
    moved_out = transfer(promote(_enrolled(), YEAR), OTHER_COMMUNE)
    assert (moved_out.grade, moved_out.awaiting_school_year) == (4, NEXT)
    arrived = enrol(
        moved_out, _class(grade=4, class_id="4B", school_id="TH-KIEN-AN", school_year=NEXT)
    )
    assert arrived.state is LearnerState.ENROLLED


def test_transfer_to_the_same_school_is_refused() -> None:
    same = TransferDestination(school_id="TH-LE-LOI", commune_code="11311")
    with pytest.raises(InvalidTransition, match="already at school TH-LE-LOI"):
        transfer(_enrolled(), same)


@pytest.mark.parametrize(
    ("placement", "message"),
    [
        (_class(class_id="3A", school_id="TH-OTHER"), "transferred to school TH-TRAN-PHU"),
        (_class(grade=4, class_id="4A", school_id="TH-TRAN-PHU"), "due grade 3"),
        (
            _class(class_id="3A", school_id="TH-TRAN-PHU", school_year="2023-2024"),
            "before 2024-2025",
        ),
    ],
)
def test_enrol_after_transfer_refusals(placement: ClassPlacement, message: str) -> None:
    with pytest.raises(InvalidTransition, match=message):
        enrol(_in_state(LearnerState.TRANSFERRED_OUT), placement)


# --- repeat -----------------------------------------------------------------------------------


def test_repeat_keeps_grade_and_waits_for_next_year() -> None:
    repeated = repeat_grade(_enrolled(), YEAR)
    assert repeated.state is LearnerState.REPEATED
    assert (repeated.grade, repeated.awaiting_school_year) == (3, NEXT)
    again = enrol(repeated, _class(grade=3, class_id="3D", school_year=NEXT))
    assert again.grade == 3 and again.state is LearnerState.ENROLLED


def test_enrol_after_repeat_into_the_wrong_grade_or_year_is_refused() -> None:
    repeated = repeat_grade(_enrolled(), YEAR)
    with pytest.raises(InvalidTransition, match="class is grade 4, learner is due grade 3"):
        enrol(repeated, _class(grade=4, class_id="4A", school_year=NEXT))
    with pytest.raises(InvalidTransition, match="before 2025-2026"):
        enrol(repeated, _class(grade=3, class_id="3B", school_year=YEAR))


def test_repeat_must_close_the_learners_own_year() -> None:
    with pytest.raises(InvalidTransition, match="not the closing year 2023-2024"):
        repeat_grade(_enrolled(), "2023-2024")


# --- promote and graduate ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "state", "next_grade", "completed"),
    [
        (1, LearnerState.PROMOTED, 2, None),
        (3, LearnerState.PROMOTED, 4, None),
        (5, LearnerState.PROMOTED, 6, SchoolLevel.PRIMARY),
        (8, LearnerState.PROMOTED, 9, None),
        (9, LearnerState.PROMOTED, 10, SchoolLevel.LOWER_SECONDARY),
        (11, LearnerState.PROMOTED, 12, None),
        (12, LearnerState.GRADUATED, 12, SchoolLevel.UPPER_SECONDARY),
    ],
)
def test_promotion_at_rollover(
    grade: int, state: LearnerState, next_grade: int, completed: SchoolLevel | None
) -> None:
    promoted = promote(_enrolled(grade), YEAR)
    assert promoted.state is state
    assert promoted.grade == next_grade
    assert promoted.completed_level is completed
    assert promoted.placement is None


def test_leaving_primary_then_enrolling_at_a_lower_secondary_school() -> None:
    finished_primary = promote(_enrolled(5), YEAR)
    thcs = _class(grade=6, class_id="6A", school_id="THCS-NGO-QUYEN", school_year=NEXT)
    enrolled = enrol(finished_primary, thcs)
    assert enrolled.state is LearnerState.ENROLLED
    assert (enrolled.grade, enrolled.completed_level) == (6, None)


def test_graduate_from_grade_12() -> None:
    graduated = graduate(_enrolled(12), YEAR)
    assert graduated.state is LearnerState.GRADUATED
    assert graduated.completed_level is SchoolLevel.UPPER_SECONDARY


def test_graduate_below_grade_12_is_refused() -> None:
    with pytest.raises(InvalidTransition, match=r"is enrolled; cannot graduate: .*grade 11"):
        graduate(_enrolled(11), YEAR)


def test_promote_must_close_the_learners_own_year() -> None:
    with pytest.raises(InvalidTransition, match="not the closing year 2025-2026"):
        promote(_enrolled(), NEXT)


# --- leave and return -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        LearnerState.ENROLLED,
        LearnerState.PROMOTED,
        LearnerState.REPEATED,
        LearnerState.TRANSFERRED_OUT,
    ],
)
def test_leave_from_every_active_state(state: LearnerState) -> None:
    gone = leave(_in_state(state), "dropped out")
    assert gone.state is LearnerState.LEFT
    assert gone.placement is None and gone.transfer_to is None


def test_leave_requires_a_reason() -> None:
    with pytest.raises(InvalidTransition, match="a reason is required"):
        leave(_enrolled(), "  ")


def test_returning_learner_may_enrol_in_any_grade_from_the_year_they_left() -> None:
    gone = leave(_enrolled(), "family moved")
    back = enrol(gone, _class(grade=2, class_id="2A", school_year=NEXT))
    assert (back.state, back.grade) == (LearnerState.ENROLLED, 2)
    with pytest.raises(InvalidTransition, match="before 2024-2025"):
        enrol(gone, _class(grade=3, class_id="3A", school_year="2023-2024"))


# --- the full table of refused transitions ----------------------------------------------------

ANY_CLASS = _class(grade=3, class_id="3Z", school_id="TH-TRAN-PHU", school_year=NEXT)

ATTEMPTS: dict[Transition, Callable[[LearnerRecord], LearnerRecord]] = {
    Transition.ENROL: lambda record: enrol(record, ANY_CLASS),
    Transition.MOVE_CLASS: lambda record: move_class(record, ANY_CLASS),
    Transition.TRANSFER: lambda record: transfer(record, OTHER_COMMUNE),
    Transition.REPEAT: lambda record: repeat_grade(record, YEAR),
    Transition.PROMOTE: lambda record: promote(record, YEAR),
    Transition.GRADUATE: lambda record: graduate(record, YEAR),
    Transition.LEAVE: lambda record: leave(record, "moved"),
}

ALLOWED_FROM: dict[Transition, set[LearnerState]] = {
    Transition.ENROL: {
        LearnerState.PROMOTED,
        LearnerState.REPEATED,
        LearnerState.TRANSFERRED_OUT,
        LearnerState.LEFT,
    },
    Transition.MOVE_CLASS: {LearnerState.ENROLLED},
    Transition.TRANSFER: {LearnerState.ENROLLED, LearnerState.PROMOTED, LearnerState.REPEATED},
    Transition.REPEAT: {LearnerState.ENROLLED},
    Transition.PROMOTE: {LearnerState.ENROLLED},
    Transition.GRADUATE: {LearnerState.ENROLLED},
    Transition.LEAVE: {
        LearnerState.ENROLLED,
        LearnerState.PROMOTED,
        LearnerState.REPEATED,
        LearnerState.TRANSFERRED_OUT,
    },
}

REFUSED = [
    (state, transition)
    for transition, allowed in ALLOWED_FROM.items()
    for state in LearnerState
    if state not in allowed
]


@pytest.mark.parametrize(("state", "transition"), REFUSED)
def test_transition_from_a_state_that_does_not_allow_it_is_refused(
    state: LearnerState, transition: Transition
) -> None:
    record = _in_state(state)
    with pytest.raises(InvalidTransition) as raised:
        ATTEMPTS[transition](record)
    error = raised.value
    assert (error.learner_id, error.state, error.transition) == ("L-001", state, transition)
    assert str(error).startswith(f"learner L-001 is {state.value}; cannot {transition.value}")


def test_refused_table_covers_terminal_states() -> None:
    # A graduate can do nothing; a learner who left can only come back.
    assert {t for s, t in REFUSED if s is LearnerState.GRADUATED} == set(Transition)
    assert {t for s, t in REFUSED if s is LearnerState.LEFT} == set(Transition) - {Transition.ENROL}


# --- rosters ----------------------------------------------------------------------------------


def test_conflicting_enrolments_in_bulk_imports() -> None:
    a, b = _class(class_id="3A"), _class(class_id="3B")
    later = _class(class_id="4A", grade=4, school_year=NEXT)
    rows = [("L-001", a), ("L-001", b), ("L-002", a), ("L-002", a), ("L-003", a), ("L-003", later)]
    assert conflicting_enrolments(rows) == {"L-001": [a, b]}
