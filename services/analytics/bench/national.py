"""Province queries at national scale: the maintained aggregates of a whole country, timed.

The aggregate tables (not per-learner rows) are filled directly with generate_series to stand
for LEARNERS learners in SCHOOLS schools under COMMUNES commune-level units of PROVINCES
provinces: every school has classes of at most 36, every class a grade and two sex cells per
campaign, with plausible shares in every counter. Then the functions behind the API's routes
are called for one province, as the routes call them, and their SQL is EXPLAINed to show that
they read cells of that province's schools, not learners.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from services.analytics import api, health_api, health_store, store
from services.analytics.bench.measure import percentile
from shared.auth import Principal
from shared.db.pool import Connection

CURRENT_YEAR = "2025-2026"
YEARS = ("2023-2024", "2024-2025", CURRENT_YEAR)
MAX_CLASS = 36


@dataclass(frozen=True)
class Nation:
    learners: int = 23_000_000
    schools: int = 40_000
    communes: int = 3_321  # commune-level units since 1 July 2025
    provinces: int = 34  # provinces and centrally-run cities since 1 July 2025
    campaigns: int = 2  # the current campaign and last year's: queries pick one

    def campaign(self, index: int) -> str:
        return f"NAT-{2025 - self.campaigns + 1 + index}-HK1"

    @property
    def current_campaign(self) -> str:
        return self.campaign(self.campaigns - 1)

    def province(self, index: int) -> str:
        return f"NP{index:02d}"


@dataclass
class QueryTiming:
    name: str
    milliseconds: list[float]

    @property
    def p50(self) -> float:
        return percentile(self.milliseconds, 0.5)

    @property
    def p99(self) -> float:
        return percentile(self.milliseconds, 0.99)


@dataclass
class NationalResult:
    nation: Nation
    fill_seconds: float
    rows: dict[str, int]
    province_id: str
    province_learners: int
    answered: dict[str, int]  # what the timed functions answered (checked against the fill)
    timings: list[QueryTiming] = field(default_factory=list)
    plans: dict[str, list[str]] = field(default_factory=dict)


_SCHOOLS = f"""
    school AS (
        SELECT s, 'NS' || lpad(s::text, 6, '0') AS school_id,
               $1::bigint / $2 + CASE WHEN s < $1::bigint % $2 THEN 1 ELSE 0 END AS learners
        FROM generate_series(0, $2 - 1) AS s),
    class AS (
        SELECT school_id, c, learners / k + CASE WHEN c < learners % k THEN 1 ELSE 0 END AS size
        FROM (SELECT *, greatest(1, ceil(learners / {MAX_CLASS}.0)::int) AS k FROM school) x,
             generate_series(0, k - 1) AS c),
    cell AS (
        SELECT school_id, school_id || '-' || c AS class_id, (c % 13)::smallint AS grade,
               sex, CASE sex WHEN 'male' THEN size - size / 2 ELSE size / 2 END::bigint AS n
        FROM class, (VALUES ('male'), ('female')) AS v(sex)),
    campaign AS (SELECT unnest($3::text[]) AS campaign_id)"""

_FILL = (
    """INSERT INTO org_units (org_id, revision, kind, name, parent_id, school_type, valid_from)
       SELECT 'NP' || lpad(p::text, 2, '0'), 1, 'province', 'Tỉnh ' || p, NULL, NULL,
              DATE '2025-07-01'
       FROM generate_series(0, $1 - 1) AS p
       UNION ALL
       SELECT 'NC' || lpad(c::text, 5, '0'), 1, 'commune', 'Xã ' || c,
              'NP' || lpad((c % $1)::text, 2, '0'), NULL, DATE '2025-07-01'
       FROM generate_series(0, $2 - 1) AS c
       UNION ALL
       SELECT 'NS' || lpad(s::text, 6, '0'), 1, 'school', 'Trường ' || s,
              'NC' || lpad((s % $2)::text, 5, '0'), 'multi_level', DATE '2025-07-01'
       FROM generate_series(0, $3 - 1) AS s""",
    f"""WITH {_SCHOOLS}
        INSERT INTO school_enrolment (school_id, school_year, enrolled)
        SELECT school_id, y.year,
               greatest(0, learners - (array_length($3::text[], 1) - y.n) * (s % 7))
        FROM school, unnest($3::text[]) WITH ORDINALITY AS y(year, n)""",
    f"""WITH {_SCHOOLS}
        INSERT INTO nutrition_cells (campaign_id, school_id, class_id, grade, sex, age_group,
            measured, normal, overweight, obese, thin, severely_thin, wasted, severely_wasted,
            flagged, unknown, stunted)
        SELECT campaign_id, school_id, class_id, grade, sex,
               CASE WHEN grade = 0 THEN 'under_5' ELSE '5_19' END,
               n, n - n * 15 / 100 - n * 8 / 100 - n * 7 / 100 - n / 100 - n / 100
                    - n * 2 / 100,
               n * 15 / 100, n * 8 / 100,
               CASE WHEN grade = 0 THEN 0 ELSE n * 7 / 100 END,
               CASE WHEN grade = 0 THEN 0 ELSE n / 100 END,
               CASE WHEN grade = 0 THEN n * 7 / 100 ELSE 0 END,
               CASE WHEN grade = 0 THEN n / 100 ELSE 0 END,
               n / 100, n * 2 / 100, n * 5 / 100
        FROM cell, campaign""",
    f"""WITH {_SCHOOLS}
        INSERT INTO eye_cells (campaign_id, school_id, class_id, grade, sex, examined,
            any_condition, myopia, hyperopia, astigmatism, strabismus, other, acuity_measured,
            reduced_acuity)
        SELECT campaign_id, school_id, class_id, grade, sex, n, n * 30 / 100, n * 25 / 100,
               n * 3 / 100, n * 5 / 100, n / 100, 0, n, n * 20 / 100
        FROM cell, campaign""",
    f"""WITH {_SCHOOLS}
        INSERT INTO swim_cells (campaign_id, school_id, class_id, grade, sex, assessed,
            cannot_swim, swims_with_aid, swims_25m_unaided)
        SELECT campaign_id, school_id, class_id, grade, sex, n, n * 40 / 100, n * 20 / 100,
               n - n * 40 / 100 - n * 20 / 100
        FROM cell, campaign""",
)


async def fill(conn: Connection, nation: Nation) -> dict[str, int]:
    """The organisation tree and every aggregate table; returns the row counts."""
    campaigns = [nation.campaign(i) for i in range(nation.campaigns)]
    orgs, enrolment, *cells = _FILL
    await conn.execute(orgs, nation.provinces, nation.communes, nation.schools)
    await conn.execute(enrolment, nation.learners, nation.schools, list(YEARS))
    for statement in cells:
        await conn.execute(statement, nation.learners, nation.schools, campaigns)
    await conn.execute("VACUUM ANALYZE")
    rows = {}
    for table in ("org_units", "school_enrolment", "nutrition_cells", "eye_cells", "swim_cells"):
        rows[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return rows


class CapturingConnection:
    """Passes every call to the connection and keeps the SQL and arguments of each fetch."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.queries: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        self.queries.append((query, args))
        return await self._conn.fetch(query, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


async def explain(conn: Any, capture: Callable[[Any], Awaitable[object]]) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the query a store function sends."""
    capturing = CapturingConnection(conn)
    await capture(capturing)
    query, args = capturing.queries[-1]
    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {query}", *args)
    return [r[0] for r in rows]


async def time_queries(
    pool: asyncpg.Pool,
    nation: Nation,
    *,
    province_index: int,
    runs: int,
    fill_seconds: float,
    rows: dict[str, int],
) -> NationalResult:
    province = nation.province(province_index)
    campaign = nation.current_campaign
    principal = Principal(subject="bench", role="department", org_id=province)
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "enrolment (GET /stats/enrolment)": lambda: api.enrolment(province, pool, principal),
        "nutrition (GET /stats/nutrition)": lambda: health_api.nutrition_statistics(
            province, campaign, pool, principal
        ),
        "swimming (GET /stats/swimming)": lambda: health_api.swimming_statistics(
            province, campaign, pool, principal
        ),
        "eyes (GET /stats/eyes)": lambda: health_api.eye_statistics(
            province, campaign, pool, principal
        ),
    }
    answers = {name: await call() for name, call in calls.items()}  # also warms the cache
    async with pool.acquire() as conn:
        learners = await conn.fetchval(
            """SELECT sum(e.enrolled) FROM school_enrolment e
               JOIN org_units s ON s.org_id = e.school_id
               JOIN org_units c ON c.org_id = s.parent_id
               WHERE c.parent_id = $1 AND e.school_year = $2""",
            province,
            CURRENT_YEAR,
        )
        plans = {
            "enrolment_under": await explain(conn, lambda c: store.enrolment_under(c, province)),
            "nutrition_under": await explain(
                conn,
                lambda c: health_store.nutrition_under(
                    c, org_id=province, campaign_id=campaign, by_class=False
                ),
            ),
        }
    result = NationalResult(
        nation=nation,
        fill_seconds=fill_seconds,
        rows=rows,
        province_id=province,
        province_learners=int(learners or 0),
        answered={
            "enrolled": _current(answers["enrolment (GET /stats/enrolment)"]),
            "measured": answers["nutrition (GET /stats/nutrition)"].total.measured,
            "swim_assessed": answers["swimming (GET /stats/swimming)"].total.assessed,
            "eyes_examined": answers["eyes (GET /stats/eyes)"].total.examined,
        },
        plans=plans,
    )
    for name, call in calls.items():
        timing = QueryTiming(name, [])
        for _ in range(runs):
            started = time.perf_counter()
            await call()
            timing.milliseconds.append((time.perf_counter() - started) * 1000)
        result.timings.append(timing)
    return result


def _current(stats: api.EnrolmentStats) -> int:
    return sum(y.enrolled for y in stats.by_school_year if y.school_year == CURRENT_YEAR)
