"""SQL of the teacher-shortage forecast: teachers kept from events, and the forecast's inputs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import asyncpg

from shared.db.pool import Connection
from shared.events.contracts.records import StaffUpdated


async def save_staff(conn: Connection, staff: Sequence[StaffUpdated]) -> int:
    """Upsert each profile unless a newer or equal revision is held; returns rows changed."""
    if not staff:
        return 0
    rows = sorted(staff, key=lambda s: s.staff_id)  # a fixed order avoids deadlocks
    # Subject lists differ in length, which a text[][] cannot hold: they travel as one jsonb
    # array of arrays, matched by position.
    result = await conn.execute(
        """INSERT INTO forecast_teachers (staff_id, revision, school_id, position, subjects,
                                          birth_date, sex, employed_from, employed_until)
           SELECT s.staff_id, s.revision, s.school_id, s.position,
                  coalesce((SELECT array_agg(x ORDER BY o)
                            FROM jsonb_array_elements_text($5::jsonb -> (s.n - 1)::int)
                                 WITH ORDINALITY AS t(x, o)), '{}'),
                  s.birth_date, s.sex, s.employed_from, s.employed_until
           FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $6::date[], $7::text[],
                       $8::date[], $9::date[])
                WITH ORDINALITY AS s(staff_id, revision, school_id, position, birth_date, sex,
                                     employed_from, employed_until, n)
           ON CONFLICT (staff_id) DO UPDATE SET revision = EXCLUDED.revision,
               school_id = EXCLUDED.school_id, position = EXCLUDED.position,
               subjects = EXCLUDED.subjects, birth_date = EXCLUDED.birth_date,
               sex = EXCLUDED.sex, employed_from = EXCLUDED.employed_from,
               employed_until = EXCLUDED.employed_until
           WHERE forecast_teachers.revision < EXCLUDED.revision""",
        [s.staff_id for s in rows],
        [s.revision for s in rows],
        [s.school_id for s in rows],
        [s.position for s in rows],
        [list(s.subjects) for s in rows],  # one jsonb (the pool's codec encodes it)
        [s.birth_date for s in rows],
        [s.sex for s in rows],
        [s.employed_from for s in rows],
        [s.employed_until for s in rows],
    )
    return int(result.split()[-1])


async def schools_under(conn: Connection, root: str) -> list[asyncpg.Record]:
    """Every school at or below `root`, with its parent unit (the commune) and school type."""
    return await conn.fetch(
        """WITH RECURSIVE subtree(org_id, depth) AS (
               SELECT org_id, 0 FROM org_units WHERE org_id = $1
               UNION ALL
               SELECT o.org_id, s.depth + 1 FROM org_units o
               JOIN subtree s ON o.parent_id = s.org_id WHERE s.depth < 16)
           SELECT u.org_id, u.name, u.school_type, u.parent_id
           FROM org_units u JOIN subtree s ON s.org_id = u.org_id
           WHERE u.kind = 'school' AND u.valid_to IS NULL AND u.merged_into IS NULL
           ORDER BY u.org_id""",
        root,
    )


async def latest_school_year(conn: Connection, school_ids: Sequence[str]) -> str | None:
    return await conn.fetchval(
        """SELECT max(school_year) FROM enrolment_intervals
           WHERE school_id = ANY($1::text[]) AND valid_to IS NULL""",
        list(school_ids),
    )


async def enrolment_by_grade(
    conn: Connection, school_ids: Sequence[str], school_year: str
) -> list[asyncpg.Record]:
    """Learners placed now, by school and general-education grade, in one school year: the
    open intervals of the enrolment history, which are exactly the placements of the learners'
    newest revisions (an older revision's interval ends where a newer one starts; a leaver's
    newest revision places them nowhere)."""
    return await conn.fetch(
        """SELECT school_id, grade, count(*)::int AS learners FROM enrolment_intervals
           WHERE valid_to IS NULL AND school_year = $2 AND school_id = ANY($1::text[])
             AND grade BETWEEN 1 AND 12
           GROUP BY school_id, grade ORDER BY school_id, grade""",
        list(school_ids),
        school_year,
    )


async def teachers_at(
    conn: Connection, school_ids: Sequence[str], from_day: date, until_day: date
) -> list[asyncpg.Record]:
    """Teachers of these schools with a main subject, employed some time in [from, until)."""
    return await conn.fetch(
        """SELECT staff_id, school_id, subjects[1] AS main_subject, birth_date, sex
           FROM forecast_teachers
           WHERE school_id = ANY($1::text[]) AND position = 'teacher'
             AND cardinality(subjects) > 0
             AND employed_from < $3 AND (employed_until IS NULL OR employed_until >= $2)
           ORDER BY staff_id""",
        list(school_ids),
        from_day,
        until_day,
    )


async def units(conn: Connection, org_ids: Sequence[str]) -> dict[str, asyncpg.Record]:
    rows = await conn.fetch(
        "SELECT org_id, kind, name FROM org_units WHERE org_id = ANY($1::text[])", list(org_ids)
    )
    return {r["org_id"]: r for r in rows}
