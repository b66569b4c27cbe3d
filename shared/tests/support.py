"""Helpers for the platform library's integration tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer
from pydantic import Field

from shared.events.envelope import EventData


def make_contract(prefix: str = "test.thing.counted") -> Any:
    """A contract on a topic of its own, so tests sharing a broker never see each other."""
    event_type = f"{prefix}.{uuid.uuid4().hex[:8]}"

    class Counted(EventData):
        EVENT_TYPE = event_type
        VERSION = 1
        thing_id: str
        amount: int = Field(ge=0)

        def subject(self) -> str:
            return self.thing_id

    return Counted


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 20.0, interval: float = 0.05
) -> float:
    """Wait until `check()` is true; return the seconds it took. Fails the test on timeout."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(interval)


async def read_topic(bootstrap: str, topic: str, *, expect: int, within: float = 20.0):
    """Read `expect` records from the start of a topic (no consumer group)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + within
        while len(records) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                records.extend(messages)
    finally:
        await consumer.stop()
    return records
