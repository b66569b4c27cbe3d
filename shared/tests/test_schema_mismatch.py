"""What an old replica meets when a newer one has migrated the schema under it (a rolling
upgrade): real PostgreSQL errors, each taken for the deployment's fault, not the event's, so
the batch is redelivered instead of dead-lettered."""

from __future__ import annotations

import asyncpg
import pytest

from shared.consumer.runner import is_transient

pytestmark = pytest.mark.integration


async def _error_of(conn: asyncpg.Connection, statement: str) -> BaseException:
    with pytest.raises(asyncpg.PostgresError) as caught:
        async with conn.transaction():
            await conn.fetch(statement)
    return caught.value


async def test_a_migrated_schema_fails_old_statements_as_transient(fresh_db):
    old, new = await asyncpg.connect(fresh_db), await asyncpg.connect(fresh_db)
    try:
        await new.execute(
            "CREATE TABLE placements (learner_id text PRIMARY KEY, school_id text);"
            "CREATE TABLE shares (learner_id text PRIMARY KEY, status text);"
            "CREATE TABLE measurements (id int PRIMARY KEY, learner_id text)"
        )
        await old.fetch("SELECT * FROM measurements")  # prepared and cached by the old code

        # The new replica's migration: a table dropped, one turned into a view, one widened.
        await new.execute(
            "DROP TABLE placements; DROP TABLE shares;"
            "ALTER TABLE measurements ADD COLUMN counted_for text;"
            "CREATE VIEW shares AS SELECT learner_id, counted_for AS status FROM measurements"
        )

        dropped = await _error_of(old, "SELECT school_id FROM placements")
        assert isinstance(dropped, asyncpg.UndefinedTableError)
        widened = await _error_of(old, "SELECT * FROM measurements")
        assert isinstance(widened, asyncpg.InvalidCachedStatementError)
        with pytest.raises(asyncpg.PostgresError) as copied:
            await old.copy_records_to_table("shares", records=[("L1", "normal")])
        assert isinstance(copied.value, asyncpg.WrongObjectTypeError)
        missing = await _error_of(old, "SELECT grade FROM measurements")
        assert isinstance(missing, asyncpg.UndefinedColumnError)

        for error in (dropped, widened, copied.value, missing):
            assert is_transient(error), error
        # Redelivered, the widened statement is prepared again and works.
        async with old.transaction():
            assert await old.fetch("SELECT * FROM measurements") == []
    finally:
        await old.close()
        await new.close()
