"""The enrolment fold: any order, any duplicates, same counts as a recount of the final state."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.domain.census import HistoryEvent
from services.analytics.domain.enrolment import Placement, fold_enrolments, placement_of
from shared.events.contracts.records import StudentEnrolled, StudentLeft, StudentTransferred


def event(learner: str, revision: int, school: str, year: str = "2025-2026") -> StudentEnrolled:
    return StudentEnrolled(
        enrolment_id=uuid.uuid4(),
        learner_id=learner,
        school_id=school,
        school_year=year,
        grade=3,
        enrolled_on=date(2025, 9, 5),
        revision=revision,
    )


def test_a_newer_revision_moves_the_learner():
    first = fold_enrolments({}, [event("L1", 1, "A")])
    assert first.deltas == Counter({("A", "2025-2026"): 1})
    second = fold_enrolments(first.placements, [event("L1", 2, "B")])
    assert second.deltas == Counter({("A", "2025-2026"): -1, ("B", "2025-2026"): 1})
    assert second.placements["L1"] == Placement(2, "B", "2025-2026", 3, None)


def test_stale_and_duplicate_events_change_nothing():
    state = {"L1": Placement(3, "B", "2025-2026", 3, None)}
    result = fold_enrolments(state, [event("L1", 2, "A"), event("L1", 3, "C")])
    assert result.deltas == Counter()
    assert result.placements == {}


def test_moves_within_one_batch_net_out():
    result = fold_enrolments({}, [event("L1", 1, "A"), event("L1", 2, "B"), event("L2", 1, "A")])
    assert result.deltas == Counter({("A", "2025-2026"): 1, ("B", "2025-2026"): 1})


def test_transfers_and_leavers_move_and_retract():
    state = fold_enrolments({}, [event("L1", 1, "A")]).placements
    moved = fold_enrolments(
        state,
        [
            StudentTransferred(
                learner_id="L1",
                from_school_id="A",
                to_school_id="B",
                school_year="2025-2026",
                grade=3,
                transferred_on=date(2025, 11, 1),
                revision=2,
            )
        ],
    )
    assert moved.deltas == Counter({("A", "2025-2026"): -1, ("B", "2025-2026"): 1})
    gone = fold_enrolments(
        moved.placements,
        [
            StudentLeft(
                learner_id="L1",
                school_id="B",
                school_year="2025-2026",
                reason="moved_abroad",
                left_on=date(2026, 1, 5),
                revision=3,
            )
        ],
    )
    assert gone.deltas == Counter({("B", "2025-2026"): -1})
    # The enrolment arriving late (revision 1) cannot bring the leaver back.
    late = fold_enrolments(gone.placements, [event("L1", 1, "A")])
    assert late.deltas == Counter()


learners = st.sampled_from(["L1", "L2", "L3", "L4"])
schools = st.sampled_from(["A", "B", "C"])
actions = st.sampled_from(["enrol", "transfer", "leave"])


def lifecycle_event(learner, revision, action, school, previous_school):
    if action == "transfer" and previous_school is not None:
        return StudentTransferred(
            learner_id=learner,
            from_school_id=previous_school,
            to_school_id=school,
            school_year="2025-2026",
            grade=3,
            transferred_on=date(2025, 10, 1),
            revision=revision,
        )
    if action == "leave" and previous_school is not None:
        return StudentLeft(
            learner_id=learner,
            school_id=previous_school,
            school_year="2025-2026",
            reason="dropped_out",
            left_on=date(2026, 1, 1),
            revision=revision,
        )
    return event(learner, revision, school)


@settings(max_examples=300, deadline=None)
@given(
    history=st.lists(st.tuples(learners, schools, actions), min_size=1, max_size=30),
    data=st.data(),
)
def test_any_delivery_order_with_duplicates_equals_a_recount(history, data):
    revisions: Counter[str] = Counter()
    where: dict[str, str | None] = {}
    events = []
    for learner, school, action in history:
        revisions[learner] += 1
        made = lifecycle_event(learner, revisions[learner], action, school, where.get(learner))
        where[learner] = (
            None
            if isinstance(made, StudentLeft)
            else made.to_school_id
            if isinstance(made, StudentTransferred)
            else school
        )
        events.append(made)
    deliveries = data.draw(st.permutations(events + data.draw(st.lists(st.sampled_from(events)))))
    batch_sizes = data.draw(st.lists(st.integers(1, 7), min_size=1, max_size=10))

    state: dict[str, Placement] = {}
    counts: Counter[tuple[str, str]] = Counter()
    position, size_index = 0, 0
    while position < len(deliveries):
        size = batch_sizes[size_index % len(batch_sizes)]
        result = fold_enrolments(state, deliveries[position : position + size])
        state.update(result.placements)
        counts.update(result.deltas)
        position += size
        size_index += 1

    recount = Counter((school, "2025-2026") for school in where.values() if school is not None)
    assert +counts == recount
    assert all(v >= 0 for v in counts.values())


def held(revision: int, school: str | None, sex: str | None = None) -> HistoryEvent:
    kind = "records.student.left" if school is None else "records.student.enrolled"
    grade = None if school is None else 4
    return HistoryEvent(
        "L1", revision, kind, date(2025, 9, revision), school, "2025-2026", grade, sex
    )


def test_the_placement_held_is_the_newest_revisions_in_any_order():
    # Held events come back from the history in no particular order.
    events = [held(3, "C"), held(1, "A", "female"), held(2, "B")]
    assert placement_of(events) == Placement(3, "C", "2025-2026", 4, "female")
    assert placement_of([held(2, None), held(1, "A")]) == Placement(2, None, "2025-2026", 0, None)
    assert placement_of([]) is None


def test_folding_from_the_held_placement_moves_the_count():
    # What the consumer does: the placement the history gives, then the batch's events.
    placement = placement_of([held(1, "A"), held(2, "B")])
    assert placement is not None
    result = fold_enrolments(
        {"L1": placement},
        [event("L1", 2, "X"), event("L1", 3, "C")],  # revision 2 is held: no effect
    )
    assert result.deltas == Counter({("B", "2025-2026"): -1, ("C", "2025-2026"): 1})
