"""Sending dead-lettered events back to their topic once the cause is fixed.

Consumers are idempotent, so a redriven event that some consumer had applied (a DLQ is per
topic, shared by every consumer group of it) changes nothing there. The DLQ itself is read
from the start each time: what was redriven stays in it, for the record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer

from shared.kafka import EventProducer, OutgoingMessage


@dataclass
class RedriveReport:
    read: int = 0
    redriven: int = 0
    skipped: int = 0


async def redrive(
    bootstrap_servers: str,
    dlq_topic: str,
    *,
    consumer_group: str | None = None,
    dry_run: bool = False,
    idle_seconds: float = 3.0,
    progress: Callable[[int], None] | None = None,
) -> RedriveReport:
    """Republish every message of `dlq_topic` (optionally only those one consumer group
    dead-lettered) to the topic named in its `eduhub-source-topic` header."""
    report = RedriveReport()
    reader = AIOKafkaConsumer(
        dlq_topic,
        bootstrap_servers=bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = EventProducer(bootstrap_servers)
    await reader.start()
    await producer.start()
    try:
        last_seen = time.monotonic()
        while time.monotonic() - last_seen < idle_seconds:
            batch = await reader.getmany(timeout_ms=500)
            outgoing = []
            for records in batch.values():
                for record in records:
                    last_seen = time.monotonic()
                    report.read += 1
                    headers = dict(record.headers)
                    source = headers.get("eduhub-source-topic", b"").decode()
                    group = headers.get("eduhub-consumer", b"").decode()
                    if not source or (consumer_group and group != consumer_group):
                        report.skipped += 1
                        continue
                    key = (record.key or b"").decode(errors="replace")
                    outgoing.append(OutgoingMessage(source, key, record.value or b""))
            if outgoing and not dry_run:
                await producer.send_all(outgoing)
            report.redriven += len(outgoing)
            if progress and outgoing:
                progress(len(outgoing))
    finally:
        await producer.stop()
        await reader.stop()
    return report
