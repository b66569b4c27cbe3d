"""WHO growth z-scores: hand-computed cases from literal LMS rows, WHO's own examples, rules.

Every LMS triple below is copied from the row of the WHO table named next to it, so each test
shows the arithmetic WHO prescribes; the expected value is also written out as a number.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.domain.growth import (
    GrowthResult,
    adjust_length_height,
    assess,
    classify_under5,
    classify_who2007,
    lms_z,
    months_to_days,
    restricted_lms_z,
    screen_who2007,
    who_round,
)


def plain(y: float, l: float, m: float, s: float) -> float:  # noqa: E741 (WHO's names)
    """z = ((y/M)^L - 1) / (L*S)."""
    return ((y / m) ** l - 1) / (s * l)


def sd_k(l: float, m: float, s: float, k: int) -> float:  # noqa: E741
    """SDk = M * (1 + L*S*k)^(1/L)."""
    return m * (1 + l * s * k) ** (1 / l)


# --------------------------------------------------------------------------- 5-19 years


def test_height_for_age_5_19_plain_formula() -> None:
    # hfawho2007.txt: sex 1, age 120 -> L 1, M 137.7795, S 0.04626. L = 1 makes it linear.
    expected = (140 / 137.7795 - 1) / 0.04626
    assert expected == pytest.approx(0.348386, abs=1e-6)
    r = assess(1, 120, 140.0, None)
    assert r.reference == "WHO 2007"
    assert r.zhfa == 0.35 == round(expected, 2)
    assert r.fhfa is False
    assert r.zwfa is None and r.zbfa is None  # no weight given


def test_height_for_age_is_not_restricted_and_flags_beyond_6() -> None:
    # Same row; 200 cm at 10 years: the plain formula gives 9.76 (no restriction for height).
    expected = (200 / 137.7795 - 1) / 0.04626
    r = assess(1, 120, 200.0, None)
    assert r.zhfa == 9.76 == round(expected, 2)
    assert r.fhfa is True
    assert r.status.stunted is False


LMS_WFA_BOY_96 = (-0.5482, 25.4163, 0.14344)  # wfawho2007.txt: sex 1, age 96


def test_weight_for_age_5_10_within_3sd() -> None:
    l, m, s = LMS_WFA_BOY_96  # noqa: E741
    expected = ((25 / m) ** l - 1) / (s * l)
    assert expected == pytest.approx(-0.115657, abs=1e-6)
    assert assess(1, 96, None, 25.0).zwfa == -0.12


def test_weight_for_age_5_10_beyond_plus_3sd_uses_restricted_method() -> None:
    l, m, s = LMS_WFA_BOY_96  # noqa: E741
    # The plain LMS z would be 4.78; the restricted method measures past SD3 in SD2-SD3 units.
    assert plain(60, l, m, s) == pytest.approx(4.775892, abs=1e-6)
    sd3, sd2 = sd_k(l, m, s, 3), sd_k(l, m, s, 2)
    expected = 3 + (60 - sd3) / (sd3 - sd2)
    assert expected == pytest.approx(5.719964, abs=1e-6)
    r = assess(1, 96, None, 60.0)
    assert r.zwfa == 5.72
    assert r.fwfa is True  # zwfa > 5


def test_weight_for_age_5_10_beyond_minus_3sd_uses_restricted_method() -> None:
    l, m, s = LMS_WFA_BOY_96  # noqa: E741
    sd3neg, sd2neg = sd_k(l, m, s, -3), sd_k(l, m, s, -2)
    expected = -3 + (12 - sd3neg) / (sd2neg - sd3neg)
    assert plain(12, l, m, s) == pytest.approx(-6.472432, abs=1e-6)
    assert expected == pytest.approx(-5.395508, abs=1e-6)
    r = assess(1, 96, None, 12.0)
    assert r.zwfa == -5.40
    assert r.fwfa is False  # the low flag is < -6
    very_low = -3 + (10.5 - sd3neg) / (sd2neg - sd3neg)
    r = assess(1, 96, None, 10.5)
    assert r.zwfa == round(very_low, 2) == -6.08
    assert r.fwfa is True


def test_bmi_for_age_fractional_month_interpolates_lms() -> None:
    # bfawho2007.txt, sex 2: age 150 -> -1.3621, 18.3986, 0.13295; age 151 -> -1.3553, 18.4660,
    # 0.13321. Age 150.25: a quarter of the way from 150 to 151 for each of L, M and S.
    l = -1.3621 + 0.25 * (-1.3553 - -1.3621)  # noqa: E741
    m = 18.3986 + 0.25 * (18.4660 - 18.3986)
    s = 0.13295 + 0.25 * (0.13321 - 0.13295)
    assert (l, m, s) == pytest.approx((-1.3604, 18.41545, 0.133015))
    bmi = 40 / 1.5**2
    expected = plain(bmi, l, m, s)
    assert expected == pytest.approx(-0.271392, abs=1e-6)
    r = assess(2, 150.25, 150.0, 40.0)
    assert r.bmi == pytest.approx(17.777778, abs=1e-6)
    assert r.zbfa == -0.27
    assert r.zwfa is None  # weight-for-age stops at 10 years
    assert r.nutrition_status == "normal"


def test_bmi_for_age_beyond_minus_3sd_restricted_and_flagged() -> None:
    # bfawho2007.txt: sex 1, age 180 -> L -1.4961, M 19.7744, S 0.12412.
    l, m, s = -1.4961, 19.7744, 0.12412  # noqa: E741
    bmi = 34.68 / 1.7**2  # 12.0
    assert plain(bmi, l, m, s) == pytest.approx(-5.984178, abs=1e-6)
    sd3neg, sd2neg = sd_k(l, m, s, -3), sd_k(l, m, s, -2)
    expected = -3 + (bmi - sd3neg) / (sd2neg - sd3neg)
    assert expected == pytest.approx(-5.078501, abs=1e-6)
    r = assess(1, 180, 170.0, 34.68)
    assert r.zbfa == -5.08
    assert r.fbfa is True  # |zbfa| > 5
    assert r.nutrition_status == "flagged"
    assert r.status.severely_thin is False  # WHO leaves flagged values out of prevalence


def test_who_anthroplus_published_examples_around_60_months() -> None:
    # anthroplus tests/testthat/test-zscores.R, "computes correct value for age ~ 60 months".
    r = assess(2, 60.32, 113.8, 18.7)
    assert (r.zwfa, r.zbfa, r.zhfa) == (0.21, -0.58, 0.96)
    r = assess(2, 60.911701, 113.6, 20.5)
    assert (r.zwfa, r.zbfa, r.zhfa) == (0.79, 0.42, 0.85)


def test_5_19_age_limits_follow_anthroplus() -> None:
    # Height/BMI-for-age up to (excluding) 229 months, weight-for-age up to (excluding) 121.
    assert assess(1, 120.99, 140.0, 30.0).zwfa is not None
    r = assess(1, 121, 140.0, 30.0)
    assert r.zwfa is None and r.zhfa is not None and r.zbfa is not None
    r = assess(1, 228.99, 175.0, 65.0)
    assert r.zhfa is not None and r.zbfa is not None
    with pytest.raises(ValueError, match="age_months"):
        assess(1, 229, 175.0, 65.0)


# --------------------------------------------------------------------------- under 5


def test_age_in_days_is_months_times_30_4375_rounded_half_up() -> None:
    assert months_to_days(12) == 365  # 365.25
    assert months_to_days(18) == 548  # 547.875
    # 730.5 goes up to 731 (anthro's round_up); Python's round() would give 730 (half-even).
    assert 24 * 30.4375 == 730.5
    assert months_to_days(24) == 731
    assert months_to_days(23.99) == 730


def test_length_for_age_under_2() -> None:
    # lenanthro.txt: sex 1, age 365 (12 months) -> L 1, M 75.7391, S 0.03137.
    expected = (75 / 75.7391 - 1) / 0.03137
    assert expected == pytest.approx(-0.311077, abs=1e-6)
    r = assess(1, 12, 75.0, None)
    assert r.reference == "WHO 2006"
    assert r.age_days == 365
    assert r.zhfa == -0.31


def test_weight_for_age_under_5_plain_and_beyond_3sd() -> None:
    # weianthro.txt: sex 1, age 365 -> L 0.0645, M 9.646, S 0.10925.
    l, m, s = 0.0645, 9.646, 0.10925  # noqa: E741
    assert assess(1, 12, None, 9.6).zwfa == round(plain(9.6, l, m, s), 2) == -0.04
    sd3, sd2 = sd_k(l, m, s, 3), sd_k(l, m, s, 2)
    high = 3 + (16 - sd3) / (sd3 - sd2)
    assert high == pytest.approx(4.957507, abs=1e-6)
    r = assess(1, 12, None, 16.0)
    assert r.zwfa == 4.96 and r.fwfa is False  # flag only above 5
    sd3neg, sd2neg = sd_k(l, m, s, -3), sd_k(l, m, s, -2)
    low = -3 + (5 - sd3neg) / (sd2neg - sd3neg)
    assert low == pytest.approx(-5.364044, abs=1e-6)
    assert assess(1, 12, None, 5.0).zwfa == -5.36


def test_weight_for_length_interpolates_between_tenth_cm_rows() -> None:
    # Girl, 18 months (548 days < 731: length table). wflanthro.txt, sex 2:
    # 80.3 -> L -0.3833, M 10.1503, S 0.08936; 80.4 -> L -0.3833, M 10.1709, S 0.08935.
    # anthro: low = trunc(80.35 * 10) / 10 = 80.3, diff = (80.35 - 80.3) / 0.1 (about 0.5).
    diff = (80.35 - 803 / 10) / 0.1
    assert diff == pytest.approx(0.5)
    l = -0.3833  # noqa: E741
    m = 10.1503 + diff * (10.1709 - 10.1503)
    s = 0.08936 + diff * (0.08935 - 0.08936)
    expected = plain(10.0, l, m, s)
    assert expected == pytest.approx(-0.178850, abs=1e-6)
    r = assess(2, 18, 80.35, 10.0)
    assert r.zwfh == -0.18
    assert r.fwfh is False
    assert r.nutrition_status == "normal"


def test_weight_for_height_from_24_months() -> None:
    # Boy, 30 months = 913 days (>= 731: height table). wfhanthro.txt sex 1, 95.0 ->
    # L -0.3521, M 14.06, S 0.0806.
    expected = plain(14.0, -0.3521, 14.06, 0.0806)
    assert expected == pytest.approx(-0.053099, abs=1e-6)
    r = assess(1, 30, 95.0, 14.0)
    assert r.age_days == 913
    assert r.zwfh == -0.05
    # Measured lying at 30 months: anthro subtracts 0.7 cm, so 95.7 cm lying = 95.0 standing.
    assert assess(1, 30, 95.7, 14.0, measure="L").zwfh == -0.05


def test_length_height_adjustment_and_bmi_for_age_under_5() -> None:
    # Boy, 30 months (913 days), recumbent length 90.0 cm -> standing-equivalent 89.3 cm.
    assert adjust_length_height(30, 90.0, "L") == pytest.approx(89.3)
    assert adjust_length_height(30, 90.0, "H") == 90.0
    assert adjust_length_height(30, 90.0, None) == 90.0  # position unknown: assumed standing
    assert adjust_length_height(12, 75.0, "H") == pytest.approx(75.7)  # standing < 24 months
    assert adjust_length_height(12, 75.0, "L") == 75.0
    r = assess(1, 30, 90.0, 13.0, measure="L")
    assert r.length_height_cm == pytest.approx(89.3)
    # lenanthro.txt sex 1 age 913 -> L 1, M 91.9297, S 0.03704.
    assert r.zhfa == round((89.3 / 91.9297 - 1) / 0.03704, 2) == -0.77
    # bmianthro.txt sex 1 age 913 -> L -0.4275, M 15.7954, S 0.07841; BMI from 89.3 cm.
    bmi = 13.0 / 0.893**2
    assert r.bmi == pytest.approx(bmi)
    assert r.zbfa == round(plain(bmi, -0.4275, 15.7954, 0.07841), 2) == 0.40
    # weianthro.txt sex 1 age 913 -> L -0.0431, M 13.2993, S 0.11781 (weight-for-age does not
    # depend on length).
    assert r.zwfa == round(plain(13.0, -0.0431, 13.2993, 0.11781), 2) == -0.19
    # wfhanthro.txt sex 1 height 89.3 -> L -0.3521, M 12.7209, S 0.08041.
    assert r.zwfh == round(plain(13.0, -0.3521, 12.7209, 0.08041), 2) == 0.27


def test_who_anthro_published_examples() -> None:
    # anthro tests/testthat/test-zscores.R: boy, 987 days, 72.86 cm measured lying -> -6.09,
    # flagged (987 >= 731 so 0.7 cm is subtracted first).
    r = assess(1, 987 / 30.4375, 72.86, None, measure="L")
    assert r.age_days == 987
    assert r.zhfa == -6.09 and r.fhfa is True
    # "young children with measured standing will be adjusted": 60 cm standing at 8 and 9
    # months; under 9 months the standing position is ignored (no +0.7).
    r8 = assess(1, 8, 60.0, None, measure="H")
    r9 = assess(1, 9, 60.0, None, measure="H")
    assert (r8.length_height_cm, r8.zhfa) == (60.0, -4.81)
    assert r9.length_height_cm == pytest.approx(60.7)
    assert r9.zhfa == -5.02
    # "height measurements are used for age 24 months": girl, 77.5 cm -> -2.55.
    assert assess(2, 24, 77.5, None).zhfa == -2.55
    # test-zscore-weight-for-age.R: girl, 1522 days, 17 kg -> 0.24, not flagged;
    # girl, 1 day, 10.37 kg -> flagged.
    r = assess(2, 1522 / 30.4375, None, 17.0)
    assert (r.zwfa, r.fwfa) == (0.24, False)
    assert assess(2, 1 / 30.4375, None, 10.37).fwfa is True


def test_weight_for_length_outside_table_is_unknown() -> None:
    # Under 731 days the length table covers 45-110 cm only.
    r = assess(1, 1, 44.9, 2.5)
    assert r.zwfh is None and r.fwfh is False
    assert r.nutrition_status == "unknown"
    assert r.zhfa is not None  # length-for-age does not need the wfl table


def test_reference_switches_at_60_months() -> None:
    assert assess(1, 59.99, 110.0, 18.0).reference == "WHO 2006"
    r = assess(1, 60, 110.0, 18.0)
    assert r.reference == "WHO 2007" and r.zwfh is None


# --------------------------------------------------------------------------- flags


def test_under5_flag_thresholds() -> None:
    r = assess(1, 12, None, 16.0)  # zwfa 4.96: the high flag is > 5
    assert r.fwfa is False
    # Boy 12 months weight 17 kg: beyond +5 -> flagged; same weight on 75 cm -> |zwfl| > 5.
    r = assess(1, 12, 75.0, 17.0)
    assert r.zwfa is not None and r.zwfa > 5 and r.fwfa is True
    assert r.zwfh is not None and r.zwfh > 5 and r.fwfh is True
    assert r.zbfa is not None and r.zbfa > 5 and r.fbfa is True
    assert r.nutrition_status == "flagged"
    assert r.status.obese is False


# --------------------------------------------------------------------------- classification


@pytest.mark.parametrize(
    ("zbfa", "status"),
    [
        (2.01, "obese"),
        (2.00, "overweight"),
        (1.01, "overweight"),
        (1.00, "normal"),
        (-2.00, "normal"),
        (-2.01, "thin"),
        (-3.00, "thin"),
        (-3.01, "severely_thin"),
    ],
)
def test_5_19_bmi_thresholds_are_strict(zbfa: float, status: str) -> None:
    assert classify_who2007(0.0, None, zbfa).nutrition_status == status


def test_5_19_booleans_nest_like_who_prevalence() -> None:
    s = classify_who2007(-2.01, -2.5, 2.5)
    assert s.obese and s.overweight  # overweight = above +1 SD, obesity included
    assert s.stunted and not s.severely_stunted
    assert s.underweight and not s.severely_underweight
    assert s.nutrition_status == "obese"  # a stunted child can also be obese
    assert not classify_who2007(-2.00, None, 0.0).stunted
    assert classify_who2007(-3.01, None, 0.0).severely_stunted
    s = classify_who2007(None, None, -3.5)
    assert s.thin and s.severely_thin and not s.wasted


def test_5_19_flagged_and_unknown() -> None:
    assert classify_who2007(0.0, None, 5.2, fbfa=True).nutrition_status == "flagged"
    assert classify_who2007(-6.5, None, 0.0, fhfa=True).stunted is False
    assert classify_who2007(0.0, None, None).nutrition_status == "unknown"


@pytest.mark.parametrize(
    ("zwfh", "status"),
    [
        (3.01, "obese"),
        (3.00, "overweight"),
        (2.01, "overweight"),
        (2.00, "normal"),
        (1.50, "normal"),  # +1..+2 is "possible risk of overweight", not a status here
        (-2.00, "normal"),
        (-2.01, "wasted"),
        (-3.00, "wasted"),
        (-3.01, "severely_wasted"),
    ],
)
def test_under5_weight_for_height_thresholds_are_strict(zwfh: float, status: str) -> None:
    assert classify_under5(0.0, 0.0, zwfh).nutrition_status == status


def test_under5_stunting_and_underweight() -> None:
    s = classify_under5(-2.01, -3.01, 0.0)
    assert s.stunted and not s.severely_stunted
    assert s.underweight and s.severely_underweight
    assert s.nutrition_status == "normal" and not s.thin
    assert not classify_under5(-2.00, -2.00, 0.0).stunted
    assert classify_under5(0.0, 0.0, 5.5, fwfh=True).nutrition_status == "flagged"


# --------------------------------------------------------------------------- oedema


def test_oedema_5_19_blanks_weight_based_scores() -> None:
    r = assess(1, 96, 128.0, 25.0, oedema=True)
    assert r.zwfa is None and r.zbfa is None
    assert r.fwfa is False and r.fbfa is False
    assert r.zhfa is not None  # height-for-age is still computed
    # WHO counts oedema as < -3 SD of the weight-based indicators.
    assert r.nutrition_status == "severely_thin"
    assert r.status.severely_thin and r.status.severely_underweight
    # Past 10 years weight-for-age is not defined, so no underweight from oedema.
    assert assess(1, 150, 150.0, 40.0, oedema=True).status.underweight is False


def test_oedema_under5_blanks_weight_based_scores() -> None:
    r = assess(2, 30, 90.0, 12.0, oedema=True)
    assert (r.zwfa, r.zwfh, r.zbfa) == (None, None, None)
    assert r.zhfa is not None
    assert r.nutrition_status == "severely_wasted"
    assert r.status.wasted and r.status.severely_wasted and r.status.severely_underweight


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sex": 3}, r"^sex: must be 1 \(male\) or 2 \(female\), got 3$"),
        ({"sex": True}, r"^sex: "),
        ({"age_months": -1}, r"^age_months: must be from 0 to under 229"),
        ({"age_months": 229}, r"^age_months: must be from 0 to under 229"),
        ({"age_months": math.nan}, r"^age_months: "),
        ({"age_months": "12"}, r"^age_months: must be a number, got '12'$"),
        ({"height_cm": 0.0}, r"^height_cm: must be a finite number greater than 0, got 0.0$"),
        ({"weight_kg": -2.0}, r"^weight_kg: must be a finite number greater than 0"),
        ({"weight_kg": math.inf}, r"^weight_kg: "),
        ({"oedema": "y"}, r"^oedema: must be True or False"),
        ({"measure": "x"}, r"^measure: must be 'L' \(recumbent length\) or 'H'"),
    ],
)
def test_invalid_input_names_the_field(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"sex": 1, "age_months": 100.0, "height_cm": 130.0}
    args["weight_kg"] = 28.0
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        assess(**args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- arithmetic


def test_rounding_matches_r_round() -> None:
    # R >= 4.0 round(x, 2) and Python round(x, 2): exact binary value, ties to even.
    assert who_round(0.125) == 0.12  # exact tie -> even
    assert who_round(0.375) == 0.38  # exact tie -> even
    assert who_round(2.675) == 2.67  # the double is 2.67499999...
    assert who_round(-1.005) == -1.0  # the double is -1.00499999...
    z = who_round(-0.004)
    assert z == 0.0 and math.copysign(1, z) == 1.0  # no "-0.00"


def test_lms_helpers_agree_with_formulas() -> None:
    assert lms_z(140, 1, 137.7795, 0.04626) == plain(140, 1, 137.7795, 0.04626)
    l, m, s = LMS_WFA_BOY_96  # noqa: E741
    assert restricted_lms_z(25, l, m, s) == plain(25, l, m, s)  # within +-3: unchanged
    sd3 = sd_k(l, m, s, 3)
    assert restricted_lms_z(sd3, l, m, s) == pytest.approx(3.0)


def test_result_is_frozen() -> None:
    r = assess(1, 120, 140.0, 32.0)
    assert isinstance(r, GrowthResult)
    with pytest.raises(AttributeError):
        r.zhfa = 0.0  # type: ignore[misc]


# --------------------------------------------------------------------------- the consumer's path


def _screened_by_assess(sex: int, age: float, height: float, weight: float) -> tuple[str, bool]:
    result = assess(sex, age, height, weight)
    if result.fhfa or result.fwfa or result.fbfa:
        return "flagged", False
    return result.nutrition_status, result.status.stunted


@settings(max_examples=3000, deadline=None)
@given(
    sex=st.sampled_from([1, 2]),
    age=st.floats(min_value=60, max_value=229, exclude_max=True),
    # Wide enough to reach every band, WHO's restricted tails and each flag.
    height=st.floats(min_value=40, max_value=249.9),
    weight=st.floats(min_value=3, max_value=299.9),
)
def test_screen_5_19_answers_as_assess(sex: int, age: float, height: float, weight: float) -> None:
    assert screen_who2007(sex, age, height, weight) == _screened_by_assess(sex, age, height, weight)


@pytest.mark.parametrize(
    ("sex", "age", "height", "weight", "expected"),
    [
        (1, 120.0, 137.78, 31.0, ("normal", False)),  # zhfa 0.00, zbfa -0.07
        (1, 120.0, 120.0, 31.0, ("obese", True)),  # zhfa -2.79, zbfa 2.04
        (1, 150.0, 150.0, 50.0, ("overweight", False)),  # zbfa 1.55
        (2, 96.5, 128.0, 20.0, ("thin", False)),  # zbfa -2.66
        (2, 96.5, 128.0, 18.5, ("severely_thin", False)),  # zbfa -3.59 (restricted)
        (1, 120.0, 60.0, 31.0, ("flagged", False)),  # zhfa -12.20
        (2, 200.0, 160.0, 140.0, ("flagged", False)),  # zbfa 5.61, no weight-for-age
        (1, 228.99, 176.0, 68.0, ("normal", False)),  # the last month
    ],
)
def test_screen_5_19_cases(
    sex: int, age: float, height: float, weight: float, expected: tuple[str, bool]
) -> None:
    assert screen_who2007(sex, age, height, weight) == expected
    assert _screened_by_assess(sex, age, height, weight) == expected
