"""Teacher-shortage forecast by subject for the coming school years (pure logic, no IO).

From each teacher's ID, age and subject against student numbers the Department forecasts how
many teachers of which subject will be missing, to order them from teacher training institutions
(DOMAIN.md, seed 000). Every figure the forecast produces carries the figures it came from, so
the Department can explain each number to the People's Committee and to the training
institutions:

1. Enrolment (``project_enrolment``).  Each year every grade moves up one grade in the same
   school, times an optional progression rate, plus an optional share that repeats the grade.
   Entry grades are pooled and shared out among the schools that offer them, in proportion to
   their base-year enrolment in that grade: grade 1 takes the commune's projected intake (an
   explicit projection, else the preschool children who reach 6 that year, else the last
   intake); grade 6 the grade-5 leavers of the same commune (lower secondary is run by the
   commune); grade 10 a share of all grade-9 leavers (upper secondary is run by the Department
   and admits without zoning).
2. Classes per school and grade: ceil(learners / class-size limit).
3. Demand per subject: periods a year = sum over grades of classes x periods per class
   (General Education Program 2018); full-time teachers = periods / (weekly norm x weeks).
4. The staffing-norm cap per level (teachers per class, Circular 20/2023), a second figure.
5. Supply: today's teachers by main subject, less those who reach retirement age.
6. Shortage = demand - supply (negative: surplus).

Years are school years named by the year they start: 2025 is 2025-2026. The base year is
observed, the following years are projected. Figures are exact fractions; round only to show.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Literal

Level = Literal["primary", "lower_secondary", "upper_secondary"]
Sex = Literal["male", "female"]
Ratio = Fraction | float | int

LEVELS: tuple[Level, ...] = ("primary", "lower_secondary", "upper_secondary")
LEVEL_GRADES: Mapping[Level, range] = {
    "primary": range(1, 6),
    "lower_secondary": range(6, 10),
    "upper_secondary": range(10, 13),
}
ENTRY_GRADES = frozenset(grades[0] for grades in LEVEL_GRADES.values())
MAX_HORIZON = 10


def level_of(grade: int) -> Level:
    for level, grades in LEVEL_GRADES.items():
        if grade in grades:
            return level
    raise ValueError(f"grade {grade} is not in general education (1-12)")


def _ratio(value: Ratio) -> Fraction:
    # str() first: 0.7 means seven tenths, not the binary double nearest to it.
    return value if isinstance(value, Fraction) else Fraction(str(value))


def round_half_up(value: Fraction) -> int:
    """Learners are whole: 40.5 projected learners are 41 (not Python's banker's 40)."""
    return math.floor(value + Fraction(1, 2))


# --------------------------------------------------------------------------- norms (legal)

PeriodsTable = Mapping[str, Mapping[int, int]]  # subject code -> grade -> periods a year


def _every(periods: int, grades: Iterable[int]) -> dict[int, int]:
    return dict.fromkeys(grades, periods)


# General Education Program 2018 (Circular 32/2018/TT-BGDĐT, as amended), periods per school
# year of 35 weeks. Subject codes are the records service's program_subjects codes.
# Primary: Tiếng Việt, Toán and Ngoại ngữ are from DOMAIN.md; the rest are "check" (from memory
# of the programme). They give 875, 875, 980, 1050, 1050 periods a year for grades 1-5, i.e.
# 25, 25, 28, 30, 30 a week. "Tin học và Công nghệ" (70, grades 3-5) is split 35 + 35 because
# different teachers teach the two parts. The electives (Ngoại ngữ 1 in grades 1-2, ethnic
# minority languages) are not counted.
PRIMARY_PERIODS: PeriodsTable = {
    "tieng_viet": {1: 420, 2: 350, 3: 245, 4: 245, 5: 245},
    "toan": {1: 105, 2: 175, 3: 175, 4: 175, 5: 175},
    "ngoai_ngu": _every(140, range(3, 6)),
    "dao_duc": _every(35, range(1, 6)),  # check
    "tu_nhien_xa_hoi": _every(70, range(1, 4)),  # check
    "lich_su_dia_ly": _every(70, range(4, 6)),  # check
    "khoa_hoc": _every(70, range(4, 6)),  # check
    "tin_hoc": _every(35, range(3, 6)),  # check: half of Tin học và Công nghệ
    "cong_nghe": _every(35, range(3, 6)),  # check: the other half
    "gdtc": _every(70, range(1, 6)),
    "nghe_thuat": _every(70, range(1, 6)),  # Âm nhạc + Mĩ thuật
    "hdtn": _every(105, range(1, 6)),  # check
}

# Lower secondary, all from DOMAIN.md: 1015 periods a year in grades 6-7, 1032 in grades 8-9.
LOWER_SECONDARY_PERIODS: PeriodsTable = {
    "ngu_van": _every(140, range(6, 10)),
    "toan": _every(140, range(6, 10)),
    "ngoai_ngu": _every(105, range(6, 10)),
    "lich_su_dia_ly": _every(105, range(6, 10)),
    "khoa_hoc_tu_nhien": _every(140, range(6, 10)),
    "gdcd": _every(35, range(6, 10)),
    "cong_nghe": {6: 35, 7: 35, 8: 52, 9: 52},
    "tin_hoc": _every(35, range(6, 10)),
    "gdtc": _every(70, range(6, 10)),
    "nghe_thuat": _every(70, range(6, 10)),
    "hdtn": _every(105, range(6, 10)),
    "gddp": _every(35, range(6, 10)),
}

# Upper secondary: electives 70 and Lịch sử 52 are from DOMAIN.md (Lịch sử compulsory since
# Circular 13/2022/TT-BGDĐT); the other compulsory figures are "check". Not counted: the
# learning topics (chuyên đề học tập, 3 x 35 periods a year per class), taught by teachers of
# the subjects each school chooses: add them per subject once the schools' choices are known.
UPPER_SECONDARY_ELECTIVES = frozenset(
    {"dia_ly", "gdktpl", "vat_ly", "hoa_hoc", "sinh_hoc", "cong_nghe", "tin_hoc", "am_nhac"}
    | {"my_thuat"}
)
UPPER_SECONDARY_PERIODS: PeriodsTable = {
    "ngu_van": _every(105, range(10, 13)),  # check
    "toan": _every(105, range(10, 13)),  # check
    "ngoai_ngu": _every(105, range(10, 13)),  # check
    "lich_su": _every(52, range(10, 13)),
    "gdtc": _every(70, range(10, 13)),  # check
    "qpan": _every(35, range(10, 13)),  # check
    "hdtn": _every(105, range(10, 13)),  # check
    "gddp": _every(35, range(10, 13)),  # check
    **{subject: _every(70, range(10, 13)) for subject in sorted(UPPER_SECONDARY_ELECTIVES)},
}

# Who teaches what. Demand and teachers are counted per "staffing subject": a program subject,
# or a group of them taught by one kind of teacher. A teacher counts for the staffing subject
# of their main subject. Check with the Department how the sector database records them:
# - primary: the class teacher (giáo viên văn hóa) teaches everything but the specialist
#   subjects (foreign language, IT, PE, arts); whatever main subject such a teacher has on
#   record, it maps to "van_hoa";
# - lower secondary: integrated subjects are taught by teachers trained in one of their parts;
# - arts: music and fine-arts teachers together cover "Nghệ thuật" (primary, lower secondary).
PRIMARY_CLASS_TEACHER = "van_hoa"
DEFAULT_STAFFING_SUBJECTS: Mapping[Level, Mapping[str, str]] = {
    "primary": {
        **dict.fromkeys(
            (
                "tieng_viet",
                "toan",
                "dao_duc",
                "tu_nhien_xa_hoi",
                "lich_su_dia_ly",
                "khoa_hoc",
                "cong_nghe",
                "hdtn",
            ),
            PRIMARY_CLASS_TEACHER,
        ),
        "am_nhac": "nghe_thuat",
        "my_thuat": "nghe_thuat",
    },
    "lower_secondary": {
        "lich_su": "lich_su_dia_ly",
        "dia_ly": "lich_su_dia_ly",
        "vat_ly": "khoa_hoc_tu_nhien",
        "hoa_hoc": "khoa_hoc_tu_nhien",
        "sinh_hoc": "khoa_hoc_tu_nhien",
        "am_nhac": "nghe_thuat",
        "my_thuat": "nghe_thuat",
    },
    "upper_secondary": {},
}


@dataclass(frozen=True)
class RetirementRoadmap:
    """Retirement age by the calendar year in which it is reached (Labour Code 2019 Art. 169;
    Decree 135/2020/NĐ-CP Art. 4 and its appendix, normal working conditions)."""

    months_before_roadmap: int  # the age for years before first_year
    first_year: int
    months_in_first_year: int
    step_months: int  # added each following year
    final_months: int

    def age_months(self, year: int) -> int:
        if year < self.first_year:
            return self.months_before_roadmap
        rising = self.months_in_first_year + self.step_months * (year - self.first_year)
        return min(rising, self.final_months)


# Men: 60y3m in 2021, +3 months a year, 62 from 2028. Women: 55y4m in 2021, +4 months a year,
# 60 from 2035. Before 2021: 60 and 55 (Labour Code 2012).
MEN_ROADMAP = RetirementRoadmap(60 * 12, 2021, 60 * 12 + 3, 3, 62 * 12)
WOMEN_ROADMAP = RetirementRoadmap(55 * 12, 2021, 55 * 12 + 4, 4, 60 * 12)


@dataclass(frozen=True)
class ForecastNorms:
    """Legal norms, each with its source. Override a field when a circular changes."""

    # Program 2018 (Circular 32/2018/TT-BGDĐT): the periods above are for 35 weeks.
    weeks_per_year: int = 35
    # Weekly teaching norm (periods a week) of a teacher, Circular 05/2025/TT-BGDĐT.
    weekly_norm: Mapping[Level, int] = field(
        default_factory=lambda: {"primary": 23, "lower_secondary": 19, "upper_secondary": 17}
    )
    # Most learners per class: primary 35 (school charter, Circular 28/2020/TT-BGDĐT),
    # secondary 45 (Circular 32/2020/TT-BGDĐT). DOMAIN.md "Teachers".
    class_size_limit: Mapping[Level, int] = field(
        default_factory=lambda: {"primary": 35, "lower_secondary": 45, "upper_secondary": 45}
    )
    # Most teachers per class, Circular 20/2023/TT-BGDĐT (check): primary 1.5 with two sessions
    # a day, 1.2 with one; lower secondary 1.9; upper secondary 2.25.
    primary_teachers_per_class: Mapping[int, Fraction] = field(
        default_factory=lambda: {2: Fraction(3, 2), 1: Fraction(6, 5)}
    )
    secondary_teachers_per_class: Mapping[Level, Fraction] = field(
        default_factory=lambda: {
            "lower_secondary": Fraction(19, 10),
            "upper_secondary": Fraction(9, 4),
        }
    )
    periods: Mapping[Level, PeriodsTable] = field(
        default_factory=lambda: {
            "primary": PRIMARY_PERIODS,
            "lower_secondary": LOWER_SECONDARY_PERIODS,
            "upper_secondary": UPPER_SECONDARY_PERIODS,
        }
    )
    # Subjects a class takes only if its learners chose them (upper secondary: 4 of these 9).
    electives: Mapping[Level, frozenset[str]] = field(
        default_factory=lambda: {"upper_secondary": UPPER_SECONDARY_ELECTIVES}
    )
    staffing_subjects: Mapping[Level, Mapping[str, str]] = field(
        default_factory=lambda: DEFAULT_STAFFING_SUBJECTS
    )
    retirement: Mapping[Sex, RetirementRoadmap] = field(
        default_factory=lambda: {"male": MEN_ROADMAP, "female": WOMEN_ROADMAP}
    )
    # First month of a school year; a teacher reaching retirement age in June 2027 retires in
    # school year 2026 (2026-2027). Check against the Ministry's school-year plan.
    school_year_start_month: int = 9

    def staffing_subject(self, level: Level, subject: str) -> str:
        return self.staffing_subjects.get(level, {}).get(subject, subject)


# --------------------------------------------------------------------------- assumptions


@dataclass(frozen=True)
class CohortAssumptions:
    """Demographic and choice assumptions: data to calibrate, not law."""

    # Share of a grade's learners found in the next grade a year later (default 1).
    progression: Mapping[int, Ratio] = field(default_factory=dict)
    # Share found in the same grade again (default 0).
    repetition: Mapping[int, Ratio] = field(default_factory=dict)
    # Share of grade-9 leavers who enter grade 10 in the schools given (check: 0.7 is roughly
    # the public upper-secondary quota; include private and continuing-education schools in
    # the forecast and raise it accordingly).
    grade10_share: Ratio = Fraction(7, 10)
    # An explicit grade-1 intake projection by (commune, year); overrides the preschool data.
    grade1_intake: Mapping[tuple[str, int], int] = field(default_factory=dict)
    # Share of upper-secondary classes taking each elective (check: 4 of 9 evenly, until the
    # schools' subject combinations are loaded).
    elective_share: Mapping[str, Ratio] = field(
        default_factory=lambda: dict.fromkeys(UPPER_SECONDARY_ELECTIVES, Fraction(4, 9))
    )

    def progressing(self, grade: int) -> Fraction:
        return _ratio(self.progression.get(grade, 1))

    def repeating(self, grade: int) -> Fraction:
        return _ratio(self.repetition.get(grade, 0))


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class School:
    school_id: str
    commune_id: str
    first_grade: int  # 1, 6 or 10; a multi-level school (liên cấp) spans several levels
    last_grade: int  # 5, 9 or 12
    primary_sessions_per_day: Literal[1, 2] = 2  # for the primary staffing cap

    def __post_init__(self) -> None:
        if (
            self.first_grade not in ENTRY_GRADES
            or self.last_grade not in {5, 9, 12}
            or self.first_grade > self.last_grade
        ):
            raise ValueError(f"school {self.school_id}: grades must cover whole levels")

    @property
    def grades(self) -> range:
        return range(self.first_grade, self.last_grade + 1)

    @property
    def levels(self) -> tuple[Level, ...]:
        return tuple(level for level in LEVELS if LEVEL_GRADES[level][0] in self.grades)


@dataclass(frozen=True)
class GradeEnrolment:
    school_id: str
    grade: int
    year: int
    learners: int


@dataclass(frozen=True)
class PreschoolCount:
    """Children in preschool by commune, school year and age (completed years that year).

    A child of age ``a`` in year ``y`` enters grade 1 in year ``y + 6 - a``: the 5-year-olds
    of one year are the next year's grade-1 intake."""

    commune_id: str
    year: int
    age: int
    children: int


@dataclass(frozen=True)
class Teacher:
    teacher_id: str
    school_id: str
    level: Level  # the level they teach (a multi-level school has teachers of each)
    main_subject: str  # program_subjects code: the first of the subjects they can teach
    birth_date: date
    sex: Sex


# --------------------------------------------------------------------------- retirement


@dataclass(frozen=True)
class Retirement:
    age_months: int  # the retirement age that applies to this person
    reached_in: tuple[int, int]  # (year, month) in which they reach it
    retires_on: date  # end of that month (Decree 135/2020/NĐ-CP; check)
    school_year: int  # the school year in which they retire


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def school_year_of(year: int, month: int, start_month: int = 9) -> int:
    return year if month >= start_month else year - 1


def retirement(birth_date: date, sex: Sex, norms: ForecastNorms | None = None) -> Retirement:
    """The age of the calendar year in which a person reaches it applies (Decree 135/2020):
    a man born in October 1961 would reach 60y3m in January 2022, but in 2022 the age is
    60y6m, so he retires in April 2022."""
    norms = norms or ForecastNorms()
    roadmap = norms.retirement[sex]
    # Each calendar year the age grows by at most 4 months, so the date it is reached moves
    # slower than the calendar: the first year not before that date's year is its year.
    year = birth_date.year + roadmap.months_before_roadmap // 12
    while True:
        age = roadmap.age_months(year)
        reached = _add_months(birth_date.year, birth_date.month, age)
        if reached[0] <= year:
            break
        year += 1
    last_day = date(*_add_months(reached[0], reached[1], 1), 1).toordinal() - 1
    return Retirement(
        age,
        reached,
        date.fromordinal(last_day),
        school_year_of(*reached, start_month=norms.school_year_start_month),
    )


# --------------------------------------------------------------------------- enrolment


@dataclass(frozen=True)
class EnrolmentProjection:
    base_year: int
    years: tuple[int, ...]  # base year first
    learners: Mapping[tuple[int, str, int], int]  # (year, school, grade)
    # Learners entering an entry grade, before repeaters: (year, grade, commune); commune None
    # for grade 10, pooled over all schools.
    intakes: Mapping[tuple[int, int, str | None], int]
    # Intakes with no school to go to: no school of the commune offers the entry grade.
    unplaced: Mapping[tuple[int, int, str | None], int]


def apportion(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Share ``total`` whole learners by weight (largest remainder; ties by key order)."""
    if not weights:
        return {}
    weight_sum = sum(weights.values())
    if weight_sum == 0:
        weights = dict.fromkeys(weights, 1)  # no base-year learners anywhere: share evenly
        weight_sum = len(weights)
    quotas = {key: Fraction(total * w, weight_sum) for key, w in weights.items()}
    shares = {key: math.floor(quota) for key, quota in quotas.items()}
    left = total - sum(shares.values())
    by_remainder = sorted(quotas, key=lambda key: (-(quotas[key] - shares[key]), key))
    for key in by_remainder[:left]:
        shares[key] += 1
    return shares


def preschool_entrants(preschool: Iterable[PreschoolCount]) -> dict[tuple[str, int], int]:
    """Grade-1 entrants by (commune, year) from preschool counts. A cohort counted in several
    years (the 4-year-olds of 2024 are the 5-year-olds of 2025) is taken from its latest count
    only, so it is neither counted twice nor from stale data."""
    latest: dict[tuple[str, int], int] = {}
    entrants: dict[tuple[str, int], int] = defaultdict(int)
    for count in sorted(preschool, key=lambda c: c.year):
        key = (count.commune_id, count.year + 6 - count.age)
        if latest.get(key, count.year) < count.year:
            entrants[key] = 0  # a newer count of this cohort replaces the older ones
        latest[key] = count.year
        entrants[key] += count.children
    return dict(entrants)


def project_enrolment(
    schools: Iterable[School],
    enrolment: Iterable[GradeEnrolment],
    base_year: int,
    horizon: int,
    assumptions: CohortAssumptions | None = None,
    preschool: Iterable[PreschoolCount] = (),
) -> EnrolmentProjection:
    assumptions = assumptions or CohortAssumptions()
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValueError(f"the horizon is 1 to {MAX_HORIZON} school years")
    by_id = {school.school_id: school for school in schools}
    learners: dict[tuple[int, str, int], int] = {
        (base_year, school.school_id, grade): 0
        for school in by_id.values()
        for grade in school.grades
    }
    for row in enrolment:
        if row.year != base_year:
            continue
        school = by_id.get(row.school_id)
        if school is None or row.grade not in school.grades:
            raise ValueError(f"enrolment for {row.school_id} grade {row.grade}: no such class")
        learners[(base_year, row.school_id, row.grade)] += row.learners

    def base_weights(grade: int, commune: str | None) -> dict[str, int]:
        return {
            s.school_id: learners[(base_year, s.school_id, grade)]
            for s in by_id.values()
            if grade in s.grades and (commune is None or s.commune_id == commune)
        }

    communes = sorted({s.commune_id for s in by_id.values()})
    entering_by_age = preschool_entrants(preschool)
    last_grade1 = {c: sum(base_weights(1, c).values()) for c in communes}

    intakes: dict[tuple[int, int, str | None], int] = {}
    unplaced: dict[tuple[int, int, str | None], int] = {}
    for year in range(base_year + 1, base_year + horizon + 1):

        def before(school_id: str, grade: int, year: int = year) -> int:
            return learners.get((year - 1, school_id, grade), 0)

        for school in by_id.values():
            for grade in school.grades:
                stay = round_half_up(before(school.school_id, grade) * assumptions.repeating(grade))
                moved = 0
                if grade not in ENTRY_GRADES:
                    previous = before(school.school_id, grade - 1)
                    moved = round_half_up(previous * assumptions.progressing(grade - 1))
                learners[(year, school.school_id, grade)] = stay + moved

        def enter(grade: int, commune: str | None, total: int, year: int = year) -> None:
            intakes[(year, grade, commune)] = total
            weights = base_weights(grade, commune)
            if not weights and total:
                unplaced[(year, grade, commune)] = total
            for school_id, share in apportion(total, weights).items():
                learners[(year, school_id, grade)] += share

        def leavers(grade: int, commune: str | None, year: int = year) -> Fraction:
            return sum(
                (
                    before(s.school_id, grade) * assumptions.progressing(grade)
                    for s in by_id.values()
                    if grade in s.grades and (commune is None or s.commune_id == commune)
                ),
                Fraction(0),
            )

        for commune in communes:
            if (commune, year) in assumptions.grade1_intake:
                grade1 = assumptions.grade1_intake[(commune, year)]
            elif (commune, year) in entering_by_age:
                grade1 = entering_by_age[(commune, year)]
            else:
                grade1 = last_grade1[commune]  # no better knowledge: as many as last year
            last_grade1[commune] = grade1
            enter(1, commune, grade1)
            enter(6, commune, round_half_up(leavers(5, commune)))
        share = _ratio(assumptions.grade10_share)
        enter(10, None, round_half_up(leavers(9, None) * share))

    years = tuple(range(base_year, base_year + horizon + 1))
    return EnrolmentProjection(base_year, years, learners, intakes, unplaced)


# --------------------------------------------------------------------------- demand and supply


@dataclass(frozen=True)
class GradeDemand:
    grade: int
    learners: int
    classes: int
    periods_per_class: Fraction  # electives: periods x share of classes taking them
    periods: Fraction


@dataclass(frozen=True)
class SubjectForecast:
    year: int
    commune_id: str | None  # None: all the schools given (the province)
    level: Level
    subject: str  # staffing subject (see DEFAULT_STAFFING_SUBJECTS)
    grades: tuple[GradeDemand, ...]
    periods: Fraction
    weekly_norm: int
    weeks: int
    demand: Fraction  # full-time teachers: periods / (weekly_norm x weeks)
    retiring: tuple[str, ...]  # teachers who retire during this school year
    # Teachers who teach the whole school year: a teacher who reaches retirement age during
    # it is already counted out, because the post must be filled for that year.
    supply: int
    shortage: Fraction  # demand - supply; negative: surplus


@dataclass(frozen=True)
class LevelStaffing:
    """All subjects of a level together, against the staffing-norm cap (Circular 20/2023)."""

    year: int
    commune_id: str | None
    level: Level
    classes: int
    demand: Fraction
    staffing_cap: Fraction  # classes x most teachers per class
    supply: int
    shortage: Fraction  # demand - supply
    shortage_within_cap: Fraction  # min(demand, cap) - supply: what the norm lets them hire


@dataclass(frozen=True)
class TeacherForecast:
    enrolment: EnrolmentProjection
    retirements: Mapping[str, Retirement]  # by teacher id
    subjects: tuple[SubjectForecast, ...]
    levels: tuple[LevelStaffing, ...]

    def subject(
        self, year: int, level: Level, subject: str, commune_id: str | None = None
    ) -> SubjectForecast:
        for row in self.subjects:
            if (row.year, row.level, row.subject, row.commune_id) == (
                year,
                level,
                subject,
                commune_id,
            ):
                return row
        raise KeyError((year, level, subject, commune_id))

    def level(self, year: int, level: Level, commune_id: str | None = None) -> LevelStaffing:
        for row in self.levels:
            if (row.year, row.level, row.commune_id) == (year, level, commune_id):
                return row
        raise KeyError((year, level, commune_id))


def _periods_per_class(
    norms: ForecastNorms, assumptions: CohortAssumptions, level: Level
) -> dict[str, dict[int, Fraction]]:
    """Staffing subject -> grade -> periods a year one class needs."""
    electives = norms.electives.get(level, frozenset())
    result: dict[str, dict[int, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
    for subject, by_grade in norms.periods[level].items():
        share = _ratio(assumptions.elective_share.get(subject, 0)) if subject in electives else 1
        for grade, periods in by_grade.items():
            result[norms.staffing_subject(level, subject)][grade] += periods * share
    return result


def forecast_teachers(
    schools: Iterable[School],
    enrolment: Iterable[GradeEnrolment],
    teachers: Iterable[Teacher],
    base_year: int,
    horizon: int,
    norms: ForecastNorms | None = None,
    assumptions: CohortAssumptions | None = None,
    preschool: Iterable[PreschoolCount] = (),
) -> TeacherForecast:
    """Demand, supply and shortage per staffing subject and per level, for each commune and
    for all the schools given, in the base year and each of the next ``horizon`` years."""
    norms = norms or ForecastNorms()
    assumptions = assumptions or CohortAssumptions()
    schools = list(schools)
    by_id = {school.school_id: school for school in schools}
    projection = project_enrolment(schools, enrolment, base_year, horizon, assumptions, preschool)
    staff = list(teachers)
    for teacher in staff:
        school = by_id.get(teacher.school_id)
        if school is None or teacher.level not in school.levels:
            raise ValueError(f"teacher {teacher.teacher_id}: no {teacher.level} at that school")
    retirements = {t.teacher_id: retirement(t.birth_date, t.sex, norms) for t in staff}

    areas: dict[tuple[Level, str | None], _Area] = {}
    for level in LEVELS:
        for commune in (None, *sorted({s.commune_id for s in schools})):
            areas[(level, commune)] = _Area(level, commune, [], [])
    for school in schools:
        for level in school.levels:
            for commune in (None, school.commune_id):
                areas[(level, commune)].schools.append(school)
    for teacher in staff:
        for commune in (None, by_id[teacher.school_id].commune_id):
            areas[(teacher.level, commune)].teachers.append(teacher)

    subject_rows: list[SubjectForecast] = []
    level_rows: list[LevelStaffing] = []
    for area in areas.values():
        if not area.schools:
            continue
        calculator = _AreaForecast(area, projection, retirements, norms, assumptions)
        for year in projection.years:
            subjects, staffing = calculator.year(year)
            subject_rows.extend(subjects)
            level_rows.append(staffing)
    return TeacherForecast(projection, retirements, tuple(subject_rows), tuple(level_rows))


@dataclass
class _Area:
    """The schools and teachers of one level in one commune (commune None: all of them)."""

    level: Level
    commune_id: str | None
    schools: list[School]
    teachers: list[Teacher]


class _AreaForecast:
    def __init__(
        self,
        area: _Area,
        projection: EnrolmentProjection,
        retirements: Mapping[str, Retirement],
        norms: ForecastNorms,
        assumptions: CohortAssumptions,
    ) -> None:
        self.area = area
        self.projection = projection
        self.norms = norms
        self.per_class = _periods_per_class(norms, assumptions, area.level)
        self.grades = LEVEL_GRADES[area.level]
        self.norm = norms.weekly_norm[area.level]
        self.base_year = projection.base_year
        # When each teacher leaves, by staffing subject.
        self.leaving: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for teacher in area.teachers:
            subject = norms.staffing_subject(area.level, teacher.main_subject)
            school_year = retirements[teacher.teacher_id].school_year
            self.leaving[subject].append((school_year, teacher.teacher_id))
        self.subjects = sorted(set(self.per_class) | set(self.leaving))

    def classes(self, year: int, school: School, grade: int) -> int:
        learners = self.projection.learners[(year, school.school_id, grade)]
        return -(-learners // self.norms.class_size_limit[self.area.level])  # ceiling

    def year(self, year: int) -> tuple[list[SubjectForecast], LevelStaffing]:
        area, norms = self.area, self.norms
        learners = {
            g: sum(self.projection.learners[(year, s.school_id, g)] for s in area.schools)
            for g in self.grades
        }
        classes = {g: sum(self.classes(year, s, g) for s in area.schools) for g in self.grades}
        full_time = self.norm * norms.weeks_per_year
        rows = []
        for subject in self.subjects:
            grades = tuple(
                GradeDemand(g, learners[g], classes[g], periods, classes[g] * periods)
                for g, periods in sorted(self.per_class.get(subject, {}).items())
                if periods
            )
            periods = sum((g.periods for g in grades), Fraction(0))
            leaving = self.leaving.get(subject, [])
            supply = sum(1 for school_year, _ in leaving if school_year > year)
            # The base year also lists anyone already past retirement age but still on record.
            retiring = tuple(
                sorted(
                    teacher_id
                    for school_year, teacher_id in leaving
                    if school_year == year or (year == self.base_year and school_year < year)
                )
            )
            demand = periods / full_time
            rows.append(
                SubjectForecast(
                    year,
                    area.commune_id,
                    area.level,
                    subject,
                    grades,
                    periods,
                    self.norm,
                    norms.weeks_per_year,
                    demand,
                    retiring,
                    supply,
                    demand - supply,
                )
            )
        demand = sum((row.demand for row in rows), Fraction(0))
        supply = sum(row.supply for row in rows)
        cap = sum(
            (
                sum(self.classes(year, s, g) for g in self.grades)
                * _teachers_per_class(norms, s, area.level)
                for s in area.schools
            ),
            Fraction(0),
        )
        staffing = LevelStaffing(
            year,
            area.commune_id,
            area.level,
            sum(classes.values()),
            demand,
            cap,
            supply,
            demand - supply,
            min(demand, cap) - supply,
        )
        return rows, staffing


def _teachers_per_class(norms: ForecastNorms, school: School, level: Level) -> Fraction:
    if level == "primary":
        return norms.primary_teachers_per_class[school.primary_sessions_per_day]
    return norms.secondary_teachers_per_class[level]
