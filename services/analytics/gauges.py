"""Sector gauges for Prometheus, refreshed from the maintained aggregates after each commit.

Label cardinality stays bounded: province and commune-level unit only (about 115 series for
the city), never school, class or learner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from prometheus_client import Gauge

from services.analytics import store

log = logging.getLogger(__name__)

LEARNERS_ENROLLED = Gauge(
    "eduhub_learners_enrolled",
    "Learners currently enrolled, per commune-level unit (commune='' is the province total)",
    ["province", "commune"],
)


class GaugeRefresher:
    def __init__(self, pool: asyncpg.Pool, *, interval: float = 0.2) -> None:
        self._pool = pool
        self._interval = interval
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def mark_dirty(self, *_: object) -> None:
        self._dirty.set()

    def start(self) -> None:
        self._dirty.set()  # publish what the database holds at start-up
        self._task = asyncio.create_task(self._run(), name="gauge-refresher")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def refresh(self) -> None:
        async with self._pool.acquire() as conn:
            rows = await store.enrolment_by_commune(conn)
        totals: dict[str, int] = {}
        LEARNERS_ENROLLED.clear()  # a commune that no longer has learners must not keep a value
        for row in rows:
            totals[row["province"]] = totals.get(row["province"], 0) + row["enrolled"]
            if row["commune"]:
                LEARNERS_ENROLLED.labels(row["province"], row["commune"]).set(row["enrolled"])
        for province, total in totals.items():
            LEARNERS_ENROLLED.labels(province, "").set(total)

    async def _run(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.refresh()
            except Exception:
                log.exception("gauge refresh failed")
                self._dirty.set()
            await asyncio.sleep(self._interval)  # coalesce a burst of batches into one query
