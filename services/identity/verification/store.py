"""SQL of register verification, one function per query."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg

from services.identity.person_store import PERSON_COLUMNS
from shared.db.pool import Connection

# The units at or below $1 (the organisation tree is at most a few levels deep).
_SUBTREE = """subtree(org_id, depth) AS (
        SELECT org_id, 0 FROM organisations WHERE org_id = $1
        UNION ALL
        SELECT o.org_id, s.depth + 1 FROM organisations o
        JOIN subtree s ON o.parent_id = s.org_id WHERE s.depth < 16)"""

_BATCH_COLUMNS = (
    "batch_id, org_id, selection, row_count, status, created_by, created_at, answered_at"
)
_ROW_COLUMNS = (
    "batch_id, row_no, sector_id, ours, result, register_values, mismatched_fields, "
    "answered_at, applied_at, outcome"
)


async def next_batch_sequence(conn: Connection, *, prefix: str) -> int:
    """The next number after the highest batch id starting with `prefix` (e.g. 'HP-2026-11-').
    The transaction-scoped lock serialises concurrent batch creation until commit."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('verification_batch', 0))")
    highest = await conn.fetchval(
        "SELECT max(substr(batch_id, length($1) + 1)::integer) FROM verification_batches "
        "WHERE batch_id LIKE $1 || '%' AND substr(batch_id, length($1) + 1) ~ '^[0-9]+$'",
        prefix,
    )
    return int(highest or 0) + 1


async def unverified_under(
    conn: Connection, *, org_id: str, include_pending: bool, limit: int
) -> list[asyncpg.Record]:
    """Active unverified persons held at or below `org_id`, by holding unit and sector ID;
    unless `include_pending`, without those already waiting for an answer in another batch."""
    return await conn.fetch(
        f"""WITH RECURSIVE {_SUBTREE}
            SELECT {PERSON_COLUMNS} FROM persons p
            WHERE p.org_id IN (SELECT org_id FROM subtree)
              AND p.merged_into IS NULL
              AND p.verification_status = 'unverified'
              AND ($2 OR NOT EXISTS (
                  SELECT 1 FROM verification_rows r
                  JOIN verification_batches b USING (batch_id)
                  WHERE r.sector_id = p.sector_id AND r.result IS NULL
                    AND b.status = 'requested'))
            ORDER BY p.org_id, p.sector_id
            LIMIT $3""",
        org_id,
        include_pending,
        limit,
    )


async def pending_batches_of(conn: Connection, sector_ids: Sequence[str]) -> dict[str, str]:
    """For each given person waiting for an answer in a batch not yet answered: that batch."""
    rows = await conn.fetch(
        "SELECT r.sector_id, r.batch_id FROM verification_rows r "
        "JOIN verification_batches b USING (batch_id) "
        "WHERE r.sector_id = ANY($1::text[]) AND r.result IS NULL AND b.status = 'requested'",
        list(sector_ids),
    )
    return {r["sector_id"]: r["batch_id"] for r in rows}


async def insert_batch(
    conn: Connection,
    *,
    batch_id: str,
    org_id: str,
    selection: dict[str, Any],
    row_count: int,
    created_by: str,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO verification_batches (batch_id, org_id, selection, row_count, created_by) "
        f"VALUES ($1, $2, $3, $4, $5) RETURNING {_BATCH_COLUMNS}",
        batch_id,
        org_id,
        selection,
        row_count,
        created_by,
    )
    assert row is not None
    return row


async def insert_rows(
    conn: Connection, *, batch_id: str, rows: Sequence[tuple[int, str, dict[str, Any]]]
) -> None:
    """Request lines as (row_no, sector_id, snapshot of our values)."""
    await conn.execute(
        "INSERT INTO verification_rows (batch_id, row_no, sector_id, ours) "
        "SELECT $1, n, s, o::jsonb FROM unnest($2::integer[], $3::text[], $4::text[]) "
        "AS r(n, s, o)",
        batch_id,
        [row_no for row_no, _, _ in rows],
        [sector_id for _, sector_id, _ in rows],
        [json.dumps(ours, ensure_ascii=False) for _, _, ours in rows],
    )


async def get_batch(
    conn: Connection, batch_id: str, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {_BATCH_COLUMNS} FROM verification_batches WHERE batch_id = $1{lock}", batch_id
    )


async def list_batches(
    conn: Connection, *, within_org: str | None, after: str | None, limit: int
) -> list[asyncpg.Record]:
    """Batches made for units at or below `within_org` (all when None), newest id first."""
    return await conn.fetch(
        f"""WITH RECURSIVE {_SUBTREE}
            SELECT {_BATCH_COLUMNS} FROM verification_batches
            WHERE ($1::text IS NULL OR org_id IN (SELECT org_id FROM subtree))
              AND ($2::text IS NULL OR batch_id < $2)
            ORDER BY batch_id DESC LIMIT $3""",
        within_org,
        after,
        limit,
    )


async def batch_rows(conn: Connection, batch_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_ROW_COLUMNS} FROM verification_rows WHERE batch_id = $1 ORDER BY row_no",
        batch_id,
    )


async def get_row(conn: Connection, *, batch_id: str, row_no: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_ROW_COLUMNS} FROM verification_rows WHERE batch_id = $1 AND row_no = $2",
        batch_id,
        row_no,
    )


async def batch_counts(conn: Connection, batch_id: str) -> dict[str, int]:
    row = await conn.fetchrow(
        """SELECT count(*) AS rows,
                  count(*) FILTER (WHERE result IS NULL) AS unanswered,
                  count(*) FILTER (WHERE result = 'MATCHED') AS matched,
                  count(*) FILTER (WHERE result = 'MISMATCH') AS mismatch,
                  count(*) FILTER (WHERE result = 'NOT_FOUND') AS not_found,
                  count(*) FILTER (WHERE result IS NOT NULL AND applied_at IS NULL)
                      AS not_applied
           FROM verification_rows WHERE batch_id = $1""",
        batch_id,
    )
    assert row is not None
    return {key: int(value) for key, value in row.items()}


async def record_answers(
    conn: Connection, *, batch_id: str, answers: Sequence[dict[str, Any]]
) -> None:
    """Store the register's answers: dicts of row_no, result, register_values (or None),
    mismatched_fields, applied (bool) and outcome (why not applied, or None)."""
    if not answers:
        return
    await conn.execute(
        """UPDATE verification_rows r
           SET result = a.result,
               register_values = a.register_values::jsonb,
               mismatched_fields = coalesce(string_to_array(a.fields, ','), '{}'),
               answered_at = now(),
               applied_at = CASE WHEN a.applied THEN now() END,
               outcome = a.outcome
           FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[], $6::boolean[],
                       $7::text[]) AS a(row_no, result, register_values, fields, applied, outcome)
           WHERE r.batch_id = $1 AND r.row_no = a.row_no AND r.result IS NULL""",
        batch_id,
        [a["row_no"] for a in answers],
        [a["result"] for a in answers],
        [
            None if a["register_values"] is None else json.dumps(a["register_values"])
            for a in answers
        ],
        [",".join(a["mismatched_fields"]) for a in answers],
        [a["applied"] for a in answers],
        [a["outcome"] for a in answers],
    )


async def mark_answered(conn: Connection, *, batch_id: str) -> None:
    await conn.execute(
        "UPDATE verification_batches SET status = 'answered', answered_at = now() "
        "WHERE batch_id = $1 AND status = 'requested'",
        batch_id,
    )


async def active_holders(conn: Connection, numbers: Sequence[str]) -> dict[str, str]:
    """Personal number -> the active person holding it, for the numbers that are held."""
    rows = await conn.fetch(
        "SELECT personal_number, sector_id FROM persons "
        "WHERE personal_number = ANY($1::text[]) AND merged_into IS NULL",
        list(numbers),
    )
    return {r["personal_number"]: r["sector_id"] for r in rows}


async def set_verification_statuses(
    conn: Connection, updates: Sequence[tuple[str, str, str | None]]
) -> dict[str, int]:
    """(sector_id, status, personal number to store when the person has none) for each person;
    each gets revision + 1. Returns the new revisions."""
    rows = await conn.fetch(
        """UPDATE persons p
           SET verification_status = u.status,
               personal_number = coalesce(p.personal_number, u.number),
               revision = p.revision + 1,
               updated_at = now()
           FROM unnest($1::text[], $2::text[], $3::text[]) AS u(sector_id, status, number)
           WHERE p.sector_id = u.sector_id
           RETURNING p.sector_id, p.revision""",
        [u[0] for u in updates],
        [u[1] for u in updates],
        [u[2] for u in updates],
    )
    return {r["sector_id"]: r["revision"] for r in rows}


async def update_person(
    conn: Connection,
    *,
    sector_id: str,
    full_name: str,
    name_normalised: str,
    birth_date: date,
    sex: str,
    personal_number: str | None,
    verification_status: str,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE persons SET full_name = $2, name_normalised = $3, birth_date = $4, sex = $5, "
        "personal_number = $6, verification_status = $7, revision = revision + 1, "
        f"updated_at = now() WHERE sector_id = $1 RETURNING {PERSON_COLUMNS}",
        sector_id,
        full_name,
        name_normalised,
        birth_date,
        sex,
        personal_number,
        verification_status,
    )
    assert row is not None
    return row


async def close_open_items(
    conn: Connection, *, sector_ids: Sequence[str], resolution: str, by: str, note: str | None
) -> int:
    if not sector_ids:
        return 0
    result = await conn.execute(
        "UPDATE verification_worklist SET status = 'resolved', resolution = $2, "
        "resolved_by = $3, resolved_at = now(), resolution_note = $4 "
        "WHERE sector_id = ANY($1::text[]) AND status = 'open'",
        list(sector_ids),
        resolution,
        by,
        note,
    )
    return int(result.split()[-1])


async def insert_items(
    conn: Connection, *, batch_id: str, items: Sequence[tuple[str, int, list[dict[str, str]]]]
) -> None:
    """Open worklist items as (sector_id, row_no, differences side by side)."""
    if not items:
        return
    await conn.execute(
        "INSERT INTO verification_worklist (sector_id, batch_id, row_no, differences) "
        "SELECT s, $1, n, d::jsonb FROM unnest($2::text[], $3::integer[], $4::text[]) "
        "AS i(s, n, d)",
        batch_id,
        [sector_id for sector_id, _, _ in items],
        [row_no for _, row_no, _ in items],
        [json.dumps(differences, ensure_ascii=False) for _, _, differences in items],
    )


async def open_item(conn: Connection, sector_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT item_id, sector_id, batch_id, row_no, differences, created_at "
        "FROM verification_worklist WHERE sector_id = $1 AND status = 'open' FOR UPDATE",
        sector_id,
    )


async def resolve_item(
    conn: Connection, *, item_id: int, resolution: str, by: str, note: str | None
) -> None:
    await conn.execute(
        "UPDATE verification_worklist SET status = 'resolved', resolution = $2, "
        "resolved_by = $3, resolved_at = now(), resolution_note = $4 WHERE item_id = $1",
        item_id,
        resolution,
        by,
        note,
    )


async def open_items(
    conn: Connection, *, within_org: str | None, after: str | None, limit: int
) -> list[asyncpg.Record]:
    """Open worklist items of active persons held at or below `within_org` (all when None),
    with the person's current name and unit, by sector ID."""
    return await conn.fetch(
        f"""WITH RECURSIVE {_SUBTREE}
            SELECT w.item_id, w.sector_id, w.batch_id, w.row_no, w.differences, w.created_at,
                   p.full_name, p.org_id, p.verification_status
            FROM verification_worklist w JOIN persons p USING (sector_id)
            WHERE w.status = 'open' AND p.merged_into IS NULL
              AND ($1::text IS NULL OR p.org_id IN (SELECT org_id FROM subtree))
              AND ($2::text IS NULL OR w.sector_id > $2)
            ORDER BY w.sector_id LIMIT $3""",
        within_org,
        after,
        limit,
    )


async def commune_at_or_above(conn: Connection, org_id: str) -> str | None:
    """The commune-level unit that `org_id` is, or lies in; None at province level."""
    return await conn.fetchval(
        """WITH RECURSIVE chain(org_id, kind, parent_id, depth) AS (
               SELECT org_id, kind, parent_id, 0 FROM organisations WHERE org_id = $1
               UNION ALL
               SELECT o.org_id, o.kind, o.parent_id, c.depth + 1
               FROM organisations o JOIN chain c ON o.org_id = c.parent_id WHERE c.depth < 16)
           SELECT org_id FROM chain WHERE kind = 'commune' ORDER BY depth LIMIT 1""",
        org_id,
    )


async def verification_rates(
    conn: Connection, *, org_id: str, commune_id: str | None, today: date
) -> list[asyncpg.Record]:
    """Active persons by verification status, grouped per holding unit, per commune-level unit
    and in total over the subtree of `org_id` (GROUPING SETS). `level` says which grouping a
    row is: 'unit', 'commune' or 'total'. `commune_id` is the commune `org_id` lies in, if any.
    Units of the tree without persons appear with zeros; `active` / `commune_active` say
    whether the unit still exists on `today` (not merged away, not closed)."""
    return await conn.fetch(
        """WITH RECURSIVE tree(org_id, kind, name, active, commune_id, depth) AS (
               SELECT org_id, kind, name, merged_into IS NULL AND coalesce(valid_to >= $3, true),
                      CASE WHEN kind = 'commune' THEN org_id ELSE $2::text END, 0
               FROM organisations WHERE org_id = $1
               UNION ALL
               SELECT o.org_id, o.kind, o.name,
                      o.merged_into IS NULL AND coalesce(o.valid_to >= $3, true),
                      CASE WHEN o.kind = 'commune' THEN o.org_id ELSE t.commune_id END,
                      t.depth + 1
               FROM organisations o JOIN tree t ON o.parent_id = t.org_id WHERE t.depth < 16),
           counted AS (
               SELECT CASE WHEN grouping(t.org_id) = 0 THEN 'unit'
                           WHEN grouping(t.commune_id) = 0 THEN 'commune'
                           ELSE 'total' END AS level,
                      t.org_id, t.kind, t.name, t.active, t.commune_id,
                      count(p.sector_id) AS persons,
                      count(p.sector_id) FILTER (WHERE p.verification_status = 'verified')
                          AS verified,
                      count(p.sector_id) FILTER (WHERE p.verification_status = 'mismatch')
                          AS mismatch,
                      count(p.sector_id) FILTER (WHERE p.verification_status = 'not_found')
                          AS not_found,
                      count(p.sector_id) FILTER (WHERE p.verification_status = 'unverified')
                          AS unverified
               FROM tree t
               LEFT JOIN persons p ON p.org_id = t.org_id AND p.merged_into IS NULL
               GROUP BY GROUPING SETS ((t.org_id, t.kind, t.name, t.active, t.commune_id),
                                       (t.commune_id), ()))
           SELECT c.*, o.name AS commune_name,
                  o.merged_into IS NULL AND coalesce(o.valid_to >= $3, true) AS commune_active
           FROM counted c
           LEFT JOIN organisations o ON o.org_id = c.commune_id
           ORDER BY c.level, c.commune_id NULLS FIRST, c.org_id""",
        org_id,
        commune_id,
        today,
    )
