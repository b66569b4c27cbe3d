"""SQL of merges and duplicate candidates."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from shared.db.pool import Connection


async def mark_merged(conn: Connection, *, merged_id: str, survivor_id: str) -> None:
    await conn.execute(
        "UPDATE persons SET merged_into = $2, revision = revision + 1, updated_at = now() "
        "WHERE sector_id = $1",
        merged_id,
        survivor_id,
    )


async def clear_merged(conn: Connection, *, merged_id: str) -> None:
    await conn.execute(
        "UPDATE persons SET merged_into = NULL, revision = revision + 1, updated_at = now() "
        "WHERE sector_id = $1",
        merged_id,
    )


async def insert_merge(
    conn: Connection,
    *,
    merge_id: uuid.UUID,
    survivor_id: str,
    merged_id: str,
    reason: str,
    decided_by: str,
) -> None:
    await conn.execute(
        "INSERT INTO merges (merge_id, survivor_id, merged_id, reason, decided_by) "
        "VALUES ($1, $2, $3, $4, $5)",
        merge_id,
        survivor_id,
        merged_id,
        reason,
        decided_by,
    )


async def get_merge(conn: Connection, merge_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM merges WHERE merge_id = $1 FOR UPDATE", merge_id)


async def close_merge(conn: Connection, *, merge_id: uuid.UUID, by: str, reason: str) -> None:
    await conn.execute(
        "UPDATE merges SET unmerged_at = now(), unmerged_by = $2, unmerge_reason = $3 "
        "WHERE merge_id = $1",
        merge_id,
        by,
        reason,
    )


async def merges_of(conn: Connection, sector_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM merges WHERE survivor_id = $1 OR merged_id = $1 ORDER BY merged_at",
        sector_id,
    )


async def upsert_candidates(conn: Connection, candidates: Sequence[dict[str, Any]]) -> int:
    """Store found pairs; a pair already known keeps its status (a dismissal stands)."""
    if not candidates:
        return 0
    result = await conn.execute(
        """INSERT INTO duplicate_candidates (person_a, person_b, score, decision, reasons)
           SELECT a, b, s, d, r::jsonb FROM unnest($1::text[], $2::text[], $3::real[],
                                                   $4::text[], $5::text[]) AS c(a, b, s, d, r)
           ON CONFLICT (person_a, person_b) DO UPDATE
           SET score = EXCLUDED.score, decision = EXCLUDED.decision, reasons = EXCLUDED.reasons
           WHERE duplicate_candidates.status = 'open'""",
        [c["a"] for c in candidates],
        [c["b"] for c in candidates],
        [c["score"] for c in candidates],
        [c["decision"] for c in candidates],
        [json.dumps(list(c["reasons"])) for c in candidates],
    )
    return int(result.split()[-1])


async def resolve_candidate(
    conn: Connection, *, person_a: str, person_b: str, status: str, by: str
) -> None:
    a, b = sorted((person_a, person_b))
    await conn.execute(
        "UPDATE duplicate_candidates SET status = $3, resolved_by = $4, resolved_at = now() "
        "WHERE person_a = $1 AND person_b = $2 AND status = 'open'",
        a,
        b,
        status,
        by,
    )


async def get_candidate(conn: Connection, candidate_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM duplicate_candidates WHERE candidate_id = $1", candidate_id
    )


async def open_candidates(
    conn: Connection, *, within_org: str | None, after: int | None, limit: int
) -> list[asyncpg.Record]:
    """Open candidates, best first, where at least one of the pair is held in the subtree."""
    return await conn.fetch(
        """WITH RECURSIVE subtree(org_id, depth) AS (
               SELECT org_id, 0 FROM organisations WHERE org_id = $1
               UNION ALL
               SELECT o.org_id, s.depth + 1 FROM organisations o
               JOIN subtree s ON o.parent_id = s.org_id WHERE s.depth < 16)
           SELECT c.* FROM duplicate_candidates c
           JOIN persons a ON a.sector_id = c.person_a
           JOIN persons b ON b.sector_id = c.person_b
           WHERE c.status = 'open'
             AND ($1::text IS NULL OR a.org_id IN (SELECT org_id FROM subtree)
                  OR b.org_id IN (SELECT org_id FROM subtree))
             AND ($2::bigint IS NULL OR c.candidate_id > $2)
           ORDER BY c.candidate_id LIMIT $3""",
        within_org,
        after,
        limit,
    )


async def active_persons_under(conn: Connection, org_id: str | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        """WITH RECURSIVE subtree(org_id, depth) AS (
               SELECT org_id, 0 FROM organisations WHERE org_id = $1
               UNION ALL
               SELECT o.org_id, s.depth + 1 FROM organisations o
               JOIN subtree s ON o.parent_id = s.org_id WHERE s.depth < 16)
           SELECT sector_id, full_name, birth_date, sex, personal_number, birthplace,
                  guardian_name, verification_status, created_at
           FROM persons WHERE merged_into IS NULL
             AND ($1::text IS NULL OR org_id IN (SELECT org_id FROM subtree))""",
        org_id,
    )
