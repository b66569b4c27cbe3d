"""Use cases of staff profiles and teaching assignments, their HTTP models, and the pure rules
they apply (profile checks, ages, the teacher summary)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated, Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.records.handlers import (
    SOURCE,
    WRITERS,
    ensure_can_read_school,
    ensure_school_in_scope,
)
from services.records.staff import store
from shared.audit import record_access
from shared.auth import AuthorisationError, Principal, ensure_in_scope, require_role
from shared.db.pool import Connection
from shared.events.contracts.identity import OrgId
from shared.events.contracts.records import SCHOOL_YEAR_PATTERN, StaffAssigned, StaffUpdated
from shared.http.problems import Problem, field_error, invalid
from shared.orgs.mirror import ancestors, get_unit
from shared.outbox.writer import add_event

# Staff profiles are personal data (birth date, sex): teachers do not read their colleagues'.
READERS = ["department", "commune", "school", "auditor", "service"]
# Who teaches which class is not personal data beyond the staff ID: teachers may read it.
ASSIGNMENT_READERS = [*READERS, "teacher"]
TEACHING_POSITIONS = ("teacher", "principal", "vice_principal")
# Labour Code 2019 art. 143: an adult worker is 18 or over. A teacher also needs a college or
# university degree (Law on Education 2019 art. 72), so 18 is a floor, not a typical age.
MIN_WORKING_AGE = 18
# Age bands of the teacher summary, in full years, finer near retirement where the forecast
# needs it: retirement age in 2026 is 57 for women and 61 years 6 months for men, rising to 60
# (2035) and 62 (2028) (Labour Code 2019 art. 169, Decree 135/2020).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under_30", 0, 29),
    ("30_39", 30, 39),
    ("40_49", 40, 49),
    ("50_54", 50, 54),
    ("55_59", 55, 59),
    ("60_plus", 60, None),
)

StaffId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Position = Literal["teacher", "principal", "vice_principal", "staff"]
Sex = Literal["male", "female"]
ItSkillLevel = Literal["basic", "intermediate", "advanced"]
AssignmentRole = Literal["subject_teacher", "homeroom"]


# --- HTTP models -------------------------------------------------------------------------------


class StaffProfile(BaseModel):
    """A staff member's whole profile: sending it again unchanged changes and publishes
    nothing."""

    model_config = ConfigDict(extra="forbid")

    staff_id: StaffId = Field(description="Sector ID of the teacher or staff member (GV-/NV-...)")
    school_id: OrgId
    position: Position
    subjects: list[str] = Field(
        default_factory=list,
        max_length=30,
        description="Subject codes they can teach (GET /staff/subjects), main subject first",
        examples=[["toan", "tin_hoc"]],
    )
    birth_date: date
    sex: Sex
    employed_from: date
    employed_until: date | None = Field(default=None, description="Last day of employment")
    qualification: str | None = Field(default=None, max_length=100, examples=["Cử nhân Sư phạm"])
    it_skill_level: ItSkillLevel | None = None

    @field_validator("subjects")
    @classmethod
    def _lower_codes(cls, codes: list[str]) -> list[str]:
        return [code.strip().lower() for code in codes]

    @field_validator("qualification")
    @classmethod
    def _tidy_qualification(cls, text: str | None) -> str | None:
        tidy = " ".join(text.split()) if text else ""
        return tidy or None


class StaffPublic(BaseModel):
    staff_id: str
    school_id: str
    position: str
    subjects: list[str]
    birth_date: date
    sex: str
    employed_from: date
    employed_until: date | None
    qualification: str | None
    it_skill_level: str | None
    revision: int


class StaffSaved(StaffPublic):
    changed: bool = Field(description="False when the profile sent was the one already stored")


class StaffPage(BaseModel):
    items: list[StaffPublic]
    next_cursor: str | None


class SubjectPublic(BaseModel):
    subject_code: str
    name_vi: str


class AssignmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff_id: StaffId
    school_id: OrgId
    school_year: str = Field(pattern=SCHOOL_YEAR_PATTERN, examples=["2025-2026"])
    class_id: str = Field(min_length=1, max_length=64)
    role: AssignmentRole = "subject_teacher"
    subject_code: str | None = Field(
        default=None, max_length=40, description="The subject taught; none for a homeroom teacher"
    )
    periods_per_week: float | None = Field(default=None, ge=0, le=40)
    assigned_on: date | None = Field(default=None, description="Defaults to today")

    @field_validator("subject_code")
    @classmethod
    def _lower_code(cls, code: str | None) -> str | None:
        return code.strip().lower() if code is not None else None


class AssignmentEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ended_on: date | None = Field(default=None, description="Defaults to today")


class AssignmentPublic(BaseModel):
    assignment_id: uuid.UUID
    staff_id: str
    school_id: str
    school_year: str
    class_id: str
    subject_code: str | None
    role: str
    periods_per_week: float | None
    active: bool
    assigned_on: date
    ended_on: date | None


class AssignmentPage(BaseModel):
    items: list[AssignmentPublic]
    next_cursor: str | None


class SexCounts(BaseModel):
    male: int = 0
    female: int = 0


class SubjectTeachers(BaseModel):
    subject_code: str
    name_vi: str
    main: int = Field(description="Teachers whose main (first-listed) subject this is")
    qualified: int = Field(description="Teachers who can teach it (a teacher counts in each)")
    main_by_age_band: dict[str, SexCounts] = Field(
        description="The `main` teachers by age band and sex"
    )


class TeacherSummary(BaseModel):
    org_id: str
    as_of: date
    schools: int = Field(
        description="Open schools and daycare groups in the unit (staff still recorded at a "
        "closed one are counted too)"
    )
    teachers: int = Field(description="Staff in position `teacher` employed on `as_of`")
    by_position: dict[str, int] = Field(description="Everyone employed on `as_of`, by position")
    without_subjects: int = Field(description="Teachers with no subject recorded")
    age_bands: list[str]
    by_age_band: dict[str, SexCounts] = Field(description="All teachers by age band and sex")
    subjects: list[SubjectTeachers] = Field(description="Subjects with at least one teacher")


# --- pure rules --------------------------------------------------------------------------------


def age_on(birth_date: date, on: date) -> int:
    """Age in full years on a day."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def age_band(age: int) -> str:
    for name, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return name
    raise ValueError(f"age {age} is in no band")


def profile_errors(
    profile: StaffProfile, *, known_subjects: Iterable[str], today: date
) -> list[dict[str, str]]:
    """Every rule the profile breaks, each naming its field (empty when it is valid)."""
    known = set(known_subjects)
    who = f"staff member {profile.staff_id}"
    errors = [
        field_error(
            f"body.subjects.{i}",
            f"{who}: unknown subject code {code!r} (see GET /staff/subjects)",
            "unknown_subject",
        )
        for i, code in enumerate(profile.subjects)
        if code not in known
    ]
    if profile.birth_date > today:
        errors.append(
            field_error(
                "body.birth_date", f"{who}: birth date {profile.birth_date} is in the future"
            )
        )
    elif age_on(profile.birth_date, profile.employed_from) < MIN_WORKING_AGE:
        errors.append(
            field_error(
                "body.employed_from",
                f"{who}: employed from {profile.employed_from}, before turning "
                f"{MIN_WORKING_AGE} (born {profile.birth_date})",
                "under_working_age",
            )
        )
    if profile.employed_until is not None and profile.employed_until < profile.employed_from:
        errors.append(
            field_error(
                "body.employed_until",
                f"{who}: employed until {profile.employed_until}, before employed from "
                f"{profile.employed_from}",
            )
        )
    return errors


def unique_codes(codes: Iterable[str]) -> list[str]:
    """The codes without repeats, first occurrence kept (the main subject stays first)."""
    return list(dict.fromkeys(codes))


_PROFILE_FIELDS = (
    "school_id",
    "position",
    "subjects",
    "birth_date",
    "sex",
    "employed_from",
    "employed_until",
    "qualification",
    "it_skill_level",
)


def _profile_values(profile: StaffProfile) -> dict[str, Any]:
    return {
        "school_id": profile.school_id,
        "position": profile.position,
        "subjects": unique_codes(profile.subjects),
        "birth_date": profile.birth_date,
        "sex": profile.sex,
        "employed_from": profile.employed_from,
        "employed_until": profile.employed_until,
        "qualification": profile.qualification,
        "it_skill_level": profile.it_skill_level,
    }


def _stored_values(row: asyncpg.Record) -> dict[str, Any]:
    values = {key: row[key] for key in _PROFILE_FIELDS}
    values["subjects"] = list(row["subjects"])
    return values


def summarise_teachers(
    staff: Iterable[Mapping[str, Any]],
    *,
    org_id: str,
    schools: int,
    as_of: date,
    subject_names: Mapping[str, str],
) -> TeacherSummary:
    """Fold the staff employed on `as_of` into counts by position, and teachers by subject,
    age band and sex. Only position `teacher` counts as a teacher (managers teach a few periods
    but staffing norms count them apart, check)."""
    bands = [name for name, _, _ in AGE_BANDS]
    by_position: dict[str, int] = {}
    by_age_band = {band: SexCounts() for band in bands}
    qualified: dict[str, int] = {}
    main: dict[str, dict[str, SexCounts]] = {}
    teachers = without_subjects = 0
    for person in staff:
        by_position[person["position"]] = by_position.get(person["position"], 0) + 1
        if person["position"] != "teacher":
            continue
        teachers += 1
        band = age_band(age_on(person["birth_date"], as_of))
        sex = person["sex"]
        _add(by_age_band[band], sex)
        codes = unique_codes(person["subjects"])
        if not codes:
            without_subjects += 1
            continue
        for code in codes:
            qualified[code] = qualified.get(code, 0) + 1
        counts = main.setdefault(codes[0], {b: SexCounts() for b in bands})
        _add(counts[band], sex)
    subjects = [
        SubjectTeachers(
            subject_code=code,
            name_vi=subject_names.get(code, code),
            main=sum(c.male + c.female for c in main.get(code, {}).values()),
            qualified=count,
            main_by_age_band=main.get(code) or {b: SexCounts() for b in bands},
        )
        for code, count in sorted(qualified.items())
    ]
    return TeacherSummary(
        org_id=org_id,
        as_of=as_of,
        schools=schools,
        teachers=teachers,
        by_position=dict(sorted(by_position.items())),
        without_subjects=without_subjects,
        age_bands=bands,
        by_age_band=by_age_band,
        subjects=subjects,
    )


def _add(counts: SexCounts, sex: str) -> None:
    if sex == "male":
        counts.male += 1
    else:
        counts.female += 1


def _describe(assignment: asyncpg.Record) -> str:
    what = assignment["subject_code"] or "homeroom"
    return (
        f"{what} in class {assignment['class_id']} ({assignment['school_year']}, "
        f"assignment {assignment['assignment_id']})"
    )


# --- use cases: profiles -----------------------------------------------------------------------


def _staff_updated(row: asyncpg.Record) -> StaffUpdated:
    return StaffUpdated(
        staff_id=row["staff_id"],
        school_id=row["school_id"],
        position=row["position"],
        subjects=list(row["subjects"]),
        birth_date=row["birth_date"],
        sex=row["sex"],
        employed_from=row["employed_from"],
        employed_until=row["employed_until"],
        qualification=row["qualification"],
        it_skill_level=row["it_skill_level"],
        revision=row["revision"],
    )


def _saved(row: asyncpg.Record, *, changed: bool) -> dict[str, Any]:
    public = StaffPublic.model_validate({**dict(row), "subjects": list(row["subjects"])})
    return StaffSaved(**public.model_dump(), changed=changed).model_dump(mode="json")


async def save_staff(
    conn: Connection, principal: Principal, profile: StaffProfile, *, today: date
) -> tuple[int, dict[str, Any]]:
    """Create or replace a staff profile; (201, profile) when created, (200, profile) otherwise.

    A change publishes records.staff.updated with the next revision; the same profile again
    changes and publishes nothing. Moving someone to another school needs scope over both
    schools (the Department or the commune, not one of the schools), and is refused while they
    hold assignments at the old school, as is dropping a subject they are assigned to teach.
    """
    require_role(principal, WRITERS)
    await ensure_school_in_scope(conn, principal, profile.school_id, field="body.school_id")
    names = await store.subject_names(conn)
    errors = profile_errors(profile, known_subjects=names, today=today)
    if errors:
        raise Problem(
            422,
            "Invalid staff profile",
            "; ".join(e["message"] for e in errors),
            errors=errors,
        )
    values = _profile_values(profile)
    await store.lock(conn, f"staff|{profile.staff_id}")
    current = await store.get_staff(conn, profile.staff_id)
    if current is None:
        row = await store.insert_staff(conn, staff_id=profile.staff_id, **values)
        await record_access(
            conn, principal, action="create", entity_kind="staff", entity_ids=[row["staff_id"]]
        )
        await add_staff_event(conn, row)
        return 201, _saved(row, changed=True)
    if current["school_id"] != profile.school_id:
        await ensure_can_read_school(conn, principal, current["school_id"], field="body.staff_id")
    if _stored_values(current) == values:
        return 200, _saved(current, changed=False)
    _ensure_assignments_allow(
        current, values, await store.active_assignments_of(conn, profile.staff_id)
    )
    row = await store.update_staff(conn, staff_id=profile.staff_id, **values)
    await record_access(
        conn,
        principal,
        action="update",
        entity_kind="staff",
        entity_ids=[row["staff_id"]],
        detail={"fields": sorted(k for k, v in values.items() if _stored_values(current)[k] != v)},
    )
    await add_staff_event(conn, row)
    return 200, _saved(row, changed=True)


async def add_staff_event(conn: Connection, row: asyncpg.Record) -> None:
    await add_event(conn, _staff_updated(row), source=SOURCE)


def _ensure_assignments_allow(
    current: asyncpg.Record, values: Mapping[str, Any], active: list[asyncpg.Record]
) -> None:
    """A profile change must not leave an active assignment the teacher could not hold."""
    staff_id = current["staff_id"]
    if not active:
        return
    if values["school_id"] != current["school_id"]:
        held = "; ".join(_describe(a) for a in active)
        raise Problem(
            409,
            "Active assignments",
            f"staff member {staff_id} still teaches at {current['school_id']}: {held}; "
            "end these assignments before moving them to another school",
        )
    if values["position"] == "staff":
        held = "; ".join(_describe(a) for a in active)
        raise Problem(
            409,
            "Active assignments",
            f"staff member {staff_id} cannot become non-teaching staff while assigned: {held}",
        )
    dropped = [
        a for a in active if a["subject_code"] and a["subject_code"] not in values["subjects"]
    ]
    if dropped:
        held = "; ".join(_describe(a) for a in dropped)
        raise Problem(
            409,
            "Active assignments",
            f"staff member {staff_id} is assigned to teach subjects the profile drops: {held}; "
            "end these assignments first",
        )


async def read_staff(conn: Connection, principal: Principal, staff_id: str) -> StaffPublic:
    """One profile (audited); out of scope looks like not found."""
    require_role(principal, READERS)
    row = await store.get_staff(conn, staff_id.strip())
    if row is None:
        raise Problem(404, "Not Found", f"no staff member {staff_id}")
    try:
        await ensure_can_read_school(conn, principal, row["school_id"], field="path.staff_id")
    except (AuthorisationError, Problem):
        raise Problem(404, "Not Found", f"no staff member {staff_id}") from None
    await record_access(
        conn, principal, action="read", entity_kind="staff", entity_ids=[row["staff_id"]]
    )
    return StaffPublic.model_validate({**dict(row), "subjects": list(row["subjects"])})


async def list_staff(
    conn: Connection, principal: Principal, *, school_id: str, after: str | None, limit: int
) -> list[StaffPublic]:
    """The staff of one school, by staff ID (audited: every profile returned is logged)."""
    require_role(principal, READERS)
    await ensure_can_read_school(conn, principal, school_id, field="query.school_id")
    rows = await store.list_staff(conn, school_id=school_id, after=after, limit=limit)
    await record_access(
        conn,
        principal,
        action="read",
        entity_kind="staff",
        entity_ids=[r["staff_id"] for r in rows],
        detail={"listing": school_id},
    )
    return [StaffPublic.model_validate({**dict(r), "subjects": list(r["subjects"])}) for r in rows]


async def list_subjects(conn: Connection, principal: Principal) -> list[SubjectPublic]:
    require_role(principal, ASSIGNMENT_READERS)
    names = await store.subject_names(conn)
    return [SubjectPublic(subject_code=c, name_vi=n) for c, n in sorted(names.items())]


# --- use cases: assignments --------------------------------------------------------------------


def _assigned_event(row: asyncpg.Record) -> StaffAssigned:
    return StaffAssigned(
        assignment_id=row["assignment_id"],
        staff_id=row["staff_id"],
        school_id=row["school_id"],
        school_year=row["school_year"],
        class_id=row["class_id"],
        subject_code=row["subject_code"],
        role=row["role"],
        periods_per_week=row["periods_per_week"],
        active=row["active"],
    )


def _assignment(row: asyncpg.Record) -> dict[str, Any]:
    return AssignmentPublic.model_validate(dict(row)).model_dump(mode="json")


async def assign(
    conn: Connection, principal: Principal, command: AssignmentCreate, *, today: date
) -> dict[str, Any]:
    """Assign a teacher of the school to teach a subject in a class for a school year, or to be
    its homeroom teacher; publishes records.staff.assigned.

    422 names the rule: unknown staff member or subject, a teacher of another school, someone
    not teaching, not employed then, or not able to teach the subject. 409 names the teacher
    already holding the class-subject (or the homeroom) that year.
    """
    require_role(principal, WRITERS)
    await ensure_school_in_scope(conn, principal, command.school_id, field="body.school_id")
    start, end = (int(part) for part in command.school_year.split("-"))
    if end != start + 1:
        raise invalid(
            "body.school_year",
            f"school year {command.school_year} must be two consecutive years, e.g. "
            f"{start}-{start + 1}",
        )
    if command.role == "subject_teacher" and command.subject_code is None:
        raise invalid("body.subject_code", "a subject teacher's assignment needs a subject_code")
    if command.role == "homeroom" and command.subject_code is not None:
        raise invalid(
            "body.subject_code",
            f"a homeroom assignment has no subject (got {command.subject_code!r})",
        )
    if command.subject_code is not None and command.subject_code not in (
        await store.subject_names(conn)
    ):
        raise invalid(
            "body.subject_code",
            f"unknown subject code {command.subject_code!r} (see GET /staff/subjects)",
        )
    assigned_on = command.assigned_on or today
    staff = await store.get_staff(conn, command.staff_id)
    who = f"staff member {command.staff_id}"
    if staff is None:
        raise invalid("body.staff_id", f"unknown {who}: record their profile (POST /staff) first")
    if staff["school_id"] != command.school_id:
        raise invalid(
            "body.staff_id", f"{who} works at school {staff['school_id']}, not {command.school_id}"
        )
    if staff["position"] not in TEACHING_POSITIONS:
        raise invalid("body.staff_id", f"{who} is not a teacher (position {staff['position']})")
    if staff["employed_until"] is not None and staff["employed_until"] < assigned_on:
        raise invalid(
            "body.staff_id",
            f"{who} was employed until {staff['employed_until']}, before {assigned_on}",
        )
    if command.subject_code is not None and command.subject_code not in staff["subjects"]:
        can_teach = ", ".join(staff["subjects"]) or "none recorded"
        raise invalid(
            "body.subject_code",
            f"{who} cannot teach {command.subject_code} (their subjects: {can_teach})",
        )
    await store.lock(conn, f"class|{command.school_id}|{command.school_year}|{command.class_id}")
    holder = await store.active_holder(
        conn,
        school_id=command.school_id,
        school_year=command.school_year,
        class_id=command.class_id,
        role=command.role,
        subject_code=command.subject_code,
    )
    if holder is not None:
        what = f"{command.subject_code} teacher" if command.subject_code else "homeroom teacher"
        raise Problem(
            409,
            "Already assigned",
            f"class {command.class_id} already has a {what} for {command.school_year}: "
            f"{holder['staff_id']} (assignment {holder['assignment_id']}); end that assignment "
            "first",
        )
    row = await store.insert_assignment(
        conn,
        assignment_id=uuid.uuid4(),
        staff_id=command.staff_id,
        school_id=command.school_id,
        school_year=command.school_year,
        class_id=command.class_id,
        subject_code=command.subject_code,
        role=command.role,
        periods_per_week=command.periods_per_week,
        assigned_on=assigned_on,
    )
    await add_event(conn, _assigned_event(row), source=SOURCE)
    return _assignment(row)


async def end_assignment(
    conn: Connection,
    principal: Principal,
    assignment_id: uuid.UUID,
    command: AssignmentEnd,
    *,
    today: date,
) -> dict[str, Any]:
    """End an assignment; publishes records.staff.assigned with active false. Ending one that
    has ended already returns it unchanged and publishes nothing."""
    require_role(principal, WRITERS)
    row = await store.get_assignment(conn, assignment_id)
    if row is None or not await _in_scope(conn, principal, row["school_id"]):
        raise Problem(404, "Not Found", f"no assignment {assignment_id}")
    if not row["active"]:
        return _assignment(row)
    ended_on = command.ended_on or today
    if ended_on < row["assigned_on"]:
        raise invalid(
            "body.ended_on",
            f"assignment {assignment_id} cannot end on {ended_on}, before it began on "
            f"{row['assigned_on']}",
        )
    ended = await store.end_assignment(conn, assignment_id=assignment_id, ended_on=ended_on)
    await add_event(conn, _assigned_event(ended), source=SOURCE)
    return _assignment(ended)


async def _in_scope(conn: Connection, principal: Principal, school_id: str) -> bool:
    try:
        await ensure_can_read_school(conn, principal, school_id, field="path")
    except (AuthorisationError, Problem):
        return False
    return True


async def list_assignments(
    conn: Connection,
    principal: Principal,
    *,
    school_id: str,
    school_year: str | None,
    class_id: str | None,
    staff_id: str | None,
    active: bool | None,
    after: str | None,
    limit: int,
) -> list[AssignmentPublic]:
    require_role(principal, ASSIGNMENT_READERS)
    await ensure_can_read_school(conn, principal, school_id, field="query.school_id")
    rows = await store.list_assignments(
        conn,
        school_id=school_id,
        school_year=school_year,
        class_id=class_id,
        staff_id=staff_id,
        active=active,
        after=after,
        limit=limit,
    )
    return [AssignmentPublic.model_validate(dict(r)) for r in rows]


# --- the summary the forecast uses -------------------------------------------------------------


async def teacher_summary(
    conn: Connection, principal: Principal, *, org_id: str, as_of: date
) -> TeacherSummary:
    """Teachers employed on `as_of` in a school, a commune or the province, by subject, age band
    and sex. Counts only, no personal data, so not audited."""
    require_role(principal, READERS)
    if await get_unit(conn, org_id) is None:
        raise invalid("query.org_id", f"unknown organisation {org_id}")
    ensure_in_scope(principal, org_id, await ancestors(conn, org_id) or [])
    units = await store.units_under(conn, org_id)
    schools = [u for u in units if u["kind"] in ("school", "daycare_group")]
    staff = await store.staff_employed_in(
        conn, school_ids=[u["org_id"] for u in schools], as_of=as_of
    )
    return summarise_teachers(
        [dict(r) for r in staff],
        org_id=org_id,
        schools=sum(1 for u in schools if u["valid_to"] is None and u["merged_into"] is None),
        as_of=as_of,
        subject_names=await store.subject_names(conn),
    )
