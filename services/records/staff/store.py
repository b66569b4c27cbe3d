"""SQL of staff profiles and teaching assignments, one function per query."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import asyncpg

from shared.db.pool import Connection

STAFF_COLUMNS = (
    "staff_id, school_id, position, subjects, birth_date, sex, employed_from, employed_until, "
    "qualification, it_skill_level, revision, updated_at"
)
ASSIGNMENT_COLUMNS = (
    "assignment_id, staff_id, school_id, school_year, class_id, subject_code, role, "
    "periods_per_week, active, assigned_on, ended_on"
)


async def lock(conn: Connection, name: str) -> None:
    """Serialise writers of one thing (a staff member, a class) until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", name)


async def subject_names(conn: Connection) -> dict[str, str]:
    rows = await conn.fetch("SELECT subject_code, name_vi FROM program_subjects")
    return {r["subject_code"]: r["name_vi"] for r in rows}


async def get_staff(conn: Connection, staff_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {STAFF_COLUMNS} FROM staff WHERE staff_id = $1", staff_id)


async def insert_staff(
    conn: Connection,
    *,
    staff_id: str,
    school_id: str,
    position: str,
    subjects: Sequence[str],
    birth_date: date,
    sex: str,
    employed_from: date,
    employed_until: date | None,
    qualification: str | None,
    it_skill_level: str | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO staff (staff_id, school_id, position, subjects, birth_date, sex, "
        "employed_from, employed_until, qualification, it_skill_level, revision) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1) "
        f"RETURNING {STAFF_COLUMNS}",
        staff_id,
        school_id,
        position,
        list(subjects),
        birth_date,
        sex,
        employed_from,
        employed_until,
        qualification,
        it_skill_level,
    )
    assert row is not None
    return row


async def update_staff(
    conn: Connection,
    *,
    staff_id: str,
    school_id: str,
    position: str,
    subjects: Sequence[str],
    birth_date: date,
    sex: str,
    employed_from: date,
    employed_until: date | None,
    qualification: str | None,
    it_skill_level: str | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE staff SET school_id = $2, position = $3, subjects = $4, birth_date = $5, "
        "sex = $6, employed_from = $7, employed_until = $8, qualification = $9, "
        "it_skill_level = $10, revision = revision + 1, updated_at = now() "
        f"WHERE staff_id = $1 RETURNING {STAFF_COLUMNS}",
        staff_id,
        school_id,
        position,
        list(subjects),
        birth_date,
        sex,
        employed_from,
        employed_until,
        qualification,
        it_skill_level,
    )
    assert row is not None
    return row


async def list_staff(
    conn: Connection, *, school_id: str, after: str | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {STAFF_COLUMNS} FROM staff WHERE school_id = $1 "
        "AND ($2::text IS NULL OR staff_id > $2) ORDER BY staff_id LIMIT $3",
        school_id,
        after,
        limit,
    )


async def active_assignments_of(conn: Connection, staff_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {ASSIGNMENT_COLUMNS} FROM staff_assignments WHERE staff_id = $1 AND active "
        "ORDER BY school_year, class_id, subject_code NULLS FIRST",
        staff_id,
    )


async def active_holder(
    conn: Connection,
    *,
    school_id: str,
    school_year: str,
    class_id: str,
    role: str,
    subject_code: str | None,
) -> asyncpg.Record | None:
    """The active assignment holding this class-subject (or the class's homeroom), if any."""
    return await conn.fetchrow(
        f"SELECT {ASSIGNMENT_COLUMNS} FROM staff_assignments WHERE active AND school_id = $1 "
        "AND school_year = $2 AND class_id = $3 AND role = $4 "
        "AND subject_code IS NOT DISTINCT FROM $5",
        school_id,
        school_year,
        class_id,
        role,
        subject_code,
    )


async def insert_assignment(
    conn: Connection,
    *,
    assignment_id: uuid.UUID,
    staff_id: str,
    school_id: str,
    school_year: str,
    class_id: str,
    subject_code: str | None,
    role: str,
    periods_per_week: float | None,
    assigned_on: date,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO staff_assignments (assignment_id, staff_id, school_id, school_year, "
        "class_id, subject_code, role, periods_per_week, assigned_on) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        f"RETURNING {ASSIGNMENT_COLUMNS}",
        assignment_id,
        staff_id,
        school_id,
        school_year,
        class_id,
        subject_code,
        role,
        periods_per_week,
        assigned_on,
    )
    assert row is not None
    return row


async def get_assignment(conn: Connection, assignment_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {ASSIGNMENT_COLUMNS} FROM staff_assignments WHERE assignment_id = $1 FOR UPDATE",
        assignment_id,
    )


async def end_assignment(
    conn: Connection, *, assignment_id: uuid.UUID, ended_on: date
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE staff_assignments SET active = false, ended_on = $2 WHERE assignment_id = $1 "
        f"RETURNING {ASSIGNMENT_COLUMNS}",
        assignment_id,
        ended_on,
    )
    assert row is not None
    return row


async def list_assignments(
    conn: Connection,
    *,
    school_id: str,
    school_year: str | None,
    class_id: str | None,
    staff_id: str | None,
    active: bool | None,
    after: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {ASSIGNMENT_COLUMNS} FROM staff_assignments WHERE school_id = $1 "
        "AND ($2::text IS NULL OR school_year = $2) AND ($3::text IS NULL OR class_id = $3) "
        "AND ($4::text IS NULL OR staff_id = $4) AND ($5::boolean IS NULL OR active = $5) "
        "AND ($6::uuid IS NULL OR assignment_id > $6::uuid) ORDER BY assignment_id LIMIT $7",
        school_id,
        school_year,
        class_id,
        staff_id,
        active,
        after,
        limit,
    )


async def units_under(conn: Connection, org_id: str) -> list[asyncpg.Record]:
    """The unit and every unit below it in this service's copy of the tree."""
    return await conn.fetch(
        """WITH RECURSIVE below(org_id, kind, valid_to, merged_into, depth) AS (
               SELECT org_id, kind, valid_to, merged_into, 0 FROM org_units WHERE org_id = $1
               UNION ALL
               SELECT o.org_id, o.kind, o.valid_to, o.merged_into, b.depth + 1
               FROM org_units o JOIN below b ON o.parent_id = b.org_id
               WHERE b.depth < 16)
           SELECT org_id, kind, valid_to, merged_into FROM below""",
        org_id,
    )


async def staff_employed_in(
    conn: Connection, *, school_ids: Sequence[str], as_of: date
) -> list[asyncpg.Record]:
    """Who works in these schools on `as_of`: what the teacher summary needs, no more."""
    return await conn.fetch(
        "SELECT position, subjects, birth_date, sex FROM staff "
        "WHERE school_id = ANY($1::text[]) AND employed_from <= $2 "
        "AND (employed_until IS NULL OR employed_until >= $2)",
        list(school_ids),
        as_of,
    )
