"""Rows of a batch's keys: right rows, and one index probe per key on a table never analysed."""

from __future__ import annotations

import asyncpg
import pytest

from shared.db.keyed import delete_keys, rows_of_keys

pytestmark = pytest.mark.integration

ROWS = 50_000


async def _table(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    # Autovacuum off: the table stays without statistics, as in a catch-up's first minute.
    await conn.execute(
        "CREATE TABLE history (learner_id text, revision int, note text, "
        "PRIMARY KEY (learner_id, revision)) WITH (autovacuum_enabled = false)"
    )
    await conn.execute(
        "INSERT INTO history SELECT 'L' || (g / 2), g % 2, repeat('x', 80) "
        "FROM generate_series(0, $1 - 1) g",
        ROWS,
    )
    return conn


async def _plan(conn: asyncpg.Connection, sql: str, keys: list[str]) -> str:
    # A prepared statement with a parameter, as asyncpg runs it, in its generic plan (the one
    # a statement settles on after five runs).
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    rows = await conn.fetch(f"EXPLAIN {sql}", keys)
    return "\n".join(r[0] for r in rows)


async def test_rows_of_keys_returns_every_row_of_each_key_in_the_keys_order(fresh_db) -> None:
    conn = await _table(fresh_db)
    try:
        rows = await conn.fetch(rows_of_keys("history", "learner_id"), ["L7", "L3", "nobody"])
        assert [(r["learner_id"], r["revision"]) for r in rows] == [
            ("L7", 0),
            ("L7", 1),
            ("L3", 0),
            ("L3", 1),
        ]
        picked = await conn.fetch(
            rows_of_keys("history", "learner_id", select="t.revision"), ["L9"]
        )
        assert [dict(r) for r in picked] == [{"revision": 0}, {"revision": 1}]
    finally:
        await conn.close()


async def test_a_table_without_statistics_is_probed_by_its_index(fresh_db) -> None:
    conn = await _table(fresh_db)
    try:
        keys = [f"L{i}" for i in range(0, ROWS // 2, 50)]
        joined = await _plan(
            conn,
            "SELECT h.* FROM history h JOIN unnest($1::text[]) AS k(id) ON h.learner_id = k.id",
            keys,
        )
        assert "Seq Scan on history" in joined  # the plan the helper exists to avoid
        for sql in (
            rows_of_keys("history", "learner_id"),
            rows_of_keys("history", "learner_id", lock=True),
            delete_keys("history", "learner_id"),
        ):
            plan = await _plan(conn, sql, keys)
            assert "Seq Scan" not in plan, plan
            assert "history_pkey" in plan, plan
    finally:
        await conn.close()


async def test_delete_keys_deletes_exactly_the_rows_of_the_keys(fresh_db) -> None:
    conn = await _table(fresh_db)
    try:
        async with conn.transaction():
            status = await conn.execute(delete_keys("history", "learner_id"), ["L1", "L2", "x"])
        assert status == "DELETE 4"
        assert await conn.fetchval("SELECT count(*) FROM history") == ROWS - 4
        left = await conn.fetchval(
            "SELECT count(*) FROM history WHERE learner_id = ANY($1::text[])", ["L1", "L2", "L3"]
        )
        assert left == 2
    finally:
        await conn.close()
