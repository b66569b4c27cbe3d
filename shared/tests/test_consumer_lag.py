"""Consumer lag (`eduhub_consumer_lag`): the arithmetic, and the gauge set from a real broker
(the embedded one under `make test`, Apache Kafka in CI's last stage)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY

from shared.consumer.runner import EventConsumer
from shared.kafka import ensure_topics
from shared.observability.lag import lag_by_topic, monitor_lag, read_lag
from shared.tests.support import eventually, make_contract


def test_lag_is_end_minus_committed_summed_per_topic() -> None:
    a0, a1, b0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)
    ends = {a0: 10, a1: 4, b0: 7}
    # a1 never committed: all of it is behind; b0 committed at its end: nothing behind
    assert lag_by_topic(ends, {a0: 6, a1: None, b0: 7}) == {"a": 4 + 4, "b": 0}
    assert lag_by_topic(ends, {}) == {"a": 14, "b": 7}
    # an offset committed past the end as the topic was read (never negative)
    assert lag_by_topic({a0: 3}, {a0: 5}) == {"a": 0}


async def _never_called(conn: object, events: object) -> None:
    raise AssertionError("the lag monitor reads offsets; it never applies events")


async def _committed_group(bootstrap: str, group: str, topics: list[str], commit: dict) -> None:
    """A member of GROUP on TOPICS, once it holds their partitions, commits COMMIT
    (partition -> offset) as if it had applied the records before those offsets."""
    member = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await member.start()
    try:
        while not member.assignment():
            await member.getmany(timeout_ms=200)
        await member.commit(commit)
    finally:
        await member.stop()


@pytest.mark.integration
async def test_the_lag_gauge_counts_what_the_group_has_not_committed(kafka) -> None:
    bootstrap = kafka.bootstrap_servers
    first, second = make_contract("test.lag.first"), make_contract("test.lag.second")
    topics = [first.topic(), second.topic()]
    await ensure_topics(bootstrap, topics, partitions=2)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        sent = {(topics[0], 0): 5, (topics[0], 1): 3, (topics[1], 0): 2, (topics[1], 1): 4}
        for (topic, partition), count in sent.items():
            for _ in range(count):
                await producer.send_and_wait(topic, b"{}", partition=partition)
    finally:
        await producer.stop()

    consumer = EventConsumer(
        service="lagtest",
        name="counter",
        contracts=[first, second],
        handler=_never_called,
        description="lag test",
    )
    # The group has applied 4 of the first partition's 5 and all of the second's 3 on the
    # first topic, and committed nothing on the second.
    await _committed_group(
        bootstrap,
        consumer.group_id,
        topics,
        {TopicPartition(topics[0], 0): 4, TopicPartition(topics[0], 1): 3},
    )
    expected = {topics[0]: 1, topics[1]: 6}

    probe = AIOKafkaProducer(bootstrap_servers=bootstrap)
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=consumer.group_id, enable_auto_commit=False
    )
    await probe.start()
    await reader.start()
    try:
        assert await read_lag(probe, reader, consumer.topics) == expected
    finally:
        await reader.stop()
        await probe.stop()

    def gauge(topic: str) -> float | None:
        labels = {"service": "lagtest", "group": consumer.group_id, "topic": topic}
        return REGISTRY.get_sample_value("eduhub_consumer_lag", labels)

    task = asyncio.create_task(monitor_lag(bootstrap, "lagtest", [consumer]))
    try:

        async def set_from_the_broker() -> bool:
            return {t: gauge(t) for t in topics} == expected

        await eventually(set_from_the_broker, within=30)
        assert not task.done()  # still watching, no failure
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
