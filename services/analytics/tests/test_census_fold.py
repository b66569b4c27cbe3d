"""Enrolment on a date, without IO: placement intervals by effective date, any arrival order,
merged children once, roll-up through the tree, and corrections against a frozen census."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.domain.census import (
    Correction,
    HistoryEvent,
    Interval,
    Merge,
    Unit,
    corrections,
    headcount_on,
    persons,
    placement_intervals,
    roll_up,
)

YEAR = "2025-2026"
SEP5, SEP20, SEP30, OCT10 = (
    date(2025, 9, 5),
    date(2025, 9, 20),
    date(2025, 9, 30),
    date(2025, 10, 10),
)


def enrolled(learner, revision, school, on, *, grade=1, sex="female"):
    return HistoryEvent(learner, revision, "records.student.enrolled", on, school, YEAR, grade, sex)


def transferred(learner, revision, school, on, *, grade=1):
    return HistoryEvent(
        learner, revision, "records.student.transferred", on, school, YEAR, grade, None
    )


def left(learner, revision, on):
    return HistoryEvent(learner, revision, "records.student.left", on, None, YEAR, None, None)


def test_a_transfer_splits_the_placement_at_its_date():
    intervals = placement_intervals(
        [enrolled("L1", 1, "A", SEP5), transferred("L1", 2, "B", OCT10)]
    )
    assert intervals == [
        Interval("L1", 1, "A", YEAR, 1, "female", SEP5, OCT10),
        Interval("L1", 2, "B", YEAR, 1, "female", OCT10, None),
    ]


def test_a_late_back_dated_transfer_moves_the_learner_from_its_date():
    # Recorded after the census, but dated 20 September: on the 30th the learner was in B.
    before = placement_intervals([enrolled("L1", 1, "A", SEP5)])
    after = placement_intervals([enrolled("L1", 1, "A", SEP5), transferred("L1", 2, "B", SEP20)])
    assert headcount_on(before, [], SEP30) == Counter({("A", YEAR, 1, "female"): 1})
    assert headcount_on(after, [], SEP30) == Counter({("B", YEAR, 1, "female"): 1})
    assert headcount_on(after, [], date(2025, 9, 19)) == Counter({("A", YEAR, 1, "female"): 1})


def test_a_newer_revision_dated_earlier_overrides_older_ones_after_its_date():
    # An unmerge re-enrols a learner from the original date, after a leaver event: the newest
    # revision holds from its date, the leaver (older) no longer cuts it short.
    intervals = placement_intervals(
        [enrolled("L1", 1, "A", SEP5), left("L1", 2, OCT10), enrolled("L1", 3, "A", SEP5)]
    )
    assert intervals == [Interval("L1", 3, "A", YEAR, 1, "female", SEP5, None)]


def test_leavers_end_the_placement_and_before_the_enrolment_nobody_counts():
    intervals = placement_intervals([enrolled("L1", 1, "A", SEP5), left("L1", 2, SEP20)])
    assert intervals == [Interval("L1", 1, "A", YEAR, 1, "female", SEP5, SEP20)]
    assert headcount_on(intervals, [], SEP20) == Counter()
    assert headcount_on(intervals, [], date(2025, 9, 4)) == Counter()


def test_sex_is_the_newest_named_one_and_unknown_when_never_named():
    named = placement_intervals(
        [enrolled("L1", 1, "A", SEP5, sex="male"), transferred("L1", 2, "B", SEP20)]
    )
    assert {i.sex for i in named} == {"male"}
    unnamed = placement_intervals([enrolled("L1", 1, "A", SEP5, sex=None)])
    assert unnamed[0].sex == "unknown"


def test_duplicates_and_any_order_give_the_same_intervals():
    events = [
        enrolled("L1", 1, "A", SEP5),
        transferred("L1", 2, "B", SEP20),
        left("L1", 3, OCT10),
        enrolled("L1", 4, "C", date(2025, 11, 1)),
    ]
    expected = placement_intervals(events)
    for order in itertools.permutations([*events, events[1]]):
        assert placement_intervals(order) == expected


def test_merge_chains_resolve_to_the_last_survivor_and_undone_merges_do_not_join():
    merges = [Merge("m1", "B", "A"), Merge("m2", "C", "B"), Merge("m3", "E", "D", undone=True)]
    assert persons(merges) == {"A": "C", "B": "C"}


def test_a_merged_child_counts_once_preferring_the_survivors_own_placement():
    retired = placement_intervals([enrolled("R", 1, "A", SEP5), left("R", 2, OCT10)])
    survivor = placement_intervals([enrolled("S", 1, "B", SEP5)])
    merge = [Merge("m1", "S", "R")]
    both = retired + survivor
    assert headcount_on(both, [], SEP30) == Counter(
        {("A", YEAR, 1, "female"): 1, ("B", YEAR, 1, "female"): 1}
    )
    assert headcount_on(both, merge, SEP30) == Counter({("B", YEAR, 1, "female"): 1})
    # Survivor without a placement that day: the retired one's counts, once.
    late_survivor = placement_intervals([enrolled("S", 1, "B", OCT10)])
    assert headcount_on(retired + late_survivor, merge, SEP30) == Counter(
        {("A", YEAR, 1, "female"): 1}
    )
    undone = [Merge("m1", "S", "R", undone=True)]
    assert sum(headcount_on(both, undone, SEP30).values()) == 2


UNITS = [
    Unit("HP", "province", "Hải Phòng", None),
    Unit("C-A", "commune", "A", "HP"),
    Unit("C-B", "commune", "B", "HP"),
    Unit("S-A", "school", "S A", "C-A"),
    Unit("S-B", "school", "S B", "C-B"),
    Unit("S-X", "school", "S X", None),  # outside the root's tree
]


def test_roll_up_counts_each_school_in_every_unit_above_it():
    cells = Counter(
        {
            ("S-A", YEAR, 1, "female"): 2,
            ("S-A", YEAR, 2, "male"): 1,
            ("S-B", YEAR, 1, "female"): 4,
            ("S-X", YEAR, 1, "female"): 9,
        }
    )
    figures = roll_up(cells, UNITS, "HP")
    assert figures["HP"] == Counter({(YEAR, 1, "female"): 6, (YEAR, 2, "male"): 1})
    assert figures["C-A"] == Counter({(YEAR, 1, "female"): 2, (YEAR, 2, "male"): 1})
    assert figures["S-B"] == Counter({(YEAR, 1, "female"): 4})
    assert figures["S-X"] == Counter()
    assert roll_up(cells, UNITS, "C-B")["C-B"] == Counter({(YEAR, 1, "female"): 4})


def test_corrections_list_every_changed_cell_with_its_delta():
    frozen = {"S-A": Counter({(YEAR, 1, "male"): 3}), "S-B": Counter({(YEAR, 1, "male"): 1})}
    now = {
        "S-A": Counter({(YEAR, 1, "male"): 2}),
        "S-B": Counter({(YEAR, 1, "male"): 1, (YEAR, 2, "female"): 1}),
    }
    found = corrections(frozen, now)
    assert found == [
        Correction("S-A", YEAR, 1, "male", 3, 2),
        Correction("S-B", YEAR, 2, "female", 0, 1),
    ]
    assert [c.delta for c in found] == [-1, 1]


# --------------------------------------------------------------------------- properties

DAYS = [SEP5 + timedelta(days=7 * k) for k in range(6)]
event_strategy = st.tuples(
    st.sampled_from(["enrolled", "transferred", "left"]),
    st.sampled_from(DAYS),
    st.sampled_from(["A", "B", "C"]),
)


def brute_force_placement(events: list[HistoryEvent], day: date) -> str | None:
    """The rule as stated: the newest revision among the events effective on or before day."""
    effective = [e for e in events if e.effective_on <= day]
    return max(effective, key=lambda e: e.revision).school_id if effective else None


@settings(max_examples=300, deadline=None)
@given(st.lists(event_strategy, min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_intervals_follow_the_rule_on_every_day_whatever_the_order(steps, rng):
    events = []
    for revision, (kind, on, school) in enumerate(steps, start=1):
        if kind == "enrolled":
            events.append(enrolled("L", revision, school, on))
        elif kind == "transferred":
            events.append(transferred("L", revision, school, on))
        else:
            events.append(left("L", revision, on))
    shuffled = list(events)
    rng.shuffle(shuffled)
    intervals = placement_intervals(shuffled)
    for day in [d + timedelta(days=delta) for d in DAYS for delta in (-1, 0, 3)]:
        covering = [i for i in intervals if i.covers(day)]
        assert len(covering) <= 1
        expected = brute_force_placement(events, day)
        assert (covering[0].school_id if covering else None) == expected
    # After every effective date: the newest revision's placement, as the live count has it.
    newest = max(events, key=lambda e: e.revision)
    covering = [i for i in intervals if i.covers(max(DAYS) + timedelta(days=365))]
    assert (covering[0].school_id if covering else None) == newest.school_id
