"""WHO growth z-scores and nutrition status for children and adolescents (pure logic).

Two WHO references are used, chosen by age (see DOMAIN.md, "Health"):

* under 60 months: the WHO Child Growth Standards 2006, computed the way WHO's R package
  ``anthro`` (``anthro_zscores``) computes them;
* 60 months up to (excluding) 229 months: the WHO Growth Reference 2007, computed the way WHO's
  R package ``anthroplus`` (``anthroplus_zscores``, version >= 1.1.0) computes them.

The goal is to reproduce WHO's software digit for digit, so the arithmetic below mirrors the R
code step by step (same operation order, same lookups), and the places where WHO's method
admits more than one reading are spelled out here:

Age (under 5).  ``anthro`` converts months to days as ``age_months * 30.4375`` and rounds with its
    own ``round_up`` (fraction >= .5 goes up, i.e. half-up, *not* R's half-even ``round``); the
    integer day selects the row of the daily tables. Whether a child is under 5 is decided on the
    unrounded age in months (``age_months < 60``), as ``anthro`` does.

Age (5-19).  ``anthroplus`` interpolates L, M and S linearly between the whole months
    ``trunc(age)`` and ``trunc(age) + 1``. Since ``anthroplus`` 1.1.0 the valid range is
    ``60 <= age < 229`` (height- and BMI-for-age) and ``60 <= age < 121`` (weight-for-age): "to 228
    months" means up to the end of the 228th completed month. The tables carry a repeated row for
    months 229 and 121 for exactly this reason. (anthroplus < 1.0 started at 61 months and
    stopped at 228.0; we follow the current package.)

Length versus height (under 5).  The standards are length-based below 731 days and height-based
    from 731 days (24 months = 730.5 days rounds up to 731). As in ``anthro``: a standing height
    measured before 731 days gets +0.7 cm, a recumbent length measured from 731 days gets -0.7 cm;
    when the position is not given no adjustment is made, i.e. the measurement is assumed to be
    the right one for the age. A standing height reported for a child under 9 months is treated as
    implausible and the position ignored (``anthro``'s ``c9mo_flag``), so no +0.7 is added. The
    adjusted value is used for length/height-for-age, weight-for-length/height and BMI.

Weight-for-length/height.  Table chosen by age (< 731 days: length table 45-110 cm, else height
    table 65-120 cm); outside that range the z-score is missing. Between the 0.1 cm rows the L, M,
    S are interpolated with ``low = trunc(x * 10) / 10`` and ``diff = (x - low) / 0.1``, as in
    ``anthro``.

Restricted method.  Weight-based indicators (weight-for-age, weight-for-length/height,
    BMI-for-age) use WHO's restricted LMS method beyond +-3 SD; length/height-for-age uses the
    plain LMS formula. Which branch applies is decided on the *unrounded* z.

Rounding.  WHO rounds z to two decimals with R's ``round(z, 2)``. Since R 4.0.0 that rounds the
    exact binary value of the double to the nearest 2-decimal value, ties to even. Python's
    built-in ``round(z, 2)`` does exactly that (correctly rounded, ties to even), so we use it.
    Not half-away-from-zero: ``round(2.675, 2)`` is 2.67 in both R and Python because the double
    is 2.67499999... Exact ties are practically impossible for computed z-scores anyway. A
    rounded ``-0.0`` is normalised to ``0.0``. Flags and classifications are applied to the
    rounded z, as WHO applies them to the z-scores it outputs.

Oedema.  With bilateral pitting oedema WHO does not compute weight-based z-scores (weight is
    inflated by fluid): zwfa, zwfh and zbfa are ``None`` and not flagged. Height-for-age is still
    computed. For prevalence WHO counts such a child as below -3 SD of the weight-based
    indicators, so the classification here reports severe wasting (under 5) or severe thinness
    (5-19) and severe underweight, with ``nutrition_status`` "severely_wasted"/"severely_thin".

Flags.  Implausible values are flagged as WHO does: 5-19 |zhfa| > 6, zwfa < -6 or > 5,
    |zbfa| > 5; under 5 |zlen| > 6, zwei < -6 or > 5, |zwfl| > 5, |zbmi| > 5. WHO excludes
    flagged values from prevalence, so a flagged z-score never sets a status boolean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = [
    "DAYS_PER_MONTH",
    "UNDER5_MONTHS",
    "WHO2007_MAX_MONTHS",
    "GrowthResult",
    "NutritionStatus",
    "adjust_length_height",
    "assess",
    "classify_under5",
    "classify_who2007",
    "lms_z",
    "months_to_days",
    "restricted_lms_z",
    "screen_who2007",
    "who_round",
]

DAYS_PER_MONTH = 30.4375  # anthro's ANTHRO_DAYS_OF_MONTH (365.25 / 12)
UNDER5_MONTHS = 60  # < 60 months: WHO 2006 standards; from 60 months: WHO 2007 reference
WHO2007_MAX_MONTHS = 229  # exclusive upper age for height- and BMI-for-age (anthroplus 1.1.0)
WHO2007_WFA_MAX_MONTHS = 121  # exclusive upper age for weight-for-age 5-10 years
LENGTH_TABLE_MAX_DAYS = 731  # below: recumbent length tables; from here: standing height tables
STANDING_BEFORE_MONTHS = 9  # anthro ignores a "standing" position reported below 9 months
LENGTH_HEIGHT_OFFSET_CM = 0.7  # WHO: standing height is on average 0.7 cm less than length

_DATA_DIR = Path(__file__).parent / "who_data"

# (L, M, S) of one table row.
LMS = tuple[float, float, float]


# --------------------------------------------------------------------------- data loading


def _read_rows(name: str) -> list[list[str]]:
    text = (_DATA_DIR / name).read_text(encoding="ascii")
    lines = text.splitlines()
    # The first line is the header (sex, age|length|height, l, m, s[, loh]).
    return [line.split("\t") for line in lines[1:] if line.strip()]


def _load_by_integer_key(name: str, first: int, scale: int) -> dict[int, list[LMS]]:
    """Rows keyed by an integer (age, or length in tenths of cm) into dense per-sex lists.

    A dense list indexed by ``key - first`` is the fastest lookup Python offers; the loader
    checks that the table really is contiguous so an index can never land on the wrong row.
    """
    by_sex: dict[int, list[LMS]] = {1: [], 2: []}
    for row in _read_rows(name):
        sex = int(row[0])
        # Lengths are written as "45.1"; round(x * 10) recovers the exact tenth.
        key = round(float(row[1]) * scale)
        rows = by_sex[sex]
        if key != first + len(rows):
            raise RuntimeError(f"{name}: row for sex {sex}, key {row[1]} is out of sequence")
        rows.append((float(row[2]), float(row[3]), float(row[4])))
    return by_sex


@dataclass(frozen=True, slots=True)
class _Tables:
    len_age: dict[int, list[LMS]]  # by day 0..1826
    wei_age: dict[int, list[LMS]]
    bmi_age: dict[int, list[LMS]]
    wfl: dict[int, list[LMS]]  # by tenth of cm, 450..1100
    wfh: dict[int, list[LMS]]  # by tenth of cm, 650..1200
    hfa_2007: dict[int, list[LMS]]  # by month 60..229
    wfa_2007: dict[int, list[LMS]]  # by month 60..121
    bfa_2007: dict[int, list[LMS]]  # by month 60..229


@cache
def _tables() -> _Tables:
    # Loaded once on first use, never per call: the whole set is ~0.5 MB of text.
    return _Tables(
        len_age=_load_by_integer_key("lenanthro.txt", 0, 1),
        wei_age=_load_by_integer_key("weianthro.txt", 0, 1),
        bmi_age=_load_by_integer_key("bmianthro.txt", 0, 1),
        wfl=_load_by_integer_key("wflanthro.txt", 450, 10),
        wfh=_load_by_integer_key("wfhanthro.txt", 650, 10),
        hfa_2007=_load_by_integer_key("hfawho2007.txt", 60, 1),
        wfa_2007=_load_by_integer_key("wfawho2007.txt", 60, 1),
        bfa_2007=_load_by_integer_key("bfawho2007.txt", 60, 1),
    )


# --------------------------------------------------------------------------- LMS arithmetic


def lms_z(y: float, l: float, m: float, s: float) -> float:  # noqa: E741 (WHO's names)
    """Plain LMS z-score, unrounded: ((y/M)^L - 1) / (L*S), as anthro's compute_zscore."""
    return ((y / m) ** l - 1) / (s * l)


def restricted_lms_z(y: float, l: float, m: float, s: float) -> float:  # noqa: E741
    """WHO's restricted z-score for weight-based indicators, unrounded.

    Within +-3 SD it is the LMS z. Beyond, the LMS curve's skew stretches the tail, so WHO
    measures the distance past SD3 in units of the SD2-SD3 interval instead:
    z = 3 + (y - SD3)/(SD3 - SD2), and symmetrically below -3. SDk = M (1 + L S k)^(1/L).
    """
    z = ((y / m) ** l - 1) / (s * l)
    if z > 3:
        sd3 = m * ((1 + l * s * 3) ** (1 / l))
        sd2 = m * ((1 + l * s * 2) ** (1 / l))
        return 3 + ((y - sd3) / (sd3 - sd2))
    if z < -3:
        sd3neg = m * ((1 + l * s * -3) ** (1 / l))
        sd2neg = m * ((1 + l * s * -2) ** (1 / l))
        return -3 + ((y - sd3neg) / (sd2neg - sd3neg))
    return z


def who_round(z: float) -> float:
    """Round to two decimals like R's round(z, 2): exact binary value, ties to even."""
    r = round(z, 2)
    # -0.0 would print as "-0.00"; R prints 0.
    return 0.0 if r == 0 else r


def months_to_days(age_months: float) -> int:
    """anthro's age conversion: age_months * 30.4375, then round half up (its round_up)."""
    x = age_months * DAYS_PER_MONTH
    whole = math.floor(x)
    return int(whole) + (1 if x - whole >= 0.5 else 0)


def adjust_length_height(age_months: float, length_height_cm: float, measure: str | None) -> float:
    """Length/height as the under-5 standards expect it for this age (anthro's clenhei).

    ``measure`` is "L" (recumbent length), "H" (standing height) or None (not recorded: the
    measurement is assumed to match the age, so it is used as is).
    """
    position = _clean_measure(measure)
    if position == "h" and age_months < STANDING_BEFORE_MONTHS:
        # anthro: a standing height under 9 months is implausible; drop the position.
        position = None
    age_days = months_to_days(age_months)
    if age_days < LENGTH_TABLE_MAX_DAYS and position == "h":
        return length_height_cm + LENGTH_HEIGHT_OFFSET_CM
    if age_days >= LENGTH_TABLE_MAX_DAYS and position == "l":
        return length_height_cm - LENGTH_HEIGHT_OFFSET_CM
    return length_height_cm


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class NutritionStatus:
    """WHO classification of one measurement.

    The booleans follow WHO's prevalence cut-offs, so they nest the way WHO reports them:
    ``obese`` implies ``overweight`` (overweight means "above the overweight cut-off",
    obesity included), ``severely_thin`` implies ``thin``, ``severely_wasted`` implies
    ``wasted`` and so on; counting them gives WHO's prevalence numerators. A boolean is True
    only when its z-score was computed and not flagged (or, for the weight-based ones, the child
    has oedema). ``thin``/``severely_thin`` are used for 5-19 years (BMI-for-age),
    ``wasted``/``severely_wasted`` under 5 (weight-for-length/height); the other pair stays False.

    ``nutrition_status`` is one mutually exclusive summary from the weight-for-height
    indicator (BMI-for-age at 5-19, weight-for-length/height under 5): "obese", "overweight",
    "severely_thin"/"severely_wasted", "thin"/"wasted", "normal", "flagged" (the z-score is
    implausible) or "unknown" (not computable: no height or weight, or out of the table).
    Stunting and underweight are reported by their booleans only: a child can be stunted and
    overweight at the same time.
    """

    nutrition_status: str
    overweight: bool = False
    obese: bool = False
    thin: bool = False
    severely_thin: bool = False
    wasted: bool = False
    severely_wasted: bool = False
    stunted: bool = False
    severely_stunted: bool = False
    underweight: bool = False
    severely_underweight: bool = False


@dataclass(frozen=True, slots=True)
class GrowthResult:
    """z-scores (rounded to 2 decimals, None when not defined), WHO flags and status.

    Under 5 the age-based indicators are anthro's zlen, zwei and zbmi, reported here as zhfa,
    zwfa and zbfa; zwfh is weight-for-length (< 731 days) or weight-for-height. At 5-19 there
    is no weight-for-height (zwfh None). A flag is False when its z-score is None.
    """

    reference: str  # "WHO 2006" (under 5) or "WHO 2007" (5-19 years)
    zhfa: float | None
    zwfa: float | None
    zbfa: float | None
    zwfh: float | None
    fhfa: bool
    fwfa: bool
    fbfa: bool
    fwfh: bool
    status: NutritionStatus
    bmi: float | None  # kg/m2 from the (adjusted) length/height, unrounded
    length_height_cm: float | None  # the value used: under 5 after the +-0.7 cm adjustment
    age_days: int | None  # under 5 only: the day row used

    @property
    def nutrition_status(self) -> str:
        return self.status.nutrition_status


# --------------------------------------------------------------------------- classification


# NutritionStatus is immutable and only a few dozen distinct values exist, so one shared
# instance per combination saves building a frozen dataclass per measurement (bulk scoring).
_status = cache(NutritionStatus)


def _below(z: float | None, flagged: bool, cut: float) -> bool:
    return z is not None and not flagged and z < cut


def _above(z: float | None, flagged: bool, cut: float) -> bool:
    return z is not None and not flagged and z > cut


def _bmi_band(zbfa: float) -> str:
    """The 5-19 summary of a BMI-for-age z that is not flagged: the highest band it reaches."""
    if zbfa > 2:
        return "obese"
    if zbfa > 1:
        return "overweight"
    if zbfa < -3:
        return "severely_thin"
    if zbfa < -2:
        return "thin"
    return "normal"


def classify_who2007(
    zhfa: float | None,
    zwfa: float | None,
    zbfa: float | None,
    fhfa: bool = False,
    fwfa: bool = False,
    fbfa: bool = False,
    oedema: bool = False,
    weight_for_age_applies: bool = True,
) -> NutritionStatus:
    """5-19 years: BMI-for-age > +1 overweight, > +2 obese, < -2 thin, < -3 severely thin;
    height-for-age < -2 stunted (< -3 severely); weight-for-age < -2 underweight (5-10 y).

    Cut-offs are strict inequalities on the rounded z, as in WHO's prevalence tables
    (z = 2.00 is overweight, not obese). ``weight_for_age_applies`` (age under 121 months)
    only matters with oedema: WHO then counts the child as severely underweight.
    """
    stunted = _below(zhfa, fhfa, -2)
    severely_stunted = _below(zhfa, fhfa, -3)
    if oedema:
        # WHO counts oedema as < -3 SD of the weight-based indicators in its prevalence
        # (anthroplus sets BMI-for-age, and weight-for-age where it is defined, to -3.1).
        return _status(
            "severely_thin",
            thin=True,
            severely_thin=True,
            stunted=stunted,
            severely_stunted=severely_stunted,
            underweight=weight_for_age_applies,
            severely_underweight=weight_for_age_applies,
        )
    underweight = _below(zwfa, fwfa, -2)
    severely_underweight = _below(zwfa, fwfa, -3)
    obese = _above(zbfa, fbfa, 2)
    overweight = _above(zbfa, fbfa, 1)
    severely_thin = _below(zbfa, fbfa, -3)
    thin = _below(zbfa, fbfa, -2)
    if zbfa is None:
        summary = "unknown"
    elif fbfa:
        summary = "flagged"
    else:
        summary = _bmi_band(zbfa)
    return _status(
        summary,
        overweight=overweight,
        obese=obese,
        thin=thin,
        severely_thin=severely_thin,
        stunted=stunted,
        severely_stunted=severely_stunted,
        underweight=underweight,
        severely_underweight=severely_underweight,
    )


def classify_under5(
    zhfa: float | None,
    zwfa: float | None,
    zwfh: float | None,
    fhfa: bool = False,
    fwfa: bool = False,
    fwfh: bool = False,
    oedema: bool = False,
) -> NutritionStatus:
    """Under 5: weight-for-length/height > +2 overweight, > +3 obese, < -2 wasted, < -3
    severely wasted; length/height-for-age < -2 stunted (< -3 severely); weight-for-age < -2
    underweight (< -3 severely). Strict inequalities on the rounded z, as WHO's prevalence.
    """
    stunted = _below(zhfa, fhfa, -2)
    severely_stunted = _below(zhfa, fhfa, -3)
    if oedema:
        # anthro's prevalence sets weight-for-age, weight-for-length/height and BMI-for-age to
        # -3.1 for children with oedema: severe acute malnutrition by definition.
        return _status(
            "severely_wasted",
            wasted=True,
            severely_wasted=True,
            stunted=stunted,
            severely_stunted=severely_stunted,
            underweight=True,
            severely_underweight=True,
        )
    obese = _above(zwfh, fwfh, 3)
    overweight = _above(zwfh, fwfh, 2)
    severely_wasted = _below(zwfh, fwfh, -3)
    wasted = _below(zwfh, fwfh, -2)
    if zwfh is None:
        summary = "unknown"
    elif fwfh:
        summary = "flagged"
    elif obese:
        summary = "obese"
    elif overweight:
        summary = "overweight"
    elif severely_wasted:
        summary = "severely_wasted"
    elif wasted:
        summary = "wasted"
    else:
        summary = "normal"
    return _status(
        summary,
        overweight=overweight,
        obese=obese,
        wasted=wasted,
        severely_wasted=severely_wasted,
        stunted=stunted,
        severely_stunted=severely_stunted,
        underweight=_below(zwfa, fwfa, -2),
        severely_underweight=_below(zwfa, fwfa, -3),
    )


# --------------------------------------------------------------------------- WHO 2007 (5-19)


def _interpolated_lms(rows: list[LMS], age_months: float) -> LMS:
    """anthroplus' zscore_indicator: LMS at trunc(age), moved linearly toward the next month."""
    low_age = math.trunc(age_months)
    diff_age = age_months - low_age
    l, m, s = rows[low_age - UNDER5_MONTHS]  # noqa: E741
    if diff_age > 0:
        ul, um, us = rows[low_age + 1 - UNDER5_MONTHS]
        # Same operation order as R: x + diff * (upper - x).
        m = m + diff_age * (um - m)
        l = l + diff_age * (ul - l)  # noqa: E741
        s = s + diff_age * (us - s)
    return l, m, s


def _zhfa_2007(t: _Tables, sex: int, age_months: float, height_cm: float) -> float:
    return who_round(lms_z(height_cm, *_interpolated_lms(t.hfa_2007[sex], age_months)))


def _zwfa_2007(t: _Tables, sex: int, age_months: float, weight_kg: float) -> float:
    return who_round(restricted_lms_z(weight_kg, *_interpolated_lms(t.wfa_2007[sex], age_months)))


def _zbfa_2007(t: _Tables, sex: int, age_months: float, bmi: float) -> float:
    return who_round(restricted_lms_z(bmi, *_interpolated_lms(t.bfa_2007[sex], age_months)))


def _bmi(weight_kg: float, height_cm: float) -> float:
    h = height_cm / 100
    return weight_kg / (h * h)


# WHO's flags of implausible 5-19 z-scores (on the rounded z).
def _hfa_flagged(z: float) -> bool:
    return abs(z) > 6


def _wfa_flagged(z: float) -> bool:
    return z < -6 or z > 5


def _bfa_flagged(z: float) -> bool:
    return abs(z) > 5


def _who2007(
    sex: int,
    age_months: float,
    height_cm: float | None,
    weight_kg: float | None,
    oedema: bool,
) -> GrowthResult:
    t = _tables()
    zhfa: float | None = None
    zwfa: float | None = None
    zbfa: float | None = None
    bmi: float | None = None
    if height_cm is not None:
        zhfa = _zhfa_2007(t, sex, age_months, height_cm)
    if weight_kg is not None and height_cm is not None:
        bmi = _bmi(weight_kg, height_cm)
    if not oedema:
        if weight_kg is not None and age_months < WHO2007_WFA_MAX_MONTHS:
            zwfa = _zwfa_2007(t, sex, age_months, weight_kg)
        if bmi is not None:
            zbfa = _zbfa_2007(t, sex, age_months, bmi)
    fhfa = zhfa is not None and _hfa_flagged(zhfa)
    fwfa = zwfa is not None and _wfa_flagged(zwfa)
    fbfa = zbfa is not None and _bfa_flagged(zbfa)
    return GrowthResult(
        reference="WHO 2007",
        zhfa=zhfa,
        zwfa=zwfa,
        zbfa=zbfa,
        zwfh=None,
        fhfa=fhfa,
        fwfa=fwfa,
        fbfa=fbfa,
        fwfh=False,
        status=classify_who2007(
            zhfa,
            zwfa,
            zbfa,
            fhfa,
            fwfa,
            fbfa,
            oedema,
            weight_for_age_applies=age_months < WHO2007_WFA_MAX_MONTHS,
        ),
        bmi=bmi,
        length_height_cm=height_cm,
        age_days=None,
    )


def screen_who2007(
    sex: int, age_months: float, height_cm: float, weight_kg: float
) -> tuple[str, bool]:
    """`assess` at 5-19 years without oedema, cut to what the aggregates count: the nutrition
    status, or "flagged" when any of WHO's flags is raised, and whether the child is stunted
    (False when flagged).

    The z-scores, flags and bands of `_who2007` and `classify_who2007` (the same helpers; a
    test compares the two answers on random measurements), without building a GrowthResult or
    checking the inputs again: on the consumer's path that was two thirds of the cost of a
    measurement's z-scores (5.9 -> 2.3 µs). The caller guarantees sex 1 or 2,
    60 <= age_months < 229 and a positive, finite height and weight.
    """
    t = _tables()
    zhfa = _zhfa_2007(t, sex, age_months, height_cm)
    zbfa = _zbfa_2007(t, sex, age_months, _bmi(weight_kg, height_cm))
    if _hfa_flagged(zhfa) or _bfa_flagged(zbfa):
        return "flagged", False
    weight_for_age = age_months < WHO2007_WFA_MAX_MONTHS
    if weight_for_age and _wfa_flagged(_zwfa_2007(t, sex, age_months, weight_kg)):
        return "flagged", False
    return _bmi_band(zbfa), zhfa < -2


# --------------------------------------------------------------------------- WHO 2006 (0-5)


def _weight_for_length_height(
    t: _Tables, sex: int, age_days: int, lenhei: float, weight_kg: float
) -> float | None:
    if age_days < LENGTH_TABLE_MAX_DAYS:
        rows, first, low_cm, high_cm = t.wfl[sex], 450, 45.0, 110.0
    else:
        rows, first, low_cm, high_cm = t.wfh[sex], 650, 65.0, 120.0
    if not low_cm <= lenhei <= high_cm:
        return None
    # anthro: low = trunc(x * 10) / 10, diff = (x - low) / 0.1; rows are keyed by tenths.
    tenths = math.trunc(lenhei * 10)
    diff = (lenhei - tenths / 10) / 0.1
    l, m, s = rows[tenths - first]  # noqa: E741
    if diff > 0:
        ul, um, us = rows[tenths + 1 - first]
        m = m + diff * (um - m)
        l = l + diff * (ul - l)  # noqa: E741
        s = s + diff * (us - s)
    return restricted_lms_z(weight_kg, l, m, s)


def _who2006(
    sex: int,
    age_months: float,
    lenhei_cm: float | None,
    weight_kg: float | None,
    oedema: bool,
    measure: str | None,
) -> GrowthResult:
    t = _tables()
    age_days = months_to_days(age_months)
    clenhei = None if lenhei_cm is None else adjust_length_height(age_months, lenhei_cm, measure)
    zlen: float | None = None
    zwei: float | None = None
    zwfl: float | None = None
    zbmi: float | None = None
    bmi: float | None = None
    if clenhei is not None:
        zlen = who_round(lms_z(clenhei, *t.len_age[sex][age_days]))
        if weight_kg is not None:
            h = clenhei / 100
            bmi = weight_kg / (h * h)
    if not oedema and weight_kg is not None:
        zwei = who_round(restricted_lms_z(weight_kg, *t.wei_age[sex][age_days]))
        if clenhei is not None:
            raw = _weight_for_length_height(t, sex, age_days, clenhei, weight_kg)
            zwfl = None if raw is None else who_round(raw)
        if bmi is not None:
            zbmi = who_round(restricted_lms_z(bmi, *t.bmi_age[sex][age_days]))
    flen = zlen is not None and abs(zlen) > 6
    fwei = zwei is not None and (zwei < -6 or zwei > 5)
    fwfl = zwfl is not None and abs(zwfl) > 5
    fbmi = zbmi is not None and abs(zbmi) > 5
    return GrowthResult(
        reference="WHO 2006",
        zhfa=zlen,
        zwfa=zwei,
        zbfa=zbmi,
        zwfh=zwfl,
        fhfa=flen,
        fwfa=fwei,
        fbfa=fbmi,
        fwfh=fwfl,
        status=classify_under5(zlen, zwei, zwfl, flen, fwei, fwfl, oedema),
        bmi=bmi,
        length_height_cm=clenhei,
        age_days=age_days,
    )


# --------------------------------------------------------------------------- entry point


def _is_number(value: object) -> bool:
    # bool is an int subclass; True as an age or a sex is a bug upstream, not a value.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_measurement(name: str, value: float | None) -> None:
    if value is None:
        return
    if not _is_number(value):
        raise ValueError(f"{name}: must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: must be a finite number greater than 0, got {value!r}")


def _clean_measure(measure: str | None) -> str | None:
    if measure is None:
        return None
    cleaned = measure.strip().lower() if isinstance(measure, str) else measure
    if cleaned == "":
        return None
    if cleaned not in ("l", "h"):
        raise ValueError(
            f"measure: must be 'L' (recumbent length) or 'H' (standing height), got {measure!r}"
        )
    return cleaned


def assess(
    sex: int,
    age_months: float,
    height_cm: float | None,
    weight_kg: float | None,
    oedema: bool = False,
    measure: str | None = None,
) -> GrowthResult:
    """WHO z-scores, flags and nutrition status of one measurement.

    ``sex`` 1 = male, 2 = female. ``age_months`` exact (not rounded) age in months, 0 to under
    229. ``height_cm`` is recumbent length or standing height (under 5 see ``measure`` and the
    module notes on the 0.7 cm adjustment; 5-19 it is standing height). Missing height or weight
    (None) leaves the z-scores that need it as None. Under 60 months the WHO 2006 standards are
    used, otherwise the WHO 2007 reference. Raises ValueError naming the offending field.
    """
    if not _is_number(sex) or sex not in (1, 2):
        raise ValueError(f"sex: must be 1 (male) or 2 (female), got {sex!r}")
    if not _is_number(age_months):
        raise ValueError(f"age_months: must be a number, got {age_months!r}")
    if not math.isfinite(age_months) or not 0 <= age_months < WHO2007_MAX_MONTHS:
        raise ValueError(
            "age_months: must be from 0 to under 229 (the WHO references end with the 228th"
            f" month), got {age_months!r}"
        )
    _check_measurement("height_cm", height_cm)
    _check_measurement("weight_kg", weight_kg)
    if not isinstance(oedema, bool):
        raise ValueError(f"oedema: must be True or False, got {oedema!r}")
    position = _clean_measure(measure)
    # int() keeps the table index an int even if sex arrived as the float 1.0.
    sex_key = int(sex)
    if age_months < UNDER5_MONTHS:
        return _who2006(sex_key, age_months, height_cm, weight_kg, oedema, position)
    return _who2007(sex_key, age_months, height_cm, weight_kg, oedema)
