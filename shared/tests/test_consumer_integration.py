"""Idempotent consumption against a real broker and PostgreSQL, through a FastStream
subscription exactly as the services run it."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY

from shared.consumer.runner import EventConsumer, IncomingEvent
from shared.db.migrations import PLATFORM_MIGRATIONS, apply_migrations, load_migrations
from shared.db.pool import Connection, create_pool
from shared.events.envelope import CloudEvent, dead_letter_topic
from shared.kafka import EventProducer, OutgoingMessage, ensure_topics
from shared.service import subscribe_consumer
from shared.tests.support import eventually, make_contract, read_topic

pytestmark = pytest.mark.integration


class Harness:
    """A consumer that adds `amount` to a per-thing total, wired to a real broker and DB."""

    def __init__(
        self, url: str, bootstrap: str, *, fail_on: int | None = None, service: str = "test"
    ) -> None:
        self.url = url
        self.service = service
        self.bootstrap = bootstrap
        self.contract = make_contract()
        self.fail_on = fail_on
        self.calls = 0

    async def handler(self, conn: Connection, events: list[IncomingEvent]) -> None:
        self.calls += 1
        for event in events:
            amount = event.data.amount  # type: ignore[attr-defined]
            if amount == self.fail_on:
                raise ValueError(f"amount {amount} is cursed")
            await conn.execute(
                "INSERT INTO totals VALUES ($1, $2) ON CONFLICT (thing_id) "
                "DO UPDATE SET total = totals.total + EXCLUDED.total",
                event.data.subject(),
                amount,
            )

    async def start(self) -> None:
        conn = await asyncpg.connect(self.url)
        await apply_migrations(conn, load_migrations("platform", PLATFORM_MIGRATIONS))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS totals (thing_id text PRIMARY KEY, total int)"
        )
        await conn.close()
        topic = self.contract.topic()
        await ensure_topics(self.bootstrap, [topic, dead_letter_topic(topic)], partitions=2)
        self.pool = await create_pool(self.url)
        self.producer = EventProducer(self.bootstrap)
        await self.producer.start()
        await self.start_consumer()

    async def start_consumer(self) -> None:
        self.consumer = EventConsumer(
            service=self.service,
            name=f"totals-{uuid.uuid4().hex[:6]}",
            contracts=[self.contract],
            handler=self.handler,
            description="test",
        )
        self.consumer.group_id = "test.totals." + self.contract.EVENT_TYPE  # stable across restarts
        self.consumer.bind(self.pool, self.producer)
        self.broker = KafkaBroker(self.bootstrap)
        subscribe_consumer(self.broker, self.consumer, max_records=50)
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()
        await self.producer.stop()
        await self.pool.close()

    def envelope(self, thing: str, amount: int) -> CloudEvent:
        return CloudEvent.wrap(self.contract(thing_id=thing, amount=amount), source="/test")

    async def send(self, *messages: CloudEvent | bytes, key: str = "x") -> None:
        await self.producer.send_all(
            [
                OutgoingMessage(
                    self.contract.topic(),
                    m.subject if isinstance(m, CloudEvent) else key,
                    m.to_bytes() if isinstance(m, CloudEvent) else m,
                )
                for m in messages
            ]
        )

    async def totals(self) -> dict[str, int]:
        async with self.pool.acquire() as conn:
            return {r["thing_id"]: r["total"] for r in await conn.fetch("SELECT * FROM totals")}


async def test_duplicates_count_once_and_poison_goes_to_the_dlq(fresh_db, kafka):
    h = Harness(fresh_db, kafka.bootstrap_servers)
    await h.start()
    try:
        first = h.envelope("a", 5)
        wrong_version = json.loads(h.envelope("a", 1).to_bytes())
        wrong_version["dataschema"] = wrong_version["dataschema"].replace(":v1", ":v9")
        extra_field = json.loads(h.envelope("a", 1).to_bytes())
        extra_field["data"]["colour"] = "red"
        await h.send(
            first,
            first,  # the same event twice in one batch
            b"{not json",
            json.dumps(wrong_version).encode(),
            json.dumps(extra_field).encode(),
            h.envelope("b", 7),
        )
        await h.send(first)  # and once more, later
        await h.send(h.envelope("a", 2))

        async def settled() -> bool:
            return await h.totals() == {"a": 7, "b": 7}

        await eventually(settled)
        dlq = await read_topic(
            kafka.bootstrap_servers, dead_letter_topic(h.contract.topic()), expect=3
        )
        reasons = sorted(dict(r.headers)["eduhub-error"].decode() for r in dlq)
        assert len(dlq) == 3
        assert reasons[0].startswith("invalid event: data does not match")
        assert "colour" in reasons[0]
        assert reasons[1].startswith("invalid event: no contract for type")
        assert "version 9" in reasons[1]
        assert reasons[2].startswith("invalid event: not JSON")
        headers = dict(dlq[0].headers)
        assert headers["eduhub-source-topic"].decode() == h.contract.topic()
        assert int(headers["eduhub-source-offset"]) >= 0
        assert headers["eduhub-consumer"].decode() == h.consumer.group_id
        async with h.pool.acquire() as conn:
            applied = await conn.fetchval(
                "SELECT count(*) FROM inbox WHERE consumer = $1", h.consumer.group_id
            )
        assert applied == 3  # a:5, b:7, a:2
    finally:
        await h.stop()


async def test_each_applied_event_is_timed_once_from_its_time_to_the_commit(fresh_db, kafka):
    """`eduhub_event_to_aggregate_seconds`: one observation per event applied; none for a
    duplicate or a dead-lettered message."""
    h = Harness(fresh_db, kafka.bootstrap_servers, service="test-timed")
    await h.start()

    def sample(suffix: str) -> float | None:
        name = f"eduhub_event_to_aggregate_seconds_{suffix}"
        return REGISTRY.get_sample_value(name, {"service": "test-timed"})

    try:
        first = h.envelope("a", 1)
        await h.send(first, first, b"{not json", h.envelope("b", 2))

        async def applied() -> bool:
            return await h.totals() == {"a": 1, "b": 2}

        waited = await eventually(applied)
        await h.send(first)  # again, in a later batch: deduplicated by the inbox
        # then a new event on the same key, so on the same partition after the duplicate
        await h.send(h.envelope("a", 3))

        async def settled() -> bool:
            return await h.totals() == {"a": 4, "b": 2}

        waited += await eventually(settled)

        async def timed() -> bool:  # observed right after the commit the totals show
            return (sample("count") or 0) >= 3

        await eventually(timed, within=5)
        await asyncio.sleep(0.5)  # anything observed late would show by now
        assert sample("count") == 3
        # each delay runs from the event's own time to its commit: not negative, and not
        # longer than the test itself took
        total = sample("sum")
        assert total is not None and 0 <= total <= 3 * (waited + 5)
    finally:
        await h.stop()


async def test_a_failing_event_is_isolated_and_dead_lettered(fresh_db, kafka):
    h = Harness(fresh_db, kafka.bootstrap_servers, fail_on=13)
    await h.start()
    try:
        await h.send(h.envelope("a", 1), h.envelope("a", 13), h.envelope("a", 2))

        async def settled() -> bool:
            return await h.totals() == {"a": 3}

        await eventually(settled)
        dlq = await read_topic(
            kafka.bootstrap_servers, dead_letter_topic(h.contract.topic()), expect=1
        )
        assert len(dlq) == 1
        assert json.loads(dlq[0].value)["data"]["amount"] == 13
        assert "cursed" in dict(dlq[0].headers)["eduhub-error"].decode()
    finally:
        await h.stop()


async def test_offsets_are_committed_after_the_database_commit(fresh_db, kafka):
    h = Harness(fresh_db, kafka.bootstrap_servers)
    await h.start()
    try:
        await h.send(*[h.envelope(f"t{n % 3}", 1) for n in range(30)])

        async def all_applied() -> bool:
            return sum((await h.totals()).values()) == 30

        await eventually(all_applied)
        calls_before = h.calls
        await h.broker.stop()
        # A restarted consumer of the same group resumes after the committed offsets: nothing
        # is handed to the handler again, and new events still flow.
        await h.start_consumer()
        await h.send(h.envelope("t0", 100))

        async def new_one_applied() -> bool:
            return (await h.totals()).get("t0") == 110

        await eventually(new_one_applied, within=30)
        assert h.calls - calls_before >= 1
        async with h.pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM inbox") == 31
        assert await h.totals() == {"t0": 110, "t1": 10, "t2": 10}
    finally:
        await h.stop()


async def test_binary_headers_tombstones_and_non_utf8_bodies_reach_the_dlq(fresh_db, kafka):
    h = Harness(fresh_db, kafka.bootstrap_servers)
    await h.start()
    try:
        raw = h.producer._producer  # headers and tombstones need the raw producer
        topic = h.contract.topic()
        good = h.envelope("a", 4)
        await raw.send_and_wait(
            topic, value=good.to_bytes(), key=b"a", headers=[("trace", b"\xff\xfe\x00binary")]
        )
        await raw.send_and_wait(topic, value=None, key=b"a")
        await raw.send_and_wait(
            topic,
            value=b"\xff\xfe not utf-8",
            key=b"a",
            headers=[("content-type", b"application/json")],
        )
        await h.send(h.envelope("a", 6))

        async def settled() -> bool:
            return await h.totals() == {"a": 10}

        await eventually(settled)
        dlq = await read_topic(kafka.bootstrap_servers, dead_letter_topic(topic), expect=2)
        reasons = sorted(dict(r.headers)["eduhub-error"].decode() for r in dlq)
        assert len(dlq) == 2
        assert reasons[0].startswith("invalid event: empty message (a tombstone)")
        assert reasons[1].startswith("invalid event: not JSON")
    finally:
        await h.stop()


async def test_dead_lettered_events_can_be_redriven_once_fixed(fresh_db, kafka):
    from shared.consumer.redrive import redrive

    h = Harness(fresh_db, kafka.bootstrap_servers, fail_on=13)
    await h.start()
    try:
        await h.send(h.envelope("a", 1), h.envelope("a", 13))

        async def first_applied() -> bool:
            return await h.totals() == {"a": 1}

        await eventually(first_applied)
        dlq_topic = dead_letter_topic(h.contract.topic())
        await read_topic(kafka.bootstrap_servers, dlq_topic, expect=1)
        h.fail_on = None  # the bug is fixed
        report = await redrive(
            kafka.bootstrap_servers, dlq_topic, consumer_group=h.consumer.group_id
        )
        assert (report.read, report.redriven, report.skipped) == (1, 1, 0)

        async def all_applied() -> bool:
            return await h.totals() == {"a": 14}

        await eventually(all_applied)
        # Redriving again is harmless: the consumer already applied it.
        await redrive(kafka.bootstrap_servers, dlq_topic)
        await asyncio.sleep(1)
        assert await h.totals() == {"a": 14}
    finally:
        await h.stop()
