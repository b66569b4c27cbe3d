"""Sector gauges for Prometheus, refreshed from the maintained aggregates after each commit.

Label cardinality stays bounded: province and commune-level unit only (about 115 series for
the city per status or condition), never school, class or learner; commune="" is the province
total. The health gauges show ONE campaign per source: ANALYTICS_GAUGE_CAMPAIGN when set,
otherwise the campaign whose newest measurement (nutrition, eyes) or swim assessment
(swimming) is the most recent; `eduhub_health_gauge_campaign` names the one shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import asyncpg
from prometheus_client import Gauge
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.analytics import store
from services.analytics.domain.health_fold import (
    EYE_CONDITIONS,
    NOT_ABLE_TO_SWIM_SAFELY,
    NUTRITION_STATUSES,
    SWIM_COUNTERS,
)
from shared.db.pool import Connection

log = logging.getLogger(__name__)

COMMUNE = ["province", "commune"]

LEARNERS_ENROLLED = Gauge(
    "eduhub_learners_enrolled",
    "Learners currently enrolled, per commune-level unit (commune='' is the province total)",
    COMMUNE,
)
NUTRITION_LEARNERS = Gauge(
    "eduhub_nutrition_learners",
    "Learners measured in the gauge campaign by WHO nutrition status (flagged: implausible, "
    "unknown: incomplete), per commune-level unit (commune='' is the province total)",
    [*COMMUNE, "status"],
)
NUTRITION_STUNTED = Gauge(
    "eduhub_nutrition_stunted_learners",
    "Learners measured in the gauge campaign whose height-for-age is below -2 SD",
    COMMUNE,
)
SWIMMING_ASSESSED = Gauge(
    "eduhub_swimming_assessed_learners",
    "Learners assessed for swimming in the gauge campaign",
    COMMUNE,
)
SWIMMING_NON_SWIMMERS = Gauge(
    "eduhub_swimming_non_swimmers",
    "Learners not able to swim safely (cannot swim, or only with an aid) in the gauge campaign",
    COMMUNE,
)
SWIMMING_NON_SWIMMER_SHARE = Gauge(
    "eduhub_swimming_non_swimmer_share",
    "Share (0-1) of the assessed learners not able to swim safely; absent when none assessed",
    COMMUNE,
)
EYE_EXAMINED = Gauge(
    "eduhub_eye_examined_learners",
    "Learners whose eyes were examined in the gauge campaign",
    COMMUNE,
)
EYE_CONDITION = Gauge(
    "eduhub_eye_condition_learners",
    "Examined learners with an eye condition (condition='any': at least one)",
    [*COMMUNE, "condition"],
)
HEALTH_GAUGE_CAMPAIGN = Gauge(
    "eduhub_health_gauge_campaign",
    "1 for the campaign the health gauges show, per source (nutrition and eyes; swimming)",
    ["source", "campaign"],
)

EYE_GAUGE_CONDITIONS = ("any", *EYE_CONDITIONS)


class GaugeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    analytics_gauge_campaign: str | None = None


def _per_commune(
    rows: Sequence[asyncpg.Record], counters: Sequence[str]
) -> dict[tuple[str, str], Counter[str]]:
    """(province, commune) -> sums, with (province, "") the province total of all its rows."""
    sums: dict[tuple[str, str], Counter[str]] = {}
    for row in rows:
        values = Counter({c: int(row[c]) for c in counters})
        keys = [(row["province"], "")]
        if row["commune"]:
            keys.append((row["province"], row["commune"]))
        for key in keys:
            sums.setdefault(key, Counter()).update(values)
    return sums


Series = dict[tuple[str, ...], float]

# Gauges may take at most 1/20 of the time: see GaugeRefresher.pause_after.
REFRESH_COST_FACTOR = 20

# The series each gauge shows, with their children: a refresh sets the values in place and
# removes only the series that went away. (Clearing and re-creating every child on each
# refresh cost more CPU than the consumers' bookkeeping while events flowed.)
_SHOWN: dict[Gauge, dict[tuple[str, ...], Any]] = {}


def _show(gauge: Gauge, values: Series) -> None:
    """Make `gauge` show exactly these series (labels -> value)."""
    shown = _SHOWN.setdefault(gauge, {})
    for labels in [labels for labels in shown if labels not in values]:
        gauge.remove(*labels)  # a commune that no longer has a value must not keep one
        del shown[labels]
    for labels, value in values.items():
        child = shown.get(labels)
        if child is None:
            child = shown[labels] = gauge.labels(*labels)
        child.set(value)


class GaugeRefresher:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        interval: float = 1.0,
        campaign: str | None = None,
        campaign_cache_seconds: float = 60.0,
    ) -> None:
        self._pool = pool
        self._interval = interval
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._campaign = campaign or GaugeSettings().analytics_gauge_campaign
        # Finding the latest campaign scans the counted records: done once a minute at most.
        self._cache_seconds = campaign_cache_seconds
        self._latest: dict[str, tuple[float, str | None]] = {}

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
            measured = await self._campaign_of(conn, "measurements")
            swum = await self._campaign_of(conn, "swims")
            nutrition = eyes = swims = []
            if measured is not None:
                nutrition = await store.health_by_commune(
                    conn, "nutrition_cells", [*NUTRITION_STATUSES, "stunted"], measured
                )
                eyes = await store.health_by_commune(
                    conn, "eye_cells", ["examined", "any_condition", *EYE_CONDITIONS], measured
                )
            if swum is not None:
                swims = await store.health_by_commune(conn, "swim_cells", SWIM_COUNTERS, swum)
        self._publish_enrolment(rows)
        self._publish_health(measured, swum, nutrition, eyes, swims)

    async def _campaign_of(self, conn: Connection, source: str) -> str | None:
        if self._campaign is not None:
            return self._campaign
        cached = self._latest.get(source)
        if cached is not None and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        latest = await store.latest_campaign(conn, source)
        if latest is not None:  # the first campaign shows as soon as it arrives
            self._latest[source] = (time.monotonic(), latest)
        return latest

    @staticmethod
    def _publish_enrolment(rows: Sequence[asyncpg.Record]) -> None:
        _show(
            LEARNERS_ENROLLED,
            {key: sums["enrolled"] for key, sums in _per_commune(rows, ["enrolled"]).items()},
        )

    @staticmethod
    def _publish_health(
        measured: str | None,
        swum: str | None,
        nutrition: Sequence[asyncpg.Record],
        eyes: Sequence[asyncpg.Record],
        swims: Sequence[asyncpg.Record],
    ) -> None:
        campaigns: Series = {}
        if measured is not None:
            campaigns[("nutrition_eyes", measured)] = 1
        if swum is not None:
            campaigns[("swimming", swum)] = 1
        _show(HEALTH_GAUGE_CAMPAIGN, campaigns)
        learners: Series = {}
        stunted: Series = {}
        for key, sums in _per_commune(nutrition, [*NUTRITION_STATUSES, "stunted"]).items():
            for status in NUTRITION_STATUSES:
                learners[(*key, status)] = sums[status]
            stunted[key] = sums["stunted"]
        _show(NUTRITION_LEARNERS, learners)
        _show(NUTRITION_STUNTED, stunted)
        examined: Series = {}
        conditions: Series = {}
        for key, sums in _per_commune(eyes, ["examined", "any_condition", *EYE_CONDITIONS]).items():
            examined[key] = sums["examined"]
            conditions[(*key, "any")] = sums["any_condition"]
            for condition in EYE_CONDITIONS:
                conditions[(*key, condition)] = sums[condition]
        _show(EYE_EXAMINED, examined)
        _show(EYE_CONDITION, conditions)
        assessed: Series = {}
        non_swimmers: Series = {}
        shares: Series = {}
        for key, sums in _per_commune(swims, SWIM_COUNTERS).items():
            not_safe = sum(sums[a] for a in NOT_ABLE_TO_SWIM_SAFELY)
            assessed[key] = sums["assessed"]
            non_swimmers[key] = not_safe
            if sums["assessed"]:
                shares[key] = not_safe / sums["assessed"]
        _show(SWIMMING_ASSESSED, assessed)
        _show(SWIMMING_NON_SWIMMERS, non_swimmers)
        _show(SWIMMING_NON_SWIMMER_SHARE, shares)

    async def _run(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            started = time.monotonic()
            try:
                await self.refresh()
            except Exception:
                log.exception("gauge refresh failed")
                self._dirty.set()
            await asyncio.sleep(self.pause_after(time.monotonic() - started))

    def pause_after(self, refresh_seconds: float) -> float:
        """How long to wait before the next refresh. At least the interval: the batches of a
        second are coalesced into one refresh (Prometheus scrapes every 15 s or so). And at
        least REFRESH_COST_FACTOR times what the refresh took: each one reads every cell of
        the gauge campaign, about 0.15 s of database time at a million learners, which at
        one a second took a sixth of a core from the consumers while a backlog drained."""
        return max(self._interval, refresh_seconds * REFRESH_COST_FACTOR)
