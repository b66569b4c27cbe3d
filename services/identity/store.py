"""SQL of the identity service, one function per query."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from shared.db.pool import Connection

ORG_COLUMNS = (
    "org_id, revision, kind, name, parent_id, agency_code, commune_type, school_type, "
    "ownership, valid_from, valid_to, merged_into"
)


async def get_org(conn: Connection, org_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {ORG_COLUMNS} FROM organisations WHERE org_id = $1", org_id)


async def insert_org(conn: Connection, *, org: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO organisations (org_id, kind, name, parent_id, agency_code, commune_type, "
        "school_type, ownership, valid_from, valid_to) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        org["org_id"],
        org["kind"],
        org["name"],
        org["parent_id"],
        org["agency_code"],
        org["commune_type"],
        org["school_type"],
        org["ownership"],
        org["valid_from"],
        org["valid_to"],
    )


async def insert_history(
    conn: Connection,
    *,
    org_id: str,
    revision: int,
    change: str,
    snapshot: dict[str, Any],
    changed_by: str,
    effective_from: date,
) -> None:
    await conn.execute(
        "INSERT INTO organisation_history "
        "(org_id, revision, change, snapshot, changed_by, effective_from) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        org_id,
        revision,
        change,
        snapshot,
        changed_by,
        effective_from,
    )


async def lock_org(conn: Connection, org_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {ORG_COLUMNS} FROM organisations WHERE org_id = $1 FOR UPDATE", org_id
    )


async def update_org(conn: Connection, *, after: Any) -> None:
    await conn.execute(
        "UPDATE organisations SET revision = $2, name = $3, parent_id = $4, valid_to = $5, "
        "merged_into = $6, updated_at = now() WHERE org_id = $1",
        after.org_id,
        after.revision,
        after.name,
        after.parent_id,
        after.valid_to,
        after.merged_into,
    )


async def active_children(conn: Connection, org_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {ORG_COLUMNS} FROM organisations WHERE parent_id = $1 "
        "AND valid_to IS NULL AND merged_into IS NULL ORDER BY org_id FOR UPDATE",
        org_id,
    )


async def history(conn: Connection, org_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT revision, change, snapshot, changed_at, changed_by, effective_from "
        "FROM organisation_history WHERE org_id = $1 ORDER BY revision",
        org_id,
    )


async def list_orgs(
    conn: Connection,
    *,
    parent_id: str | None,
    kind: str | None,
    after: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {ORG_COLUMNS} FROM organisations "
        "WHERE ($1::text IS NULL OR parent_id = $1) AND ($2::text IS NULL OR kind = $2) "
        "AND ($3::text IS NULL OR org_id > $3) ORDER BY org_id LIMIT $4",
        parent_id,
        kind,
        after,
        limit,
    )


async def ancestors(conn: Connection, org_id: str) -> list[str]:
    rows = await conn.fetch(
        """WITH RECURSIVE chain(org_id, parent_id, depth) AS (
               SELECT org_id, parent_id, 0 FROM organisations WHERE org_id = $1
               UNION ALL
               SELECT o.org_id, o.parent_id, c.depth + 1
               FROM organisations o JOIN chain c ON o.org_id = c.parent_id WHERE c.depth < 16)
           SELECT org_id FROM chain WHERE depth > 0 ORDER BY depth""",
        org_id,
    )
    return [r["org_id"] for r in rows]
