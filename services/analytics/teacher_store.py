"""SQL of the teachers-by-subject-and-age aggregates, one function per query."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import asyncpg

from services.analytics.cells import add_to_table
from services.analytics.domain.teacher_stats import (
    COUNTERS,
    CellKey,
    StaffRecord,
    TeacherShare,
)
from shared.db.keyed import rows_of_keys
from shared.db.pool import Connection

CELL_KEY = (
    ("school_id", "text"),
    ("main_subject", "text"),
    ("sex", "text"),
    ("birth_year", "smallint"),
    ("school_year_start", "smallint"),
)


def _record(r: asyncpg.Record) -> StaffRecord:
    share = None
    if r["school_id"] is not None:
        share = TeacherShare(
            school_id=r["school_id"],
            main_subject=r["main_subject"],
            sex=r["sex"],
            birth_year=r["birth_year"],
            first_year=r["first_year"],
            last_year=r["last_year"],
        )
    return StaffRecord(r["staff_id"], r["revision"], share)


async def lock_staff(conn: Connection, staff_ids: Sequence[str]) -> dict[str, StaffRecord]:
    """The held records of these staff, locked; staff not held yet are serialised by an
    advisory lock (a row lock cannot cover a row that does not exist)."""
    ids = sorted(set(staff_ids))
    await conn.execute(
        """SELECT pg_advisory_xact_lock(7420061, k)
           FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($1::text[]) AS id ORDER BY k) s""",
        ids,
    )
    rows = await conn.fetch(rows_of_keys("teacher_stats_staff", "staff_id", lock=True), ids)
    return {r["staff_id"]: _record(r) for r in rows}


async def save_records(conn: Connection, records: Mapping[str, StaffRecord]) -> None:
    if not records:
        return
    ids = sorted(records)
    shares = [records[i].share for i in ids]
    await conn.execute(
        """INSERT INTO teacher_stats_staff (staff_id, revision, school_id, main_subject, sex,
                                            birth_year, first_year, last_year)
           SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[],
                                $6::smallint[], $7::smallint[], $8::smallint[])
           ON CONFLICT (staff_id) DO UPDATE SET revision = EXCLUDED.revision,
               school_id = EXCLUDED.school_id, main_subject = EXCLUDED.main_subject,
               sex = EXCLUDED.sex, birth_year = EXCLUDED.birth_year,
               first_year = EXCLUDED.first_year, last_year = EXCLUDED.last_year
           -- A belt to the fold's braces: never overwrite a newer revision.
           WHERE teacher_stats_staff.revision < EXCLUDED.revision""",
        ids,
        [records[i].revision for i in ids],
        [None if s is None else s.school_id for s in shares],
        [None if s is None else s.main_subject for s in shares],
        [None if s is None else s.sex for s in shares],
        [None if s is None else s.birth_year for s in shares],
        [None if s is None else s.first_year for s in shares],
        [None if s is None else s.last_year for s in shares],
    )


async def add_to_cells(conn: Connection, deltas: Mapping[CellKey, Counter[str]]) -> None:
    await add_to_table(conn, "teacher_cells", CELL_KEY, COUNTERS, deltas)


async def all_records(conn: Connection) -> list[StaffRecord]:
    return [_record(r) for r in await conn.fetch("SELECT * FROM teacher_stats_staff")]


async def all_cells(conn: Connection) -> dict[CellKey, Counter[str]]:
    """The maintained cells, non-zero counts only (compare with `teacher_stats.recount`)."""
    cells: dict[CellKey, Counter[str]] = {}
    for r in await conn.fetch("SELECT * FROM teacher_cells"):
        counts = Counter({c: r[c] for c in COUNTERS if r[c]})
        if counts:
            key = (
                r["school_id"],
                r["main_subject"],
                r["sex"],
                r["birth_year"],
                r["school_year_start"],
            )
            cells[key] = counts
    return cells


async def teachers_under(conn: Connection, *, org_id: str, start_year: int) -> list[asyncpg.Record]:
    """Teachers counted in the school year starting in `start_year`, at or below `org_id`: rows
    of (part, main_subject, sex, birth_year, teachers), `part` being the direct child unit the
    school lies under (the school itself below a commune; `org_id` for its own cells)."""
    return await conn.fetch(
        """WITH RECURSIVE subtree(org_id, branch, depth) AS (
               SELECT org_id, NULL::text, 0 FROM org_units WHERE org_id = $1
               UNION ALL
               SELECT o.org_id, coalesce(s.branch, o.org_id), s.depth + 1 FROM org_units o
               JOIN subtree s ON o.parent_id = s.org_id WHERE s.depth < 16)
           SELECT coalesce(s.branch, s.org_id) AS part, c.main_subject, c.sex, c.birth_year,
                  sum(c.joined - c.departed)::bigint AS teachers
           FROM teacher_cells c JOIN subtree s ON s.org_id = c.school_id
           WHERE c.school_year_start <= $2
           GROUP BY 1, 2, 3, 4
           HAVING sum(c.joined - c.departed) <> 0
           ORDER BY 1, 2, 3, 4""",
        org_id,
        start_year,
    )
