"""SQL of school facilities, one function per query. Every revision is a row; the current
facilities of a school are its highest revision."""

from __future__ import annotations

from datetime import date

import asyncpg

from shared.db.pool import Connection

FACILITY_COLUMNS = (
    "school_id, revision, classrooms, labs, libraries, computers_for_learning, "
    "internet_bandwidth_mbps, connected, updated_on, recorded_at, recorded_by"
)


async def lock_school(conn: Connection, school_id: str) -> None:
    """Serialise reports of one school's facilities until the transaction ends."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"facilities|{school_id}"
    )


async def current(conn: Connection, school_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {FACILITY_COLUMNS} FROM facilities WHERE school_id = $1 "
        "ORDER BY revision DESC LIMIT 1",
        school_id,
    )


async def insert(
    conn: Connection,
    *,
    school_id: str,
    revision: int,
    classrooms: int,
    labs: int,
    libraries: int,
    computers_for_learning: int,
    internet_bandwidth_mbps: float | None,
    connected: bool,
    updated_on: date,
    recorded_by: str,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO facilities (school_id, revision, classrooms, labs, libraries, "
        "computers_for_learning, internet_bandwidth_mbps, connected, updated_on, recorded_by) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        f"RETURNING {FACILITY_COLUMNS}",
        school_id,
        revision,
        classrooms,
        labs,
        libraries,
        computers_for_learning,
        internet_bandwidth_mbps,
        connected,
        updated_on,
        recorded_by,
    )
    assert row is not None
    return row


async def history(
    conn: Connection, *, school_id: str, before: int | None, limit: int
) -> list[asyncpg.Record]:
    """Revisions newest first; `before` pages on to older ones."""
    return await conn.fetch(
        f"SELECT {FACILITY_COLUMNS} FROM facilities WHERE school_id = $1 "
        "AND ($2::integer IS NULL OR revision < $2) ORDER BY revision DESC LIMIT $3",
        school_id,
        before,
        limit,
    )
