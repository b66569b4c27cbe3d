"""Inbox claims of two members holding the same events at once (after a rebalance the member
that lost a partition may still be applying the batch it fetched from it)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from shared.consumer.inbox import claim_new
from shared.db.migrations import PLATFORM_MIGRATIONS, apply_migrations, load_migrations

pytestmark = pytest.mark.integration

TOPIC = "records.term.finalized.v1"


async def _claim(url: str, ids: list[uuid.UUID], start: asyncio.Event) -> set[uuid.UUID]:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await start.wait()
            return await claim_new(conn, "test.results", [(i, TOPIC) for i in ids])
    finally:
        await conn.close()


async def test_overlapping_claims_in_opposite_orders_wait_instead_of_deadlocking(fresh_db):
    conn = await asyncpg.connect(fresh_db)
    await apply_migrations(conn, load_migrations("platform", PLATFORM_MIGRATIONS))
    await conn.close()
    for _ in range(3):
        # Two batches holding the same 20,000 events in opposite orders: inserted as given,
        # each transaction would take half the keys and wait for the other's half.
        ids = [uuid.uuid4() for _ in range(20_000)]
        start = asyncio.Event()
        first = asyncio.create_task(_claim(fresh_db, ids, start))
        second = asyncio.create_task(_claim(fresh_db, ids[::-1], start))
        await asyncio.sleep(0.3)  # both connected and inside their transactions
        start.set()
        claimed = await asyncio.gather(first, second)
        # One claims every event; the other, having waited for it to commit, claims none.
        assert sorted(len(c) for c in claimed) == [0, len(ids)]
        assert claimed[0] | claimed[1] == set(ids)
