"""SQL of the health aggregates (nutrition, eyes, swimming), one function per query."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Mapping, Sequence

import asyncpg

from services.analytics.cells import add_to_table
from services.analytics.domain.health_fold import (
    EYE_COUNTERS,
    NUTRITION_COUNTERS,
    SWIM_COUNTERS,
    Cells,
    Counted,
    CountedMarks,
    Key,
    Measurement,
    MeasurementShare,
    MergeLink,
    SwimAssessment,
    SwimShare,
)
from shared.db.keyed import rows_of_keys
from shared.db.pool import Connection

# Namespace of the per-learner advisory locks (two-key form: does not collide with the
# single-key locks, such as the migrations').
LEARNER_LOCK_CLASS = 7_420_030

CELL_KEY = (
    ("campaign_id", "text"),
    ("school_id", "text"),
    ("class_id", "text"),
    ("grade", "smallint"),
    ("sex", "text"),
)
NUTRITION_KEY = (*CELL_KEY, ("age_group", "text"))

# Columns written by COPY, in the order of the records built for them.
MEASUREMENT_COLUMNS = (
    "measurement_id", "learner_id", "campaign_id", "event_time", "measured_on", "school_id",
    "class_id", "sex", "birth_date", "height_cm", "weight_kg", "eyesight_left",
    "eyesight_right", "eye_conditions", "replaces", "grade",
    # the mark of a counted measurement (migration 0010), NULL on the others
    "counted_for", "age_group", "nutrition_status", "stunted", "eyes_examined",
    "acuity_measured", "reduced_acuity",
)  # fmt: skip
NOT_COUNTED = (None,) * 7
# What `load_counted` reads of a marked row: its share, not the measurement's values.
COUNTED_COLUMNS = (
    "t.counted_for, t.campaign_id, t.measurement_id, t.measured_on, t.event_time, t.school_id,"
    " t.class_id, t.grade, t.sex, t.age_group, t.nutrition_status, t.stunted,"
    " t.eyes_examined, t.eye_conditions, t.acuity_measured, t.reduced_acuity"
)
SWIM_COLUMNS = (
    "assessment_id", "learner_id", "campaign_id", "event_time", "assessed_on", "school_id",
    "class_id", "ability", "replaces", "grade",
)  # fmt: skip
COUNTED_SWIM_COLUMNS = (
    "learner_id", "campaign_id", "assessment_id", "school_id", "class_id", "grade", "sex",
    "ability",
)  # fmt: skip


# --------------------------------------------------------------------------- fold state


async def lock_merges(conn: Connection, *, changing: bool) -> None:
    """Taken first by every batch. Batches that change merges run alone (they regroup learner
    IDs into persons); the others share the lock, so the persons they compute stay true until
    they commit. Merges are rare, so serialising them costs nothing."""
    mode = "SHARE ROW EXCLUSIVE" if changing else "SHARE"
    await conn.execute(f"LOCK TABLE health_merges IN {mode} MODE")


async def lock_persons(conn: Connection, person_ids: Sequence[str]) -> None:
    """Serialise batches that touch the same person, including persons we hold nothing for
    yet (a row lock cannot cover a row that does not exist). Taken in one fixed order, after
    `lock_merges`."""
    await conn.execute(
        """SELECT pg_advisory_xact_lock($1, k)
           FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($2::text[]) AS id ORDER BY k) s""",
        LEARNER_LOCK_CLASS,
        list(person_ids),
    )


async def load_links(conn: Connection, learner_ids: Sequence[str]) -> list[MergeLink]:
    """The active merges joining these learner IDs to others, and those joining the IDs they
    reach, and so on: every link of the persons they belong to."""
    rows = await conn.fetch(
        """WITH RECURSIVE reached(id) AS (
               SELECT unnest($1::text[])
               UNION
               SELECT CASE WHEN m.merged_id = r.id THEN m.survivor_id ELSE m.merged_id END
               FROM health_merges m JOIN reached r ON r.id IN (m.merged_id, m.survivor_id)
               WHERE m.merged AND NOT m.unmerged)
           SELECT DISTINCT m.* FROM health_merges m JOIN reached r
             ON r.id IN (m.merged_id, m.survivor_id)
           WHERE m.merged AND NOT m.unmerged""",
        list(learner_ids),
    )
    return [_link(r) for r in rows]


def _link(r: asyncpg.Record) -> MergeLink:
    return MergeLink(r["merge_id"], r["survivor_id"], r["merged_id"], r["merged"], r["unmerged"])


async def save_links(conn: Connection, links: Sequence[MergeLink]) -> None:
    """Record what the batch says about its merges; what was known stays known (a merge once
    undone stays undone)."""
    if not links:
        return
    rows = sorted(links, key=lambda link: link.merge_id)
    await conn.execute(
        """INSERT INTO health_merges (merge_id, survivor_id, merged_id, merged, unmerged)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bool[], $5::bool[])
           ON CONFLICT (merge_id) DO UPDATE SET
               merged = health_merges.merged OR EXCLUDED.merged,
               unmerged = health_merges.unmerged OR EXCLUDED.unmerged""",
        [link.merge_id for link in rows],
        [link.survivor_id for link in rows],
        [link.merged_id for link in rows],
        [link.merged for link in rows],
        [link.unmerged for link in rows],
    )


def _measurement(r: asyncpg.Record) -> Measurement:
    return Measurement(
        measurement_id=r["measurement_id"],
        learner_id=r["learner_id"],
        campaign_id=r["campaign_id"],
        event_time=r["event_time"],
        measured_on=r["measured_on"],
        school_id=r["school_id"],
        class_id=r["class_id"],
        sex=r["sex"],
        birth_date=r["birth_date"],
        height_cm=r["height_cm"],
        weight_kg=r["weight_kg"],
        eyesight_left=r["eyesight_left"],
        eyesight_right=r["eyesight_right"],
        eye_conditions=tuple(r["eye_conditions"]),
        replaces=r["replaces"],
        grade=r["grade"],
    )


def _swim(r: asyncpg.Record) -> SwimAssessment:
    return SwimAssessment(
        assessment_id=r["assessment_id"],
        learner_id=r["learner_id"],
        campaign_id=r["campaign_id"],
        event_time=r["event_time"],
        assessed_on=r["assessed_on"],
        school_id=r["school_id"],
        class_id=r["class_id"],
        ability=r["ability"],
        replaces=r["replaces"],
        grade=r["grade"],
    )


async def load_measurements(
    conn: Connection, keys: Sequence[Key]
) -> dict[Key, dict[uuid.UUID, Measurement]]:
    """Every remembered measurement of these (learner, campaign) pairs."""
    rows = await conn.fetch(
        """SELECT m.* FROM health_measurements m
           JOIN unnest($1::text[], $2::text[]) AS k(learner_id, campaign_id)
             ON m.learner_id = k.learner_id AND m.campaign_id = k.campaign_id""",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    found: dict[Key, dict[uuid.UUID, Measurement]] = {}
    for r in rows:
        m = _measurement(r)
        found.setdefault((m.learner_id, m.campaign_id), {})[m.measurement_id] = m
    return found


async def load_swims(
    conn: Connection, keys: Sequence[Key]
) -> dict[Key, dict[uuid.UUID, SwimAssessment]]:
    rows = await conn.fetch(
        """SELECT s.* FROM swim_assessments s
           JOIN unnest($1::text[], $2::text[]) AS k(learner_id, campaign_id)
             ON s.learner_id = k.learner_id AND s.campaign_id = k.campaign_id""",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    found: dict[Key, dict[uuid.UUID, SwimAssessment]] = {}
    for r in rows:
        s = _swim(r)
        found.setdefault((s.learner_id, s.campaign_id), {})[s.assessment_id] = s
    return found


async def load_records_of(
    conn: Connection, learner_ids: Sequence[str]
) -> tuple[dict[Key, dict[uuid.UUID, Measurement]], dict[Key, dict[uuid.UUID, SwimAssessment]]]:
    """Every remembered measurement and swim assessment of these learner IDs, all campaigns."""
    ids = list(learner_ids)
    measurements: dict[Key, dict[uuid.UUID, Measurement]] = {}
    swims: dict[Key, dict[uuid.UUID, SwimAssessment]] = {}
    if not ids:
        return measurements, swims
    for r in await conn.fetch(rows_of_keys("health_measurements", "learner_id"), ids):
        m = _measurement(r)
        measurements.setdefault((m.learner_id, m.campaign_id), {})[m.measurement_id] = m
    for r in await conn.fetch(rows_of_keys("swim_assessments", "learner_id"), ids):
        s = _swim(r)
        swims.setdefault((s.learner_id, s.campaign_id), {})[s.assessment_id] = s
    return measurements, swims


async def load_counted(
    conn: Connection, person_ids: Sequence[str], learner_ids: Sequence[str]
) -> dict[str, dict[str, Counted]]:
    """The shares of these persons in every campaign: person -> campaign -> share.
    LEARNER_IDS: every learner ID of those persons, whose rows carry the marks of the
    measurements that count (`counted_for` is the person's ID: the survivor of its merges;
    the `learner_id` of the counted swims is too)."""
    ids = list(person_ids)
    wanted = set(ids)
    measured = [
        r
        for r in await conn.fetch(
            rows_of_keys("health_measurements", "learner_id", select=COUNTED_COLUMNS)
            + " WHERE t.counted_for IS NOT NULL",
            list(learner_ids),
        )
        if r["counted_for"] in wanted
    ]
    swum = await conn.fetch(rows_of_keys("health_counted_swims", "learner_id"), ids)
    shares: dict[Key, Counted] = {}
    for r in measured:
        shares[(r["counted_for"], r["campaign_id"])] = Counted(
            measurement=MeasurementShare(
                measurement_id=r["measurement_id"],
                measured_on=r["measured_on"],
                event_time=r["event_time"],
                school_id=r["school_id"],
                class_id=r["class_id"],
                grade=r["grade"],
                sex=r["sex"],
                age_group=r["age_group"],
                nutrition_status=r["nutrition_status"],
                stunted=r["stunted"],
                eyes_examined=r["eyes_examined"],
                eye_conditions=tuple(r["eye_conditions"]),
                acuity_measured=r["acuity_measured"],
                reduced_acuity=r["reduced_acuity"],
            )
        )
    for r in swum:
        key = (r["learner_id"], r["campaign_id"])
        swim = SwimShare(
            r["assessment_id"], r["school_id"], r["class_id"], r["grade"], r["sex"], r["ability"]
        )
        shares[key] = Counted(shares[key].measurement if key in shares else None, swim)
    by_learner: dict[str, dict[str, Counted]] = {}
    for (learner, campaign), counted in shares.items():
        by_learner.setdefault(learner, {})[campaign] = counted
    return by_learner


async def remember(
    conn: Connection,
    measurements: Sequence[Measurement],
    swims: Sequence[SwimAssessment],
    marks: Mapping[uuid.UUID, tuple[str, MeasurementShare]],
) -> None:
    """Store new records, the measurements among them that count marked as MARKS says. No ON
    CONFLICT: a record id we hold under another learner or campaign is a corrupt event; the
    unique violation fails it (and the runner dead-letters it)."""
    # COPY: one round trip for the batch, and far less server work than a row-by-row INSERT.
    if measurements:
        await conn.copy_records_to_table(
            "health_measurements",
            columns=MEASUREMENT_COLUMNS,
            records=[
                (
                    m.measurement_id,
                    m.learner_id,
                    m.campaign_id,
                    m.event_time,
                    m.measured_on,
                    m.school_id,
                    m.class_id,
                    m.sex,
                    m.birth_date,
                    m.height_cm,
                    m.weight_kg,
                    m.eyesight_left,
                    m.eyesight_right,
                    list(m.eye_conditions),
                    m.replaces,
                    m.grade,
                    *_mark(marks.get(m.measurement_id)),
                )
                for m in measurements
            ],
        )
    if swims:
        await conn.copy_records_to_table(
            "swim_assessments",
            columns=SWIM_COLUMNS,
            records=[
                (
                    s.assessment_id,
                    s.learner_id,
                    s.campaign_id,
                    s.event_time,
                    s.assessed_on,
                    s.school_id,
                    s.class_id,
                    s.ability,
                    s.replaces,
                    s.grade,
                )
                for s in swims
            ],
        )


def _mark(mark: tuple[str, MeasurementShare] | None) -> tuple[object, ...]:
    """The values of the mark columns (MEASUREMENT_COLUMNS' last seven)."""
    if mark is None:
        return NOT_COUNTED
    person, share = mark
    return (
        person,
        share.age_group,
        share.nutrition_status,
        share.stunted,
        share.eyes_examined,
        share.acuity_measured,
        share.reduced_acuity,
    )


async def move_marks(
    conn: Connection, marks: CountedMarks, inserted: Collection[uuid.UUID]
) -> None:
    """Unmark the measurements that stopped counting and mark the held ones that count now
    (INSERTED: the ids `remember` has just copied in, marked already). Only corrections and
    merges move marks; a batch of new measurements has nothing to do here."""
    if marks.unmark:
        await conn.execute(
            """UPDATE health_measurements SET counted_for = NULL, age_group = NULL,
                   nutrition_status = NULL, stunted = NULL, eyes_examined = NULL,
                   acuity_measured = NULL, reduced_acuity = NULL
               WHERE measurement_id = ANY($1::uuid[])""",
            sorted(marks.unmark),
        )
    held = sorted((i, mark) for i, mark in marks.mark.items() if i not in inserted)
    if held:
        values = [_mark(mark) for _, mark in held]
        await conn.execute(
            """UPDATE health_measurements m SET counted_for = v.counted_for,
                   age_group = v.age_group, nutrition_status = v.nutrition_status,
                   stunted = v.stunted, eyes_examined = v.eyes_examined,
                   acuity_measured = v.acuity_measured, reduced_acuity = v.reduced_acuity
               FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bool[],
                           $6::bool[], $7::bool[], $8::bool[])
                    AS v(measurement_id, counted_for, age_group, nutrition_status, stunted,
                         eyes_examined, acuity_measured, reduced_acuity)
               WHERE m.measurement_id = v.measurement_id""",
            [i for i, _ in held],
            *([v[column] for v in values] for column in range(7)),
        )


async def save_counted_swims(
    conn: Connection, changed: Mapping[Key, Counted], held: Collection[Key]
) -> None:
    """Replace the swim shares of the changed (person, campaign) pairs; HELD: the pairs that
    had a share (from `load_counted`, under the persons' locks). Only those have rows to
    delete."""
    if not changed:
        return
    keys = sorted(changed)
    stale = [k for k in keys if k in held]
    if stale:
        await conn.execute(
            """DELETE FROM health_counted_swims t USING unnest($1::text[], $2::text[]) AS k(l, c)
               WHERE t.learner_id = k.l AND t.campaign_id = k.c""",
            [k[0] for k in stale],
            [k[1] for k in stale],
        )
    swum = [(k, changed[k].swim) for k in keys if changed[k].swim is not None]
    if swum:
        await conn.copy_records_to_table(
            "health_counted_swims",
            columns=COUNTED_SWIM_COLUMNS,
            records=[
                (k[0], k[1], s.assessment_id, s.school_id, s.class_id, s.grade, s.sex, s.ability)
                for k, s in swum
                if s is not None
            ],
        )


# --------------------------------------------------------------------------- cells


async def add_to_cells(conn: Connection, deltas: Cells) -> None:
    nutrition = deltas.nutrition
    await add_to_table(conn, "nutrition_cells", NUTRITION_KEY, NUTRITION_COUNTERS, nutrition)
    await add_to_table(conn, "eye_cells", CELL_KEY, EYE_COUNTERS, deltas.eyes)
    await add_to_table(conn, "swim_cells", CELL_KEY, SWIM_COUNTERS, deltas.swimming)


# --------------------------------------------------------------------------- verification


async def all_records(conn: Connection) -> tuple[list[Measurement], list[SwimAssessment]]:
    """Everything remembered (for a recount from scratch: tests and offline verification)."""
    measurements = await conn.fetch("SELECT * FROM health_measurements")
    swims = await conn.fetch("SELECT * FROM swim_assessments")
    return [_measurement(r) for r in measurements], [_swim(r) for r in swims]


async def all_links(conn: Connection) -> list[MergeLink]:
    """Every merge remembered, active or not (for a recount from scratch)."""
    return [_link(r) for r in await conn.fetch("SELECT * FROM health_merges")]


async def all_cells(conn: Connection) -> Cells:
    """The maintained cells, non-zero counts only (compare with `recount`)."""
    cells = Cells()
    for table, key_columns, counters, target in (
        ("nutrition_cells", NUTRITION_KEY, NUTRITION_COUNTERS, cells.nutrition),
        ("eye_cells", CELL_KEY, EYE_COUNTERS, cells.eyes),
        ("swim_cells", CELL_KEY, SWIM_COUNTERS, cells.swimming),
    ):
        for r in await conn.fetch(f"SELECT * FROM {table}"):
            key = tuple(r[name] for name, _ in key_columns)
            target[key] = Counter({c: r[c] for c in counters})
    return cells.without_zeros()


# --------------------------------------------------------------------------- queries

_SUBTREE = """WITH RECURSIVE subtree(org_id, branch, depth) AS (
        SELECT org_id, NULL::text, 0 FROM org_units WHERE org_id = $1
        UNION ALL
        SELECT o.org_id, coalesce(s.branch, o.org_id), s.depth + 1 FROM org_units o
        JOIN subtree s ON o.parent_id = s.org_id WHERE s.depth < 16)"""


async def _rollup(
    conn: Connection,
    table: str,
    counters: Sequence[str],
    *,
    org_id: str,
    campaign_id: str,
    by_class: bool,
    by_age_group: bool = False,
) -> list[asyncpg.Record]:
    """Sums of the cells of every school at or below `org_id`, per part one level down: the
    direct child unit a school lies under (`part` is the child's org_id, or `org_id` itself
    for cells of the unit itself), or the class (`part` is the class_id) when `by_class`."""
    part = "c.class_id" if by_class else "coalesce(s.branch, s.org_id)"
    age = ", c.age_group" if by_age_group else ""
    sums = ", ".join(f"sum(c.{c})::bigint AS {c}" for c in counters)
    return await conn.fetch(
        f"""{_SUBTREE}
            SELECT {part} AS part{age}, {sums}
            FROM {table} c JOIN subtree s ON s.org_id = c.school_id
            WHERE c.campaign_id = $2
            GROUP BY {part}{age} ORDER BY {part}{age}""",
        org_id,
        campaign_id,
    )


async def nutrition_under(
    conn: Connection, *, org_id: str, campaign_id: str, by_class: bool
) -> list[asyncpg.Record]:
    """Rows of (part, age_group, NUTRITION_COUNTERS...)."""
    return await _rollup(
        conn,
        "nutrition_cells",
        NUTRITION_COUNTERS,
        org_id=org_id,
        campaign_id=campaign_id,
        by_class=by_class,
        by_age_group=True,
    )


async def eyes_under(
    conn: Connection, *, org_id: str, campaign_id: str, by_class: bool
) -> list[asyncpg.Record]:
    """Rows of (part, EYE_COUNTERS...)."""
    return await _rollup(
        conn, "eye_cells", EYE_COUNTERS, org_id=org_id, campaign_id=campaign_id, by_class=by_class
    )


async def swimming_under(
    conn: Connection, *, org_id: str, campaign_id: str, by_class: bool
) -> list[asyncpg.Record]:
    """Rows of (part, SWIM_COUNTERS...)."""
    return await _rollup(
        conn, "swim_cells", SWIM_COUNTERS, org_id=org_id, campaign_id=campaign_id, by_class=by_class
    )


async def units(conn: Connection, org_ids: Sequence[str]) -> dict[str, asyncpg.Record]:
    rows = await conn.fetch(
        "SELECT org_id, kind, name FROM org_units WHERE org_id = ANY($1::text[])", list(org_ids)
    )
    return {r["org_id"]: r for r in rows}
