"""SQL of the enrolment history (as-of figures) and of frozen censuses."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from services.analytics.domain.census import (
    HistoryEvent,
    Interval,
    Merge,
    SchoolCell,
    Unit,
    UnitCell,
)
from shared.db.keyed import delete_keys, rows_of_keys
from shared.db.pool import Connection

# --------------------------------------------------------------------------- history


HISTORY_COLUMNS = (
    "learner_id", "revision", "event_type", "effective_on", "school_id", "school_year", "grade",
    "sex", "event_time",
)  # fmt: skip


async def remember_events(
    conn: Connection, events: Sequence[tuple[HistoryEvent, datetime]]
) -> None:
    """Keep each (event, CloudEvents time): the caller passes only (learner, revision) pairs
    not held, under the learners' locks (`lock_learners`), so a plain COPY cannot conflict; if
    it did, the unique violation fails the batch rather than dropping an event silently."""
    if not events:
        return
    await conn.copy_records_to_table(
        "enrolment_history_events",
        columns=HISTORY_COLUMNS,
        records=[
            (
                e.learner_id,
                e.revision,
                e.event_type,
                e.effective_on,
                e.school_id,
                e.school_year,
                e.grade,
                e.sex,
                time,
            )
            for e, time in events
        ],
    )


async def lock_learners(conn: Connection, learner_ids: Sequence[str]) -> None:
    """Serialise enrolment batches that touch the same learner (two members of the group may
    hold an enrolment and a transfer of one learner: they are on different topics), including
    learners with no row yet, which a row lock cannot cover. One fixed order: no deadlock."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('enrolment-history:' || id, 0)) "
        "FROM (SELECT DISTINCT id FROM unnest($1::text[]) AS id ORDER BY id) AS sorted",
        list(learner_ids),
    )


async def events_of(conn: Connection, learner_ids: Sequence[str]) -> dict[str, list[HistoryEvent]]:
    """Every remembered event of these learners (lock them first: `lock_learners`)."""
    rows = await conn.fetch(
        rows_of_keys(
            "enrolment_history_events",
            "learner_id",
            select="t.learner_id, t.revision, t.event_type, t.effective_on, t.school_id, "
            "t.school_year, t.grade, t.sex",
        ),
        list(learner_ids),
    )
    found: dict[str, list[HistoryEvent]] = {learner: [] for learner in learner_ids}
    for r in rows:
        found[r["learner_id"]].append(
            HistoryEvent(
                r["learner_id"],
                r["revision"],
                r["event_type"],
                r["effective_on"],
                r["school_id"],
                r["school_year"],
                r["grade"],
                r["sex"],
            )
        )
    return found


INTERVAL_COLUMNS = (
    "learner_id", "revision", "school_id", "school_year", "grade", "sex", "valid_from",
    "valid_to",
)  # fmt: skip


async def replace_intervals(
    conn: Connection, learner_ids: Sequence[str], intervals: Sequence[Interval]
) -> None:
    """Delete the intervals of LEARNER_IDS and insert INTERVALS (the caller may leave out of
    LEARNER_IDS the learners it knows have none, saving their probes)."""
    if learner_ids:
        await conn.execute(delete_keys("enrolment_intervals", "learner_id"), list(learner_ids))
    if not intervals:
        return
    # COPY: one round trip for the batch, and the cheapest insert for the server.
    await conn.copy_records_to_table(
        "enrolment_intervals",
        columns=INTERVAL_COLUMNS,
        records=[
            (
                i.learner_id,
                i.revision,
                i.school_id,
                i.school_year,
                i.grade,
                i.sex,
                i.valid_from,
                i.valid_to,
            )
            for i in intervals
        ],
    )


async def remember_merges(conn: Connection, merges: Sequence[Merge]) -> None:
    """Merges arrive as not undone, unmerges as undone; `undone` only ever turns true."""
    for merge in merges:
        await conn.execute(
            """INSERT INTO enrolment_person_merges (merge_id, survivor_id, merged_id, undone)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (merge_id) DO UPDATE
               SET undone = enrolment_person_merges.undone OR EXCLUDED.undone""",
            uuid.UUID(merge.merge_id),
            merge.survivor_id,
            merge.merged_id,
            merge.undone,
        )


async def all_intervals(conn: Connection) -> list[Interval]:
    rows = await conn.fetch(
        "SELECT learner_id, revision, school_id, school_year, grade, sex, valid_from, valid_to "
        "FROM enrolment_intervals"
    )
    return [Interval(*r.values()) for r in rows]


async def all_merges(conn: Connection) -> list[Merge]:
    rows = await conn.fetch(
        "SELECT merge_id::text, survivor_id, merged_id, undone FROM enrolment_person_merges"
    )
    return [Merge(*r.values()) for r in rows]


# --------------------------------------------------------------------------- as of a date

# One placement per child on $1 (see domain/census.py, headcount_on, which this must equal):
# merged IDs resolve to their survivor along chains of active merges; the survivor's own
# placement wins, then the latest start, then the smallest ID. A learner has at most one
# placement on a day (the intervals of one learner never overlap), so only the few learners
# joined by merges need choosing; everybody else is counted straight, school by school.
_CELLS_ON = """
WITH RECURSIVE chain(learner_id, person, depth) AS (
    SELECT merged_id, survivor_id, 1 FROM enrolment_person_merges WHERE NOT undone
    UNION ALL
    SELECT c.learner_id, m.survivor_id, c.depth + 1
    FROM chain c JOIN enrolment_person_merges m ON m.merged_id = c.person AND NOT m.undone
    WHERE c.depth < 16
),
person_of AS (
    SELECT DISTINCT ON (learner_id) learner_id, person FROM chain
    ORDER BY learner_id, depth DESC, person
),
joined AS (
    SELECT learner_id FROM person_of UNION SELECT person FROM person_of
),
subtree(org_id, depth) AS (
    SELECT org_id, 0 FROM org_units WHERE org_id = $2
    UNION ALL
    SELECT o.org_id, s.depth + 1 FROM org_units o JOIN subtree s ON o.parent_id = s.org_id
    WHERE s.depth < 16
),
chosen AS (
    SELECT DISTINCT ON (coalesce(p.person, i.learner_id))
           i.school_id, i.school_year, i.grade, i.sex
    FROM enrolment_intervals i
    JOIN joined j ON j.learner_id = i.learner_id
    LEFT JOIN person_of p ON p.learner_id = i.learner_id
    WHERE i.valid_from <= $1 AND (i.valid_to IS NULL OR i.valid_to > $1)
    ORDER BY coalesce(p.person, i.learner_id), p.person IS NOT NULL, i.valid_from DESC,
             i.learner_id
),
placed AS (
    SELECT c.school_id, c.school_year, c.grade, c.sex FROM chosen c
    UNION ALL
    SELECT i.school_id, i.school_year, i.grade, i.sex
    FROM enrolment_intervals i JOIN subtree s ON s.org_id = i.school_id
    WHERE i.valid_from <= $1 AND (i.valid_to IS NULL OR i.valid_to > $1)
      AND NOT EXISTS (SELECT 1 FROM joined j WHERE j.learner_id = i.learner_id)
)
SELECT x.school_id, x.school_year, x.grade, x.sex, count(*)::bigint AS enrolled
FROM placed x JOIN subtree s ON s.org_id = x.school_id
GROUP BY 1, 2, 3, 4
"""


async def cells_on(conn: Connection, day: date, root: str) -> Counter[SchoolCell]:
    """Learners per (school, school year, grade, sex) on `day`, for the schools at or below
    `root` in the organisation mirror as it is now."""
    rows = await conn.fetch(_CELLS_ON, day, root)
    return Counter(
        {(r["school_id"], r["school_year"], r["grade"], r["sex"]): r["enrolled"] for r in rows}
    )


async def units_under(conn: Connection, root: str) -> list[Unit]:
    rows = await conn.fetch(
        """WITH RECURSIVE subtree(org_id, depth) AS (
               SELECT org_id, 0 FROM org_units WHERE org_id = $1
               UNION ALL
               SELECT o.org_id, s.depth + 1 FROM org_units o
               JOIN subtree s ON o.parent_id = s.org_id WHERE s.depth < 16)
           SELECT u.org_id, u.kind, u.name, u.parent_id
           FROM org_units u JOIN subtree s USING (org_id) ORDER BY u.org_id""",
        root,
    )
    return [Unit(r["org_id"], r["kind"], r["name"], r["parent_id"]) for r in rows]


# --------------------------------------------------------------------------- censuses


@dataclass(frozen=True)
class Watermark:
    events_applied: int
    merges_applied: int
    last_event_recorded_at: datetime | None
    last_event_time: datetime | None


async def freeze_history(conn: Connection) -> Watermark:
    """Hold the history still until the transaction ends (consumer batches wait), so that the
    figures computed next and the watermark returned here describe the same events."""
    await conn.execute(
        "LOCK TABLE enrolment_history_events, enrolment_intervals, enrolment_person_merges "
        "IN SHARE MODE"
    )
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM enrolment_history_events) AS events_applied,
                  (SELECT count(*) FROM enrolment_person_merges) AS merges_applied,
                  (SELECT max(recorded_at) FROM enrolment_history_events) AS last_recorded,
                  (SELECT max(event_time) FROM enrolment_history_events) AS last_time"""
    )
    assert row is not None
    return Watermark(
        row["events_applied"], row["merges_applied"], row["last_recorded"], row["last_time"]
    )


async def insert_census(
    conn: Connection,
    *,
    census_id: uuid.UUID,
    org_id: str,
    census_date: date,
    label: str,
    frozen_by: str,
    watermark: Watermark,
    org_tree: str,
    units: Sequence[Unit],
    figures: dict[str, Counter[UnitCell]],
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """INSERT INTO census (census_id, org_id, census_date, label, frozen_at, frozen_by,
               events_applied, merges_applied, last_event_recorded_at, last_event_time,
               total_enrolled, org_tree)
           VALUES ($1, $2, $3, $4, now(), $5, $6, $7, $8, $9, $10, $11) RETURNING *""",
        census_id,
        org_id,
        census_date,
        label,
        frozen_by,
        watermark.events_applied,
        watermark.merges_applied,
        watermark.last_event_recorded_at,
        watermark.last_event_time,
        sum(figures.get(org_id, Counter()).values()),
        org_tree,
    )
    assert row is not None
    await conn.executemany(
        "INSERT INTO census_units (census_id, org_id, kind, name, parent_id) "
        "VALUES ($1, $2, $3, $4, $5)",
        [(census_id, u.org_id, u.kind, u.name, u.parent_id) for u in units],
    )
    await conn.executemany(
        "INSERT INTO census_figures (census_id, org_id, school_year, grade, sex, enrolled) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        [
            (census_id, org, year, grade, sex, count)
            for org, cells in figures.items()
            for (year, grade, sex), count in cells.items()
            if count
        ],
    )
    return row


async def get_census(conn: Connection, census_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM census WHERE census_id = $1", census_id)


async def list_census(
    conn: Connection, member_org: str | None, after: tuple[str, str] | None, limit: int
) -> list[asyncpg.Record]:
    """Newest first; only censuses that cover `member_org` (None: all)."""
    return await conn.fetch(
        """SELECT c.* FROM census c
           WHERE ($1::text IS NULL OR EXISTS (
                     SELECT 1 FROM census_units u
                     WHERE u.census_id = c.census_id AND u.org_id = $1))
             AND ($2::timestamptz IS NULL OR (c.frozen_at, c.census_id) < ($2, $3::uuid))
           ORDER BY c.frozen_at DESC, c.census_id DESC LIMIT $4""",
        member_org,
        datetime.fromisoformat(after[0]) if after else None,
        uuid.UUID(after[1]) if after else None,
        limit,
    )


async def census_units(conn: Connection, census_id: uuid.UUID) -> list[Unit]:
    rows = await conn.fetch(
        "SELECT org_id, kind, name, parent_id FROM census_units WHERE census_id = $1 "
        "ORDER BY org_id",
        census_id,
    )
    return [Unit(r["org_id"], r["kind"], r["name"], r["parent_id"]) for r in rows]


async def census_figures(
    conn: Connection, census_id: uuid.UUID, org_ids: Sequence[str]
) -> dict[str, Counter[UnitCell]]:
    rows = await conn.fetch(
        "SELECT org_id, school_year, grade, sex, enrolled FROM census_figures "
        "WHERE census_id = $1 AND org_id = ANY($2::text[])",
        census_id,
        list(org_ids),
    )
    figures: dict[str, Counter[UnitCell]] = {org: Counter() for org in org_ids}
    for r in rows:
        figures[r["org_id"]][(r["school_year"], r["grade"], r["sex"])] = r["enrolled"]
    return figures
