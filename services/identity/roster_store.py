"""SQL behind roster exports."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from shared.db.pool import Connection
from shared.events.contracts.records import StudentEnrolled

SUBTREE = """WITH RECURSIVE subtree(org_id, depth) AS (
                 SELECT org_id, 0 FROM organisations WHERE org_id = $1
                 UNION ALL
                 SELECT o.org_id, s.depth + 1 FROM organisations o
                 JOIN subtree s ON o.parent_id = s.org_id WHERE s.depth < 16)"""


async def save_enrolments(conn: Connection, events: Sequence[StudentEnrolled]) -> None:
    """Newest revision per learner wins (duplicates and old events change nothing)."""
    newest: dict[str, StudentEnrolled] = {}
    for event in events:
        held = newest.get(event.learner_id)
        if held is None or held.revision < event.revision:
            newest[event.learner_id] = event
    if not newest:
        return
    rows = list(newest.values())
    await conn.execute(
        """INSERT INTO roster_enrolments (learner_id, revision, school_id, class_id, school_year,
                                          grade)
           SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[],
                                $6::int[])
           ON CONFLICT (learner_id) DO UPDATE SET revision = EXCLUDED.revision,
               school_id = EXCLUDED.school_id, class_id = EXCLUDED.class_id,
               school_year = EXCLUDED.school_year, grade = EXCLUDED.grade
           WHERE roster_enrolments.revision < EXCLUDED.revision""",
        [e.learner_id for e in rows],
        [e.revision for e in rows],
        [e.school_id for e in rows],
        [e.class_id for e in rows],
        [e.school_year for e in rows],
        [e.grade for e in rows],
    )


async def units_under(conn: Connection, org_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""{SUBTREE}
            SELECT o.org_id, o.kind, o.name, o.parent_id, o.school_type
            FROM organisations o JOIN subtree USING (org_id)
            WHERE o.valid_to IS NULL AND o.merged_into IS NULL ORDER BY o.org_id""",
        org_id,
    )


async def persons_under(conn: Connection, org_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""{SUBTREE}
            SELECT p.sector_id, p.kind, p.full_name, p.org_id, e.school_id AS enrolled_at,
                   e.class_id, e.school_year, e.grade
            FROM persons p JOIN subtree s ON s.org_id = p.org_id
            LEFT JOIN roster_enrolments e ON e.learner_id = p.sector_id
            WHERE p.merged_into IS NULL AND p.kind IN ('learner', 'teacher')
            ORDER BY p.sector_id""",
        org_id,
    )
