"""Consumer lag: how far behind the end of each topic every consumer group of a service is.

A service watches its own groups and sets `eduhub_consumer_lag{service,group,topic}` every
few seconds. The committed offsets are read by one idle consumer per group: an OffsetFetch
through the group's coordinator, without joining the group (an idle member would take
partitions from the real ones). The admin client's way of asking the same thing is not
answered by the embedded broker, so the gauge stayed empty under `make up`; this one is
answered by it and by Apache Kafka alike.

The topics' partitions come from an idle producer: `partitions_for` asks the broker about a
topic it has not seen, while a consumer that subscribed to nothing answers only from the
metadata it happens to hold (on Apache Kafka none, until its refresh five minutes later).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.consumer.runner import EventConsumer
from shared.observability import metrics

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 5.0


def lag_by_topic(
    ends: Mapping[TopicPartition, int], committed: Mapping[TopicPartition, int | None]
) -> dict[str, int]:
    """Records not yet committed per topic: each partition's end offset minus the group's
    committed offset (the whole partition where the group has committed nothing yet)."""
    per_topic: dict[str, int] = {}
    for tp, end in ends.items():
        position = committed.get(tp) or 0
        per_topic[tp.topic] = per_topic.get(tp.topic, 0) + max(end - position, 0)
    return per_topic


async def read_lag(
    probe: AIOKafkaProducer, reader: AIOKafkaConsumer, topics: Sequence[str]
) -> dict[str, int]:
    """The lag per topic of READER's group (a consumer started with that group id and never
    subscribed) on TOPICS; PROBE (an idle producer) names the topics' partitions."""
    partitions = [
        TopicPartition(topic, partition)
        for topic in topics
        for partition in sorted(await probe.partitions_for(topic))
    ]
    if not partitions:
        return {}
    ends = await reader.end_offsets(partitions)
    committed = {tp: await reader.committed(tp) for tp in partitions}
    return lag_by_topic(ends, committed)


async def monitor_lag(
    bootstrap_servers: str, service: str, consumers: Sequence[EventConsumer]
) -> None:
    """Sets the lag gauge of every group every few seconds until cancelled. A failure (the
    broker unreachable) is logged in full the first time and in one line after that, and the
    retries back off from 30 s to ten minutes."""
    failures = 0
    while True:
        probe = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
        readers = {
            c.group_id: AIOKafkaConsumer(
                bootstrap_servers=bootstrap_servers, group_id=c.group_id, enable_auto_commit=False
            )
            for c in consumers
        }
        clients = [probe, *readers.values()]
        try:
            for client in clients:
                await client.start()
            while True:
                for consumer in consumers:
                    lags = await read_lag(probe, readers[consumer.group_id], consumer.topics)
                    for topic, lag in lags.items():
                        metrics.CONSUMER_LAG.labels(
                            service=service, group=consumer.group_id, topic=topic
                        ).set(lag)
                failures = 0
                await asyncio.sleep(INTERVAL_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failures += 1
            delay = min(30 * 2 ** (failures - 1), 600)
            log.warning(
                "lag monitor failed (%s); retrying in %d s",
                type(exc).__name__,
                delay,
                exc_info=failures == 1,
            )
            await asyncio.sleep(delay)
        finally:
            for client in clients:
                with contextlib.suppress(Exception):
                    await client.stop()
