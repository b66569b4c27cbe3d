"""SQL of the records service, one function per query."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from shared.db.pool import Connection

ENROLMENT_COLUMNS = (
    "enrolment_id, learner_id, school_id, school_year, grade, class_id, enrolled_on, status"
)


async def bump_learner(
    conn: Connection, *, learner_id: str, sex: str | None, birth_date: date | None
) -> int:
    """Create or lock the learner row and return its next revision (serialises one learner)."""
    return int(
        await conn.fetchval(
            "INSERT INTO learners (learner_id, revision, sex, birth_date) VALUES ($1, 1, $2, $3) "
            "ON CONFLICT (learner_id) DO UPDATE SET revision = learners.revision + 1, "
            "state = 'enrolled', "
            "sex = COALESCE(EXCLUDED.sex, learners.sex), "
            "birth_date = COALESCE(EXCLUDED.birth_date, learners.birth_date) "
            "RETURNING revision",
            learner_id,
            sex,
            birth_date,
        )
    )


async def active_enrolment(conn: Connection, learner_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE learner_id = $1 AND status = 'active'",
        learner_id,
    )


async def insert_enrolment(
    conn: Connection,
    *,
    enrolment_id: uuid.UUID,
    learner_id: str,
    school_id: str,
    school_year: str,
    grade: int,
    class_id: str | None,
    enrolled_on: date,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO enrolments (enrolment_id, learner_id, school_id, school_year, grade, "
        "class_id, enrolled_on) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        f"RETURNING {ENROLMENT_COLUMNS}",
        enrolment_id,
        learner_id,
        school_id,
        school_year,
        grade,
        class_id,
        enrolled_on,
    )
    assert row is not None
    return row


async def get_enrolment(conn: Connection, enrolment_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE enrolment_id = $1", enrolment_id
    )


async def list_enrolments(
    conn: Connection, *, school_id: str, after: str | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE school_id = $1 "
        "AND ($2::uuid IS NULL OR enrolment_id > $2::uuid) ORDER BY enrolment_id LIMIT $3",
        school_id,
        after,
        limit,
    )
