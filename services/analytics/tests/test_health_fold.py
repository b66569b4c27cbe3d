"""The health fold: corrections, late older measurements, duplicates, flagged and missing values,
and, for any delivery order and batch split, the same cells as a recount from scratch."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.domain.health_fold import (
    REDUCED_ACUITY_BELOW,
    UNKNOWN_GRADE,
    UNKNOWN_SEX,
    Cells,
    Counted,
    HealthFold,
    HealthState,
    Key,
    Measurement,
    SwimAssessment,
    Timed,
    classify_nutrition,
    counted_marks,
    fold_health,
    measurement_share,
    recount,
    swim_share,
)
from shared.events.contracts.records import HealthMeasured, SwimAssessed

CAMPAIGN = "HP-2025-HK1"
T0 = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
BOY_BIRTH = date(2015, 3, 1)  # 127 months on 1 October 2025: WHO 2007 reference
TODDLER_BIRTH = date(2022, 3, 1)  # 43 months: WHO 2006 standards
DAY = date(2025, 10, 1)

# Boy of 127 months, 140 cm: the weight decides the BMI-for-age status.
NORMAL, OVERWEIGHT, OBESE, THIN, SEVERELY_THIN = 32.0, 40.0, 45.0, 26.0, 24.0


def measured(
    learner: str = "L1",
    *,
    height: float | None = 140.0,
    weight: float | None = NORMAL,
    on: date = DAY,
    school: str = "S-A",
    class_id: str | None = "5A",
    sex: str = "male",
    birth: date = BOY_BIRTH,
    left: float | None = None,
    right: float | None = None,
    eyes: tuple[str, ...] = (),
    replaces: uuid.UUID | None = None,
    campaign: str = CAMPAIGN,
    measurement_id: uuid.UUID | None = None,
) -> HealthMeasured:
    return HealthMeasured(
        measurement_id=measurement_id or uuid.uuid4(),
        learner_id=learner,
        school_id=school,
        class_id=class_id,
        campaign_id=campaign,
        measured_on=on,
        sex=sex,  # type: ignore[arg-type]
        birth_date=birth,
        height_cm=height,
        weight_kg=weight,
        eyesight_left=left,
        eyesight_right=right,
        eye_conditions=list(eyes),  # type: ignore[arg-type]
        replaces=replaces,
    )


def swam(
    learner: str = "L1",
    ability: str = "cannot_swim",
    *,
    on: date = DAY,
    school: str = "S-A",
    class_id: str | None = "5A",
    replaces: uuid.UUID | None = None,
    campaign: str = CAMPAIGN,
) -> SwimAssessed:
    return SwimAssessed(
        assessment_id=uuid.uuid4(),
        learner_id=learner,
        school_id=school,
        class_id=class_id,
        campaign_id=campaign,
        assessed_on=on,
        ability=ability,  # type: ignore[arg-type]
        replaces=replaces,
    )


def at(minutes: int, data: HealthMeasured | SwimAssessed) -> Timed:
    return Timed(T0 + timedelta(minutes=minutes), data)


def nutrition_cell(
    school: str = "S-A", class_id: str = "5A", sex: str = "male", group: str = "5_19"
) -> tuple[str, str, str, int, str, str]:
    return (CAMPAIGN, school, class_id, UNKNOWN_GRADE, sex, group)


def cell(
    school: str = "S-A", class_id: str = "5A", sex: str = "male"
) -> tuple[str, str, str, int, str]:
    return (CAMPAIGN, school, class_id, UNKNOWN_GRADE, sex)


@dataclass
class MemoryStore:
    """What health_store keeps, in memory; hands the fold only what the store would load."""

    measurements: dict[Key, dict[uuid.UUID, Measurement]] = field(default_factory=dict)
    swims: dict[Key, dict[uuid.UUID, SwimAssessment]] = field(default_factory=dict)
    counted: dict[str, dict[str, Counted]] = field(default_factory=dict)
    cells: Cells = field(default_factory=Cells)

    def apply(self, batch: list[Timed]) -> HealthFold:
        learners = {t.data.learner_id for t in batch}
        keys = {(t.data.learner_id, t.data.campaign_id) for t in batch}
        state = HealthState(
            measurements={k: dict(self.measurements[k]) for k in keys if k in self.measurements},
            swims={k: dict(self.swims[k]) for k in keys if k in self.swims},
            counted={lr: dict(self.counted[lr]) for lr in learners if lr in self.counted},
        )
        result = fold_health(state, batch)
        for m in result.new_measurements:
            self.measurements.setdefault((m.learner_id, m.campaign_id), {})[m.measurement_id] = m
        for s in result.new_swims:
            self.swims.setdefault((s.learner_id, s.campaign_id), {})[s.assessment_id] = s
        for (learner, campaign), counted in result.counted.items():
            if counted.empty:
                self.counted[learner].pop(campaign)
            else:
                self.counted.setdefault(learner, {})[campaign] = counted
        for table, deltas in (
            (self.cells.nutrition, result.deltas.nutrition),
            (self.cells.eyes, result.deltas.eyes),
            (self.cells.swimming, result.deltas.swimming),
        ):
            for key, delta in deltas.items():
                row: Counter[str] = table.setdefault(key, Counter())  # type: ignore[arg-type]
                row.update(delta)
                assert all(v >= 0 for v in row.values()), (key, row)
        self.cells = self.cells.without_zeros()
        return result

    def recount(self) -> tuple[dict[Key, Counted], Cells]:
        return recount(
            [m for held in self.measurements.values() for m in held.values()],
            [s for held in self.swims.values() for s in held.values()],
        )

    def shares(self) -> dict[Key, Counted]:
        return {(lr, c): s for lr, by in self.counted.items() for c, s in by.items()}


def fold_once(*events: Timed) -> HealthFold:
    return MemoryStore().apply(list(events))


# --------------------------------------------------------------------------- classification


def test_nutrition_statuses_of_a_ten_year_old_boy():
    def status(height: float | None, weight: float | None) -> tuple[str, bool]:
        n = classify_nutrition("male", BOY_BIRTH, DAY, height, weight)
        return n.status, n.stunted

    assert status(140, NORMAL) == ("normal", False)
    assert status(140, OVERWEIGHT) == ("overweight", False)
    assert status(140, OBESE) == ("obese", False)
    assert status(140, THIN) == ("thin", False)
    assert status(140, SEVERELY_THIN) == ("severely_thin", False)
    assert status(122, 24) == ("normal", True)  # height-for-age -2.86: stunted
    assert status(60, 30) == ("flagged", False)  # |zhfa| > 6: implausible, not "stunted"
    assert status(None, 30) == ("unknown", False)
    assert status(140, None) == ("unknown", False)


def test_under_five_uses_the_who_2006_standards_and_outside_ages_are_unknown():
    toddler = classify_nutrition("female", TODDLER_BIRTH, DAY, 100, 12.5)
    assert (toddler.age_group, toddler.status) == ("under_5", "wasted")
    assert classify_nutrition("female", TODDLER_BIRTH, DAY, 100, 21).status == "obese"
    adult = classify_nutrition("male", date(2005, 3, 1), DAY, 170, 60)  # 247 months
    assert (adult.age_group, adult.status) == ("outside_who", "unknown")
    unborn = classify_nutrition("male", date(2026, 3, 1), DAY, 50, 3)  # birth date after
    assert (unborn.age_group, unborn.status) == ("outside_who", "unknown")


# --------------------------------------------------------------------------- hand-made cases


def test_a_first_measurement_counts_once_in_its_cells():
    result = fold_once(at(0, measured(left=1.0, right=0.7, eyes=("myopia",))))
    assert result.deltas.nutrition == {nutrition_cell(): Counter(measured=1, normal=1)}
    assert result.deltas.eyes == {
        cell(): Counter(examined=1, any_condition=1, myopia=1, acuity_measured=1, reduced_acuity=1)
    }
    assert result.deltas.swimming == {}


def test_a_correction_retracts_what_it_replaces_even_when_dated_earlier():
    store = MemoryStore()
    first = measured(weight=NORMAL, on=date(2025, 10, 10))
    store.apply([at(0, first)])
    # The nurse typed the wrong date and weight; the correction is dated earlier.
    fix = measured(weight=OBESE, on=date(2025, 10, 3), replaces=first.measurement_id)
    result = store.apply([at(5, fix)])
    assert result.deltas.nutrition == {nutrition_cell(): Counter(normal=-1, obese=1)}
    assert store.cells.nutrition == {nutrition_cell(): Counter(measured=1, obese=1)}
    assert store.counted["L1"][CAMPAIGN].measurement.measurement_id == fix.measurement_id  # type: ignore[union-attr]


def test_a_correction_arriving_before_what_it_replaces():
    store = MemoryStore()
    first = measured(weight=NORMAL)
    fix = measured(weight=THIN, replaces=first.measurement_id)
    store.apply([at(5, fix)])
    late = store.apply([at(0, first)])
    assert late.deltas == Cells()
    assert late.counted == {}
    assert store.cells.nutrition == {nutrition_cell(): Counter(measured=1, thin=1)}


def test_an_older_measurement_arriving_late_changes_nothing_a_newer_one_replaces():
    store = MemoryStore()
    store.apply([at(0, measured(weight=NORMAL, on=date(2025, 10, 5)))])
    older = store.apply([at(10, measured(weight=OBESE, on=date(2025, 10, 1)))])
    assert older.deltas == Cells()
    assert older.counted == {}
    newer = store.apply([at(20, measured(weight=OVERWEIGHT, on=date(2025, 10, 8)))])
    assert newer.deltas.nutrition == {nutrition_cell(): Counter(normal=-1, overweight=1)}


def test_same_day_the_event_time_then_the_id_decide():
    store = MemoryStore()
    later = measured(weight=OBESE)
    store.apply([at(30, later)])
    store.apply([at(10, measured(weight=NORMAL))])  # same day, earlier event: ignored
    assert store.cells.nutrition == {nutrition_cell(): Counter(measured=1, obese=1)}
    low, high = sorted([uuid.uuid4(), uuid.uuid4()])
    tie = MemoryStore()
    tie.apply([at(0, measured("L2", weight=THIN, measurement_id=high))])
    tie.apply([at(0, measured("L2", weight=NORMAL, measurement_id=low))])
    assert tie.cells.nutrition == {nutrition_cell(): Counter(measured=1, thin=1)}


def test_duplicates_change_nothing_within_a_batch_or_later():
    event = at(0, measured(left=0.5, right=0.5))
    store = MemoryStore()
    first = store.apply([event, event])
    assert first.deltas.nutrition == {nutrition_cell(): Counter(measured=1, normal=1)}
    assert len(first.new_measurements) == 1
    again = store.apply([event])
    assert again.deltas == Cells()
    assert again.new_measurements == []
    # Republished with another envelope time: the same measurement id is still a duplicate.
    assert store.apply([Timed(T0 + timedelta(days=1), event.data)]).deltas == Cells()


def test_a_flagged_measurement_is_counted_as_flagged_and_never_fails():
    result = fold_once(at(0, measured(height=60, weight=30, left=1.0, right=1.0)))
    assert result.deltas.nutrition == {nutrition_cell(): Counter(measured=1, flagged=1)}
    # The eyes were examined all the same.
    assert result.deltas.eyes == {cell(): Counter(examined=1, acuity_measured=1)}


def test_missing_height_makes_the_status_unknown():
    result = fold_once(at(0, measured(height=None, weight=30)))
    assert result.deltas.nutrition == {nutrition_cell(): Counter(measured=1, unknown=1)}
    assert result.deltas.eyes == {}  # no eye data: not examined


def test_reduced_acuity_threshold_and_conditions():
    assert REDUCED_ACUITY_BELOW == 0.8
    result = fold_once(
        at(0, measured("L1", left=0.8, right=0.8)),  # at the threshold: not reduced
        at(0, measured("L2", left=1.0, right=0.7, eyes=("myopia", "astigmatism"))),
        at(0, measured("L3", eyes=("strabismus",))),  # condition without acuity
    )
    assert result.deltas.eyes == {
        cell(): Counter(
            examined=3,
            acuity_measured=2,
            reduced_acuity=1,
            any_condition=2,
            myopia=1,
            astigmatism=1,
            strabismus=1,
        )
    }


def test_a_swim_assessment_takes_the_learners_sex_when_a_measurement_tells_it():
    store = MemoryStore()
    first = store.apply([at(0, swam("G1", "swims_with_aid", class_id="5B"))])
    assert first.deltas.swimming == {
        cell(class_id="5B", sex=UNKNOWN_SEX): Counter(assessed=1, swims_with_aid=1)
    }
    # A measurement in another campaign tells the sex: the swim share moves.
    moved = store.apply([at(5, measured("G1", sex="female", campaign="HP-2024-HK2"))])
    assert moved.deltas.swimming == {
        cell(class_id="5B", sex=UNKNOWN_SEX): Counter(assessed=-1, swims_with_aid=-1),
        cell(class_id="5B", sex="female"): Counter(assessed=1, swims_with_aid=1),
    }
    assert store.shares() == store.recount()[0]


def test_swim_correction_and_late_older_assessment():
    store = MemoryStore()
    first = swam(ability="cannot_swim", on=date(2025, 10, 2))
    store.apply([at(0, first), at(0, measured())])
    fix = swam(ability="swims_25m_unaided", on=date(2025, 10, 2), replaces=first.assessment_id)
    store.apply([at(5, swam(ability="swims_with_aid", on=date(2025, 10, 1)))])  # older: ignored
    store.apply([at(10, fix)])
    assert store.cells.swimming == {cell(): Counter(assessed=1, swims_25m_unaided=1)}


def test_a_measurement_stays_with_the_school_and_class_where_it_was_taken():
    store = MemoryStore()
    store.apply([at(0, measured(school="S-A", class_id="5A"))])
    # The learner moved to S-B; the next campaign measures them there.
    store.apply([at(60, measured(school="S-B", class_id="6C", campaign="HP-2026-HK1"))])
    assert store.cells.nutrition == {
        nutrition_cell("S-A", "5A"): Counter(measured=1, normal=1),
        ("HP-2026-HK1", "S-B", "6C", UNKNOWN_GRADE, "male", "5_19"): Counter(measured=1, normal=1),
    }


def test_when_everything_is_retracted_nothing_counts():
    a_id, b_id = uuid.uuid4(), uuid.uuid4()
    store = MemoryStore()
    store.apply([at(0, measured(measurement_id=a_id, replaces=b_id))])
    result = store.apply([at(1, measured(measurement_id=b_id, replaces=a_id))])
    assert result.counted == {("L1", CAMPAIGN): Counted()}
    assert store.cells == Cells()
    assert store.counted == {"L1": {}}


def test_a_class_less_measurement_goes_to_the_no_class_cell():
    result = fold_once(at(0, measured(class_id=None)))
    assert list(result.deltas.nutrition) == [nutrition_cell(class_id="")]


# --------------------------------------------------------------------------- property


VALUES: list[dict[str, Any]] = [
    {"height": 140.0, "weight": NORMAL},
    {"height": 140.0, "weight": OBESE, "left": 0.5, "right": 1.0},
    {"height": 140.0, "weight": THIN, "eyes": ("myopia",)},
    {"height": 122.0, "weight": 24.0, "left": 1.0, "right": 1.0},
    {"height": 60.0, "weight": 30.0},  # flagged
    {"height": None, "weight": 30.0, "eyes": ("hyperopia", "other")},  # unknown
    {"height": 100.0, "weight": 12.5, "birth": TODDLER_BIRTH},  # wasted, under 5
    {"height": 170.0, "weight": 60.0, "birth": date(2005, 3, 1)},  # outside the references
]

ops = st.tuples(
    st.sampled_from(["measure", "correct", "swim", "swim_correct", "stray_correct"]),
    st.sampled_from(["L1", "L2", "L3"]),
    st.sampled_from(["C1", "C2"]),
    st.integers(0, 3),  # day offset
    st.integers(0, 3),  # event time offset (minutes): ties happen
    st.integers(0, len(VALUES) - 1),
    st.sampled_from([("S-A", "5A"), ("S-A", "5B"), ("S-B", None)]),
    st.sampled_from(["male", "female"]),
    st.sampled_from(["cannot_swim", "swims_with_aid", "swims_25m_unaided"]),
)


def record_id(data: HealthMeasured | SwimAssessed) -> uuid.UUID:
    return data.measurement_id if isinstance(data, HealthMeasured) else data.assessment_id


def oracle(events: list[Timed]) -> Cells:
    """The rules written out directly, from the distinct events (first copy of each id)."""
    first: dict[uuid.UUID, Timed] = {}
    for t in events:
        first.setdefault(record_id(t.data), t)
    retracted = {
        (type(t.data), t.data.learner_id, t.data.campaign_id, t.data.replaces)
        for t in first.values()
    }
    counted_m: dict[Key, Measurement] = {}
    counted_s: dict[Key, SwimAssessment] = {}
    for t in first.values():
        d = t.data
        key = (d.learner_id, d.campaign_id)
        if (type(d), *key, record_id(d)) in retracted:
            continue
        if isinstance(d, HealthMeasured):
            m = Measurement.of(t.time, d)
            if key not in counted_m or m.order > counted_m[key].order:
                counted_m[key] = m
        else:
            s = SwimAssessment.of(t.time, d)
            if key not in counted_s or s.order > counted_s[key].order:
                counted_s[key] = s
    newest: dict[str, Measurement] = {}
    for (learner, _), m in counted_m.items():
        if learner not in newest or m.order > newest[learner].order:
            newest[learner] = m
    cells = Cells()
    for (_, campaign), m in counted_m.items():
        cells.add(campaign, Counted(measurement_share(m)))
    for (learner, campaign), s in counted_s.items():
        sex = newest[learner].sex if learner in newest else UNKNOWN_SEX
        cells.add(campaign, Counted(swim=swim_share(s, sex)))
    return cells.without_zeros()


@settings(max_examples=300, deadline=None)
@given(history=st.lists(ops, min_size=1, max_size=25), data=st.data())
def test_any_interleaving_and_batch_split_equals_a_recount(history, data):
    events: list[Timed] = []
    made: dict[tuple[str, str, str], list[uuid.UUID]] = {}  # (kind, learner, campaign) -> ids
    for kind, learner, campaign, day, minute, value, (school, class_id), sex, ability in history:
        on = DAY + timedelta(days=day)
        swim_kind = kind.startswith("swim")
        earlier = made.get(("swim" if swim_kind else "measure", learner, campaign), [])
        replaces = None
        if kind in ("correct", "swim_correct") and earlier:
            replaces = data.draw(st.sampled_from(earlier))
        elif kind == "stray_correct":
            replaces = uuid.uuid4()  # names a record that never arrives
        event: HealthMeasured | SwimAssessed
        if swim_kind:
            swim = swam(
                learner,
                ability,
                on=on,
                school=school,
                class_id=class_id,
                replaces=replaces,
                campaign=campaign,
            )
            made.setdefault(("swim", learner, campaign), []).append(swim.assessment_id)
            event = swim
        else:
            measurement = measured(
                learner,
                **VALUES[value],
                on=on,
                school=school,
                class_id=class_id,
                sex=sex,
                replaces=replaces,
                campaign=campaign,
            )
            made.setdefault(("measure", learner, campaign), []).append(measurement.measurement_id)
            event = measurement
        events.append(at(minute, event))

    duplicates = data.draw(st.lists(st.sampled_from(events), max_size=10))
    deliveries = data.draw(st.permutations(events + duplicates))
    sizes = data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=8))

    store = MemoryStore()
    position, index = 0, 0
    while position < len(deliveries):
        size = sizes[index % len(sizes)]
        store.apply(deliveries[position : position + size])
        position += size
        index += 1

    shares, cells = store.recount()
    assert store.cells == cells
    assert store.shares() == shares
    # And the same as everything folded in one batch, in the original order, and as the rules
    # written out directly.
    assert fold_once(*events).deltas == cells
    assert oracle(deliveries) == cells


# --------------------------------------------------------------------------- marks


def share_of(event: HealthMeasured) -> Counted:
    return Counted(measurement_share(Measurement.of(T0, event)))


def test_marks_move_only_when_the_counted_measurement_changes():
    first, correction, kept = share_of(measured()), share_of(measured()), share_of(measured("L2"))
    newcomer = share_of(measured("L3"))
    marks = counted_marks(
        {"L1": {CAMPAIGN: first}, "L2": {CAMPAIGN: kept}},
        {("L1", CAMPAIGN): correction, ("L3", CAMPAIGN): newcomer},
    )
    assert marks.unmark == {id_of(first)}
    assert marks.mark == {
        id_of(correction): ("L1", correction.measurement),
        id_of(newcomer): ("L3", newcomer.measurement),
    }
    # Everything retracted: unmarked, nothing marked.
    nothing = counted_marks({"L1": {CAMPAIGN: first}}, {("L1", CAMPAIGN): Counted()})
    assert (nothing.unmark, nothing.mark) == ({id_of(first)}, {})


def id_of(counted: Counted) -> uuid.UUID:
    assert counted.measurement is not None
    return counted.measurement.measurement_id


def test_a_merge_marks_the_winner_for_the_survivor_instead_of_unmarking_it():
    # The retired ID's measurement is newer: it now counts for the survivor, whose own
    # measurement stops counting; the retired person's share is emptied.
    survivors = share_of(measured("S", on=DAY))
    retired = share_of(measured("M", on=DAY + timedelta(days=1)))
    marks = counted_marks(
        {"S": {CAMPAIGN: survivors}, "M": {CAMPAIGN: retired}},
        {("S", CAMPAIGN): retired, ("M", CAMPAIGN): Counted()},
    )
    assert marks.unmark == {id_of(survivors)}
    assert marks.mark == {id_of(retired): ("S", retired.measurement)}
