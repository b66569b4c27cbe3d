"""SQL of the person registry, one function per query."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.db.pool import Connection

PERSON_COLUMNS = (
    "sector_id, kind, full_name, birth_date, sex, personal_number, birthplace, guardian_name, "
    "org_id, verification_status, revision, merged_into"
)


async def next_sequence(conn: Connection, *, kind: str, province_code: int, year: int) -> int:
    """The next free sequence number; the row lock serialises concurrent registrations."""
    return int(
        await conn.fetchval(
            "INSERT INTO sector_id_sequences (kind, province_code, year, last_sequence) "
            "VALUES ($1, $2, $3, 1) ON CONFLICT (kind, province_code, year) "
            "DO UPDATE SET last_sequence = sector_id_sequences.last_sequence + 1 "
            "RETURNING last_sequence",
            kind,
            province_code,
            year,
        )
    )


async def insert_person(conn: Connection, person: dict[str, Any]) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO persons (sector_id, kind, full_name, name_normalised, birth_date, sex, "
        "personal_number, birthplace, guardian_name, org_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        f"RETURNING {PERSON_COLUMNS}",
        person["sector_id"],
        person["kind"],
        person["full_name"],
        person["name_normalised"],
        person["birth_date"],
        person["sex"],
        person["personal_number"],
        person["birthplace"],
        person["guardian_name"],
        person["org_id"],
    )
    assert row is not None
    return row


async def by_personal_number(conn: Connection, number: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {PERSON_COLUMNS} FROM persons WHERE personal_number = $1 AND merged_into IS NULL",
        number,
    )


async def resolve(conn: Connection, identifier: str) -> asyncpg.Record | None:
    """A person by sector ID, alias (e.g. a legacy ID) or personal number, following merges to
    the surviving record. `resolved_from` names the record the identifier pointed at."""
    return await conn.fetchrow(
        f"""WITH RECURSIVE start AS (
                SELECT sector_id FROM persons WHERE sector_id = $1
                UNION ALL
                SELECT sector_id FROM person_aliases WHERE alias = $1
                UNION ALL
                SELECT sector_id FROM persons
                WHERE personal_number = $1 AND merged_into IS NULL
                LIMIT 1),
            chain(sector_id, merged_into, depth) AS (
                SELECT p.sector_id, p.merged_into, 0 FROM persons p JOIN start USING (sector_id)
                UNION ALL
                SELECT p.sector_id, p.merged_into, c.depth + 1 FROM persons p
                JOIN chain c ON p.sector_id = c.merged_into WHERE c.depth < 20)
            SELECT {PERSON_COLUMNS}, (SELECT sector_id FROM start) AS resolved_from
            FROM persons WHERE sector_id = (
                SELECT sector_id FROM chain WHERE merged_into IS NULL ORDER BY depth DESC LIMIT 1)
        """,
        identifier,
    )


async def get_many(conn: Connection, sector_ids: list[str]) -> dict[str, asyncpg.Record]:
    rows = await conn.fetch(
        f"SELECT {PERSON_COLUMNS} FROM persons WHERE sector_id = ANY($1::text[])",
        list(set(sector_ids)),
    )
    return {r["sector_id"]: r for r in rows}


async def lock_persons(conn: Connection, sector_ids: list[str]) -> dict[str, asyncpg.Record]:
    """Lock rows in a fixed order (no deadlock between two merges of the same pair)."""
    rows = await conn.fetch(
        f"SELECT {PERSON_COLUMNS} FROM persons WHERE sector_id = ANY($1::text[]) "
        "ORDER BY sector_id FOR UPDATE",
        sorted(sector_ids),
    )
    return {r["sector_id"]: r for r in rows}


async def search_by_name(
    conn: Connection, *, name_prefix: str, within_org: str | None, after: str | None, limit: int
) -> list[asyncpg.Record]:
    """Persons whose diacritic-free name starts with `name_prefix`, optionally only those held
    by organisations at or below `within_org`."""
    return await conn.fetch(
        f"""WITH RECURSIVE subtree(org_id, depth) AS (
                SELECT org_id, 0 FROM organisations WHERE org_id = $2
                UNION ALL
                SELECT o.org_id, s.depth + 1 FROM organisations o
                JOIN subtree s ON o.parent_id = s.org_id WHERE s.depth < 16)
            SELECT {PERSON_COLUMNS} FROM persons
            WHERE name_normalised LIKE $1 || '%'
              AND merged_into IS NULL
              AND ($2::text IS NULL OR org_id IN (SELECT org_id FROM subtree))
              AND ($3::text IS NULL OR sector_id > $3)
            ORDER BY sector_id LIMIT $4""",
        name_prefix,
        within_org,
        after,
        limit,
    )


async def update_person(
    conn: Connection, sector_id: str, changes: dict[str, Any]
) -> asyncpg.Record:
    """Apply `changes` (column -> value) and bump the revision; returns the new row."""
    assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(changes, start=2))
    row = await conn.fetchrow(
        f"UPDATE persons SET {assignments}, revision = revision + 1, updated_at = now() "
        f"WHERE sector_id = $1 RETURNING {PERSON_COLUMNS}",
        sector_id,
        *changes.values(),
    )
    assert row is not None
    return row
