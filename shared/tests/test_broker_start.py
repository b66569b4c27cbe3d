"""A service's consumer groups join together at start (shared.service.start_broker)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from shared.consumer.runner import EventConsumer, IncomingEvent
from shared.db.pool import Connection
from shared.events.envelope import dead_letter_topic
from shared.kafka import ensure_topics
from shared.service import start_broker, subscribe_consumer
from shared.tests.support import make_contract

pytestmark = pytest.mark.integration


async def _ignore(conn: Connection, events: list[IncomingEvent]) -> None:
    return None


def _consumers(name: str, count: int) -> list[EventConsumer]:
    """COUNT groups, each on a topic of its own."""
    return [
        EventConsumer(
            service="test",
            name=f"{name}-{n}",
            contracts=[make_contract()],
            handler=_ignore,
            description="test",
        )
        for n in range(count)
    ]


async def test_every_group_gets_its_partitions_and_the_starts_overlap(kafka):
    consumers = _consumers("start", 3)
    topics = {t for c in consumers for t in c.topics}
    await ensure_topics(
        kafka.bootstrap_servers, topics | {dead_letter_topic(t) for t in topics}, partitions=2
    )
    broker = KafkaBroker(kafka.bootstrap_servers)
    for consumer in consumers:
        subscribe_consumer(broker, consumer, max_records=10)
    steps: list[str] = []
    for n, subscriber in enumerate(broker.subscribers):
        subscriber_start = subscriber.start

        async def start(n: int = n, subscriber_start: Any = subscriber_start) -> None:
            steps.append(f"begin {n}")
            await subscriber_start()
            steps.append(f"end {n}")

        subscriber.start = start  # type: ignore[method-assign]
    try:
        await start_broker(broker)
        # A start returns once its group has assigned it partitions; started one after another
        # (FastStream's own broker.start) each would end before the next begins.
        assert sorted(steps[:3]) == ["begin 0", "begin 1", "begin 2"]
        assert sorted(steps[3:]) == ["end 0", "end 1", "end 2"]
        assert broker.running
        assigned: dict[str, set[tuple[str, int]]] = {}
        for subscriber in broker.subscribers:
            started: Any = subscriber  # FastStream's Kafka subscriber, typed as its base
            partitions = started.consumer.assignment()
            assigned[started.group_id] = {(p.topic, p.partition) for p in partitions}
        assert assigned == {
            c.group_id: {(t, p) for t in c.topics for p in (0, 1)} for c in consumers
        }
    finally:
        await broker.stop()


async def test_a_failed_start_stops_the_others_waiting_for_their_groups(kafka):
    consumers = _consumers("fail", 2)
    broker = KafkaBroker(kafka.bootstrap_servers)
    for consumer in consumers:
        subscribe_consumer(broker, consumer, max_records=10)
    cancelled = asyncio.Event()

    async def fail() -> None:
        raise RuntimeError("group coordinator unreachable")

    async def wait_for_ever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    failing, waiting = broker.subscribers
    failing.start = fail  # type: ignore[method-assign]
    waiting.start = wait_for_ever  # type: ignore[method-assign]
    try:
        with pytest.raises(RuntimeError, match="group coordinator unreachable"):
            await start_broker(broker)
        await asyncio.wait_for(cancelled.wait(), timeout=5)
        assert not broker.running
    finally:
        await broker.stop()
