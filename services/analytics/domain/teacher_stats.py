"""Teachers by school, main subject, sex and age band, kept from staff profiles (pure: no IO).

Who counts.  A staff member in position ``teacher`` (principals and vice-principals teach a few
periods but staffing norms count them apart, as records' summary and the forecast do), under
the school and main subject (the first subject code of the profile; ``NO_SUBJECT`` when none)
of the newest profile revision records has published. A profile with another school, subject
or position, or with an end of employment, moves or ends the count; an older revision arriving
late changes nothing.

On which day.  Figures are for a school year, on its reference day: 31 December of the year
the school year starts in (``REFERENCE_MONTH_DAY``; check against the Department's reporting
calendar). A teacher counts in school year Y-(Y+1) when employed that day: employed from on or
before it and employed until (last day) on or after it. The age is the age reached in that
calendar year, ``Y - birth year``: the age in full years on the reference day itself, and the
usual Vietnamese statistical convention of age by year of birth. So an age band needs only the
birth year, and the bands can be changed without rebuilding anything.

Cells.  To answer any school year from one set of cells, a teacher adds ``joined`` = 1 to the
cell of the first school year they count in and ``departed`` = 1 to the cell of the first
school year they no longer count in (none while employment is open-ended). The teachers of
school year Y in a group are the sum of ``joined - departed`` over the cells of years <= Y.
Cells are keyed by (school, main subject, sex, birth year, school year start).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from shared.events.contracts.records import StaffUpdated

NO_SUBJECT = ""  # teachers whose profile names no subject
COUNTED_POSITION = "teacher"
REFERENCE_MONTH_DAY = (12, 31)
SCHOOL_YEAR_STARTS_MONTH = 9  # from September a new school year is the current one (check)
# The same bands as records' teacher summary (finer near retirement age, for the forecast).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under_30", 0, 29),
    ("30_39", 30, 39),
    ("40_49", 40, 49),
    ("50_54", 50, 54),
    ("55_59", 55, 59),
    ("60_plus", 60, None),
)
COUNTERS = ("joined", "departed")

# (school_id, main_subject, sex, birth_year, school_year_start)
CellKey = tuple[str, str, str, int, int]
GroupKey = tuple[str, str, str, int]  # the cell key without the school year


def reference_day(start_year: int) -> date:
    return date(start_year, *REFERENCE_MONTH_DAY)


def school_year_start(school_year: str) -> int:
    """2025 for "2025-2026"."""
    return int(school_year.split("-")[0])


def current_school_year(today: date) -> str:
    start = today.year if today.month >= SCHOOL_YEAR_STARTS_MONTH else today.year - 1
    return f"{start}-{start + 1}"


def age_in(start_year: int, birth_year: int) -> int:
    """Age reached in the calendar year the school year starts: full years on its reference
    day (31 December)."""
    return start_year - birth_year


def age_band(age: int) -> str:
    for name, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return name
    return AGE_BANDS[0][0]  # a negative age (birth year after the school year): youngest band


@dataclass(frozen=True, slots=True)
class TeacherShare:
    """What one teacher adds: where, who, and the school years counted [first, last]."""

    school_id: str
    main_subject: str
    sex: str
    birth_year: int
    first_year: int
    last_year: int | None  # None while employment is open-ended

    @property
    def group(self) -> GroupKey:
        return (self.school_id, self.main_subject, self.sex, self.birth_year)


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """The newest profile revision held, and what it adds (None: not counted)."""

    staff_id: str
    revision: int
    share: TeacherShare | None


def first_counted_year(employed_from: date) -> int:
    """The first school year whose reference day is on or after the start of employment."""
    return (
        employed_from.year
        if employed_from <= reference_day(employed_from.year)
        else (employed_from.year + 1)
    )


def last_counted_year(employed_until: date) -> int:
    """The last school year whose reference day is on or before the last day of employment."""
    year = employed_until.year
    return year if employed_until >= reference_day(year) else year - 1


def share_of(profile: StaffUpdated) -> TeacherShare | None:
    if profile.position != COUNTED_POSITION:
        return None
    first = first_counted_year(profile.employed_from)
    last = None if profile.employed_until is None else last_counted_year(profile.employed_until)
    if last is not None and last < first:
        return None  # employed between two reference days: in no school year's figures
    subjects = [code for code in profile.subjects if code]
    return TeacherShare(
        school_id=profile.school_id,
        main_subject=subjects[0] if subjects else NO_SUBJECT,
        sex=profile.sex,
        birth_year=profile.birth_date.year,
        first_year=first,
        last_year=last,
    )


def record_of(profile: StaffUpdated) -> StaffRecord:
    return StaffRecord(profile.staff_id, profile.revision, share_of(profile))


def add_share(cells: dict[CellKey, Counter[str]], share: TeacherShare, sign: int = 1) -> None:
    cells.setdefault((*share.group, share.first_year), Counter())["joined"] += sign
    if share.last_year is not None:
        cells.setdefault((*share.group, share.last_year + 1), Counter())["departed"] += sign


def without_zeros(cells: Mapping[CellKey, Counter[str]]) -> dict[CellKey, Counter[str]]:
    kept: dict[CellKey, Counter[str]] = {}
    for key, counts in cells.items():
        nonzero = Counter({c: n for c, n in counts.items() if n})
        if nonzero:
            kept[key] = nonzero
    return kept


@dataclass
class TeacherFold:
    records: dict[str, StaffRecord]  # staff whose held revision changed, with the new record
    deltas: dict[CellKey, Counter[str]]


def fold_teachers(held: Mapping[str, StaffRecord], profiles: Iterable[StaffUpdated]) -> TeacherFold:
    """Newest revision wins: a newer profile retracts what the held one added and adds its
    own; an equal or older revision changes nothing."""
    state = dict(held)
    changed: dict[str, StaffRecord] = {}
    deltas: dict[CellKey, Counter[str]] = {}
    for profile in profiles:
        old = state.get(profile.staff_id)
        if old is not None and old.revision >= profile.revision:
            continue
        new = record_of(profile)
        if old is not None and old.share is not None:
            add_share(deltas, old.share, -1)
        if new.share is not None:
            add_share(deltas, new.share, +1)
        state[profile.staff_id] = new
        changed[profile.staff_id] = new
    return TeacherFold(changed, without_zeros(deltas))


def recount(records: Iterable[StaffRecord]) -> dict[CellKey, Counter[str]]:
    """The cells from scratch from the held records: what the maintained cells must equal."""
    cells: dict[CellKey, Counter[str]] = {}
    for record in records:
        if record.share is not None:
            add_share(cells, record.share)
    return without_zeros(cells)


def teachers_in(cells: Mapping[CellKey, Mapping[str, int]], start_year: int) -> Counter[GroupKey]:
    """Teachers counted in school year `start_year`, per group (only groups with teachers)."""
    counts: Counter[GroupKey] = Counter()
    for (school, subject, sex, birth_year, year), c in cells.items():
        if year <= start_year:
            counts[(school, subject, sex, birth_year)] += c.get("joined", 0) - c.get("departed", 0)
    return Counter({group: n for group, n in counts.items() if n})
