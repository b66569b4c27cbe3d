"""SQL of the gradebook results aggregates, one function per query."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import asyncpg

from services.analytics.cells import add_to_table
from services.analytics.domain.results_fold import (
    LEVEL_COUNTERS,
    SUBJECT_COUNTERS,
    ClassTerm,
    Figures,
    Finalization,
    Merge,
    ResultCells,
    ResultsMemory,
    recount,
)
from shared.db.keyed import rows_of_keys
from shared.db.pool import Connection

# Namespace of the per-learner advisory locks of results (two-key form, apart from health's).
RESULTS_LOCK_CLASS = 7_420_060

LEVEL_KEY = (
    ("school_id", "text"),
    ("class_id", "text"),
    ("grade", "smallint"),
    ("school_year", "text"),
    ("term", "smallint"),
)
SUBJECT_KEY = (*LEVEL_KEY, ("subject_code", "text"))


# --------------------------------------------------------------------------- locks


async def lock_merges(conn: Connection, *, changing: bool) -> None:
    """Taken first by every batch. A batch that changes merges runs alone (it regroups IDs into
    persons); the others share the lock, so the components they load stay true until commit."""
    mode = "SHARE ROW EXCLUSIVE" if changing else "SHARE"
    await conn.execute(f"LOCK TABLE results_person_merges IN {mode} MODE")


# Learners are locked by bucket, not one by one: a batch of 500 finalised terms names 18,000
# learners, and one lock each overflowed PostgreSQL's lock table (max_locks_per_transaction x
# max_connections: 6,400 slots at the defaults). Two batches that share a bucket wait for each
# other, which only costs concurrency in a consumer that sees a few thousand events a term.
LOCK_BUCKETS = 1024


async def lock_ids(conn: Connection, learner_ids: Sequence[str]) -> None:
    """Serialise batches touching the same learners (also IDs not held yet), in a fixed order."""
    await conn.execute(
        """SELECT pg_advisory_xact_lock($1, k)
           FROM (SELECT DISTINCT hashtext(id) & ($3 - 1) AS k FROM unnest($2::text[]) AS id
                 ORDER BY k) s""",
        RESULTS_LOCK_CLASS,
        list(learner_ids),
        LOCK_BUCKETS,
    )


# --------------------------------------------------------------------------- memory


def _columns(class_terms: Sequence[ClassTerm]) -> list[list[Any]]:
    return [[c[i] for c in class_terms] for i in range(4)]


async def learners_of_class_terms(conn: Connection, class_terms: Sequence[ClassTerm]) -> set[str]:
    """Learners of the finalisations already held for these class terms (a newer finalisation
    of the same class term may drop them)."""
    if not class_terms:
        return set()
    rows = await conn.fetch(
        """SELECT DISTINCT r.learner_id FROM results_figures r
           JOIN results_finalizations f ON f.event_id = r.event_id
           JOIN unnest($1::text[], $2::text[], $3::text[], $4::smallint[])
                AS k(school_id, class_id, school_year, term)
             ON f.school_id = k.school_id AND f.class_id = k.class_id
            AND f.school_year = k.school_year AND f.term = k.term""",
        *_columns(class_terms),
    )
    return {r["learner_id"] for r in rows}


async def merge_component(conn: Connection, learner_ids: Sequence[str]) -> set[str]:
    """These IDs and every ID linked to them by merges not undone, transitively."""
    rows = await conn.fetch(
        """WITH RECURSIVE component(id) AS (
               SELECT unnest($1::text[])
               UNION
               SELECT CASE WHEN m.merged_id = c.id THEN m.survivor_id ELSE m.merged_id END
               FROM results_person_merges m JOIN component c
                 ON (m.merged_id = c.id OR m.survivor_id = c.id)
               WHERE NOT m.undone)
           SELECT id FROM component""",
        list(learner_ids),
    )
    return {r["id"] for r in rows}


def _merge(r: asyncpg.Record) -> Merge:
    return Merge(r["merge_id"], r["survivor_id"], r["merged_id"], r["undone"])


def _finalization(r: asyncpg.Record) -> Finalization:
    return Finalization(
        event_id=r["event_id"],
        event_time=r["event_time"],
        school_id=r["school_id"],
        class_id=r["class_id"],
        school_year=r["school_year"],
        term=r["term"],
        grade=r["grade"],
    )


def _figures(r: asyncpg.Record) -> Figures:
    return Figures(
        event_id=r["event_id"],
        learner_id=r["learner_id"],
        averages=tuple(sorted(r["averages"].items())),
        comments=tuple(sorted(r["comments"].items())),
        level=r["level"],
    )


async def load_memory(
    conn: Connection, learner_ids: Sequence[str], merge_ids: Sequence[uuid.UUID]
) -> ResultsMemory:
    """Everything held about these IDs: their figures, every finalisation of the class terms
    those belong to, the merges involving them and the merges named by the batch."""
    ids = list(learner_ids)
    figures = await conn.fetch(rows_of_keys("results_figures", "learner_id"), ids)
    finalizations = await conn.fetch(
        """SELECT f.* FROM results_finalizations f
           WHERE (f.school_id, f.class_id, f.school_year, f.term) IN (
               SELECT g.school_id, g.class_id, g.school_year, g.term FROM results_finalizations g
               WHERE g.event_id = ANY($1::uuid[]))""",
        list({r["event_id"] for r in figures}),
    )
    merges = await conn.fetch(
        """SELECT * FROM results_person_merges
           WHERE merged_id = ANY($1::text[]) OR survivor_id = ANY($1::text[])
              OR merge_id = ANY($2::uuid[])""",
        ids,
        list(merge_ids),
    )
    memory = ResultsMemory()
    for r in finalizations:
        memory.finalizations[r["event_id"]] = _finalization(r)
    for r in figures:
        f = _figures(r)
        memory.figures[f.key] = f
    for r in merges:
        memory.merges[r["merge_id"]] = _merge(r)
    return memory


async def load_finalizations_of(
    conn: Connection, class_terms: Sequence[ClassTerm]
) -> list[Finalization]:
    """Every finalisation held for these class terms (the batch's: the live one may change)."""
    if not class_terms:
        return []
    rows = await conn.fetch(
        """SELECT f.* FROM results_finalizations f
           JOIN unnest($1::text[], $2::text[], $3::text[], $4::smallint[])
                AS k(school_id, class_id, school_year, term)
             ON f.school_id = k.school_id AND f.class_id = k.class_id
            AND f.school_year = k.school_year AND f.term = k.term""",
        *_columns(class_terms),
    )
    return [_finalization(r) for r in rows]


async def remember(
    conn: Connection,
    finalizations: Sequence[Finalization],
    figures: Sequence[Figures],
    merges: Sequence[Merge],
) -> None:
    """Store what the batch brought. A finalisation id held already is a corrupt event (the fold
    skips ids it was given), so no ON CONFLICT: the unique violation fails the batch."""
    if finalizations:
        await conn.executemany(
            """INSERT INTO results_finalizations (event_id, event_time, school_id, class_id,
                   school_year, term, grade) VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            [
                (f.event_id, f.event_time, f.school_id, f.class_id, f.school_year, f.term, f.grade)
                for f in finalizations
            ],
        )
    if figures:
        # One statement for the batch (a class's finalisation carries forty-odd learners):
        # the JSON travels as text and is cast by the server.
        await conn.execute(
            """INSERT INTO results_figures (event_id, learner_id, averages, comments, level)
               SELECT e, l, a::jsonb, c::jsonb, v
               FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])
                    AS f(e, l, a, c, v)""",
            [f.event_id for f in figures],
            [f.learner_id for f in figures],
            [json.dumps(dict(f.averages)) for f in figures],
            [json.dumps(dict(f.comments)) for f in figures],
            [f.level for f in figures],
        )
    if merges:
        await conn.executemany(
            """INSERT INTO results_person_merges (merge_id, survivor_id, merged_id, undone)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (merge_id) DO UPDATE
               SET undone = results_person_merges.undone OR EXCLUDED.undone""",
            [(m.merge_id, m.survivor_id, m.merged_id, m.undone) for m in merges],
        )


# --------------------------------------------------------------------------- cells


async def add_to_cells(conn: Connection, deltas: ResultCells) -> None:
    await add_to_table(conn, "result_subject_cells", SUBJECT_KEY, SUBJECT_COUNTERS, deltas.subjects)
    await add_to_table(conn, "result_level_cells", LEVEL_KEY, LEVEL_COUNTERS, deltas.levels)


# --------------------------------------------------------------------------- verification


async def all_memory(conn: Connection) -> ResultsMemory:
    """Everything remembered (for a recount from scratch: tests, offline checks, rebuilds)."""
    memory = ResultsMemory()
    for r in await conn.fetch("SELECT * FROM results_finalizations"):
        memory.finalizations[r["event_id"]] = _finalization(r)
    for r in await conn.fetch("SELECT * FROM results_figures"):
        f = _figures(r)
        memory.figures[f.key] = f
    for r in await conn.fetch("SELECT * FROM results_person_merges"):
        memory.merges[r["merge_id"]] = _merge(r)
    return memory


async def all_cells(conn: Connection) -> ResultCells:
    """The maintained cells, non-zero counts only (compare with `recount`)."""
    cells = ResultCells()
    for table, key_columns, counters, target in (
        ("result_subject_cells", SUBJECT_KEY, SUBJECT_COUNTERS, cells.subjects),
        ("result_level_cells", LEVEL_KEY, LEVEL_COUNTERS, cells.levels),
    ):
        for r in await conn.fetch(f"SELECT * FROM {table}"):
            key = tuple(r[name] for name, _ in key_columns)
            target[key] = Counter({c: r[c] for c in counters})
    return cells.without_zeros()


async def rebuild_cells(conn: Connection) -> ResultCells:
    """Replace the cells with a recount of the memory (after a change of the counting rules).
    Locks the merges table exclusively-for-writers, so no batch runs meanwhile."""
    await lock_merges(conn, changing=True)
    await conn.execute("LOCK TABLE result_subject_cells, result_level_cells IN EXCLUSIVE MODE")
    cells = recount(await all_memory(conn))
    await conn.execute("DELETE FROM result_subject_cells")
    await conn.execute("DELETE FROM result_level_cells")
    await add_to_cells(conn, cells)
    return cells


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
    school_year: str,
    term: int,
    by_class: bool,
    extra: str = "",
) -> list[asyncpg.Record]:
    """Sums of the cells of every school at or below `org_id`, per part one level down (the
    direct child unit a school lies under, `org_id` itself for its own cells, or the class when
    `by_class`), and per `extra` column (the subject)."""
    part = "c.class_id" if by_class else "coalesce(s.branch, s.org_id)"
    more = f", c.{extra}" if extra else ""
    sums = ", ".join(f"sum(c.{c})::bigint AS {c}" for c in counters)
    return await conn.fetch(
        f"""{_SUBTREE}
            SELECT {part} AS part{more}, {sums}
            FROM {table} c JOIN subtree s ON s.org_id = c.school_id
            WHERE c.school_year = $2 AND c.term = $3
            GROUP BY {part}{more} ORDER BY {part}{more}""",
        org_id,
        school_year,
        term,
    )


async def levels_under(
    conn: Connection, *, org_id: str, school_year: str, term: int, by_class: bool
) -> list[asyncpg.Record]:
    """Rows of (part, LEVEL_COUNTERS...)."""
    return await _rollup(
        conn,
        "result_level_cells",
        LEVEL_COUNTERS,
        org_id=org_id,
        school_year=school_year,
        term=term,
        by_class=by_class,
    )


async def subjects_under(
    conn: Connection, *, org_id: str, school_year: str, term: int, by_class: bool
) -> list[asyncpg.Record]:
    """Rows of (part, subject_code, SUBJECT_COUNTERS...)."""
    return await _rollup(
        conn,
        "result_subject_cells",
        SUBJECT_COUNTERS,
        org_id=org_id,
        school_year=school_year,
        term=term,
        by_class=by_class,
        extra="subject_code",
    )


async def units(conn: Connection, org_ids: Sequence[str]) -> dict[str, asyncpg.Record]:
    rows = await conn.fetch(
        "SELECT org_id, kind, name FROM org_units WHERE org_id = ANY($1::text[])", list(org_ids)
    )
    return {r["org_id"]: r for r in rows}
