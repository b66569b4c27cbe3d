"""The outbox relay: publishes committed outbox rows to Kafka, in order, and marks them sent.

One relay per service database is active at a time (a session advisory lock), so rows leave in
`position` order. A crash between the broker's acknowledgement and the UPDATE republishes a
batch: that is the at-least-once half of the contract; consumers drop the duplicates by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg

from shared.db.pool import Connection
from shared.kafka import EventProducer, OutgoingMessage
from shared.observability import metrics
from shared.outbox.writer import NOTIFY_CHANNEL

log = logging.getLogger(__name__)
_RELAY_LOCK_ID = 7_420_002


@dataclass(frozen=True)
class OutboxRow:
    position: int
    topic: str
    message_key: str
    payload: bytes

    def message(self) -> OutgoingMessage:
        return OutgoingMessage(self.topic, self.message_key, self.payload)


async def fetch_unpublished(conn: Connection, *, limit: int) -> list[OutboxRow]:
    rows = await conn.fetch(
        "SELECT position, topic, message_key, payload FROM outbox "
        "WHERE published_at IS NULL ORDER BY position LIMIT $1",
        limit,
    )
    return [OutboxRow(r["position"], r["topic"], r["message_key"], r["payload"]) for r in rows]


async def mark_published(conn: Connection, positions: Sequence[int]) -> None:
    await conn.execute(
        "UPDATE outbox SET published_at = now() WHERE position = ANY($1::bigint[])", positions
    )


async def count_unpublished(conn: Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))


async def publish_pending(
    conn: Connection, producer: EventProducer, *, service: str, batch_size: int
) -> int:
    """Publish every unpublished row, batch by batch; return how many were published."""
    total = 0
    while True:
        rows = await fetch_unpublished(conn, limit=batch_size)
        if not rows:
            return total
        await producer.send_all([row.message() for row in rows])
        await mark_published(conn, [row.position for row in rows])
        for row in rows:
            metrics.EVENTS_PUBLISHED.labels(service=service, topic=row.topic).inc()
        total += len(rows)
        if len(rows) < batch_size:
            return total


class OutboxRelay:
    def __init__(
        self,
        *,
        database_url: str,
        producer: EventProducer,
        service: str,
        batch_size: int = 1000,
        poll_interval: float = 1.0,
    ) -> None:
        self._database_url = database_url
        self._producer = producer
        self._service = service
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.is_leader = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._service}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_notify(self, *_: object) -> None:
        self._wakeup.set()

    async def _run(self) -> None:
        self._backoff = 0.5
        while True:
            try:
                await self._run_connected()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying in %.1f s", self._backoff)
                self.is_leader = False
                await asyncio.sleep(self._backoff)
                self._backoff = min(self._backoff * 2, 30)

    async def _run_connected(self) -> None:
        # Keepalives and a command timeout: a half-open connection must not hang the relay
        # while PostgreSQL keeps its lock (the standby could never take over).
        conn: Connection = await asyncpg.connect(
            self._database_url,
            command_timeout=30,
            server_settings={
                "tcp_keepalives_idle": "30",
                "tcp_keepalives_interval": "10",
                "tcp_keepalives_count": "3",
            },
        )
        try:
            # Polling is right here: the lock lives in PostgreSQL, not in this process.
            while not await conn.fetchval(  # noqa: ASYNC110
                "SELECT pg_try_advisory_lock($1)", _RELAY_LOCK_ID
            ):
                # Another replica relays; stand by in case it dies (its lock dies with it).
                await asyncio.sleep(self._poll_interval * 5)
            self.is_leader = True
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            while True:
                self._wakeup.clear()
                await publish_pending(
                    conn, self._producer, service=self._service, batch_size=self._batch_size
                )
                self._backoff = 0.5  # healthy again: the next failure starts small
                metrics.OUTBOX_PENDING.labels(service=self._service).set(
                    await count_unpublished(conn)
                )
                with contextlib.suppress(TimeoutError):
                    # The poll is a safety net: a NOTIFY lost with a dropped connection.
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self._poll_interval)
        finally:
            self.is_leader = False
            # Only the leader reports the backlog; a stale figure after failover would mislead.
            metrics.OUTBOX_PENDING.labels(service=self._service).set(0)
            with contextlib.suppress(Exception):
                await conn.close(timeout=5)


async def replay(
    conn: Connection,
    producer: EventProducer,
    *,
    from_position: int,
    to_position: int | None,
    topic: str | None = None,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Republish outbox rows in a position range (published or not), in order.

    For a rebuilt consumer or a fresh broker; consumers drop what they already applied.
    """
    sent = 0
    cursor = from_position - 1
    while True:
        rows = await conn.fetch(
            "SELECT position, topic, message_key, payload FROM outbox "
            "WHERE position > $1 AND ($2::bigint IS NULL OR position <= $2) "
            "AND ($3::text IS NULL OR topic = $3) ORDER BY position LIMIT $4",
            cursor,
            to_position,
            topic,
            batch_size,
        )
        if not rows:
            return sent
        batch = [OutboxRow(r["position"], r["topic"], r["message_key"], r["payload"]) for r in rows]
        await producer.send_all([row.message() for row in batch])
        cursor = batch[-1].position
        sent += len(batch)
        if progress:
            progress(len(batch))


async def prune_published(conn: Connection, *, retention_days: int) -> int:
    """Drop published rows older than the retention period; unpublished rows are never pruned."""
    result = await conn.execute(
        "DELETE FROM outbox WHERE published_at IS NOT NULL "
        "AND created_at < now() - make_interval(days => $1)",
        retention_days,
    )
    return int(result.split()[-1])
