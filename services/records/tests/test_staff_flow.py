"""Staff profiles, teaching assignments and the teacher summary, end to end inside records on a
real PostgreSQL: every rule with the error that names it, the events in the outbox, unchanged
profiles publishing nothing, scope, and the summary with exact numbers."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from services.records.staff import handlers
from services.records.staff.handlers import (
    AssignmentCreate,
    AssignmentEnd,
    StaffProfile,
    age_band,
    age_on,
)
from shared.auth import AuthorisationError, Principal
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.http.idempotency import run_idempotent
from shared.http.problems import Problem

pytestmark = pytest.mark.integration

TODAY = date(2026, 3, 2)
YEAR = "2025-2026"
DEPARTMENT = Principal("so-gddt", "department", "HP")
COMMUNE_1 = Principal("ubnd-c1", "commune", "C-1")
COMMUNE_2 = Principal("ubnd-c2", "commune", "C-2")
SCHOOL_A1 = Principal("hieu-truong-a1", "school", "S-A1")
SCHOOL_A2 = Principal("hieu-truong-a2", "school", "S-A2")
TEACHER_A1 = Principal("gv-a1", "teacher", "S-A1")
T = TypeVar("T")


@pytest.fixture
async def pool(fresh_db: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(fresh_db, min_size=1, max_size=2)
    async with pool.acquire() as conn:
        await migrate(conn, "records", Path("services/records/migrations"))
        # HP -> C-1 -> S-A1, S-A2, S-OLD (closed); HP -> C-2 -> S-B1
        for org_id, kind, parent, valid_to in (
            ("HP", "province", None, None),
            ("C-1", "commune", "HP", None),
            ("C-2", "commune", "HP", None),
            ("S-A1", "school", "C-1", None),
            ("S-A2", "school", "C-1", None),
            ("S-OLD", "school", "C-1", date(2025, 6, 30)),
            ("S-B1", "school", "C-2", None),
        ):
            await conn.execute(
                "INSERT INTO org_units (org_id, revision, kind, name, parent_id, school_type, "
                "valid_from, valid_to) VALUES ($1, 1, $2, $3, $4, $5, '2025-07-01', $6)",
                org_id,
                kind,
                f"Đơn vị {org_id}",
                parent,
                "lower_secondary" if kind == "school" else None,
                valid_to,
            )
    yield pool
    await pool.close()


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    async with pool.acquire() as connection:
        yield connection


async def tx(conn: Connection, work: Callable[[Connection], Awaitable[T]]) -> T:
    async with conn.transaction():
        return await work(conn)


def profile(staff_id: str, school_id: str = "S-A1", **overrides: Any) -> StaffProfile:
    body: dict[str, Any] = {
        "staff_id": staff_id,
        "school_id": school_id,
        "position": "teacher",
        "subjects": ["toan", "tin_hoc"],
        "birth_date": "1988-05-17",
        "sex": "female",
        "employed_from": "2010-09-01",
        "qualification": "Cử nhân Sư phạm Toán",
        "it_skill_level": "intermediate",
    }
    body.update(overrides)
    return StaffProfile.model_validate(body)


async def save(
    conn: Connection, principal: Principal, body: StaffProfile
) -> tuple[int, dict[str, Any]]:
    return await tx(conn, lambda c: handlers.save_staff(c, principal, body, today=TODAY))


def assignment(staff_id: str, class_id: str = "6A", **overrides: Any) -> AssignmentCreate:
    body: dict[str, Any] = {
        "staff_id": staff_id,
        "school_id": "S-A1",
        "school_year": YEAR,
        "class_id": class_id,
        "subject_code": "toan",
        "periods_per_week": 4,
        "assigned_on": "2025-08-20",
    }
    body.update(overrides)
    return AssignmentCreate.model_validate(body)


async def assign(
    conn: Connection, body: AssignmentCreate, principal: Principal = SCHOOL_A1
) -> dict[str, Any]:
    return await tx(conn, lambda c: handlers.assign(c, principal, body, today=TODAY))


async def end(
    conn: Connection,
    assignment_id: Any,
    ended_on: str | None = "2026-01-15",
    principal: Principal = SCHOOL_A1,
) -> dict[str, Any]:
    command = AssignmentEnd.model_validate({"ended_on": ended_on})
    return await tx(
        conn,
        lambda c: handlers.end_assignment(
            c, principal, uuid.UUID(str(assignment_id)), command, today=TODAY
        ),
    )


async def events(conn: Connection, event_type: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT message_key, payload FROM outbox WHERE event_type = $1 ORDER BY position",
        event_type,
    )
    out = []
    for row in rows:
        envelope = json.loads(bytes(row["payload"]))
        assert envelope["subject"] == row["message_key"]
        out.append(envelope["data"])
    return out


async def audit(conn: Connection, staff_id: str) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT action, actor_org FROM audit_log WHERE entity_kind = 'staff' AND entity_id = $1 "
        "ORDER BY id",
        staff_id,
    )
    return [(r["action"], r["actor_org"]) for r in rows]


async def expect_problem(
    conn: Connection, work: Callable[[Connection], Awaitable[Any]], status: int
) -> Problem:
    with pytest.raises(Problem) as caught:
        await tx(conn, work)
    assert caught.value.status == status, caught.value.detail
    return caught.value


def fields(problem: Problem) -> list[str]:
    return [e["field"] for e in problem.errors or []]


# --- pure rules ----------------------------------------------------------------------------------


def test_ages_and_bands() -> None:
    assert age_on(date(1970, 1, 2), date(2026, 1, 1)) == 55
    assert age_on(date(1970, 1, 1), date(2026, 1, 1)) == 56
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18
    assert [age_band(a) for a in (22, 29, 30, 49, 50, 54, 55, 59, 60, 66)] == [
        "under_30",
        "under_30",
        "30_39",
        "40_49",
        "50_54",
        "50_54",
        "55_59",
        "55_59",
        "60_plus",
        "60_plus",
    ]


# --- profiles ------------------------------------------------------------------------------------


async def test_subject_codes_are_seeded(conn: Connection) -> None:
    subjects = {s.subject_code: s.name_vi for s in await handlers.list_subjects(conn, TEACHER_A1)}
    expected = [
        *("toan", "ngu_van", "ngoai_ngu", "lich_su_dia_ly", "khoa_hoc_tu_nhien", "gdcd"),
        *("cong_nghe", "tin_hoc", "gdtc", "nghe_thuat", "hdtn", "gddp", "tieng_viet"),
        *("tu_nhien_xa_hoi", "khoa_hoc", "lich_su", "dia_ly", "vat_ly", "hoa_hoc", "sinh_hoc"),
        *("am_nhac", "my_thuat", "gdktpl", "qpan"),
    ]
    assert set(expected) <= set(subjects)
    assert subjects["toan"] == "Toán"
    assert subjects["ngu_van"] == "Ngữ văn"
    assert subjects["khoa_hoc_tu_nhien"] == "Khoa học tự nhiên"


async def test_create_update_and_unchanged_profile(conn: Connection) -> None:
    status, created = await save(conn, SCHOOL_A1, profile("GV-31-2025-0000001-5"))
    assert status == 201
    assert created["revision"] == 1 and created["changed"] is True
    assert created["subjects"] == ["toan", "tin_hoc"]
    published = await events(conn, "records.staff.updated")
    assert published == [
        {
            "staff_id": "GV-31-2025-0000001-5",
            "school_id": "S-A1",
            "position": "teacher",
            "subjects": ["toan", "tin_hoc"],
            "birth_date": "1988-05-17",
            "sex": "female",
            "employed_from": "2010-09-01",
            "employed_until": None,
            "qualification": "Cử nhân Sư phạm Toán",
            "it_skill_level": "intermediate",
            "revision": 1,
        }
    ]

    # The same profile, written differently (case, spaces, a repeated code), is unchanged.
    status, same = await save(
        conn,
        SCHOOL_A1,
        profile(
            " GV-31-2025-0000001-5 ",
            subjects=["TOAN", " tin_hoc", "toan"],
            qualification="Cử nhân  Sư phạm Toán ",
        ),
    )
    assert status == 200
    assert same["changed"] is False and same["revision"] == 1
    assert len(await events(conn, "records.staff.updated")) == 1

    # Order matters: the first subject is the main one.
    status, changed = await save(
        conn, SCHOOL_A1, profile("GV-31-2025-0000001-5", subjects=["tin_hoc", "toan"])
    )
    assert status == 200 and changed["changed"] is True and changed["revision"] == 2
    status, retired = await save(
        conn,
        SCHOOL_A1,
        profile("GV-31-2025-0000001-5", subjects=["tin_hoc", "toan"], employed_until="2026-05-31"),
    )
    assert retired["revision"] == 3
    published = await events(conn, "records.staff.updated")
    assert [(e["revision"], e["subjects"], e["employed_until"]) for e in published] == [
        (1, ["toan", "tin_hoc"], None),
        (2, ["tin_hoc", "toan"], None),
        (3, ["tin_hoc", "toan"], "2026-05-31"),
    ]
    assert await audit(conn, "GV-31-2025-0000001-5") == [
        ("create", "S-A1"),
        ("update", "S-A1"),
        ("update", "S-A1"),
    ]


async def test_idempotency_key_replays_without_a_second_event(pool: asyncpg.Pool) -> None:
    body = profile("GV-RETRY")

    async def action(conn: Connection) -> tuple[int, Any]:
        return await handlers.save_staff(conn, SCHOOL_A1, body, today=TODAY)

    answers = [
        await run_idempotent(
            pool,
            principal=SCHOOL_A1.key,
            key="staff-1",
            method="POST",
            path="/staff",
            body=body.model_dump(mode="json"),
            action=action,
        )
        for _ in range(2)
    ]
    assert answers[0][:2] == answers[1][:2]
    assert (answers[0][0], answers[0][2], answers[1][2]) == (201, False, True)
    async with pool.acquire() as conn:
        assert len(await events(conn, "records.staff.updated")) == 1


async def test_profile_rules_are_named(conn: Connection) -> None:
    bad = profile(
        "GV-BAD",
        subjects=["toan", "tieng_klingon", "vat_ly", ""],
        birth_date="2000-01-10",
        employed_from="2017-09-01",
        employed_until="2016-06-30",
    )
    problem = await expect_problem(
        conn, lambda c: handlers.save_staff(c, SCHOOL_A1, bad, today=TODAY), 422
    )
    assert fields(problem) == [
        "body.subjects.1",
        "body.subjects.3",
        "body.employed_from",
        "body.employed_until",
    ]
    assert "unknown subject code 'tieng_klingon'" in (problem.errors or [])[0]["message"]
    assert "before turning 18 (born 2000-01-10)" in (problem.detail or "")
    assert "GV-BAD" in (problem.detail or "")

    unborn = profile("GV-BAD", birth_date="2026-04-01", employed_from="2026-04-02")
    problem = await expect_problem(
        conn, lambda c: handlers.save_staff(c, SCHOOL_A1, unborn, today=TODAY), 422
    )
    assert fields(problem) == ["body.birth_date"]

    for school, message in (
        ("S-NOWHERE", "unknown school S-NOWHERE"),
        ("C-1", "unknown school C-1"),
        ("S-OLD", "school S-OLD is closed or merged"),
    ):
        work = functools.partial(
            handlers.save_staff,
            principal=DEPARTMENT,
            profile=profile("GV-BAD", school),
            today=TODAY,
        )
        problem = await expect_problem(conn, work, 422)
        assert fields(problem) == ["body.school_id"]
        assert message in (problem.detail or "")

    with pytest.raises(AuthorisationError):
        await save(conn, TEACHER_A1, profile("GV-BAD"))
    assert await conn.fetchval("SELECT count(*) FROM staff") == 0
    assert await events(conn, "records.staff.updated") == []


async def test_a_school_cannot_touch_another_schools_staff(conn: Connection) -> None:
    await save(conn, SCHOOL_A1, profile("GV-A1"))
    # A2 may neither edit A1's teacher in place nor claim them for itself.
    with pytest.raises(AuthorisationError, match="S-A1 is outside the scope of school S-A2"):
        await save(conn, SCHOOL_A2, profile("GV-A1"))
    with pytest.raises(AuthorisationError, match="S-A1 is outside the scope of school S-A2"):
        await save(conn, SCHOOL_A2, profile("GV-A1", "S-A2"))
    # A1 may not push its teacher into A2 either: moves are for the commune or Department.
    with pytest.raises(AuthorisationError, match="S-A2 is outside the scope of school S-A1"):
        await save(conn, SCHOOL_A1, profile("GV-A1", "S-A2"))
    with pytest.raises(AuthorisationError):
        await tx(
            conn,
            lambda c: handlers.list_staff(c, SCHOOL_A2, school_id="S-A1", after=None, limit=10),
        )
    problem = await expect_problem(conn, lambda c: handlers.read_staff(c, SCHOOL_A2, "GV-A1"), 404)
    assert problem.detail == "no staff member GV-A1"
    with pytest.raises(AuthorisationError):
        await save(conn, COMMUNE_2, profile("GV-A1"))
    assert [e["revision"] for e in await events(conn, "records.staff.updated")] == [1]

    # The commune moves the teacher (no assignments to end): a new revision at the new school.
    status, moved = await save(conn, COMMUNE_1, profile("GV-A1", "S-A2"))
    assert (status, moved["school_id"], moved["revision"]) == (200, "S-A2", 2)
    assert [
        (e["school_id"], e["revision"]) for e in await events(conn, "records.staff.updated")
    ] == [
        ("S-A1", 1),
        ("S-A2", 2),
    ]
    problem = await expect_problem(conn, lambda c: handlers.read_staff(c, SCHOOL_A1, "GV-A1"), 404)
    assert (await tx(conn, lambda c: handlers.read_staff(c, SCHOOL_A2, "GV-A1"))).revision == 2


async def test_listing_and_reading_staff_is_audited(conn: Connection) -> None:
    for n in range(3):
        await save(conn, SCHOOL_A1, profile(f"GV-L{n}"))
    await save(conn, SCHOOL_A2, profile("GV-OTHER", "S-A2"))
    first = await tx(
        conn, lambda c: handlers.list_staff(c, COMMUNE_1, school_id="S-A1", after=None, limit=2)
    )
    rest = await tx(
        conn,
        lambda c: handlers.list_staff(c, COMMUNE_1, school_id="S-A1", after="GV-L1", limit=2),
    )
    assert [s.staff_id for s in first] == ["GV-L0", "GV-L1"]
    assert [s.staff_id for s in rest] == ["GV-L2"]
    one = await tx(conn, lambda c: handlers.read_staff(c, SCHOOL_A1, "GV-L2"))
    assert one.birth_date == date(1988, 5, 17)
    assert await audit(conn, "GV-L0") == [("create", "S-A1"), ("read", "C-1")]
    assert await audit(conn, "GV-L2") == [("create", "S-A1"), ("read", "C-1"), ("read", "S-A1")]
    assert await audit(conn, "GV-OTHER") == [("create", "S-A2")]
    with pytest.raises(AuthorisationError):  # teachers do not read colleagues' profiles
        await tx(conn, lambda c: handlers.read_staff(c, TEACHER_A1, "GV-L0"))


# --- assignments ---------------------------------------------------------------------------------


async def test_assignment_rules_are_named(conn: Connection) -> None:
    await save(conn, SCHOOL_A1, profile("GV-TOAN", subjects=["toan"]))
    await save(conn, SCHOOL_A1, profile("NV-KT", position="staff", subjects=[]))
    await save(conn, SCHOOL_A1, profile("GV-LEFT", employed_until="2025-06-30"))
    await save(conn, SCHOOL_A2, profile("GV-A2", "S-A2"))

    async def refused(body: AssignmentCreate, field: str, message: str) -> None:
        problem = await expect_problem(
            conn, lambda c: handlers.assign(c, SCHOOL_A1, body, today=TODAY), 422
        )
        assert fields(problem) == [field]
        assert message in (problem.detail or ""), problem.detail

    await refused(
        assignment("GV-NOBODY"),
        "body.staff_id",
        "unknown staff member GV-NOBODY: record their profile (POST /staff) first",
    )
    await refused(
        assignment("GV-A2"), "body.staff_id", "staff member GV-A2 works at school S-A2, not S-A1"
    )
    await refused(
        assignment("NV-KT", role="homeroom", subject_code=None),
        "body.staff_id",
        "staff member NV-KT is not a teacher (position staff)",
    )
    await refused(
        assignment("GV-LEFT"),
        "body.staff_id",
        "staff member GV-LEFT was employed until 2025-06-30, before 2025-08-20",
    )
    await refused(
        assignment("GV-TOAN", subject_code="ngu_van"),
        "body.subject_code",
        "staff member GV-TOAN cannot teach ngu_van (their subjects: toan)",
    )
    await refused(
        assignment("GV-TOAN", subject_code="latin"), "body.subject_code", "unknown subject code"
    )
    await refused(
        assignment("GV-TOAN", subject_code=None), "body.subject_code", "needs a subject_code"
    )
    await refused(
        assignment("GV-TOAN", role="homeroom"), "body.subject_code", "a homeroom assignment has"
    )
    await refused(
        assignment("GV-TOAN", school_year="2025-2027"),
        "body.school_year",
        "must be two consecutive years",
    )
    await refused(assignment("GV-TOAN", school_id="S-OLD"), "body.school_id", "closed or merged")
    with pytest.raises(AuthorisationError, match="S-A1 is outside the scope of school S-A2"):
        await assign(conn, assignment("GV-TOAN"), SCHOOL_A2)
    with pytest.raises(AuthorisationError):
        await assign(conn, assignment("GV-TOAN"), TEACHER_A1)
    assert await conn.fetchval("SELECT count(*) FROM staff_assignments") == 0
    assert await events(conn, "records.staff.assigned") == []


async def test_one_teacher_per_class_subject_and_one_homeroom(conn: Connection) -> None:
    await save(conn, SCHOOL_A1, profile("GV-1", subjects=["toan", "tin_hoc"]))
    await save(conn, SCHOOL_A1, profile("GV-2", subjects=["toan"]))

    first = await assign(conn, assignment("GV-1"))
    assert (first["active"], first["subject_code"], first["periods_per_week"]) == (True, "toan", 4)
    problem = await expect_problem(
        conn, lambda c: handlers.assign(c, SCHOOL_A1, assignment("GV-2"), today=TODAY), 409
    )
    assert problem.detail == (
        f"class 6A already has a toan teacher for {YEAR}: GV-1 (assignment "
        f"{first['assignment_id']}); end that assignment first"
    )
    # Another subject, class or year is free.
    await assign(conn, assignment("GV-1", subject_code="tin_hoc", periods_per_week=1))
    await assign(conn, assignment("GV-2", class_id="6B"))
    await assign(conn, assignment("GV-2", school_year="2026-2027", assigned_on="2026-08-20"))

    homeroom = await assign(conn, assignment("GV-2", role="homeroom", subject_code=None))
    assert (homeroom["role"], homeroom["subject_code"]) == ("homeroom", None)
    problem = await expect_problem(
        conn,
        lambda c: handlers.assign(
            c,
            SCHOOL_A1,
            assignment("GV-1", role="homeroom", subject_code=None),
            today=TODAY,
        ),
        409,
    )
    assert "class 6A already has a homeroom teacher for 2025-2026: GV-2" in (problem.detail or "")

    # Ending frees the class-subject; ending again changes and publishes nothing.
    problem = await expect_problem(
        conn,
        lambda c: handlers.end_assignment(
            c,
            SCHOOL_A1,
            uuid.UUID(first["assignment_id"]),
            AssignmentEnd(ended_on=date(2025, 8, 1)),
            today=TODAY,
        ),
        422,
    )
    assert fields(problem) == ["body.ended_on"]
    ended = await end(conn, first["assignment_id"])
    assert (ended["active"], ended["ended_on"]) == (False, "2026-01-15")
    again = await end(conn, first["assignment_id"], "2026-02-01")
    assert again == ended
    replacement = await assign(conn, assignment("GV-2", assigned_on="2026-01-16"))

    published = await events(conn, "records.staff.assigned")
    assert [(e["staff_id"], e["class_id"], e["subject_code"], e["active"]) for e in published] == [
        ("GV-1", "6A", "toan", True),
        ("GV-1", "6A", "tin_hoc", True),
        ("GV-2", "6B", "toan", True),
        ("GV-2", "6A", "toan", True),  # 2026-2027
        ("GV-2", "6A", None, True),
        ("GV-1", "6A", "toan", False),
        ("GV-2", "6A", "toan", True),
    ]
    assert published[0] == {
        "assignment_id": first["assignment_id"],
        "staff_id": "GV-1",
        "school_id": "S-A1",
        "school_year": YEAR,
        "class_id": "6A",
        "subject_code": "toan",
        "role": "subject_teacher",
        "periods_per_week": 4.0,
        "active": True,
    }
    assert published[5]["assignment_id"] == first["assignment_id"]
    assert published[6]["assignment_id"] == replacement["assignment_id"]

    listed = await tx(
        conn,
        lambda c: handlers.list_assignments(
            c,
            TEACHER_A1,
            school_id="S-A1",
            school_year=YEAR,
            class_id="6A",
            staff_id=None,
            active=True,
            after=None,
            limit=100,
        ),
    )
    assert sorted((a.staff_id, a.subject_code or "") for a in listed) == [
        ("GV-1", "tin_hoc"),
        ("GV-2", ""),
        ("GV-2", "toan"),
    ]
    with pytest.raises(AuthorisationError):
        await tx(
            conn,
            lambda c: handlers.list_assignments(
                c,
                SCHOOL_A2,
                school_id="S-A1",
                school_year=None,
                class_id=None,
                staff_id=None,
                active=None,
                after=None,
                limit=100,
            ),
        )
    # Another school cannot end A1's assignment; it does not learn it exists either.
    problem = await expect_problem(
        conn,
        lambda c: handlers.end_assignment(
            c,
            SCHOOL_A2,
            uuid.UUID(replacement["assignment_id"]),
            AssignmentEnd(),
            today=TODAY,
        ),
        404,
    )
    assert problem.detail == f"no assignment {replacement['assignment_id']}"


async def test_profile_changes_that_would_orphan_assignments_are_refused(
    conn: Connection,
) -> None:
    await save(conn, SCHOOL_A1, profile("GV-1", subjects=["toan", "tin_hoc"]))
    held = await assign(conn, assignment("GV-1", class_id="7C", subject_code="tin_hoc"))
    described = f"tin_hoc in class 7C (2025-2026, assignment {held['assignment_id']})"

    problem = await expect_problem(
        conn,
        lambda c: handlers.save_staff(
            c, SCHOOL_A1, profile("GV-1", subjects=["toan"]), today=TODAY
        ),
        409,
    )
    assert described in (problem.detail or "") and "profile drops" in (problem.detail or "")
    problem = await expect_problem(
        conn,
        lambda c: handlers.save_staff(c, COMMUNE_1, profile("GV-1", "S-A2"), today=TODAY),
        409,
    )
    assert f"GV-1 still teaches at S-A1: {described}" in (problem.detail or "")
    problem = await expect_problem(
        conn,
        lambda c: handlers.save_staff(c, SCHOOL_A1, profile("GV-1", position="staff"), today=TODAY),
        409,
    )
    assert "cannot become non-teaching staff" in (problem.detail or "")
    assert len(await events(conn, "records.staff.updated")) == 1

    await end(conn, held["assignment_id"])
    status, moved = await save(conn, COMMUNE_1, profile("GV-1", "S-A2", subjects=["toan"]))
    assert (status, moved["school_id"], moved["subjects"], moved["revision"]) == (
        200,
        "S-A2",
        ["toan"],
        2,
    )


# --- the summary the forecast uses ---------------------------------------------------------------


async def test_teacher_summary_by_subject_age_band_and_sex(conn: Connection) -> None:
    as_of = date(2026, 1, 1)
    people = [
        # S-A1
        profile(
            "GV-T1",
            birth_date="1995-06-01",
            employed_from="2021-09-01",
            sex="female",
            subjects=["toan", "tin_hoc"],
        ),
        profile("GV-T2", birth_date="1970-01-02", sex="male", subjects=["ngu_van"]),
        profile(
            "GV-T3",
            birth_date="1998-01-01",
            employed_from="2021-09-01",
            sex="female",
            subjects=["toan"],
        ),
        profile("GV-T4", birth_date="1980-03-03", sex="female", subjects=[]),
        profile("GV-P1", position="principal", birth_date="1975-01-01", sex="male"),
        profile("NV-N1", position="staff", subjects=[], birth_date="1990-01-01"),
        profile("GV-T5", birth_date="1960-01-01", sex="male", employed_until="2025-06-30"),
        profile("GV-T6", birth_date="2002-01-01", employed_from="2026-02-01"),
        # S-A2
        profile("GV-T7", "S-A2", birth_date="1966-03-01", sex="male", subjects=["tin_hoc", "toan"]),
        # S-B1, another commune
        profile("GV-T8", "S-B1", birth_date="1985-01-01", sex="female", subjects=["toan"]),
    ]
    for person in people:
        await save(conn, DEPARTMENT, person)

    def zero() -> dict[str, dict[str, int]]:
        return {
            band: {"male": 0, "female": 0}
            for band in ("under_30", "30_39", "40_49", "50_54", "55_59", "60_plus")
        }

    def bands(**counts: tuple[int, int]) -> dict[str, dict[str, int]]:
        table = zero()
        for band, (male, female) in counts.items():
            table[band.removeprefix("b")] = {"male": male, "female": female}
        return table

    summary = await tx(
        conn, lambda c: handlers.teacher_summary(c, COMMUNE_1, org_id="C-1", as_of=as_of)
    )
    assert summary.model_dump(mode="json") == {
        "org_id": "C-1",
        "as_of": "2026-01-01",
        "schools": 2,  # S-OLD is closed
        "teachers": 5,  # T1, T2, T3, T4, T7: T5 had left, T6 not yet started
        "by_position": {"principal": 1, "staff": 1, "teacher": 5},
        "without_subjects": 1,
        "age_bands": ["under_30", "30_39", "40_49", "50_54", "55_59", "60_plus"],
        "by_age_band": bands(under_30=(0, 1), b30_39=(0, 1), b40_49=(0, 1), b55_59=(2, 0)),
        "subjects": [
            {
                "subject_code": "ngu_van",
                "name_vi": "Ngữ văn",
                "main": 1,
                "qualified": 1,
                "main_by_age_band": bands(b55_59=(1, 0)),
            },
            {
                "subject_code": "tin_hoc",
                "name_vi": "Tin học",
                "main": 1,
                "qualified": 2,
                "main_by_age_band": bands(b55_59=(1, 0)),
            },
            {
                "subject_code": "toan",
                "name_vi": "Toán",
                "main": 2,
                "qualified": 3,
                "main_by_age_band": bands(under_30=(0, 1), b30_39=(0, 1)),
            },
        ],
    }

    school = await tx(
        conn, lambda c: handlers.teacher_summary(c, SCHOOL_A1, org_id="S-A1", as_of=as_of)
    )
    assert (school.schools, school.teachers) == (1, 4)
    assert [(s.subject_code, s.main, s.qualified) for s in school.subjects] == [
        ("ngu_van", 1, 1),
        ("tin_hoc", 0, 1),
        ("toan", 2, 2),
    ]
    province = await tx(
        conn,
        lambda c: handlers.teacher_summary(c, DEPARTMENT, org_id="HP", as_of=date(2026, 3, 1)),
    )
    # T6 has started by March; T8 is in the other commune.
    assert (province.schools, province.teachers) == (3, 7)
    assert {s.subject_code: s.main for s in province.subjects} == {
        "ngu_van": 1,
        "tin_hoc": 1,
        "toan": 4,
    }
    assert province.by_age_band["under_30"].model_dump() == {"male": 0, "female": 2}

    with pytest.raises(AuthorisationError):
        await tx(conn, lambda c: handlers.teacher_summary(c, SCHOOL_A1, org_id="C-1", as_of=as_of))
    with pytest.raises(AuthorisationError):
        await tx(conn, lambda c: handlers.teacher_summary(c, COMMUNE_2, org_id="C-1", as_of=as_of))
    problem = await expect_problem(
        conn,
        lambda c: handlers.teacher_summary(c, DEPARTMENT, org_id="C-9", as_of=as_of),
        422,
    )
    assert fields(problem) == ["query.org_id"]
