"""Timing of the as-of selection and of freezing a census (run explicitly:
`.venv/bin/python -m pytest -s services/analytics/tests/bench_census_asof.py`)."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from services.analytics import census_store
from services.analytics.census_api import CensusRequest, freeze_census
from shared.auth import Principal
from shared.db.migrations import migrate
from shared.db.pool import create_pool

pytestmark = pytest.mark.integration
LEARNERS = 200_000


async def test_timing(fresh_db: str) -> None:
    pool = await create_pool(fresh_db, min_size=1, max_size=2)
    async with pool.acquire() as conn:
        await migrate(conn, "analytics", Path("services/analytics/migrations"))
        await conn.execute(
            """INSERT INTO org_units (org_id, revision, kind, name, parent_id, valid_from)
               SELECT 'HP', 1, 'province', 'HP', NULL, date '2025-01-01'
               UNION ALL SELECT 'C' || c, 1, 'commune', 'C' || c, 'HP', '2025-01-01'
                         FROM generate_series(0, 113) c
               UNION ALL SELECT 'S' || s, 1, 'school', 'S' || s, 'C' || (s % 114), '2025-01-01'
                         FROM generate_series(0, 399) s"""
        )
        # Two placements per learner (a transfer on 1 Nov), 1 % of them merged into another.
        await conn.execute(
            """INSERT INTO enrolment_intervals
               SELECT 'L' || l, 1, 'S' || (l % 400), '2025-2026', l % 13,
                      CASE WHEN l % 2 = 0 THEN 'male' ELSE 'female' END,
                      date '2025-09-05', date '2025-11-01' FROM generate_series(1, $1) l
               UNION ALL
               SELECT 'L' || l, 2, 'S' || ((l + 7) % 400), '2025-2026', l % 13,
                      CASE WHEN l % 2 = 0 THEN 'male' ELSE 'female' END,
                      date '2025-11-01', NULL FROM generate_series(1, $1) l""",
            LEARNERS,
        )
        await conn.execute(
            """INSERT INTO enrolment_person_merges (merge_id, survivor_id, merged_id)
               SELECT gen_random_uuid(), 'L' || (l + 1), 'L' || l
               FROM generate_series(1, $1, 100) l""",
            LEARNERS,
        )
        await conn.execute("ANALYZE")
        started = time.perf_counter()
        cells = await census_store.cells_on(conn, date(2025, 9, 30), "HP")
        selection = time.perf_counter() - started
        started = time.perf_counter()
        commune = await census_store.cells_on(conn, date(2025, 9, 30), "C7")
        one_commune = time.perf_counter() - started
        async with conn.transaction():
            started = time.perf_counter()
            census = await freeze_census(
                conn,
                Principal("so", "department", "HP"),
                CensusRequest(census_date=date(2025, 9, 30), label="bench"),
            )
            freezing = time.perf_counter() - started
    await pool.close()
    assert sum(cells.values()) == LEARNERS - LEARNERS // 100 == census.total_enrolled
    print(
        f"\n{LEARNERS} learners, {2 * LEARNERS} intervals, {LEARNERS // 100} merges: "
        f"as-of selection {selection:.2f} s (one commune, {sum(commune.values())} learners: "
        f"{one_commune:.2f} s), census freeze (selection + roll-up + store "
        f"{len(cells)} school cells for 515 units) {freezing:.2f} s"
    )
