"""SQL of the gradebook, one function per query, keyword-only arguments."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from shared.db.pool import Connection

ENTRY_COLUMNS = (
    "entry_id, learner_id, school_id, class_id, school_year, semester, subject_code, "
    "assessment, sequence, score, comment_grade, level, recorded_by, recorded_at, "
    "superseded_by, corrects, reason"
)
TERM_COLUMNS = (
    "school_id, class_id, school_year, semester, status, grade, finalized_at, finalized_by, "
    "forced_reason, missing"
)


# --- subjects and enrolments ------------------------------------------------------------------


async def subjects_of_grade(conn: Connection, *, grade: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT subject_code, name_vi, periods_per_year, scale, periodic_test, compulsory, "
        "display_order FROM gradebook_subjects WHERE grade = $1 ORDER BY display_order",
        grade,
    )


async def class_enrolment(
    conn: Connection, *, learner_id: str, school_id: str, school_year: str, class_id: str
) -> asyncpg.Record | None:
    """The learner's enrolment in that class (any status: a learner who has since left keeps
    the grades of the time they were there)."""
    return await conn.fetchrow(
        "SELECT enrolment_id, grade, status FROM enrolments WHERE learner_id = $1 "
        "AND school_id = $2 AND school_year = $3 AND class_id = $4 "
        "ORDER BY (status = 'active') DESC, enrolled_on DESC LIMIT 1",
        learner_id,
        school_id,
        school_year,
        class_id,
    )


async def class_roster(
    conn: Connection, *, school_id: str, school_year: str, class_id: str
) -> list[asyncpg.Record]:
    """Every learner enrolled in the class that year, with whether they still are."""
    return await conn.fetch(
        "SELECT learner_id, max(grade) AS grade, bool_or(status = 'active') AS active "
        "FROM enrolments WHERE school_id = $1 AND school_year = $2 AND class_id = $3 "
        "GROUP BY learner_id ORDER BY learner_id",
        school_id,
        school_year,
        class_id,
    )


async def latest_enrolment_in_year(
    conn: Connection, *, learner_id: str, school_year: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT school_id, class_id, grade, status FROM enrolments "
        "WHERE learner_id = $1 AND school_year = $2 "
        "ORDER BY enrolled_on DESC, created_at DESC LIMIT 1",
        learner_id,
        school_year,
    )


async def class_name(conn: Connection, class_id: str) -> str | None:
    """The class's name as the school writes it ("6A"); class ids are "school:year:name"."""
    return await conn.fetchval("SELECT name FROM classes WHERE class_id = $1", class_id)


# --- term state ---------------------------------------------------------------------------------


async def lock_term(
    conn: Connection, *, school_id: str, class_id: str, school_year: str, semester: int
) -> asyncpg.Record:
    """The class's term row, created open if new, locked until the transaction ends: every
    write and the finalisation take this lock, so they cannot interleave."""
    await conn.execute(
        "INSERT INTO gradebook_terms (school_id, class_id, school_year, semester) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        school_id,
        class_id,
        school_year,
        semester,
    )
    row = await conn.fetchrow(
        f"SELECT {TERM_COLUMNS} FROM gradebook_terms WHERE school_id = $1 AND class_id = $2 "
        "AND school_year = $3 AND semester = $4 FOR UPDATE",
        school_id,
        class_id,
        school_year,
        semester,
    )
    assert row is not None
    return row


async def terms_of_class(
    conn: Connection, *, school_id: str, class_id: str, school_year: str
) -> dict[int, asyncpg.Record]:
    rows = await conn.fetch(
        f"SELECT {TERM_COLUMNS} FROM gradebook_terms WHERE school_id = $1 AND class_id = $2 "
        "AND school_year = $3",
        school_id,
        class_id,
        school_year,
    )
    return {int(r["semester"]): r for r in rows}


async def mark_finalized(
    conn: Connection,
    *,
    school_id: str,
    class_id: str,
    school_year: str,
    semester: int,
    grade: int,
    at: datetime,
    by: str,
    forced_reason: str | None,
    missing: list[dict[str, Any]],
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE gradebook_terms SET status = 'finalized', grade = $5, finalized_at = $6, "
        "finalized_by = $7, forced_reason = $8, missing = $9 "
        "WHERE school_id = $1 AND class_id = $2 AND school_year = $3 AND semester = $4 "
        f"RETURNING {TERM_COLUMNS}",
        school_id,
        class_id,
        school_year,
        semester,
        grade,
        at,
        by,
        forced_reason,
        missing,
    )
    assert row is not None
    return row


# --- entries --------------------------------------------------------------------------------------


async def current_entries_of_subject(
    conn: Connection,
    *,
    learner_id: str,
    school_id: str,
    class_id: str,
    school_year: str,
    semester: int,
    subject_code: str,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {ENTRY_COLUMNS} FROM grade_entries WHERE learner_id = $1 AND school_id = $2 "
        "AND class_id = $3 AND school_year = $4 AND semester = $5 AND subject_code = $6 "
        "AND superseded_by IS NULL ORDER BY assessment, sequence",
        learner_id,
        school_id,
        class_id,
        school_year,
        semester,
        subject_code,
    )


async def count_subject_history(
    conn: Connection,
    *,
    learner_id: str,
    school_id: str,
    class_id: str,
    school_year: str,
    semester: int,
    subject_code: str,
) -> int:
    """How many values were ever recorded for the learner's subject-semester (its revision)."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM grade_entries WHERE learner_id = $1 AND school_id = $2 "
            "AND class_id = $3 AND school_year = $4 AND semester = $5 AND subject_code = $6",
            learner_id,
            school_id,
            class_id,
            school_year,
            semester,
            subject_code,
        )
    )


async def current_entries_of_class(
    conn: Connection, *, school_id: str, class_id: str, school_year: str, semesters: list[int]
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {ENTRY_COLUMNS} FROM grade_entries WHERE school_id = $1 AND class_id = $2 "
        "AND school_year = $3 AND semester = ANY($4::smallint[]) AND superseded_by IS NULL "
        "ORDER BY learner_id, semester, subject_code, assessment, sequence",
        school_id,
        class_id,
        school_year,
        semesters,
    )


async def current_entries_of_learner(
    conn: Connection, *, learner_id: str, school_year: str
) -> list[asyncpg.Record]:
    """Every current value of the learner's year, in any class, oldest first (so a later class
    overwrites an earlier one when the caller folds them by slot)."""
    return await conn.fetch(
        f"SELECT {ENTRY_COLUMNS} FROM grade_entries WHERE learner_id = $1 AND school_year = $2 "
        "AND superseded_by IS NULL ORDER BY recorded_at, entry_id",
        learner_id,
        school_year,
    )


async def supersede(conn: Connection, *, entry_id: uuid.UUID, by: uuid.UUID) -> None:
    # Runs before the replacement is inserted; the foreign key is checked at commit.
    await conn.execute(
        "UPDATE grade_entries SET superseded_by = $2 WHERE entry_id = $1", entry_id, by
    )


async def insert_entry(
    conn: Connection,
    *,
    entry_id: uuid.UUID,
    learner_id: str,
    school_id: str,
    class_id: str,
    school_year: str,
    semester: int,
    subject_code: str,
    assessment: str,
    sequence: int,
    score: Decimal | None,
    comment_grade: str | None,
    level: str | None,
    recorded_by: str,
    recorded_at: datetime,
    corrects: uuid.UUID | None,
    reason: str | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO grade_entries (entry_id, learner_id, school_id, class_id, school_year, "
        "semester, subject_code, assessment, sequence, score, comment_grade, level, "
        "recorded_by, recorded_at, corrects, reason) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
        f"RETURNING {ENTRY_COLUMNS}",
        entry_id,
        learner_id,
        school_id,
        class_id,
        school_year,
        semester,
        subject_code,
        assessment,
        sequence,
        score,
        comment_grade,
        level,
        recorded_by,
        recorded_at,
        corrects,
        reason,
    )
    assert row is not None
    return row


# --- corrections audit --------------------------------------------------------------------------


async def insert_correction(
    conn: Connection,
    *,
    entry_id: uuid.UUID,
    corrects: uuid.UUID | None,
    learner_id: str,
    school_id: str,
    class_id: str,
    school_year: str,
    semester: int,
    subject_code: str,
    assessment: str,
    sequence: int,
    value_before: str | None,
    value_after: str,
    reason: str,
    actor: str,
    actor_role: str,
    actor_org: str,
    at: datetime,
    revision_before: int,
    revision_after: int,
    changes: list[dict[str, Any]],
) -> None:
    await conn.execute(
        "INSERT INTO grade_corrections (entry_id, corrects, learner_id, school_id, class_id, "
        "school_year, semester, subject_code, assessment, sequence, value_before, value_after, "
        "reason, actor, actor_role, actor_org, at, revision_before, revision_after, changes) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
        "$18, $19, $20)",
        entry_id,
        corrects,
        learner_id,
        school_id,
        class_id,
        school_year,
        semester,
        subject_code,
        assessment,
        sequence,
        value_before,
        value_after,
        reason,
        actor,
        actor_role,
        actor_org,
        at,
        revision_before,
        revision_after,
        changes,
    )


async def corrections_of_class(
    conn: Connection, *, school_id: str, class_id: str, school_year: str, semesters: list[int]
) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT entry_id, corrects, learner_id, semester, subject_code, assessment, sequence, "
        "value_before, value_after, reason, actor, actor_role, at FROM grade_corrections "
        "WHERE school_id = $1 AND class_id = $2 AND school_year = $3 "
        "AND semester = ANY($4::smallint[]) ORDER BY at, correction_id",
        school_id,
        class_id,
        school_year,
        semesters,
    )
