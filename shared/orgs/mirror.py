"""A service's local copy of the organisation tree, kept from `identity.org.changed`.

Identity owns the tree; other services keep the current state of every unit (newest revision
wins, so duplicate and out-of-order deliveries change nothing) for scope checks and rollups.
"""

from __future__ import annotations

import asyncpg

from shared.db.pool import Connection
from shared.events.contracts.identity import OrgChanged


async def apply_org_changed(conn: Connection, change: OrgChanged) -> bool:
    """Upsert the unit if this revision is newer than what we hold; True if it changed."""
    result = await conn.execute(
        """INSERT INTO org_units (org_id, revision, kind, name, parent_id, school_type,
                                  valid_from, valid_to, merged_into, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
           ON CONFLICT (org_id) DO UPDATE SET
               revision = EXCLUDED.revision, kind = EXCLUDED.kind, name = EXCLUDED.name,
               parent_id = EXCLUDED.parent_id, school_type = EXCLUDED.school_type,
               valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to,
               merged_into = EXCLUDED.merged_into, updated_at = now()
           WHERE org_units.revision < EXCLUDED.revision""",
        change.org_id,
        change.revision,
        change.kind,
        change.name,
        change.parent_id,
        change.school_type,
        change.valid_from,
        change.valid_to,
        change.merged_into,
    )
    return result.endswith(" 1")


async def ancestors(conn: Connection, org_id: str) -> list[str] | None:
    """Parents of `org_id`, nearest first; None if the unit is unknown here."""
    rows = await conn.fetch(
        """WITH RECURSIVE chain(org_id, parent_id, depth) AS (
               SELECT org_id, parent_id, 0 FROM org_units WHERE org_id = $1
               UNION ALL
               SELECT o.org_id, o.parent_id, c.depth + 1
               FROM org_units o JOIN chain c ON o.org_id = c.parent_id
               WHERE c.depth < 16)
           SELECT org_id, depth FROM chain ORDER BY depth""",
        org_id,
    )
    if not rows:
        return None
    return [r["org_id"] for r in rows[1:]]


async def get_unit(conn: Connection, org_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM org_units WHERE org_id = $1", org_id)
