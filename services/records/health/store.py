"""SQL of health checks, one function per query.

Measurements and swim assessments share one shape (`VersionedTable`): one current row per
learner and campaign (`replaced_by IS NULL`), earlier rows kept and pointing at their
replacement. Callers hold the learner's row lock (`lock_learners`) before they read the current
rows and write new ones, so two submissions for one learner never race.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from shared.db.pool import Connection

# Below this many rows an INSERT is cheaper than setting up a COPY.
COPY_THRESHOLD = 32


@dataclass(frozen=True)
class VersionedTable:
    """A table of one-current-per-learner-and-campaign records."""

    name: str
    id_column: str
    # Compared to decide "unchanged", in this order; written as they are.
    content_columns: tuple[str, ...]
    # Columns a list returns besides the id, learner and campaign.
    date_column: str

    @property
    def write_columns(self) -> tuple[str, ...]:
        return (
            self.id_column,
            "learner_id",
            "campaign_id",
            *self.content_columns,
            "recorded_at",
            "recorded_by",
            "import_id",
            "replaces",
            "replaced_by",
            "superseded_at",
        )

    @property
    def read_columns(self) -> str:
        return ", ".join(
            (
                self.id_column,
                "learner_id",
                "campaign_id",
                *self.content_columns,
                "recorded_at",
                "replaces",
                "replaced_by",
                "superseded_at",
            )
        )


MEASUREMENTS = VersionedTable(
    name="health_measurements",
    id_column="measurement_id",
    content_columns=(
        "school_id",
        "class_id",
        "measured_on",
        "sex",
        "birth_date",
        "height_cm",
        "weight_kg",
        "eyesight_left",
        "eyesight_right",
        "eye_conditions",
        "grade",
    ),
    date_column="measured_on",
)
SWIMS = VersionedTable(
    name="swim_assessments",
    id_column="assessment_id",
    content_columns=("school_id", "class_id", "assessed_on", "ability", "grade", "sex"),
    date_column="assessed_on",
)


# --- campaigns --------------------------------------------------------------------------------

CAMPAIGN_COLUMNS = (
    "campaign_id, org_id, name, school_year, term, starts_on, ends_on, created_by, created_at"
)


async def insert_campaign(
    conn: Connection,
    *,
    campaign_id: str,
    org_id: str,
    name: str,
    school_year: str,
    term: int,
    starts_on: date,
    ends_on: date,
    created_by: str,
) -> asyncpg.Record | None:
    """The new campaign, or None if the id is taken."""
    return await conn.fetchrow(
        "INSERT INTO health_campaigns (campaign_id, org_id, name, school_year, term, starts_on, "
        "ends_on, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        f"ON CONFLICT (campaign_id) DO NOTHING RETURNING {CAMPAIGN_COLUMNS}",
        campaign_id,
        org_id,
        name,
        school_year,
        term,
        starts_on,
        ends_on,
        created_by,
    )


async def get_campaigns(conn: Connection, campaign_ids: Sequence[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {CAMPAIGN_COLUMNS} FROM health_campaigns WHERE campaign_id = ANY($1::text[])",
        list(campaign_ids),
    )


# --- learners -----------------------------------------------------------------------------------


async def lock_learners(conn: Connection, learner_ids: Sequence[str]) -> list[asyncpg.Record]:
    """Lock the learners' rows (in id order, so concurrent writers cannot deadlock on one
    batch) and return their sex, birth date and active enrolment (school, class, grade)."""
    return await conn.fetch(
        "SELECT l.learner_id, l.sex, l.birth_date, e.school_id, e.class_id, e.grade "
        "FROM learners l LEFT JOIN enrolments e "
        "ON e.learner_id = l.learner_id AND e.status = 'active' "
        "WHERE l.learner_id = ANY($1::text[]) ORDER BY l.learner_id FOR NO KEY UPDATE OF l",
        list(learner_ids),
    )


async def active_school_of(conn: Connection, learner_id: str) -> str | None:
    return await conn.fetchval(
        "SELECT school_id FROM enrolments WHERE learner_id = $1 AND status = 'active'",
        learner_id,
    )


# --- versioned records ----------------------------------------------------------------------------


async def current_records(
    conn: Connection, table: VersionedTable, keys: Sequence[tuple[str, str]]
) -> list[asyncpg.Record]:
    """The current rows of (learner_id, campaign_id) pairs."""
    return await conn.fetch(
        f"SELECT {table.read_columns} FROM {table.name} t "
        "JOIN unnest($1::text[], $2::text[]) AS k(learner_id, campaign_id) "
        "USING (learner_id, campaign_id) WHERE t.replaced_by IS NULL",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )


async def supersede(
    conn: Connection,
    table: VersionedTable,
    *,
    replaced: Sequence[uuid.UUID],
    replaced_by: Sequence[uuid.UUID],
    at: datetime,
) -> None:
    """Mark current rows as replaced (before their replacements are written: the index allows
    one current row per learner and campaign)."""
    if not replaced:
        return
    await conn.execute(
        f"UPDATE {table.name} t SET replaced_by = r.new_id, superseded_at = $3 "
        "FROM unnest($1::uuid[], $2::uuid[]) AS r(old_id, new_id) "
        f"WHERE t.{table.id_column} = r.old_id AND t.replaced_by IS NULL",
        list(replaced),
        list(replaced_by),
        at,
    )


async def insert_records(
    conn: Connection, table: VersionedTable, rows: Sequence[Sequence[Any]]
) -> None:
    """Rows in `table.write_columns` order: COPY for a batch, INSERT for a few."""
    if not rows:
        return
    columns = table.write_columns
    if len(rows) >= COPY_THRESHOLD:
        await conn.copy_records_to_table(table.name, records=rows, columns=columns)
        return
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    await conn.executemany(
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})", rows
    )


async def learner_records(
    conn: Connection, table: VersionedTable, learner_id: str, *, include_superseded: bool
) -> list[asyncpg.Record]:
    """A learner's current rows, and the superseded ones if asked (two partial indexes)."""
    current = await conn.fetch(
        f"SELECT {table.read_columns} FROM {table.name} "
        "WHERE learner_id = $1 AND replaced_by IS NULL",
        learner_id,
    )
    history: list[asyncpg.Record] = []
    if include_superseded:
        history = await conn.fetch(
            f"SELECT {table.read_columns} FROM {table.name} "
            "WHERE learner_id = $1 AND replaced_by IS NOT NULL",
            learner_id,
        )
    return sorted(
        [*current, *history], key=lambda r: (r[table.date_column], r["recorded_at"]), reverse=True
    )


async def list_current(
    conn: Connection,
    table: VersionedTable,
    *,
    campaign_id: str,
    school_id: str,
    class_id: str | None,
    after: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Current rows of one school (or one class of it) in a campaign, paged by learner."""
    return await conn.fetch(
        f"SELECT {table.read_columns} FROM {table.name} "
        "WHERE campaign_id = $1 AND school_id = $2 AND replaced_by IS NULL "
        "AND ($3::text IS NULL OR class_id = $3) AND ($4::text IS NULL OR learner_id > $4) "
        "ORDER BY learner_id LIMIT $5",
        campaign_id,
        school_id,
        class_id,
        after,
        limit,
    )
