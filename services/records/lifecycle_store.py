"""SQL of classes, transfers, leavers and rollover."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg

from services.records.store import ENROLMENT_COLUMNS
from shared.db.pool import Connection

CLASS_COLUMNS = (
    "class_id, school_id, school_year, grade, name, homeroom_teacher_id, sessions_per_day"
)


async def insert_class(conn: Connection, values: dict[str, Any]) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO classes (class_id, school_id, school_year, grade, name, "
        "homeroom_teacher_id, sessions_per_day) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        f"RETURNING {CLASS_COLUMNS}",
        values["class_id"],
        values["school_id"],
        values["school_year"],
        values["grade"],
        values["name"],
        values["homeroom_teacher_id"],
        values["sessions_per_day"],
    )
    assert row is not None
    return row


async def get_class(conn: Connection, class_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {CLASS_COLUMNS} FROM classes WHERE class_id = $1", class_id)


async def class_by_name(
    conn: Connection, *, school_id: str, school_year: str, name: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {CLASS_COLUMNS} FROM classes WHERE school_id = $1 AND school_year = $2 "
        "AND name = $3",
        school_id,
        school_year,
        name,
    )


async def classes_of(conn: Connection, *, school_id: str, school_year: str | None) -> list[Any]:
    return await conn.fetch(
        f"SELECT {CLASS_COLUMNS} FROM classes WHERE school_id = $1 "
        "AND ($2::text IS NULL OR school_year = $2) ORDER BY school_year, grade, name",
        school_id,
        school_year,
    )


async def lock_learner(conn: Connection, learner_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT learner_id, revision, sex, birth_date, state, merged_into FROM learners "
        "WHERE learner_id = $1 FOR UPDATE",
        learner_id,
    )


async def set_learner_state(conn: Connection, learner_id: str, state: str) -> int:
    """Record the learner's new state and return their next revision."""
    return int(
        await conn.fetchval(
            "UPDATE learners SET state = $2, revision = revision + 1 WHERE learner_id = $1 "
            "RETURNING revision",
            learner_id,
            state,
        )
    )


async def end_enrolment(
    conn: Connection, enrolment_id: uuid.UUID, *, ended_on: date, reason: str
) -> None:
    await conn.execute(
        "UPDATE enrolments SET status = 'ended', ended_on = $2, end_reason = $3 "
        "WHERE enrolment_id = $1",
        enrolment_id,
        ended_on,
        reason,
    )


async def active_enrolments_of_year(
    conn: Connection, *, school_id: str, school_year: str
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE school_id = $1 AND school_year = $2 "
        "AND status = 'active' ORDER BY learner_id FOR UPDATE",
        school_id,
        school_year,
    )


async def changes_since(
    conn: Connection, *, school_id: str, after: int, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT c.position, c.role, o.event_type, o.payload FROM change_index c "
        "JOIN outbox o ON o.position = c.position "
        "WHERE c.school_id = $1 AND c.position > $2 ORDER BY c.position LIMIT $3",
        school_id,
        after,
        limit,
    )
