"""Health-check records: plausibility of measurements, eyesight, eye conditions, swimming.

These rules only reject values that cannot be right (typing errors, swapped fields, wrong
units). Classifying nutrition status with WHO z-scores is analytics' job, not this module's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class EyeCondition(StrEnum):
    MYOPIA = "myopia"
    HYPEROPIA = "hyperopia"
    ASTIGMATISM = "astigmatism"
    STRABISMUS = "strabismus"
    OTHER = "other"


class SwimmingAbility(StrEnum):
    """Swimming scale recorded by the school (ordered from least to most able).

    - cannot_swim: cannot stay afloat or move through water.
    - swims_with_aid: swims only with a float, board, armbands or a hand to hold.
    - swims_25m_unaided: swims 25 m without any aid. The 25 m mark is this platform's choice,
      taken from common learn-to-swim programmes (check against the Ministry's safe-swimming
      guidance before publishing the indicator).
    """

    CANNOT_SWIM = "cannot_swim"
    SWIMS_WITH_AID = "swims_with_aid"
    SWIMS_25M_UNAIDED = "swims_25m_unaided"


def counts_as_cannot_swim(ability: SwimmingAbility) -> bool:
    """Whether the learner counts in the Department's "cannot swim" share.

    A child who needs an aid is not safe in open water, and drowning is the reason the
    Department tracks swimming, so both cannot_swim and swims_with_aid count as "cannot swim".
    """
    return ability in (SwimmingAbility.CANNOT_SWIM, SwimmingAbility.SWIMS_WITH_AID)


# --- eyesight ---------------------------------------------------------------------------------

# Canonical representation: decimal visual acuity, 0.0 (no perception) to 2.0 (better than
# 20/10 is not measured on school charts). Vietnamese school charts write 10/10 for normal.
ACUITY_MIN = 0.0
ACUITY_MAX = 2.0
_FRACTION = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*/\s*(\d+(?:[.,]\d+)?)\s*$")


class InvalidAcuity(ValueError):
    pass


def _decimal(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", "."))


def parse_visual_acuity(text: str) -> float:
    """Decimal acuity from "10/10", "8/10", Snellen "20/40", or "0.5" / "0,5"."""
    try:
        match = _FRACTION.match(text)
        if match:
            numerator, denominator = _decimal(match[1]), _decimal(match[2])
            if denominator == 0:
                raise InvalidAcuity(f"visual acuity {text!r} has a zero denominator")
            value = numerator / denominator
        else:
            value = _decimal(text)
    except InvalidOperation:
        raise InvalidAcuity(f"visual acuity {text!r} is neither a fraction nor a decimal") from None
    if not value.is_finite() or not ACUITY_MIN <= value <= ACUITY_MAX:
        raise InvalidAcuity(f"visual acuity {text!r} is outside {ACUITY_MIN}–{ACUITY_MAX}")
    # Two decimals keep 20/30 (0.67) distinct from 20/25 (0.8) without spurious precision.
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# --- plausible ranges by age and sex ----------------------------------------------------------


@dataclass(frozen=True)
class AgeBounds:
    height_min_cm: float
    height_max_cm: float
    bmi_min: float
    bmi_max: float

    def weight_range_kg(self) -> tuple[float, float]:
        # Without a valid height, the weight must at least fit the extreme BMIs at the
        # extreme heights of the age: a wide box, but it still catches grams typed as kg.
        low = self.bmi_min * (self.height_min_cm / 100) ** 2
        high = self.bmi_max * (self.height_max_cm / 100) ** 2
        return math.floor(low * 10) / 10, math.ceil(high * 10) / 10


# Plausible bounds per completed year of age (index = years, 0 to 18), derived once from the
# WHO LMS tables (0-5 y: WHO 2006 Child Growth Standards; 5-19 y: WHO 2007 Growth Reference;
# shared/data/who-growth). For every month in [12a, 12a + 12]:
#   height: median ± 6 SD, the limit beyond which WHO itself flags height-for-age as
#     implausible (|z| > 6); the lowest low and highest high over the year, rounded outwards
#     to whole cm;
#   BMI: ± 5 SD with WHO's restricted method beyond ± 3 SD (WHO flags |zbfa| > 5), rounded
#     outwards to 0.1.
# Spanning the whole year of age keeps the table small and only widens the bounds. Kept as
# data, not computed at import, so the records service needs no WHO files.
_BOUNDS: dict[Sex, tuple[AgeBounds, ...]] = {
    Sex.MALE: (
        AgeBounds(38, 90, 8.2, 26.1),  # 0
        AgeBounds(61, 107, 10.8, 25.3),  # 1
        AgeBounds(69, 119, 10.4, 24.1),  # 2
        AgeBounds(73, 129, 10.1, 23.3),  # 3
        AgeBounds(78, 138, 10.0, 24.1),  # 4
        AgeBounds(82, 146, 10.2, 25.1),  # 5
        AgeBounds(86, 154, 10.3, 26.8),  # 6
        AgeBounds(90, 162, 10.4, 29.1),  # 7
        AgeBounds(93, 169, 10.5, 32.0),  # 8
        AgeBounds(96, 177, 10.7, 35.5),  # 9
        AgeBounds(99, 184, 10.8, 39.2),  # 10
        AgeBounds(102, 192, 11.0, 42.8),  # 11
        AgeBounds(106, 201, 11.2, 45.6),  # 12
        AgeBounds(111, 210, 11.5, 47.5),  # 13
        AgeBounds(117, 216, 11.8, 48.4),  # 14
        AgeBounds(122, 220, 12.1, 48.6),  # 15
        AgeBounds(126, 222, 12.3, 48.6),  # 16
        AgeBounds(129, 222, 12.4, 48.3),  # 17
        AgeBounds(131, 221, 12.4, 47.9),  # 18
    ),
    Sex.FEMALE: (
        AgeBounds(37, 90, 8.1, 26.3),  # 0
        AgeBounds(58, 106, 10.2, 25.6),  # 1
        AgeBounds(66, 118, 10.2, 24.4),  # 2
        AgeBounds(72, 129, 9.8, 24.7),  # 3
        AgeBounds(76, 138, 9.5, 26.2),  # 4
        AgeBounds(80, 146, 9.7, 28.0),  # 5
        AgeBounds(84, 154, 9.7, 30.3),  # 6
        AgeBounds(88, 162, 9.7, 33.3),  # 7
        AgeBounds(91, 170, 9.8, 36.6),  # 8
        AgeBounds(95, 178, 10.0, 40.0),  # 9
        AgeBounds(100, 185, 10.1, 43.2),  # 10
        AgeBounds(105, 193, 10.4, 45.8),  # 11
        AgeBounds(110, 199, 10.6, 48.0),  # 12
        AgeBounds(114, 202, 10.9, 49.4),  # 13
        AgeBounds(118, 203, 11.1, 50.2),  # 14
        AgeBounds(120, 204, 11.3, 50.5),  # 15
        AgeBounds(121, 204, 11.3, 50.5),  # 16
        AgeBounds(122, 204, 11.3, 50.3),  # 17
        AgeBounds(123, 203, 11.1, 49.8),  # 18
    ),
}
OLDEST_TABULATED_YEAR = 18


def age_in_months(birth_date: date, on: date) -> int:
    """Completed months of age on a date (negative if `on` is before birth)."""
    months = (on.year - birth_date.year) * 12 + (on.month - birth_date.month)
    if on.day < birth_date.day:
        months -= 1
    return months


def bounds_for(age_months: int, sex: Sex) -> AgeBounds:
    # The WHO references end at 19 years; adult learners (continuing-education centres) are
    # checked against the last tabulated year, as adult height no longer changes.
    years = min(age_months // 12, OLDEST_TABULATED_YEAR)
    return _BOUNDS[sex][years]


# --- measurements -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthMeasurement:
    """One learner's result in one health-check campaign."""

    measurement_id: str
    learner_id: str
    campaign_id: str
    measured_on: date
    # When the school submitted it: orders competing submissions for the same campaign.
    recorded_at: datetime
    height_cm: float | None = None
    weight_kg: float | None = None
    visual_acuity_left: float | None = None
    visual_acuity_right: float | None = None
    eye_conditions: frozenset[EyeCondition] = field(default_factory=frozenset)
    swimming: SwimmingAbility | None = None


@dataclass(frozen=True)
class Issue:
    field: str
    value: object
    rule: str
    message: str


def _describe_age(age_months: int, sex: Sex) -> str:
    who = "boys" if sex is Sex.MALE else "girls"
    years = age_months // 12
    if years > OLDEST_TABULATED_YEAR:
        return f"{who} aged {years} years (checked against the 18-year reference)"
    return f"{who} aged {years} years"


def _range_issue(
    name: str, value: float, low: float, high: float, unit: str, context: str
) -> Issue | None:
    if low <= value <= high:
        return None
    return Issue(
        field=name,
        value=value,
        rule="plausible_range",
        message=f"{name} {value:g} {unit} is outside the plausible range {low:g}–{high:g} "
        f"{unit} for {context}",
    )


def _not_finite_issue(name: str, value: float) -> Issue | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return Issue(name, value, "finite_number", f"{name} {value!r} is not a finite number")
    return None


def _anthropometry_issues(m: HealthMeasurement, age_months: int, sex: Sex) -> list[Issue]:
    bounds = bounds_for(age_months, sex)
    context = _describe_age(age_months, sex)
    issues: list[Issue] = []
    height_ok = weight_ok = False
    if m.height_cm is not None:
        issue = _not_finite_issue("height_cm", m.height_cm) or _range_issue(
            "height_cm", m.height_cm, bounds.height_min_cm, bounds.height_max_cm, "cm", context
        )
        height_ok = issue is None
        issues += [issue] if issue else []
    if m.weight_kg is not None:
        low, high = bounds.weight_range_kg()
        issue = _not_finite_issue("weight_kg", m.weight_kg) or _range_issue(
            "weight_kg", m.weight_kg, low, high, "kg", context
        )
        weight_ok = issue is None
        issues += [issue] if issue else []
    if height_ok and weight_ok:
        assert m.height_cm is not None and m.weight_kg is not None
        # Each value may be plausible alone and impossible together (120 cm and 80 kg).
        metres_squared = (m.height_cm / 100) ** 2
        low = math.floor(bounds.bmi_min * metres_squared * 10) / 10
        high = math.ceil(bounds.bmi_max * metres_squared * 10) / 10
        issue = _range_issue(
            "weight_kg", m.weight_kg, low, high, "kg", f"{context} at height {m.height_cm:g} cm"
        )
        issues += [issue] if issue else []
    return issues


def _acuity_issues(m: HealthMeasurement) -> list[Issue]:
    issues: list[Issue] = []
    for name, value in (
        ("visual_acuity_left", m.visual_acuity_left),
        ("visual_acuity_right", m.visual_acuity_right),
    ):
        if value is None:
            continue
        issue = _not_finite_issue(name, value) or _range_issue(
            name, value, ACUITY_MIN, ACUITY_MAX, "(decimal acuity)", "any age"
        )
        issues += [issue] if issue else []
    return issues


def validate_measurement(m: HealthMeasurement, birth_date: date, sex: Sex) -> list[Issue]:
    """Every implausible value in the measurement; empty when it may be stored."""
    issues = _acuity_issues(m)
    age_months = age_in_months(birth_date, m.measured_on)
    if age_months < 0:
        issues.insert(
            0,
            Issue(
                "measured_on",
                m.measured_on,
                "after_birth",
                f"measured_on {m.measured_on.isoformat()} is before the birth date "
                f"{birth_date.isoformat()}",
            ),
        )
        return issues
    return _anthropometry_issues(m, age_months, sex) + issues


# --- corrections: one current measurement per learner and campaign ----------------------------


@dataclass(frozen=True)
class ReplacementDecision:
    """Whether an incoming measurement becomes current, and which stored one it replaces."""

    applies: bool
    replaces: HealthMeasurement | None


def _order_key(m: HealthMeasurement) -> tuple[datetime, str]:
    # recorded_at decides; the id breaks ties so every node reaches the same answer whatever
    # order redelivered events arrive in.
    return (m.recorded_at, m.measurement_id)


def decide_replacement(
    current: HealthMeasurement | None, incoming: HealthMeasurement
) -> ReplacementDecision:
    """A newer measurement for the same learner and campaign replaces the current one.

    The same measurement again (a retry) changes nothing, and an older one arriving late does
    not overwrite a newer one.
    """
    if current is None:
        return ReplacementDecision(applies=True, replaces=None)
    if (current.learner_id, current.campaign_id) != (incoming.learner_id, incoming.campaign_id):
        raise ValueError(
            f"measurement {incoming.measurement_id} is for learner {incoming.learner_id} in "
            f"campaign {incoming.campaign_id}, not learner {current.learner_id} in campaign "
            f"{current.campaign_id}"
        )
    if incoming.measurement_id == current.measurement_id:
        return ReplacementDecision(applies=False, replaces=None)
    if _order_key(incoming) > _order_key(current):
        return ReplacementDecision(applies=True, replaces=current)
    return ReplacementDecision(applies=False, replaces=None)
