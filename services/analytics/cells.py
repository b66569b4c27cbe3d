"""Counting cells shared by the aggregates: add signed deltas to many cells in one statement
(two while new cells appear), one batch at a time per table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from shared.db.pool import Connection

# Namespace of the per-table advisory locks of the cells (two-key form, beside the learners'
# locks of health_store).
CELLS_LOCK_CLASS = 7_420_031


async def add_to_table(
    conn: Connection,
    table: str,
    key_columns: Sequence[tuple[str, str]],
    counters: Sequence[str],
    deltas: Mapping[Any, Counter[str]],
) -> None:
    """Add count deltas to cells.

    The batch first takes the table's lock, held to its commit: batches of two members of a
    group touch the same cells (a class's learners are spread over partitions), and one writer
    at a time needs no row-lock ordering between them. Callers write their cells last, just
    before the commit, so the lock is held briefly. Under it, one UPDATE adds the deltas to
    the cells that exist; those it did not find are new and are inserted with their deltas
    (a new cell only ever receives additions). The table's CHECKs see every resulting row: a
    count below zero fails the batch, as it would mean the state and the cells disagree.

    (It was three statements per table: create missing cells with zeros, lock every cell in
    key order, update; the cell keys were sent three times, and at 1 M learners these were a
    tenth of PostgreSQL's time in the catch-up.)"""
    keys = sorted(deltas)
    if not keys:
        return
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", CELLS_LOCK_CLASS, table)
    names = [name for name, _ in key_columns]
    columns = ", ".join([*names, *counters])
    key_params = [f"${i + 1}::{t}[]" for i, (_, t) in enumerate(key_columns)]
    counter_params = [f"${len(key_columns) + i + 1}::bigint[]" for i in range(len(counters))]
    source = f"unnest({', '.join(key_params + counter_params)}) AS d({columns})"
    match = " AND ".join(f"t.{n} = d.{n}" for n in names)
    arrays = [[k[i] for k in keys] for i in range(len(key_columns))]
    arrays += [[deltas[k][c] for k in keys] for c in counters]
    result = await conn.execute(
        f"""UPDATE {table} t SET {", ".join(f"{c} = t.{c} + d.{c}" for c in counters)}
            FROM {source} WHERE {match}""",
        *arrays,
    )
    if int(result.split()[-1]) == len(keys):
        return
    await conn.execute(
        f"""INSERT INTO {table} ({columns})
            SELECT * FROM {source}
            WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})""",
        *arrays,
    )
