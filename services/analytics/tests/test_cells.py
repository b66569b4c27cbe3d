"""The counting cells' writer (services/analytics/cells.py) on a real PostgreSQL: new and
existing cells in one call, counts that would go below zero, and two batches at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.analytics.cells import add_to_table
from services.analytics.health_store import CELL_KEY
from shared.db.migrations import migrate
from shared.db.pool import create_pool

pytestmark = pytest.mark.integration

COUNTERS = ("assessed", "cannot_swim", "swims_with_aid", "swims_25m_unaided")


def key(school: str, sex: str = "female") -> tuple[str, str, str, int, str]:
    return ("HK1", school, "1A", 1, sex)


@pytest.fixture
async def pool(fresh_db: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(fresh_db, min_size=2, max_size=2)
    async with pool.acquire() as conn:
        await migrate(conn, "analytics", Path("services/analytics/migrations"))
    yield pool
    await pool.close()


async def add(pool: asyncpg.Pool, deltas: dict[tuple[str, str, str, int, str], Counter[str]]):
    async with pool.acquire() as conn, conn.transaction():
        await add_to_table(conn, "swim_cells", CELL_KEY, COUNTERS, deltas)


async def cells(pool: asyncpg.Pool) -> dict[str, tuple[int, int, int]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT school_id, assessed, cannot_swim, swims_with_aid FROM swim_cells"
        )
    return {r["school_id"]: (r["assessed"], r["cannot_swim"], r["swims_with_aid"]) for r in rows}


async def test_new_and_existing_cells_in_one_call(pool: asyncpg.Pool) -> None:
    await add(pool, {key("S-A"): Counter(assessed=3, cannot_swim=2, swims_with_aid=1)})
    # S-A exists: a learner moves from "cannot swim" to "with aid"; S-B is new.
    await add(
        pool,
        {
            key("S-A"): Counter(cannot_swim=-1, swims_with_aid=1),
            key("S-B"): Counter(assessed=2, cannot_swim=2),
        },
    )
    assert await cells(pool) == {"S-A": (3, 1, 2), "S-B": (2, 2, 0)}


async def test_a_count_below_zero_fails_and_changes_nothing(pool: asyncpg.Pool) -> None:
    await add(pool, {key("S-A"): Counter(assessed=1, cannot_swim=1)})
    with pytest.raises(asyncpg.CheckViolationError):
        await add(
            pool,
            {
                key("S-A"): Counter(assessed=-2, cannot_swim=-2),
                key("S-B"): Counter(assessed=1, cannot_swim=1),
            },
        )
    # A retraction from a cell that does not exist is refused too.
    with pytest.raises(asyncpg.CheckViolationError):
        await add(pool, {key("S-C"): Counter(assessed=-1, cannot_swim=-1)})
    assert await cells(pool) == {"S-A": (1, 1, 0)}


async def test_two_batches_at_once_add_up(pool: asyncpg.Pool) -> None:
    """The second batch waits for the first's commit (the table's lock), then finds the cells
    the first created: nothing is lost, no duplicate key, no deadlock."""
    first_has_lock = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await add_to_table(
                conn,
                "swim_cells",
                CELL_KEY,
                COUNTERS,
                {key("S-A"): Counter(assessed=1, cannot_swim=1), key("S-B", "male"): Counter()},
            )
            first_has_lock.set()
            await release_first.wait()

    async def second() -> None:
        await first_has_lock.wait()
        await add(
            pool,
            {
                key("S-B", "male"): Counter(assessed=5, swims_25m_unaided=5),
                key("S-A"): Counter(assessed=1, swims_with_aid=1),
            },
        )

    first_task = asyncio.create_task(first())
    second_task = asyncio.create_task(second())
    await first_has_lock.wait()
    await asyncio.sleep(0.3)
    assert not second_task.done()  # waiting for the first batch's lock
    release_first.set()
    await asyncio.gather(first_task, second_task)
    assert await cells(pool) == {"S-A": (2, 1, 1), "S-B": (5, 0, 0)}
