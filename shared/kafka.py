"""Kafka plumbing shared by every service: the producer used by the outbox relay and the
dead-letter path, and topic creation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class EventProducer:
    """An aiokafka producer that waits for every message to be acknowledged by all in-sync
    replicas (acks=all) before reporting success.

    Order per key holds while sends succeed (aiokafka keeps one batch per partition in flight
    and a key always maps to one partition). After a failed send the relay re-sends the whole
    batch, so without the idempotent producer an older event of a key can land after a newer
    one: consumers therefore keep the newest `revision` and never rely on arrival order alone.
    Turn the idempotent producer on for Apache Kafka (KAFKA_IDEMPOTENT_PRODUCER=true); the
    embedded broker does not support it.
    """

    def __init__(
        self, bootstrap_servers: str, *, idempotent: bool = False, client_id: str = "eduhub"
    ):
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            enable_idempotence=idempotent,
            linger_ms=5,
            max_batch_size=1024 * 1024,
            request_timeout_ms=30_000,
            client_id=client_id,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send_all(self, messages: Sequence[OutgoingMessage]) -> None:
        """Send a batch and return once every message is acknowledged; raise if any failed."""
        futures = []
        for message in messages:
            futures.append(
                await self._producer.send(
                    message.topic,
                    value=message.value,
                    key=message.key.encode(),
                    headers=list(message.headers),
                )
            )
        results = await asyncio.gather(*futures, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[str],
    *,
    partitions: int = 3,
    replication_factor: int = 1,
) -> None:
    """Create missing topics (and nothing else). Safe to run from several services at once."""
    wanted = sorted(set(topics))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="eduhub-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [
                NewTopic(t, num_partitions=partitions, replication_factor=replication_factor)
                for t in missing
            ]
        )
        # aiokafka reports per-topic errors in the response instead of raising.
        failures = [
            f"{topic}: error {code} {message or ''}".strip()
            for topic, code, *rest in getattr(response, "topic_errors", [])
            for message in [rest[0] if rest else None]
            if code not in (0, TopicAlreadyExistsError.errno)
        ]
        if failures:
            raise RuntimeError("could not create topics: " + "; ".join(failures))
        log.info("created topics", extra={"topics": missing})
    finally:
        await admin.close()
