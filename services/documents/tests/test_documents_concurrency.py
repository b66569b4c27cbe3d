"""Numbering under concurrent issuing on a real PostgreSQL (no gap, no duplicate, also with
rolled-back issues, the secret series and the year boundary), and routing one directive to
1,850 schools in one statement."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.documents import outgoing
from services.documents.tests.test_documents_flow import (
    DEPARTMENT,
    draft_input,
    pdf_file,
    seed_tree,
)
from shared.db.migrations import migrate
from shared.db.pool import create_pool

pytestmark = pytest.mark.integration


class Rollback(Exception):
    """Raised inside an issuing transaction after the number was taken."""


@pytest.fixture
async def pool(fresh_db: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(fresh_db, min_size=2, max_size=12)
    async with pool.acquire() as conn:
        await migrate(conn, "documents", Path("services/documents/migrations"))
        tree: list[tuple[Any, ...]] = [
            ("HP", "province", None, None, None),
            ("C-1", "commune", "HP", None, None),
            ("S-1", "school", "C-1", "primary", None),
        ]
        await seed_tree(conn, tree)
    yield pool
    await pool.close()


async def signed_drafts(pool: asyncpg.Pool, count: int, **fields: Any) -> list[Any]:
    ids = []
    async with pool.acquire() as conn, conn.transaction():
        for _ in range(count):
            view = await outgoing.create_draft(
                conn, DEPARTMENT, draft_input(**fields), pdf_file(), []
            )
            await outgoing.approve(conn, DEPARTMENT, view.id)
            await outgoing.sign(conn, DEPARTMENT, view.id, outgoing.SignerInput(name="A"))
            ids.append(view.id)
    return ids


async def issue_one(
    pool: asyncpg.Pool, document_id: Any, on: date, *, fail: bool = False
) -> int | None:
    try:
        async with pool.acquire() as conn, conn.transaction():
            view = await outgoing.issue(
                conn, DEPARTMENT, document_id, today=on, now=datetime(on.year, on.month, on.day)
            )
            await asyncio.sleep(0.005)  # hold the series lock a moment: make the race real
            if fail:
                raise Rollback
            return view.number
    except Rollback:
        return None


async def numbers(pool: asyncpg.Pool, year: int, series: str) -> list[int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT number FROM documents WHERE issue_year = $1 AND series_class = $2 "
            "ORDER BY number",
            year,
            series,
        )
    return [r["number"] for r in rows]


async def test_fifty_concurrent_issues_take_one_to_fifty(pool: asyncpg.Pool) -> None:
    ids = await signed_drafts(pool, 50)
    got = await asyncio.gather(*(issue_one(pool, i, date(2026, 5, 4)) for i in ids))
    assert sorted(n for n in got if n is not None) == list(range(1, 51))
    assert await numbers(pool, 2026, "ordinary") == list(range(1, 51))


async def test_rolled_back_issues_leave_no_gap(pool: asyncpg.Pool) -> None:
    ids = await signed_drafts(pool, 30)
    results = await asyncio.gather(
        *(issue_one(pool, i, date(2026, 5, 4), fail=index % 3 == 0) for index, i in enumerate(ids))
    )
    assert results.count(None) == 10
    assert await numbers(pool, 2026, "ordinary") == list(range(1, 21))


async def test_secret_series_and_year_boundary_under_concurrency(pool: asyncpg.Pool) -> None:
    ordinary_old = await signed_drafts(pool, 15)
    secret_old = await signed_drafts(pool, 10, secrecy="mat")
    await asyncio.gather(
        *(issue_one(pool, i, date(2025, 12, 31)) for i in ordinary_old + secret_old)
    )
    ordinary_new = await signed_drafts(pool, 20)
    secret_new = await signed_drafts(pool, 5, secrecy="tuyet_mat")
    late = await signed_drafts(pool, 1)
    await asyncio.gather(*(issue_one(pool, i, date(2026, 1, 1)) for i in ordinary_new + secret_new))
    assert await numbers(pool, 2025, "ordinary") == list(range(1, 16))
    assert await numbers(pool, 2025, "secret") == list(range(1, 11))
    assert await numbers(pool, 2026, "ordinary") == list(range(1, 21))
    assert await numbers(pool, 2026, "secret") == list(range(1, 6))
    # A late issue dated in the closed year is refused rather than numbered 16 of 2025.
    from shared.http.problems import Problem

    with pytest.raises(Problem):
        await issue_one(pool, late[0], date(2025, 12, 31))
    assert await numbers(pool, 2025, "ordinary") == list(range(1, 16))


async def test_routing_to_1850_schools_in_one_statement(pool: asyncpg.Pool) -> None:
    communes = [(f"C-{c:03d}", "commune", "HP", None, None) for c in range(2, 116)]
    schools = [
        (
            f"S-{s:05d}",
            "school",
            communes[s % len(communes)][0],
            ("primary", "lower_secondary", "upper_secondary")[s % 3],
            None,
        )
        for s in range(1850 - 1)  # plus S-1 already there
    ]
    async with pool.acquire() as conn:
        await seed_tree(conn, communes + schools)
    drafts = await signed_drafts(
        pool,
        1,
        recipients=[
            {"kind": "schools_of_type", "school_type": t}
            for t in ("primary", "lower_secondary", "upper_secondary")
        ],
    )
    started = time.perf_counter()
    async with pool.acquire() as conn, conn.transaction():
        view = await outgoing.issue(conn, DEPARTMENT, drafts[0])
    elapsed = time.perf_counter() - started
    assert view.recipient_count == 1850
    async with pool.acquire() as conn:
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM deliveries WHERE document_id = $1 AND status = '01'", view.id
            )
            == 1850
        )
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE event_type = 'documents.document.issued'"
            )
            == 1
        )
    print(
        f"\nissued and routed to 1850 schools in {elapsed * 1000:.0f} ms "
        f"({1850 / elapsed:.0f} inboxes/s)"
    )
    assert elapsed < 1.0
