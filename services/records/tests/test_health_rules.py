"""Health-check plausibility, eyesight, eye conditions, swimming scale and corrections."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.records.domain.health import (
    AgeBounds,
    EyeCondition,
    HealthMeasurement,
    InvalidAcuity,
    Sex,
    SwimmingAbility,
    age_in_months,
    bounds_for,
    counts_as_cannot_swim,
    decide_replacement,
    parse_visual_acuity,
    validate_measurement,
)

BIRTH = date(2018, 3, 15)
SEVEN_YEARS_LATER = date(2025, 3, 20)  # 84 completed months


def _measurement(**changes: Any) -> HealthMeasurement:
    base = HealthMeasurement(
        measurement_id="m-1",
        learner_id="L-001",
        campaign_id="2024-2025-autumn",
        measured_on=SEVEN_YEARS_LATER,
        recorded_at=datetime(2025, 3, 20, 8, 0, tzinfo=UTC),
    )
    return replace(base, **changes)


# --- age and the bounds table -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "months"),
    [
        (date(2025, 3, 14), 83),  # one day short of the 7th birthday
        (date(2025, 3, 15), 84),
        (date(2018, 3, 15), 0),
        (date(2018, 4, 14), 0),
        (date(2018, 4, 15), 1),
        (date(2018, 3, 14), -1),
    ],
)
def test_age_in_completed_months(on: date, months: int) -> None:
    assert age_in_months(BIRTH, on) == months


def test_bounds_table_rows() -> None:
    assert bounds_for(84, Sex.MALE) == AgeBounds(90, 162, 10.4, 29.1)
    assert bounds_for(95, Sex.MALE) == AgeBounds(90, 162, 10.4, 29.1)  # still 7 years
    assert bounds_for(96, Sex.FEMALE) == AgeBounds(91, 170, 9.8, 36.6)
    # Adults are checked against the last tabulated year (18).
    assert bounds_for(25 * 12, Sex.FEMALE) == bounds_for(18 * 12, Sex.FEMALE)


def test_weight_box_of_an_age_follows_from_height_and_bmi_bounds() -> None:
    # Boys aged 7: 10.4 * 0.90^2 = 8.424 -> 8.4 (down); 29.1 * 1.62^2 = 76.37 -> 76.4 (up).
    assert bounds_for(84, Sex.MALE).weight_range_kg() == (8.4, 76.4)


# --- height, weight and their combination -----------------------------------------------------


def test_typical_seven_year_old_passes() -> None:
    # WHO 2007 medians at 84 months: about 121.7 cm and 24 kg for boys.
    assert (
        validate_measurement(_measurement(height_cm=121.5, weight_kg=23.4), BIRTH, Sex.MALE) == []
    )


def test_height_of_190_cm_at_seven_is_impossible() -> None:
    issues = validate_measurement(_measurement(height_cm=190.0), BIRTH, Sex.MALE)
    assert len(issues) == 1
    issue = issues[0]
    assert (issue.field, issue.value, issue.rule) == ("height_cm", 190.0, "plausible_range")
    assert issue.message == (
        "height_cm 190 cm is outside the plausible range 90–162 cm for boys aged 7 years"
    )


def test_height_bounds_are_inclusive() -> None:
    # Girls aged 7: 88-162 cm.
    assert validate_measurement(_measurement(height_cm=162.0), BIRTH, Sex.FEMALE) == []
    assert validate_measurement(_measurement(height_cm=88.0), BIRTH, Sex.FEMALE) == []
    too_tall = validate_measurement(_measurement(height_cm=162.1), BIRTH, Sex.FEMALE)
    assert [i.field for i in too_tall] == ["height_cm"]
    assert "girls aged 7 years" in too_tall[0].message


def test_weight_typed_in_grams_or_as_too_small_a_number_is_rejected() -> None:
    heavy = validate_measurement(_measurement(weight_kg=230.0), BIRTH, Sex.MALE)
    assert [(i.field, i.value) for i in heavy] == [("weight_kg", 230.0)]
    assert "8.4–76.4 kg" in heavy[0].message
    light = validate_measurement(_measurement(weight_kg=2.3), BIRTH, Sex.MALE)
    assert [(i.field, i.value) for i in light] == [("weight_kg", 2.3)]


def test_weight_impossible_for_the_measured_height_is_rejected() -> None:
    # 120 cm: 1.2^2 = 1.44; BMI 10.4-29.1 -> 14.976-41.904 kg -> 14.9-42.0 kg (outwards).
    # 60 kg lies inside the age's weight box (8.4-76.4 kg) but gives BMI 60 / 1.44 = 41.7,
    # far above the 29.1 limit for boys aged 7.
    issues = validate_measurement(_measurement(height_cm=120.0, weight_kg=60.0), BIRTH, Sex.MALE)
    assert [(i.field, i.rule) for i in issues] == [("weight_kg", "plausible_range")]
    assert issues[0].message == (
        "weight_kg 60 kg is outside the plausible range 14.9–42 kg for boys aged 7 years "
        "at height 120 cm"
    )
    at_edge = _measurement(height_cm=120.0, weight_kg=42.0)
    assert validate_measurement(at_edge, BIRTH, Sex.MALE) == []
    just_over = _measurement(height_cm=120.0, weight_kg=42.1)
    assert [i.field for i in validate_measurement(just_over, BIRTH, Sex.MALE)] == ["weight_kg"]


def test_only_the_given_fields_are_checked() -> None:
    assert validate_measurement(_measurement(weight_kg=25.0), BIRTH, Sex.FEMALE) == []
    assert validate_measurement(_measurement(), BIRTH, Sex.FEMALE) == []


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_values_are_rejected(value: float) -> None:
    issues = validate_measurement(_measurement(height_cm=value), BIRTH, Sex.MALE)
    assert [(i.field, i.rule) for i in issues] == [("height_cm", "finite_number")]


def test_measurement_before_birth_is_rejected_without_age_checks() -> None:
    m = _measurement(measured_on=date(2018, 1, 1), height_cm=300.0)
    issues = validate_measurement(m, BIRTH, Sex.MALE)
    assert [(i.field, i.rule) for i in issues] == [("measured_on", "after_birth")]
    assert "2018-01-01" in issues[0].message and "2018-03-15" in issues[0].message


def test_infant_and_adult_learners_use_their_rows() -> None:
    # Boy of 6 months: row 0 (38-90 cm); 67 cm is typical.
    infant = _measurement(measured_on=date(2018, 9, 20), height_cm=67.0, weight_kg=7.9)
    assert validate_measurement(infant, BIRTH, Sex.MALE) == []
    # A 25-year-old in a continuing-education centre: 18-year row (131-221 cm for men).
    adult = _measurement(measured_on=date(2043, 4, 1), height_cm=230.0)
    issues = validate_measurement(adult, BIRTH, Sex.MALE)
    assert [i.field for i in issues] == ["height_cm"]
    assert "131–221 cm" in issues[0].message
    assert "aged 25 years (checked against the 18-year reference)" in issues[0].message


def test_all_issues_are_reported_together() -> None:
    m = _measurement(height_cm=190.0, weight_kg=500.0, visual_acuity_left=2.5)
    issues = validate_measurement(m, BIRTH, Sex.MALE)
    assert [i.field for i in issues] == ["height_cm", "weight_kg", "visual_acuity_left"]


# --- eyesight ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "acuity"),
    [
        ("10/10", 1.0),
        ("8/10", 0.8),
        ("1/10", 0.1),
        ("20/20", 1.0),  # Snellen, feet
        ("6/6", 1.0),  # Snellen, metres
        ("20/40", 0.5),
        ("20/30", 0.67),  # 0.666... -> 0.67
        ("20/10", 2.0),
        ("0.5", 0.5),
        ("0,5", 0.5),  # Vietnamese decimal comma
        (" 1 ", 1.0),
        ("0", 0.0),
        ("2.0", 2.0),
    ],
)
def test_visual_acuity_parsing(text: str, acuity: float) -> None:
    assert parse_visual_acuity(text) == acuity


@pytest.mark.parametrize("text", ["21/10", "2.1", "-0.1", "10/0", "abc", "", "8/10/10"])
def test_visual_acuity_rejections(text: str) -> None:
    with pytest.raises(InvalidAcuity):
        parse_visual_acuity(text)


def test_acuity_per_eye_is_checked_against_the_canonical_range() -> None:
    m = _measurement(visual_acuity_left=1.0, visual_acuity_right=-0.2)
    issues = validate_measurement(m, BIRTH, Sex.FEMALE)
    assert [(i.field, i.value) for i in issues] == [("visual_acuity_right", -0.2)]
    assert "0–2" in issues[0].message


# --- eye conditions and swimming --------------------------------------------------------------


def test_eye_conditions_are_a_closed_set() -> None:
    assert {c.value for c in EyeCondition} == {
        "myopia",
        "hyperopia",
        "astigmatism",
        "strabismus",
        "other",
    }
    m = _measurement(eye_conditions=frozenset({EyeCondition.MYOPIA, EyeCondition.ASTIGMATISM}))
    assert validate_measurement(m, BIRTH, Sex.MALE) == []
    assert EyeCondition("myopia") in m.eye_conditions
    with pytest.raises(ValueError):
        EyeCondition("cataract")


@pytest.mark.parametrize(
    ("ability", "cannot_swim"),
    [
        (SwimmingAbility.CANNOT_SWIM, True),
        (SwimmingAbility.SWIMS_WITH_AID, True),  # not safe in water without the aid
        (SwimmingAbility.SWIMS_25M_UNAIDED, False),
    ],
)
def test_swimming_scale_and_cannot_swim_indicator(
    ability: SwimmingAbility, cannot_swim: bool
) -> None:
    assert counts_as_cannot_swim(ability) is cannot_swim


def test_swimming_scale_values() -> None:
    assert [a.value for a in SwimmingAbility] == [
        "cannot_swim",
        "swims_with_aid",
        "swims_25m_unaided",
    ]


# --- corrections ------------------------------------------------------------------------------

EARLY = datetime(2025, 3, 20, 8, 0, tzinfo=UTC)
LATE = datetime(2025, 3, 21, 8, 0, tzinfo=UTC)


def test_first_measurement_of_a_campaign_applies_and_replaces_nothing() -> None:
    decision = decide_replacement(None, _measurement())
    assert (decision.applies, decision.replaces) == (True, None)


def test_newer_measurement_replaces_the_current_one() -> None:
    current = _measurement(measurement_id="m-1", recorded_at=EARLY, height_cm=121.0)
    newer = _measurement(measurement_id="m-2", recorded_at=LATE, height_cm=122.0)
    decision = decide_replacement(current, newer)
    assert decision.applies is True
    assert decision.replaces == current


def test_redelivered_measurement_changes_nothing() -> None:
    current = _measurement(measurement_id="m-1")
    decision = decide_replacement(current, current)
    assert (decision.applies, decision.replaces) == (False, None)


def test_late_arriving_older_measurement_does_not_overwrite() -> None:
    current = _measurement(measurement_id="m-2", recorded_at=LATE)
    older = _measurement(measurement_id="m-1", recorded_at=EARLY)
    decision = decide_replacement(current, older)
    assert (decision.applies, decision.replaces) == (False, None)


def test_same_recorded_time_is_settled_by_id_whatever_the_arrival_order() -> None:
    a = _measurement(measurement_id="m-a", recorded_at=EARLY)
    b = _measurement(measurement_id="m-b", recorded_at=EARLY)
    assert decide_replacement(a, b).applies is True  # b wins
    assert decide_replacement(b, a).applies is False  # b stays


def test_measurement_of_another_learner_or_campaign_is_refused() -> None:
    current = _measurement()
    with pytest.raises(ValueError, match="not learner L-001"):
        decide_replacement(current, _measurement(measurement_id="m-9", learner_id="L-002"))
    with pytest.raises(ValueError, match="campaign"):
        decide_replacement(current, _measurement(measurement_id="m-9", campaign_id="other"))
