"""Write the benchmark's events straight to their topics, in big batches.

Not through an outbox: the benchmark measures analytics, so the producer should cost as little
as possible. Records go into one aiokafka batch per partition (the key picks the partition
exactly as the services' producer does, so one learner's events stay in order), with acks=all.
At most two chunks are in flight: memory stays bounded whatever the province's size.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from services.analytics.bench.synth import Message


class BulkProducer:
    def __init__(self, bootstrap_servers: str, *, client_id: str = "eduhub-analytics-bench"):
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            linger_ms=5,
            max_batch_size=1024 * 1024,
            request_timeout_ms=60_000,
            client_id=client_id,
        )
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[str, list[int]] = {}
        self._in_flight: list[asyncio.Future[Any]] = []
        self.sent = 0
        self.bytes = 0

    async def __aenter__(self) -> BulkProducer:
        await self._producer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._producer.stop()

    @property
    def producer(self) -> AIOKafkaProducer:
        return self._producer

    @property
    def partitions(self) -> dict[str, list[int]]:
        """Topic -> partitions, of every topic written to."""
        return dict(self._partitions)

    async def _partitions_of(self, topic: str) -> list[int]:
        if topic not in self._partitions:
            self._partitions[topic] = sorted(await self._producer.partitions_for(topic))
        return self._partitions[topic]

    async def send(self, messages: Iterable[Message]) -> None:
        """Queue one chunk; returns once the chunk before it is acknowledged."""
        batches: dict[tuple[str, int], Any] = {}
        futures: list[asyncio.Future[Any]] = []
        for message in messages:
            partitions = await self._partitions_of(message.topic)
            partition = self._partitioner(message.key, partitions, partitions)
            slot = (message.topic, partition)
            batch = batches.get(slot)
            if batch is None:
                batch = batches[slot] = self._producer.create_batch()
            if batch.append(key=message.key, value=message.value, timestamp=None) is None:
                batch.close()
                futures.append(await self._producer.send_batch(batch, slot[0], partition=slot[1]))
                batch = batches[slot] = self._producer.create_batch()
                batch.append(key=message.key, value=message.value, timestamp=None)
            self.sent += 1
            self.bytes += len(message.value)
        for (topic, partition), batch in batches.items():
            batch.close()
            futures.append(await self._producer.send_batch(batch, topic, partition=partition))
        await self.flush()
        self._in_flight = futures

    async def flush(self) -> None:
        """Wait for every queued batch; raise if the broker refused one."""
        if self._in_flight:
            await asyncio.gather(*self._in_flight)
        self._in_flight = []
