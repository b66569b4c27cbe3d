"""SQL for "the rows of these keys", planned as one index probe per key whatever the statistics.

Consumers look up the rows of a batch's learners: a few hundred keys in tables of up to
millions of rows. Written as a join (`t JOIN unnest($1) k ON t.learner_id = k.id`), the plan
depends on the table's statistics: a table that has never been analysed (a new deployment
catching up from the start of its topics, before autovacuum's first visit) gets a hash join
over a sequential scan, which costs more with every row the catch-up adds (19 ms per batch at
100,000 rows, against 1.5 ms for the probes). `= ANY($1)` has the same weakness. A LATERAL
subquery kept apart by `OFFSET 0` (which stops the planner from flattening it into a join)
runs once per key, and a query on one key of an indexed column is an index scan.
"""

from __future__ import annotations


def rows_of_keys(
    table: str, column: str, *, select: str = "t.*", param: str = "$1::text[]", lock: bool = False
) -> str:
    """SELECT the rows of TABLE whose COLUMN is one of the keys in PARAM, in the keys' order
    (`lock`: FOR UPDATE, taken in that order, so sorted keys cannot deadlock)."""
    for_update = " FOR UPDATE" if lock else ""
    return (
        f"SELECT {select} FROM unnest({param}) AS k(key) CROSS JOIN LATERAL "
        f"(SELECT * FROM {table} WHERE {column} = k.key OFFSET 0{for_update}) AS t"
    )


def delete_keys(table: str, column: str, *, param: str = "$1::text[]") -> str:
    """DELETE the rows of TABLE whose COLUMN is one of the keys in PARAM. The rows are found
    by the probes of `rows_of_keys` and deleted by their row address (a TID scan). Callers hold
    the keys' locks, so no other transaction moves those rows in between."""
    return (
        f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
        f"SELECT t.ctid FROM unnest({param}) AS k(key) CROSS JOIN LATERAL "
        f"(SELECT ctid FROM {table} WHERE {column} = k.key OFFSET 0) AS t))"
    )
