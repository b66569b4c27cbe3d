"""The outbox against a real PostgreSQL and broker: atomic with state, ordered, replayable."""

from __future__ import annotations

import json

import asyncpg
import pytest

from shared.db.migrations import PLATFORM_MIGRATIONS, apply_migrations, load_migrations
from shared.db.pool import Connection
from shared.kafka import EventProducer, ensure_topics
from shared.outbox.relay import OutboxRelay, count_unpublished, publish_pending, replay
from shared.outbox.writer import add_event
from shared.tests.support import eventually, make_contract, read_topic

pytestmark = pytest.mark.integration


async def _prepare(url: str) -> Connection:
    conn = await asyncpg.connect(url)
    await apply_migrations(conn, load_migrations("platform", PLATFORM_MIGRATIONS))
    await conn.execute("CREATE TABLE things (id text PRIMARY KEY, amount int)")
    return conn


async def test_event_commits_and_rolls_back_with_the_state_change(fresh_db, kafka):
    contract = make_contract()
    conn = await _prepare(fresh_db)
    async with conn.transaction():
        await conn.execute("INSERT INTO things VALUES ('a', 1)")
        await add_event(conn, contract(thing_id="a", amount=1), source="/test")
    with pytest.raises(RuntimeError, match="boom"):
        async with conn.transaction():
            await conn.execute("INSERT INTO things VALUES ('b', 2)")
            await add_event(conn, contract(thing_id="b", amount=2), source="/test")
            raise RuntimeError("boom")
    rows = await conn.fetch("SELECT message_key FROM outbox ORDER BY position")
    assert [r["message_key"] for r in rows] == ["a"]
    assert await conn.fetchval("SELECT count(*) FROM things") == 1
    with pytest.raises(RuntimeError, match="inside the state change's transaction"):
        await add_event(conn, contract(thing_id="c", amount=3), source="/test")
    await conn.close()


async def test_relay_publishes_in_order_per_key_and_keeps_the_log(fresh_db, kafka):
    contract = make_contract()
    await ensure_topics(kafka.bootstrap_servers, [contract.topic()], partitions=3)
    conn = await _prepare(fresh_db)
    for n in range(60):
        async with conn.transaction():
            await add_event(conn, contract(thing_id=f"k{n % 4}", amount=n), source="/test")
    producer = EventProducer(kafka.bootstrap_servers)
    await producer.start()
    relay = OutboxRelay(database_url=fresh_db, producer=producer, service="test", batch_size=7)
    relay.start()
    try:

        async def drained() -> bool:
            return await count_unpublished(conn) == 0

        await eventually(drained)
        records = await read_topic(kafka.bootstrap_servers, contract.topic(), expect=60)
        assert len(records) == 60
        by_key: dict[str, list[int]] = {}
        for record in records:
            by_key.setdefault(record.key.decode(), []).append(
                json.loads(record.value)["data"]["amount"]
            )
        assert by_key == {f"k{k}": list(range(k, 60, 4)) for k in range(4)}
        # Published rows stay as the event log, marked with their publication time.
        assert (
            await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL") == 60
        )

        # A NOTIFY wakes the relay for a new event at once.
        async with conn.transaction():
            await add_event(conn, contract(thing_id="late", amount=99), source="/test")
        waited = await eventually(drained, within=5)
        assert waited < 1.0
    finally:
        await relay.stop()
        await producer.stop()
    await conn.close()


async def test_replay_republishes_a_range_in_order(fresh_db, kafka):
    contract = make_contract()
    await ensure_topics(kafka.bootstrap_servers, [contract.topic()], partitions=1)
    conn = await _prepare(fresh_db)
    for n in range(10):
        async with conn.transaction():
            await add_event(conn, contract(thing_id="only", amount=n), source="/test")
    producer = EventProducer(kafka.bootstrap_servers)
    await producer.start()
    try:
        assert await publish_pending(conn, producer, service="test", batch_size=4) == 10
        positions = [
            r["position"] for r in await conn.fetch("SELECT position FROM outbox ORDER BY 1")
        ]
        seen: list[int] = []
        sent = await replay(
            conn,
            producer,
            from_position=positions[3],
            to_position=positions[6],
            batch_size=2,
            progress=seen.append,
        )
        assert sent == 4
        assert sum(seen) == 4
    finally:
        await producer.stop()
    records = await read_topic(kafka.bootstrap_servers, contract.topic(), expect=14)
    amounts = [json.loads(r.value)["data"]["amount"] for r in records]
    assert amounts == [*range(10), 3, 4, 5, 6]
    await conn.close()
