"""Number series in the database: outgoing numbers per issuer and arrival numbers per receiver.

Each series is one row, locked FOR UPDATE by the transaction that takes a number and updated
before it commits. Concurrent issuers of one body therefore queue on that row: the second
sees the first's number only after it committed (or rolled back, when the number is free
again), so numbers have no gaps and no duplicates. The yearly restart and the refusal to
back-date into a closed year are the domain's (numbering.next_number).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from services.documents.domain.classification import Secrecy
from services.documents.domain.numbering import (
    SeriesClass,
    next_arrival_number,
    next_number,
    series_class,
)
from shared.db.pool import Connection
from shared.http.problems import Problem

_TABLES = {"outgoing": ("number_series", "issuer_id"), "arrival": ("arrival_series", "receiver_id")}


async def _take(
    conn: Connection,
    which: Literal["outgoing", "arrival"],
    owner_id: str,
    on: date,
    klass: SeriesClass,
) -> int:
    table, owner_column = _TABLES[which]
    select = (
        f"SELECT year, last_number FROM {table} "
        f"WHERE {owner_column} = $1 AND series_class = $2 FOR UPDATE"
    )
    while True:
        row = await conn.fetchrow(select, owner_id, klass.value)
        if row is None:
            # First number of this series ever: create the row holding it. A concurrent first
            # issue inserts too; ours then waits for it, does nothing, and we lock its row.
            inserted = await conn.fetchval(
                f"INSERT INTO {table} ({owner_column}, series_class, year, last_number) "
                "VALUES ($1, $2, $3, 1) ON CONFLICT DO NOTHING RETURNING last_number",
                owner_id,
                klass.value,
                on.year,
            )
            if inserted is not None:
                return 1
            continue
        try:
            rule = next_number if which == "outgoing" else next_arrival_number
            number = rule(row["last_number"], row["year"], on)
        except ValueError as exc:
            raise Problem(409, "Series closed", str(exc)) from None
        await conn.execute(
            f"UPDATE {table} SET year = $3, last_number = $4 "
            f"WHERE {owner_column} = $1 AND series_class = $2",
            owner_id,
            klass.value,
            on.year,
            number,
        )
        return number


async def allocate_number(
    conn: Connection, issuer_id: str, issue_date: date, secrecy: Secrecy | None
) -> tuple[SeriesClass, int]:
    """The next outgoing number of the issuer's series (ordinary or secret) for that date."""
    klass = series_class(secrecy)
    return klass, await _take(conn, "outgoing", issuer_id, issue_date, klass)


async def allocate_arrival_number(
    conn: Connection, receiver_id: str, arrival_date: date, secrecy: Secrecy | None
) -> tuple[SeriesClass, int]:
    klass = series_class(secrecy)
    return klass, await _take(conn, "arrival", receiver_id, arrival_date, klass)
