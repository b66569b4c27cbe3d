"""SQL of the analytics service, one function per query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import asyncpg

from shared.db.pool import Connection


async def add_to_counts(conn: Connection, deltas: Mapping[tuple[str, str], int]) -> None:
    """Apply count deltas. Additions upsert; retractions update rows that must exist (a
    learner is retracted only from a cell they were counted in). They are separate statements
    because PostgreSQL checks `enrolled >= 0` on the row an INSERT proposes, before ON CONFLICT
    turns it into an update."""
    cells = sorted(deltas)  # a fixed order avoids deadlocks between concurrent batches
    added = [c for c in cells if deltas[c] > 0]
    retracted = [c for c in cells if deltas[c] < 0]
    if added:
        await conn.execute(
            """INSERT INTO school_enrolment (school_id, school_year, enrolled)
               SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
               ON CONFLICT (school_id, school_year)
               DO UPDATE SET enrolled = school_enrolment.enrolled + EXCLUDED.enrolled""",
            [c[0] for c in added],
            [c[1] for c in added],
            [deltas[c] for c in added],
        )
    if retracted:
        result = await conn.execute(
            """UPDATE school_enrolment e SET enrolled = e.enrolled + d.delta
               FROM unnest($1::text[], $2::text[], $3::bigint[]) AS d(school_id, school_year,
                                                                    delta)
               WHERE e.school_id = d.school_id AND e.school_year = d.school_year""",
            [c[0] for c in retracted],
            [c[1] for c in retracted],
            [deltas[c] for c in retracted],
        )
        if int(result.split()[-1]) != len(retracted):
            raise RuntimeError(f"retracting from cells never counted: {retracted}")


async def enrolment_under(conn: Connection, org_id: str) -> list[asyncpg.Record]:
    """Maintained counts of every school at or below `org_id`, by school year."""
    return await conn.fetch(
        """WITH RECURSIVE subtree(org_id, depth) AS (
               SELECT org_id, 0 FROM org_units WHERE org_id = $1
               UNION ALL
               SELECT o.org_id, s.depth + 1 FROM org_units o
               JOIN subtree s ON o.parent_id = s.org_id WHERE s.depth < 16)
           SELECT e.school_year, sum(e.enrolled)::bigint AS enrolled
           FROM school_enrolment e JOIN subtree s ON s.org_id = e.school_id
           GROUP BY e.school_year ORDER BY e.school_year""",
        org_id,
    )


async def enrolment_by_commune(conn: Connection) -> list[asyncpg.Record]:
    """Current enrolment per commune-level unit and per province (for the Prometheus gauges)."""
    return await conn.fetch(
        """SELECT coalesce(p.org_id, c.org_id, '') AS province,
                  CASE WHEN c.kind = 'commune' THEN c.org_id ELSE '' END AS commune,
                  sum(e.enrolled)::bigint AS enrolled
           FROM school_enrolment e
           JOIN org_units s ON s.org_id = e.school_id
           LEFT JOIN org_units c ON c.org_id = s.parent_id
           LEFT JOIN org_units p ON p.org_id = c.parent_id
           GROUP BY 1, 2"""
    )


# --------------------------------------------------------------------------- health gauges
# Read-only over the cells services/analytics/health_store.py maintains (migration 0003).

_LATEST_CAMPAIGN = {
    # The campaign whose newest measurement (or assessment) is the most recent.
    "measurements": """SELECT campaign_id FROM health_counted_measurements
                       GROUP BY campaign_id ORDER BY max(measured_on) DESC, campaign_id DESC
                       LIMIT 1""",
    "swims": """SELECT c.campaign_id FROM health_counted_swims c
                JOIN swim_assessments a ON a.assessment_id = c.assessment_id
                GROUP BY c.campaign_id ORDER BY max(a.assessed_on) DESC, c.campaign_id DESC
                LIMIT 1""",
}


async def latest_campaign(conn: Connection, source: str) -> str | None:
    """`source` is "measurements" (nutrition, eyes) or "swims"."""
    value = await conn.fetchval(_LATEST_CAMPAIGN[source])
    return str(value) if value is not None else None


HEALTH_CELL_TABLES = {"nutrition_cells", "eye_cells", "swim_cells"}


async def health_by_commune(
    conn: Connection, table: str, counters: Sequence[str], campaign_id: str
) -> list[asyncpg.Record]:
    """Sums of `counters` of `table`'s cells for one campaign, per commune-level unit (as
    `enrolment_by_commune`: commune '' for schools not under a commune)."""
    if table not in HEALTH_CELL_TABLES or not all(c.isidentifier() for c in counters):
        raise ValueError(f"not a health cell table or column: {table} {counters}")
    sums = ", ".join(f"sum(x.{c})::bigint AS {c}" for c in counters)
    return await conn.fetch(
        f"""SELECT coalesce(p.org_id, c.org_id, '') AS province,
                   CASE WHEN c.kind = 'commune' THEN c.org_id ELSE '' END AS commune, {sums}
            FROM {table} x
            JOIN org_units s ON s.org_id = x.school_id
            LEFT JOIN org_units c ON c.org_id = s.parent_id
            LEFT JOIN org_units p ON p.org_id = c.parent_id
            WHERE x.campaign_id = $1
            GROUP BY 1, 2""",
        campaign_id,
    )
