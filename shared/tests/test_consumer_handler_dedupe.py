"""A consumer whose handler deduplicates by content (`deduplicated_by_handler`), on a real
PostgreSQL: no inbox rows, the ids the handler found held counted as duplicates, and only
the events applied now handed to `on_committed`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from prometheus_client import REGISTRY

from shared.consumer.runner import ConsumedRecord, EventConsumer, IncomingEvent
from shared.db.migrations import PLATFORM_MIGRATIONS, apply_migrations, load_migrations
from shared.db.pool import Connection, create_pool
from shared.events.envelope import CloudEvent
from shared.tests.support import make_contract

pytestmark = pytest.mark.integration

CONTRACT = make_contract("test.thing.deduplicated")


async def add_amounts(conn: Connection, events: list[IncomingEvent]) -> set[uuid.UUID]:
    """Keeps the id of every event it applies beside its effect; skips the ids it holds."""
    held = {
        r["event_id"]
        for r in await conn.fetch(
            "SELECT event_id FROM applied WHERE event_id = ANY($1::uuid[])",
            [e.envelope.id for e in events],
        )
    }
    duplicates: set[uuid.UUID] = set()
    for event in events:
        if event.envelope.id in held:
            duplicates.add(event.envelope.id)
            continue
        held.add(event.envelope.id)
        await conn.execute("INSERT INTO applied VALUES ($1)", event.envelope.id)
        await conn.execute(
            "INSERT INTO totals VALUES ($1, $2) ON CONFLICT (thing_id) "
            "DO UPDATE SET total = totals.total + EXCLUDED.total",
            event.data.subject(),
            event.data.amount,  # type: ignore[attr-defined]
        )
    return duplicates


@pytest.fixture
async def pool(fresh_db: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(fresh_db, min_size=1, max_size=2)
    async with pool.acquire() as conn:
        await apply_migrations(conn, load_migrations("platform", PLATFORM_MIGRATIONS))
        await conn.execute("CREATE TABLE applied (event_id uuid PRIMARY KEY)")
        await conn.execute("CREATE TABLE totals (thing_id text PRIMARY KEY, total int)")
    yield pool
    await pool.close()


def incoming(consumer: EventConsumer, envelope: CloudEvent, offset: int) -> IncomingEvent:
    raw = envelope.to_bytes()
    decoded, data = consumer.decoder.decode(raw)
    return IncomingEvent(decoded, data, ConsumedRecord(CONTRACT.topic(), 0, offset, None, raw))


def consumed(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "eduhub_events_consumed_total",
        {"service": "test-dedupe", "topic": CONTRACT.topic(), "outcome": outcome},
    )
    return value or 0.0


async def test_redelivered_events_change_nothing_and_count_as_duplicates(
    pool: asyncpg.Pool,
) -> None:
    committed: list[list[uuid.UUID]] = []
    consumer = EventConsumer(
        service="test-dedupe",
        name="totals",
        contracts=[CONTRACT],
        handler=add_amounts,
        description="test",
        on_committed=lambda fresh: committed.append([e.envelope.id for e in fresh]),
        deduplicated_by_handler=True,
    )
    consumer.pool = pool
    first = [CloudEvent.wrap(CONTRACT(thing_id="a", amount=n), source="/t") for n in (1, 2)]
    late = CloudEvent.wrap(CONTRACT(thing_id="a", amount=4), source="/t")

    await consumer._apply([incoming(consumer, e, i) for i, e in enumerate(first)])
    # The whole batch again (a redelivery after a crash before the offsets), with a new event.
    again = [incoming(consumer, e, i) for i, e in enumerate([*first, late])]
    await consumer._apply(again)

    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT total FROM totals WHERE thing_id = 'a'") == 7
        assert await conn.fetchval("SELECT count(*) FROM inbox") == 0
    assert committed == [[first[0].id, first[1].id], [late.id]]
    assert consumed("applied") == 3
    assert consumed("duplicate") == 2
