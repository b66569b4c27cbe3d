"""Following identity's merges: when two records of one learner are merged, everything records
holds under the retired ID moves to the survivor, without counting the learner twice.

- The retired learner's active enrolment ends (reason `merged`, published as
  records.student.left); if the survivor had none, the survivor takes over the placement
  (published as records.student.enrolled), so analytics retracts one and adds one.
- Every row keyed by the retired ID (enrolment history, and the tables listed in
  LEARNER_KEYED_TABLES) is re-keyed to the survivor, and the moved rows are remembered per merge
  so that an unmerge moves them back.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from services.records import lifecycle_store, store
from services.records.handlers import SOURCE
from shared.consumer.runner import EventConsumer, IncomingEvent
from shared.db.pool import Connection
from shared.events.contracts.identity import PersonMerged, PersonUnmerged
from shared.events.contracts.records import StudentEnrolled, StudentLeft
from shared.outbox.writer import add_event

# (table, primary key column) of every table keyed by learner_id that follows a merge.
LEARNER_KEYED_TABLES: list[tuple[str, str]] = [
    ("enrolments", "enrolment_id"),
    ("grade_entries", "entry_id"),
    ("grade_corrections", "correction_id"),
    ("health_measurements", "measurement_id"),
    ("swim_assessments", "assessment_id"),
]

# Tables that hold one current value per learner and slot (a campaign, a gradebook cell): where
# both records have a current value in the same slot, the survivor's stays current and the
# retired one's is superseded by it (remembered, so an unmerge makes it current again).
# (table, key, pointer to the replacement, extra columns to set, slot columns)
SLOT_TABLES: list[tuple[str, str, str, str, tuple[str, ...]]] = [
    (
        "health_measurements",
        "measurement_id",
        "replaced_by",
        ", superseded_at = now()",
        ("campaign_id",),
    ),
    (
        "swim_assessments",
        "assessment_id",
        "replaced_by",
        ", superseded_at = now()",
        ("campaign_id",),
    ),
    (
        "grade_entries",
        "entry_id",
        "superseded_by",
        "",
        (
            "school_id",
            "class_id",
            "school_year",
            "semester",
            "subject_code",
            "assessment",
            "sequence",
        ),
    ),
]


async def _supersede_collisions(
    conn: Connection, *, retired: str, survivor: str, merge_id: uuid.UUID
) -> None:
    for table, key, pointer, extra, slot in SLOT_TABLES:
        same_slot = " AND ".join(f"r.{c} IS NOT DISTINCT FROM s.{c}" for c in slot)
        await conn.execute(
            f"""WITH superseded AS (
                    UPDATE {table} r SET {pointer} = s.{key}{extra}
                    FROM {table} s
                    WHERE r.learner_id = $1 AND s.learner_id = $2
                      AND r.{pointer} IS NULL AND s.{pointer} IS NULL AND {same_slot}
                    RETURNING r.{key}::text AS row_key)
                INSERT INTO merge_moves (merge_id, table_name, row_key)
                SELECT $3, $4, row_key FROM superseded ON CONFLICT DO NOTHING""",
            retired,
            survivor,
            merge_id,
            f"{table}:superseded",
        )


async def _restore_collisions(conn: Connection, merge_id: uuid.UUID) -> None:
    for table, key, pointer, extra, _ in SLOT_TABLES:
        reset = ", superseded_at = NULL" if extra else ""
        await conn.execute(
            f"UPDATE {table} SET {pointer} = NULL{reset} WHERE {key}::text IN ("
            "SELECT row_key FROM merge_moves WHERE merge_id = $1 AND table_name = $2)",
            merge_id,
            f"{table}:superseded",
        )


async def _ensure_learner(conn: Connection, learner_id: str) -> None:
    await conn.execute(
        "INSERT INTO learners (learner_id, revision, state) VALUES ($1, 0, 'left') "
        "ON CONFLICT (learner_id) DO NOTHING",
        learner_id,
    )


async def apply_merge(conn: Connection, merge: PersonMerged) -> None:
    survivor, retired = merge.survivor_id, merge.merged_id
    for learner in sorted((survivor, retired)):  # a fixed lock order
        await _ensure_learner(conn, learner)
        await lifecycle_store.lock_learner(conn, learner)
    today = datetime.now(UTC).date()
    retired_active = await store.active_enrolment(conn, retired)
    survivor_active = await store.active_enrolment(conn, survivor)
    if retired_active is not None:
        await lifecycle_store.end_enrolment(
            conn, retired_active["enrolment_id"], ended_on=today, reason="merged"
        )
        revision = await lifecycle_store.set_learner_state(conn, retired, "left")
        await add_event(
            conn,
            StudentLeft(
                learner_id=retired,
                school_id=retired_active["school_id"],
                school_year=retired_active["school_year"],
                reason="merged",
                left_on=today,
                revision=revision,
            ),
            source=SOURCE,
        )
    await _supersede_collisions(conn, retired=retired, survivor=survivor, merge_id=merge.merge_id)
    for table, key in LEARNER_KEYED_TABLES:
        await conn.execute(
            f"""WITH moved AS (UPDATE {table} SET learner_id = $2 WHERE learner_id = $1
                               RETURNING {key}::text AS row_key)
                INSERT INTO merge_moves (merge_id, table_name, row_key)
                SELECT $3, $4, row_key FROM moved ON CONFLICT DO NOTHING""",
            retired,
            survivor,
            merge.merge_id,
            table,
        )
    await conn.execute(
        "UPDATE learners SET merged_into = $2 WHERE learner_id = $1", retired, survivor
    )
    if retired_active is not None and survivor_active is None:
        # The survivor takes over the placement the retired record held.
        await _reopen(conn, retired_active["enrolment_id"])
        await _announce_return(conn, survivor, retired_active)


async def _reopen(conn: Connection, enrolment_id: uuid.UUID) -> None:
    """Make an enrolment the merge ended (or moved) the active one again."""
    await conn.execute(
        "UPDATE enrolments SET status = 'active', ended_on = NULL, end_reason = NULL "
        "WHERE enrolment_id = $1",
        enrolment_id,
    )


async def _announce_return(conn: Connection, learner_id: str, enrolment: asyncpg.Record) -> None:
    """The learner is enrolled again in the placement `enrolment`: both a merge and an unmerge
    hand a placement to a learner this way, and analytics counts it as a return."""
    revision = await lifecycle_store.set_learner_state(conn, learner_id, "enrolled")
    await add_event(
        conn,
        StudentEnrolled(
            enrolment_id=enrolment["enrolment_id"],
            learner_id=learner_id,
            school_id=enrolment["school_id"],
            school_year=enrolment["school_year"],
            grade=enrolment["grade"],
            class_id=enrolment["class_id"],
            enrolled_on=enrolment["enrolled_on"],
            revision=revision,
            reason="returned",
        ),
        source=SOURCE,
    )


async def apply_unmerge(conn: Connection, unmerge: PersonUnmerged) -> None:
    """Move back what the merge moved. A placement that came from the retired record goes
    back to it (the survivor leaves it); a placement the merge ended is reopened."""
    survivor, retired = unmerge.survivor_id, unmerge.merged_id
    for learner in sorted((survivor, retired)):
        await _ensure_learner(conn, learner)
        await lifecycle_store.lock_learner(conn, learner)
    for table, key in LEARNER_KEYED_TABLES:
        await conn.execute(
            f"UPDATE {table} SET learner_id = $2 WHERE {key}::text IN ("
            "SELECT row_key FROM merge_moves WHERE merge_id = $1 AND table_name = $3)",
            unmerge.merge_id,
            retired,
            table,
        )
    await _restore_collisions(conn, unmerge.merge_id)
    await conn.execute("UPDATE learners SET merged_into = NULL WHERE learner_id = $1", retired)
    today = datetime.now(UTC).date()
    back = await conn.fetch(
        "SELECT * FROM enrolments WHERE learner_id = $1 AND enrolment_id::text IN ("
        "SELECT row_key FROM merge_moves WHERE merge_id = $2 AND table_name = 'enrolments') "
        "AND (status = 'active' OR end_reason = 'merged') ORDER BY enrolled_on DESC LIMIT 1",
        retired,
        unmerge.merge_id,
    )
    if back:
        enrolment = back[0]
        if enrolment["status"] == "active":  # the survivor had taken it over
            revision = await lifecycle_store.set_learner_state(conn, survivor, "left")
            await add_event(
                conn,
                StudentLeft(
                    learner_id=survivor,
                    school_id=enrolment["school_id"],
                    school_year=enrolment["school_year"],
                    reason="merged",
                    left_on=today,
                    revision=revision,
                ),
                source=SOURCE,
            )
        elif await store.active_enrolment(conn, retired) is None:
            await _reopen(conn, enrolment["enrolment_id"])
        await _announce_return(conn, retired, enrolment)
    await conn.execute("DELETE FROM merge_moves WHERE merge_id = $1", unmerge.merge_id)


async def _apply(conn: Connection, events: list[IncomingEvent]) -> None:
    for event in events:
        if isinstance(event.data, PersonMerged):
            await apply_merge(conn, event.data)
        elif isinstance(event.data, PersonUnmerged):
            await apply_unmerge(conn, event.data)


def merge_consumer() -> EventConsumer:
    return EventConsumer(
        service="records",
        name="person-merges",
        contracts=[PersonMerged, PersonUnmerged],
        handler=_apply,
        description="Moves what records holds under a merged learner's ID to the survivor.",
        quiet=True,  # merges are a clerk's decisions, a few a day
    )
