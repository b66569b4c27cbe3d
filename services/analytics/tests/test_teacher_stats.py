"""Teachers by school, main subject, sex and age band: the pure fold and its rules."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

from services.analytics.domain.teacher_stats import (
    CellKey,
    StaffRecord,
    age_band,
    age_in,
    current_school_year,
    first_counted_year,
    fold_teachers,
    last_counted_year,
    recount,
    share_of,
    teachers_in,
)
from shared.events.contracts.records import StaffUpdated


def profile(
    staff_id: str,
    revision: int,
    *,
    school: str = "S-A",
    subjects: tuple[str, ...] = ("toan", "tin_hoc"),
    born: date = date(1990, 6, 1),
    sex: str = "female",
    position: str = "teacher",
    start: date = date(2015, 8, 15),
    until: date | None = None,
) -> StaffUpdated:
    return StaffUpdated(
        staff_id=staff_id,
        school_id=school,
        position=position,  # type: ignore[arg-type]
        subjects=list(subjects),
        birth_date=born,
        sex=sex,  # type: ignore[arg-type]
        employed_from=start,
        employed_until=until,
        revision=revision,
    )


def fold_all(batches: list[list[StaffUpdated]]) -> tuple[dict[str, StaffRecord], dict]:
    held: dict[str, StaffRecord] = {}
    cells: dict[CellKey, Counter[str]] = {}
    for batch in batches:
        result = fold_teachers(held, batch)
        held.update(result.records)
        for key, delta in result.deltas.items():
            cells.setdefault(key, Counter()).update(delta)
    return held, {k: Counter({c: n for c, n in v.items() if n}) for k, v in cells.items() if +v}


def test_age_is_reached_in_the_start_year_and_bands_match_records_summary():
    assert age_in(2025, 1996) == 29 and age_band(29) == "under_30"
    assert [age_band(a) for a in (30, 39, 40, 49, 50, 54, 55, 59, 60, 66)] == [
        "30_39",
        "30_39",
        "40_49",
        "40_49",
        "50_54",
        "50_54",
        "55_59",
        "55_59",
        "60_plus",
        "60_plus",
    ]
    assert current_school_year(date(2025, 8, 31)) == "2024-2025"
    assert current_school_year(date(2025, 9, 1)) == "2025-2026"


def test_counted_years_follow_the_31_december_reference_day():
    assert first_counted_year(date(2015, 8, 15)) == 2015
    assert first_counted_year(date(2015, 12, 31)) == 2015
    assert last_counted_year(date(2026, 6, 30)) == 2025  # left before 31 Dec 2026
    assert last_counted_year(date(2026, 12, 31)) == 2026
    # Employed from March to June 2026: on no reference day.
    assert share_of(profile("GV1", 1, start=date(2026, 3, 1), until=date(2026, 6, 30))) is None
    assert share_of(profile("GV1", 1, position="principal")) is None
    assert share_of(profile("GV1", 1, subjects=())).main_subject == ""  # type: ignore[union-attr]


def test_a_transfer_moves_the_count_and_a_late_older_revision_changes_nothing():
    hired = profile("GV1", 1)
    moved = profile("GV1", 2, school="S-B", subjects=("ngu_van",))
    held, cells = fold_all([[hired], [moved], [hired]])
    assert held["GV1"].revision == 2
    assert teachers_in(cells, 2025) == Counter({("S-B", "ngu_van", "female", 1990): 1})
    assert cells == recount(held.values())


def test_a_leaver_counts_until_the_last_reference_day_employed():
    held, cells = fold_all(
        [
            [
                profile("GV1", 1),
                profile("GV2", 1, sex="male", born=date(1965, 1, 1)),
                profile("GV3", 1, start=date(2026, 8, 20)),  # joins next school year
            ],
            [profile("GV2", 2, sex="male", born=date(1965, 1, 1), until=date(2025, 6, 30))],
        ]
    )
    assert teachers_in(cells, 2024) == Counter(
        {("S-A", "toan", "female", 1990): 1, ("S-A", "toan", "male", 1965): 1}
    )
    assert teachers_in(cells, 2025) == Counter({("S-A", "toan", "female", 1990): 1})
    assert teachers_in(cells, 2026) == Counter({("S-A", "toan", "female", 1990): 2})
    assert teachers_in(cells, 2014) == Counter()
    assert cells == recount(held.values())


def test_any_order_and_batching_of_revisions_gives_the_recount():
    rnd = random.Random(20251)
    schools, subjects = ("S-A", "S-B", "S-C"), (("toan",), ("ngu_van", "lich_su"), ())
    events = []
    for n in range(12):
        for revision in range(1, rnd.randint(2, 5)):
            until = rnd.choice([None, None, date(rnd.randint(2018, 2030), rnd.randint(1, 12), 28)])
            events.append(
                profile(
                    f"GV{n}",
                    revision,
                    school=rnd.choice(schools),
                    subjects=rnd.choice(subjects),
                    born=date(rnd.randint(1962, 2001), 5, 5),
                    sex=rnd.choice(["male", "female"]),
                    position=rnd.choice(["teacher", "teacher", "teacher", "principal"]),
                    start=date(rnd.randint(2008, 2017), 9, 1),
                    until=until,
                )
            )
    held, in_order = fold_all([events])
    expected = recount(held.values())
    assert in_order == expected
    for _ in range(20):
        shuffled = [*events, *rnd.sample(events, 5)]  # with duplicates
        rnd.shuffle(shuffled)
        size = rnd.randint(1, 7)
        held2, cells = fold_all([shuffled[i : i + size] for i in range(0, len(shuffled), size)])
        assert cells == expected
        assert {k: v.revision for k, v in held2.items()} == {k: v.revision for k, v in held.items()}
    # Figures never go negative in any year.
    for year in range(2005, 2035):
        assert all(n > 0 for n in teachers_in(expected, year).values())
