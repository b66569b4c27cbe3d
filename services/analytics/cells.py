"""Counting cells shared by the aggregates: add signed deltas to many cells in a few
set-based statements, in one fixed order so concurrent batches cannot deadlock."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from shared.db.pool import Connection


async def add_to_table(
    conn: Connection,
    table: str,
    key_columns: Sequence[tuple[str, str]],
    counters: Sequence[str],
    deltas: Mapping[Any, Counter[str]],
) -> None:
    """Add count deltas to cells. Rows are created with zeros first and updated after, because
    PostgreSQL checks `>= 0` on the row an INSERT proposes before ON CONFLICT turns it into an
    update, and a delta can mix signs. A retraction below zero violates the CHECK and fails the
    batch: it would mean the state and the cells disagree."""
    keys = sorted(deltas)  # one fixed order for every batch: no deadlocks between them
    if not keys:
        return
    names = [name for name, _ in key_columns]
    key_arrays = [[k[i] for k in keys] for i in range(len(key_columns))]
    key_params = ", ".join(f"${i + 1}::{t}[]" for i, (_, t) in enumerate(key_columns))
    columns = ", ".join(names)
    await conn.execute(
        f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({key_params}) "
        "ON CONFLICT DO NOTHING",
        *key_arrays,
    )
    await conn.execute(
        f"""SELECT 1 FROM {table}
            WHERE ({columns}) IN (SELECT * FROM unnest({key_params}))
            ORDER BY {columns} FOR UPDATE""",
        *key_arrays,
    )
    counter_params = ", ".join(
        f"${len(key_columns) + i + 1}::bigint[]" for i in range(len(counters))
    )
    result = await conn.execute(
        f"""UPDATE {table} t SET {", ".join(f"{c} = t.{c} + d.{c}" for c in counters)}
            FROM unnest({key_params}, {counter_params}) AS d({columns}, {", ".join(counters)})
            WHERE {" AND ".join(f"t.{n} = d.{n}" for n in names)}""",
        *key_arrays,
        *[[deltas[k][c] for k in keys] for c in counters],
    )
    if int(result.split()[-1]) != len(keys):
        raise RuntimeError(f"{table}: {len(keys)} cells to change, {result} changed")
