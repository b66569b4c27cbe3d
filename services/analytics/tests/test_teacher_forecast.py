"""Teacher-shortage forecast: a small province computed by hand, the retirement roadmap, cohorts.

Every expected number below is worked out in the comments from the norms in DOMAIN.md, so a
reader can check the arithmetic without running anything.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from services.analytics.domain.teacher_forecast import (
    CohortAssumptions,
    ForecastNorms,
    GradeEnrolment,
    Level,
    PreschoolCount,
    School,
    Sex,
    Teacher,
    TeacherForecast,
    apportion,
    forecast_teachers,
    preschool_entrants,
    project_enrolment,
    retirement,
    round_half_up,
)

# --------------------------------------------------------------------------- the province
#
# Two communes, three schools, base year 2025 (2025-2026), forecast to 2028:
#   commune A: TH-A (primary 1-5, two sessions a day), THCS-A (lower secondary 6-9)
#   commune B: TH-THCS-B (multi-level 1-9, primary one session a day)
# Preschool in A, 2025: 64 five-year-olds (grade 1 in 2026), 71 four-year-olds (grade 1 in 2027).
# Commune B has no preschool data: its grade-1 intake stays at the last one, 30.
#
# Learners (progression 1, no repeaters; grade-5 leavers of a commune fill its grade 6):
#             TH-A g1..g5          THCS-A g6..g9     TH-THCS-B g1..g5 | g6..g9
#   2025      70 72 36 35 40       90 91 45 80       30 35 20 25 33 | 50 44 46 40
#   2026      64 70 72 36 35       40 90 91 45       30 30 35 20 25 | 33 50 44 46
#   2027      71 64 70 72 36       35 40 90 91       30 30 30 35 20 | 25 33 50 44
#   2028      71 71 64 70 72       36 35 40 90       30 30 30 30 35 | 20 25 33 50
#
# Classes = ceil(learners / 35) in primary, ceil(learners / 45) in secondary:
#             TH-A                 THCS-A            TH-THCS-B
#   2025      2 3 2 1 2  = 10      2 3 1 2  = 8      1 1 1 1 1 = 5 | 2 1 2 1 = 6
#   2026      2 2 3 2 1  = 10      1 2 3 1  = 7      1 1 1 1 1 = 5 | 1 2 1 2 = 6
#   2027      3 2 2 3 2  = 12      1 1 2 3  = 7      1 1 1 1 1 = 5 | 1 1 2 1 = 5
#   2028      3 3 2 2 3  = 13      1 1 1 2  = 5      1 1 1 1 1 = 5 | 1 1 1 2 = 5
#
# One full-time teacher: 19 x 35 = 665 periods a year in lower secondary, 23 x 35 = 805 in
# primary.

SCHOOLS = [
    School("TH-A", "A", 1, 5, primary_sessions_per_day=2),
    School("THCS-A", "A", 6, 9),
    School("TH-THCS-B", "B", 1, 9, primary_sessions_per_day=1),
]
BASE = {
    "TH-A": (1, [70, 72, 36, 35, 40]),
    "THCS-A": (6, [90, 91, 45, 80]),
    "TH-THCS-B": (1, [30, 35, 20, 25, 33, 50, 44, 46, 40]),
}
ENROLMENT = [
    GradeEnrolment(school, first + i, 2025, learners)
    for school, (first, counts) in BASE.items()
    for i, learners in enumerate(counts)
]
PRESCHOOL = [PreschoolCount("A", 2025, 5, 64), PreschoolCount("A", 2025, 4, 71)]
TEACHERS = [
    # Woman born March 1970: reaches 57y4m in July 2027 -> retires in school year 2026-2027.
    Teacher("T1", "THCS-A", "lower_secondary", "toan", date(1970, 3, 15), "female"),
    Teacher("T2", "THCS-A", "lower_secondary", "toan", date(1990, 5, 2), "male"),
    # Man born June 1965: reaches 61y6m in December 2026 -> retires in school year 2026-2027.
    Teacher("T3", "TH-THCS-B", "lower_secondary", "toan", date(1965, 6, 20), "male"),
    Teacher("T4", "TH-THCS-B", "lower_secondary", "toan", date(1985, 1, 9), "female"),
    # Man born October 1964: reaches 61y6m in April 2026 -> retires in school year 2025-2026.
    Teacher("T5", "TH-THCS-B", "lower_secondary", "cong_nghe", date(1964, 10, 1), "male"),
    Teacher("T6", "TH-A", "primary", "ngoai_ngu", date(1980, 11, 30), "female"),
    Teacher("T7", "TH-A", "primary", "toan", date(1988, 4, 4), "female"),  # a class teacher
]
YEARS = (2025, 2026, 2027, 2028)


@pytest.fixture(scope="module")
def forecast() -> TeacherForecast:
    return forecast_teachers(SCHOOLS, ENROLMENT, TEACHERS, 2025, 3, preschool=PRESCHOOL)


def shortages(
    forecast: TeacherForecast, level: Level, subject: str, commune: str | None
) -> list[float]:
    rows = [forecast.subject(year, level, subject, commune) for year in YEARS]
    return [round(float(row.shortage), 2) for row in rows]


def test_cohorts_move_up_and_entry_grades_fill_from_preschool_and_grade_5(
    forecast: TeacherForecast,
) -> None:
    learners = forecast.enrolment.learners
    table = {
        year: [learners[(year, s.school_id, g)] for s in SCHOOLS for g in s.grades]
        for year in YEARS
    }
    assert table == {
        2025: [70, 72, 36, 35, 40, 90, 91, 45, 80, 30, 35, 20, 25, 33, 50, 44, 46, 40],
        2026: [64, 70, 72, 36, 35, 40, 90, 91, 45, 30, 30, 35, 20, 25, 33, 50, 44, 46],
        2027: [71, 64, 70, 72, 36, 35, 40, 90, 91, 30, 30, 30, 35, 20, 25, 33, 50, 44],
        2028: [71, 71, 64, 70, 72, 36, 35, 40, 90, 30, 30, 30, 30, 35, 20, 25, 33, 50],
    }
    intakes = forecast.enrolment.intakes
    assert [intakes[(year, 1, "A")] for year in (2026, 2027, 2028)] == [64, 71, 71]
    assert [intakes[(year, 6, "A")] for year in (2026, 2027, 2028)] == [40, 35, 36]
    assert [intakes[(year, 6, "B")] for year in (2026, 2027, 2028)] == [33, 25, 20]


def test_lower_secondary_mathematics(forecast: TeacherForecast) -> None:
    # Toán: 140 periods a class in every grade 6-9.
    # A: classes 8, 7, 7, 5 -> 1120, 980, 980, 700 periods -> 1.68, 1.47, 1.47, 1.05 FTE.
    #    Teachers T1, T2; T1 retires in 2026 -> supply 2, 1, 1, 1.
    #    Shortage 1120/665 - 2 = -0.32; 980/665 - 1 = 0.47; 0.47; 700/665 - 1 = 0.05.
    row = forecast.subject(2026, "lower_secondary", "toan", "A")
    assert [(g.grade, g.classes, g.periods) for g in row.grades] == [
        (6, 1, 140),
        (7, 2, 280),
        (8, 3, 420),
        (9, 1, 140),
    ]
    assert (row.periods, row.weekly_norm, row.weeks, row.supply) == (980, 19, 35, 1)
    assert row.demand == Fraction(980, 665)
    assert row.retiring == ("T1",)
    assert shortages(forecast, "lower_secondary", "toan", "A") == [-0.32, 0.47, 0.47, 0.05]
    # B: classes 6, 6, 5, 5 -> 840, 840, 700, 700 periods -> 1.26, 1.26, 1.05, 1.05 FTE.
    #    Teachers T3, T4; T3 retires in 2026 -> supply 2, 1, 1, 1.
    assert shortages(forecast, "lower_secondary", "toan", "B") == [-0.74, 0.26, 0.05, 0.05]
    assert forecast.subject(2026, "lower_secondary", "toan", "B").retiring == ("T3",)
    # Province: classes 14, 13, 12, 10 -> 1960/665 = 2.95, 2.74, 2.53, 2.11; supply 4, 2, 2, 2.
    assert shortages(forecast, "lower_secondary", "toan", None) == [-1.05, 0.74, 0.53, 0.11]


def test_lower_secondary_technology_depends_on_the_grade(forecast: TeacherForecast) -> None:
    # Công nghệ: 35, 35, 52, 52 periods a class in grades 6, 7, 8, 9. No teacher in A.
    # A 2025: 2x35 + 3x35 + 1x52 + 2x52 = 331 -> 0.50;  2026: 35 + 70 + 156 + 52 = 313 -> 0.47
    #   2027: 35 + 35 + 104 + 156 = 330 -> 0.50;         2028: 35 + 35 + 52 + 104 = 226 -> 0.34
    assert shortages(forecast, "lower_secondary", "cong_nghe", "A") == [0.50, 0.47, 0.50, 0.34]
    # B 2025: 2x35 + 1x35 + 2x52 + 1x52 = 261 -> 0.39; 2026: 35 + 70 + 52 + 104 = 261 -> 0.39
    #   2027: 35 + 35 + 104 + 52 = 226 -> 0.34;          2028: 35 + 35 + 52 + 104 = 226 -> 0.34
    # T5 reaches retirement age in April 2026, within 2025-2026: no supply even in 2025.
    assert shortages(forecast, "lower_secondary", "cong_nghe", "B") == [0.39, 0.39, 0.34, 0.34]
    base = forecast.subject(2025, "lower_secondary", "cong_nghe", "B")
    assert (base.supply, base.retiring) == (0, ("T5",))


def test_primary_foreign_language(forecast: TeacherForecast) -> None:
    # Ngoại ngữ: 140 periods a class in grades 3-5; 805 periods per FTE.
    # TH-A classes in grades 3-5: 2+1+2 = 5, 3+2+1 = 6, 2+3+2 = 7, 2+2+3 = 7
    #   -> 700, 840, 980, 980 periods -> 0.87, 1.04, 1.22, 1.22 FTE; teacher T6 all years.
    assert shortages(forecast, "primary", "ngoai_ngu", "A") == [-0.13, 0.04, 0.22, 0.22]
    # TH-THCS-B: one class in each of grades 3-5: 420/805 = 0.52 FTE, no teacher.
    assert shortages(forecast, "primary", "ngoai_ngu", "B") == [0.52, 0.52, 0.52, 0.52]
    # Province: 8, 9, 10, 10 classes -> 1.39, 1.57, 1.74, 1.74 FTE, less T6.
    assert shortages(forecast, "primary", "ngoai_ngu", None) == [0.39, 0.57, 0.74, 0.74]


def test_primary_class_teachers_are_one_staffing_subject(forecast: TeacherForecast) -> None:
    # T7's main subject is Toán, but a primary class teacher teaches Tiếng Việt, Toán, Đạo
    # đức, ...: she counts for "van_hoa". Per class a year: grade 1 420 + 105 + 35 + 70 + 105
    # = 735; grade 2 350 + 175 + 35 + 70 + 105 = 735; grade 3 245 + 175 + 35 + 70 + 35 + 105
    # = 665; grades 4-5 245 + 175 + 35 + 70 + 70 + 35 + 105 = 735.
    # TH-A 2025: 2x735 + 3x735 + 2x665 + 1x735 + 2x735 = 7210 periods -> 8.96 FTE.
    row = forecast.subject(2025, "primary", "van_hoa", "A")
    assert [g.periods_per_class for g in row.grades] == [735, 735, 665, 735, 735]
    assert row.periods == 7210
    assert round(float(row.shortage), 2) == round(7210 / 805 - 1, 2) == 7.96
    with pytest.raises(KeyError):
        forecast.subject(2025, "primary", "toan", "A")


def test_staffing_norm_cap_is_a_second_figure(forecast: TeacherForecast) -> None:
    # Primary TH-A (two sessions, 1.5 a class): 10 classes -> cap 15.
    # All subjects, TH-A 2025: grades 1-5 take 875, 875, 980, 1050, 1050 periods a class:
    # 2x875 + 3x875 + 2x980 + 1x1050 + 2x1050 = 9485 periods = 11.78 FTE; supply T6, T7.
    a = forecast.level(2025, "primary", "A")
    assert (a.classes, a.staffing_cap, a.supply) == (10, 15, 2)
    assert round(float(a.demand), 2) == 11.78
    assert round(float(a.shortage_within_cap), 2) == 9.78
    # TH-THCS-B primary (one session, 1.2 a class): 5 classes -> cap 6; demand 4830/805 = 6.
    b = forecast.level(2025, "primary", "B")
    assert (b.classes, b.staffing_cap, b.demand) == (5, 6, 6)
    # Lower secondary A 2025 (1.9 a class): 8 classes -> cap 15.2; demand
    # (2 + 3) x 1015 + (1 + 2) x 1032 = 8171 periods = 12.29 FTE, under the cap.
    lower = forecast.level(2025, "lower_secondary", "A")
    assert lower.staffing_cap == Fraction(152, 10)
    assert round(float(lower.demand), 2) == 12.29
    assert lower.shortage_within_cap == lower.shortage
    # Province primary cap: 15 + 6.
    assert forecast.level(2025, "primary").staffing_cap == 21


def test_supply_plus_retirements_is_the_staff_on_record(forecast: TeacherForecast) -> None:
    for row in forecast.subjects:
        if row.commune_id is None and row.level == "lower_secondary":
            gone = sum(
                len(forecast.subject(y, row.level, row.subject).retiring)
                for y in YEARS
                if y <= row.year
            )
            on_record = sum(
                1 for t in TEACHERS if t.level == row.level and t.main_subject == row.subject
            )
            assert row.supply + gone == on_record


# --------------------------------------------------------------------------- retirement

# Decree 135/2020/NĐ-CP, appendix (normal conditions): birth month -> age, retirement month.
ROADMAP_TABLE: list[tuple[Sex, tuple[int, int], tuple[int, int], tuple[int, int]]] = [
    ("male", (1955, 6), (60, 0), (2015, 6)),  # before the roadmap: 60
    ("male", (1961, 1), (60, 3), (2021, 4)),
    ("male", (1961, 9), (60, 3), (2021, 12)),
    ("male", (1961, 10), (60, 6), (2022, 4)),  # 60y3m would fall in 2022, whose age is 60y6m
    ("male", (1962, 6), (60, 6), (2022, 12)),
    ("male", (1962, 7), (60, 9), (2023, 4)),
    ("male", (1963, 4), (61, 0), (2024, 4)),
    ("male", (1964, 1), (61, 3), (2025, 4)),
    ("male", (1964, 10), (61, 6), (2026, 4)),
    ("male", (1965, 6), (61, 6), (2026, 12)),
    ("male", (1965, 7), (61, 9), (2027, 4)),
    ("male", (1966, 3), (61, 9), (2027, 12)),
    ("male", (1966, 4), (62, 0), (2028, 4)),
    ("male", (1970, 8), (62, 0), (2032, 8)),
    ("female", (1966, 1), (55, 4), (2021, 5)),
    ("female", (1966, 8), (55, 4), (2021, 12)),
    ("female", (1966, 9), (55, 8), (2022, 5)),
    ("female", (1967, 5), (56, 0), (2023, 5)),
    ("female", (1970, 1), (57, 4), (2027, 5)),
    ("female", (1970, 8), (57, 4), (2027, 12)),
    ("female", (1970, 9), (57, 8), (2028, 5)),
    ("female", (1975, 4), (59, 8), (2034, 12)),
    ("female", (1975, 5), (60, 0), (2035, 5)),
    ("female", (1980, 2), (60, 0), (2040, 2)),
]


@pytest.mark.parametrize(("sex", "born", "age", "reached"), ROADMAP_TABLE)
def test_retirement_age_follows_the_roadmap(
    sex: Sex, born: tuple[int, int], age: tuple[int, int], reached: tuple[int, int]
) -> None:
    result = retirement(date(born[0], born[1], 15), sex)
    assert (result.age_months // 12, result.age_months % 12) == age
    assert result.reached_in == reached


def test_the_retirement_school_year() -> None:
    # Woman born 15 March 1970: 57y4m in July 2027; retires 31 July 2027, school year 2026-2027.
    woman = retirement(date(1970, 3, 15), "female")
    assert (woman.retires_on, woman.school_year) == (date(2027, 7, 31), 2026)
    # Man born 20 June 1965: 61y6m in December 2026; retires 31 December 2026, 2026-2027.
    man = retirement(date(1965, 6, 20), "male")
    assert (man.retires_on, man.school_year) == (date(2026, 12, 31), 2026)
    # Man born 20 December 1964 (61y6m): June 2026 is still in school year 2025-2026.
    assert retirement(date(1964, 12, 20), "male").school_year == 2025
    # The first month of the school year is configuration.
    august = ForecastNorms(school_year_start_month=8)
    assert retirement(date(1970, 3, 15), "female", august).school_year == 2026
    assert retirement(date(1970, 4, 15), "female", august).school_year == 2027


# --------------------------------------------------------------------------- cohorts


def test_rates_round_half_up_and_repeaters_stay() -> None:
    # Grade 1 has 45 learners, grade 2 has 40. 90% move up, 10% repeat grade 1:
    # grade 2 next year = round(0.9 x 45 = 40.5) = 41; grade 1 = intake 50 + round(4.5) = 55.
    schools = [School("P", "C", 1, 5)]
    enrolment = [GradeEnrolment("P", 1, 2025, 45), GradeEnrolment("P", 2, 2025, 40)]
    rates = CohortAssumptions(
        progression={1: 0.9}, repetition={1: 0.1}, grade1_intake={("C", 2026): 50}
    )
    projection = project_enrolment(schools, enrolment, 2025, 1, rates)
    assert projection.learners[(2026, "P", 1)] == 55
    assert projection.learners[(2026, "P", 2)] == 41
    assert projection.learners[(2026, "P", 3)] == 40
    assert round_half_up(Fraction(5, 2)) == 3


def test_grade_10_takes_a_share_of_all_grade_9_leavers() -> None:
    # Grade 9: 100 in commune A, 57 in B. 0.7 x 157 = 109.9 -> 110 enter grade 10, shared
    # 90 : 45 by the schools' grade-10 enrolment: 73.33 and 36.67 -> 73 and 37.
    schools = [
        School("S-A", "A", 6, 9),
        School("S-B", "B", 6, 9),
        School("U-1", "A", 10, 12),
        School("U-2", "B", 10, 12),
    ]
    enrolment = [
        GradeEnrolment("S-A", 9, 2025, 100),
        GradeEnrolment("S-B", 9, 2025, 57),
        GradeEnrolment("U-1", 10, 2025, 90),
        GradeEnrolment("U-2", 10, 2025, 45),
    ]
    projection = project_enrolment(schools, enrolment, 2025, 2)
    assert projection.intakes[(2026, 10, None)] == 110
    assert projection.learners[(2026, "U-1", 10)] == 73
    assert projection.learners[(2026, "U-2", 10)] == 37
    assert projection.learners[(2027, "U-2", 11)] == 37


def test_leavers_with_no_school_in_their_commune_are_reported() -> None:
    schools = [School("P", "C", 1, 5)]
    projection = project_enrolment(schools, [GradeEnrolment("P", 5, 2025, 30)], 2025, 1)
    assert projection.unplaced == {(2026, 6, "C"): 30}


def test_a_preschool_cohort_counts_once_from_its_latest_count() -> None:
    counts = [
        PreschoolCount("A", 2024, 4, 60),  # the same children as the 5-year-olds of 2025
        PreschoolCount("A", 2025, 5, 58),
        PreschoolCount("A", 2025, 4, 66),
        PreschoolCount("B", 2025, 5, 20),
    ]
    assert preschool_entrants(counts) == {("A", 2026): 58, ("A", 2027): 66, ("B", 2026): 20}


def test_apportion_keeps_the_total() -> None:
    assert apportion(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert apportion(7, {"a": 0, "b": 0}) == {"a": 4, "b": 3}
    assert sum(apportion(101, {"x": 33, "y": 67, "z": 5}).values()) == 101


def test_upper_secondary_electives_count_by_their_share() -> None:
    # One grade-10 class of 40. Vật lí is elective: 70 periods x 4/9 of classes = 31.11;
    # Lịch sử is compulsory: 52. Upper-secondary norm: 17 x 35 = 595 periods.
    schools = [School("U", "C", 10, 12)]
    forecast = forecast_teachers(schools, [GradeEnrolment("U", 10, 2025, 40)], [], 2025, 1)
    physics = forecast.subject(2025, "upper_secondary", "vat_ly")
    assert physics.periods == Fraction(280, 9)
    assert physics.demand == Fraction(280, 9) / 595
    assert forecast.subject(2025, "upper_secondary", "lich_su").periods == 52
    every_class = CohortAssumptions(elective_share={"vat_ly": 1})
    forecast = forecast_teachers(
        schools, [GradeEnrolment("U", 10, 2025, 40)], [], 2025, 1, assumptions=every_class
    )
    assert forecast.subject(2025, "upper_secondary", "vat_ly").periods == 70


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="horizon"):
        project_enrolment(SCHOOLS, ENROLMENT, 2025, 11)
    with pytest.raises(ValueError, match="whole levels"):
        School("X", "C", 3, 5)
    with pytest.raises(ValueError, match="no such class"):
        project_enrolment(SCHOOLS, [GradeEnrolment("THCS-A", 3, 2025, 10)], 2025, 1)
    stray = Teacher("T9", "THCS-A", "primary", "toan", date(1980, 1, 1), "male")
    with pytest.raises(ValueError, match="T9"):
        forecast_teachers(SCHOOLS, ENROLMENT, [stray], 2025, 1)
