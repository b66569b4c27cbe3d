"""The results fold: which finalised figure counts, merges, and cells equal to a recount."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.domain.results_fold import (
    LEVEL_SLOT,
    ResultCells,
    ResultsMemory,
    Timed,
    apply_events,
    average_band,
    counted_shares,
    fold_results,
    recount,
    tenths,
)
from shared.events.contracts.identity import PersonMerged, PersonUnmerged
from shared.events.contracts.records import LearnerTermResult, TermFinalized

T0 = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
YEAR = "2025-2026"


def sector_id(n: int) -> str:
    return f"HS-31-2014-{n:07d}-0"


L1, L2, L3, L4, L9, L1_DUP = (sector_id(n) for n in (1, 2, 3, 4, 9, 11))
X, Y, Z = (sector_id(n) for n in (21, 22, 23))


def item(
    learner: str,
    toan: float | None = None,
    van: float | None = None,
    *,
    gdtc: str | None = None,
    level: str | None = None,
) -> LearnerTermResult:
    return LearnerTermResult(
        learner_id=learner,
        subject_averages={"toan": toan, "van": van},
        comment_grades={"gdtc": gdtc},  # type: ignore[dict-item]
        learning_level=level,  # type: ignore[arg-type]
    )


def finalized(
    minute: int,
    class_id: str,
    items: list[LearnerTermResult],
    *,
    school: str = "S-A",
    grade: int = 6,
    term: int = 1,
) -> Timed:
    return Timed(
        uuid.uuid4(),
        T0 + timedelta(minutes=minute),
        TermFinalized(
            school_id=school,
            class_id=class_id,
            school_year=YEAR,
            semester=term,  # type: ignore[arg-type]
            grade=grade,
            results=items,
        ),
    )


def merged(minute: int, survivor: str, retired: str, merge_id: uuid.UUID) -> Timed:
    return Timed(
        uuid.uuid4(),
        T0 + timedelta(minutes=minute),
        PersonMerged(merge_id=merge_id, survivor_id=survivor, merged_id=retired, reason="dup"),
    )


def unmerged(minute: int, survivor: str, retired: str, merge_id: uuid.UUID) -> Timed:
    return Timed(
        uuid.uuid4(),
        T0 + timedelta(minutes=minute),
        PersonUnmerged(merge_id=merge_id, survivor_id=survivor, merged_id=retired, reason="no"),
    )


def deliver(batches: list[list[Timed]]) -> tuple[ResultsMemory, ResultCells]:
    """Fold batch after batch (the memory given is everything: a superset of the component)."""
    memory = ResultsMemory()
    cells = ResultCells()
    for batch in batches:
        result = fold_results(memory, batch)
        for key, delta in result.deltas.subjects.items():
            cells.subjects.setdefault(key, Counter()).update(delta)
        for level_key, delta in result.deltas.levels.items():
            cells.levels.setdefault(level_key, Counter()).update(delta)
        apply_events(memory, batch)
    return memory, cells.without_zeros()


def subject(cells: ResultCells, code: str, class_id: str = "6A") -> Counter[str]:
    return cells.subjects.get(("S-A", class_id, 6, YEAR, 1, code), Counter())


def levels(cells: ResultCells, class_id: str = "6A") -> Counter[str]:
    return cells.levels.get(("S-A", class_id, 6, YEAR, 1), Counter())


def test_tenths_and_bands_at_the_circular_22_thresholds():
    assert [tenths(a) for a in (7.3, 0.0, 10.0, 6.45, 8.05)] == [73, 0, 100, 65, 81]
    assert [average_band(t) for t in (0, 34, 35, 49, 50, 64, 65, 79, 80, 100)] == [
        "avg_below_3_5",
        "avg_below_3_5",
        "avg_3_5_to_5",
        "avg_3_5_to_5",
        "avg_5_to_6_5",
        "avg_5_to_6_5",
        "avg_6_5_to_8",
        "avg_6_5_to_8",
        "avg_8_plus",
        "avg_8_plus",
    ]


def test_one_finalisation_counts_averages_comments_and_levels():
    _, cells = deliver(
        [
            [
                finalized(
                    0,
                    "6A",
                    [
                        item(L1, 8.5, 7.0, gdtc="dat", level="tot"),
                        item(L2, 6.4, 3.4, gdtc="chua_dat", level="dat"),
                        item(L3, None, 5.0, gdtc=None, level=None),  # forced: incomplete
                    ],
                )
            ]
        ]
    )
    toan = subject(cells, "toan")
    assert toan == Counter(
        {"averaged": 2, "sum_tenths": 149, "avg_8_plus": 1, "avg_5_to_6_5": 1, "no_result": 1}
    )
    van = subject(cells, "van")
    assert (van["averaged"], van["sum_tenths"], van["avg_below_3_5"]) == (3, 154, 1)
    assert subject(cells, "gdtc") == Counter({"dat": 1, "chua_dat": 1, "no_result": 1})
    assert levels(cells) == Counter({"learners": 3, "tot": 1, "dat": 1, "no_level": 1})


def test_a_newer_finalisation_of_the_class_replaces_the_older_whatever_the_order():
    first = finalized(0, "6A", [item(L1, 5.0, level="dat"), item(L2, 4.0, level="chua_dat")])
    corrected = finalized(30, "6A", [item(L1, 6.6, level="kha")])  # L2 no longer listed
    for order in ([[first], [corrected]], [[corrected], [first]], [[first, corrected]]):
        memory, cells = deliver(order)
        assert subject(cells, "toan") == Counter(
            {"averaged": 1, "sum_tenths": 66, "avg_6_5_to_8": 1}
        )
        assert levels(cells) == Counter({"learners": 1, "kha": 1})
        assert cells == recount(memory)


def test_a_learner_in_two_classes_counts_once_preferring_a_result_then_the_newest():
    # L1 moved from 6A to 6B during the term: 6A, finalised later, lists L1 without results.
    in_6b = finalized(0, "6B", [item(L1, 7.0, 8.0, gdtc="dat", level="kha")])
    in_6a = finalized(10, "6A", [item(L1, None, 9.0, level=None)])
    memory, cells = deliver([[in_6b], [in_6a]])
    assert subject(cells, "toan", "6B")["averaged"] == 1
    assert subject(cells, "toan", "6A") == Counter()
    assert subject(cells, "van", "6A")["sum_tenths"] == 90  # the newest with a result
    assert subject(cells, "van", "6B") == Counter()
    assert levels(cells, "6B") == Counter({"learners": 1, "kha": 1})
    assert levels(cells, "6A") == Counter()
    assert cells == recount(memory)


def test_a_merge_counts_the_person_once_under_the_survivor_and_an_unmerge_restores():
    merge_id = uuid.uuid4()
    term = finalized(0, "6A", [item(L1, 7.0, level="kha"), item(L1_DUP, 9.0, level="tot")])
    memory, cells = deliver([[term], [merged(5, L1, L1_DUP, merge_id)]])
    assert subject(cells, "toan") == Counter({"averaged": 1, "sum_tenths": 70, "avg_6_5_to_8": 1})
    assert levels(cells) == Counter({"learners": 1, "kha": 1})  # the survivor's own value
    shares = counted_shares(memory)
    assert {key[0] for key in shares} == {L1}
    assert shares[(L1, YEAR, 1, LEVEL_SLOT)].value == "kha"

    memory, cells = deliver(
        [[term], [merged(5, L1, L1_DUP, merge_id)], [unmerged(9, L1, L1_DUP, merge_id)]]
    )
    assert levels(cells) == Counter({"learners": 2, "kha": 1, "tot": 1})
    assert cells == recount(memory)


def test_the_retired_record_fills_a_slot_the_survivor_lacks():
    merge_id = uuid.uuid4()
    term = finalized(0, "6A", [item(L1, None, 6.0, level=None), item(L9, 8.0, 5.0, level="kha")])
    _, cells = deliver([[term, merged(1, L1, L9, merge_id)]])
    assert subject(cells, "toan")["sum_tenths"] == 80  # L9's: L1 has none
    assert subject(cells, "van")["sum_tenths"] == 60  # L1's own wins
    assert levels(cells) == Counter({"learners": 1, "kha": 1})


def test_an_unmerge_arriving_before_its_merge_leaves_the_persons_apart():
    merge_id = uuid.uuid4()
    term = finalized(0, "6A", [item(L1, 7.0, level="kha"), item(L2, 9.0, level="tot")])
    memory, cells = deliver(
        [[term], [unmerged(9, L1, L2, merge_id)], [merged(5, L1, L2, merge_id)]]
    )
    assert levels(cells) == Counter({"learners": 2, "kha": 1, "tot": 1})
    assert memory.merges[merge_id].undone


def test_chains_of_merges_end_at_the_last_survivor():
    a, b = uuid.uuid4(), uuid.uuid4()
    term = finalized(0, "6A", [item(X, 5.0), item(Y, 6.0), item(Z, 7.0)])
    memory, cells = deliver([[term], [merged(1, Y, X, a)], [merged(2, Z, Y, b)]])
    assert {key[0] for key in counted_shares(memory)} == {Z}
    assert subject(cells, "toan")["sum_tenths"] == 70
    assert cells == recount(memory)


# --------------------------------------------------------------------------- property

LEARNERS = (L1, L2, L3, L4)
CLASSES = ("6A", "6B")
averages = st.one_of(st.none(), st.integers(0, 100).map(lambda t: t / 10))
levels_ = st.sampled_from([None, "tot", "kha", "dat", "chua_dat"])
learner_items = st.builds(
    item,
    st.sampled_from(LEARNERS),
    averages,
    averages,
    gdtc=st.sampled_from([None, "dat", "chua_dat"]),
    level=levels_,
)


@st.composite
def streams(draw: st.DrawFn) -> list[Timed]:
    events: list[Timed] = []
    # Each merge id names one pair for good, as identity's do.
    merges: list[tuple[uuid.UUID, str, str]] = []
    for _ in range(3):
        survivor, retired = draw(st.permutations(LEARNERS))[:2]
        merges.append((draw(st.uuids()), survivor, retired))
    for minute in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(["final", "final", "final", "merge", "unmerge"]))
        if kind == "final":
            items = draw(st.lists(learner_items, max_size=4))
            events.append(
                finalized(
                    minute,
                    draw(st.sampled_from(CLASSES)),
                    items,
                    term=draw(st.sampled_from([1, 1, 0])),
                )
            )
        else:
            merge_id, survivor, retired = draw(st.sampled_from(merges))
            make = merged if kind == "merge" else unmerged
            events.append(make(minute, survivor, retired, merge_id))
    return events


@settings(max_examples=150, deadline=None)
@given(streams(), st.randoms(use_true_random=False), st.integers(1, 4))
def test_any_order_batches_and_duplicates_give_the_recount(events, rnd, batch_size):
    shuffled = [*events, rnd.choice(events)]  # one event delivered twice
    rnd.shuffle(shuffled)
    batches = [shuffled[i : i + batch_size] for i in range(0, len(shuffled), batch_size)]
    memory, cells = deliver(batches)
    assert cells == recount(memory)
    in_order, _ = deliver([events])
    assert recount(in_order) == cells
    for counts in [*cells.subjects.values(), *cells.levels.values()]:
        assert all(n >= 0 for n in counts.values())
