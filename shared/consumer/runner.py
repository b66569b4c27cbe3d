"""Idempotent event consumption: at-least-once from Kafka, effectively-once into PostgreSQL.

For every batch of Kafka records:
1. decode each record against the contracts the consumer understands; a record that is not a
   valid event goes to `<topic>.dlq` with headers naming the error and where it came from;
2. in ONE database transaction: claim the event ids in the inbox, hand only the new ones to the
   handler, commit (a consumer whose handler recognises what it already applied from its own
   tables skips the inbox: see `deduplicated_by_handler`);
3. only then does the Kafka subscription commit the offsets (FastStream, NACK_ON_ERROR policy).

If the handler fails on a batch, the batch is retried one event at a time so that a single bad
event cannot block the others; an event that keeps failing goes to the dead-letter topic. A
failure of the database or broker itself is not the event's fault: the batch is not committed
and will be delivered again.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import asyncpg

from shared.consumer.inbox import claim_new
from shared.db.pool import Connection
from shared.events.envelope import (
    CloudEvent,
    EventData,
    EventDecodeError,
    EventDecoder,
    dead_letter_topic,
)
from shared.kafka import EventProducer, OutgoingMessage
from shared.observability import metrics
from shared.observability.histograms import observe_all
from shared.observability.logging import event_context

log = logging.getLogger(__name__)

# SQLSTATE classes and codes that say "the database is unwell", not "this event is bad":
# 08 connection, 40 rollback (serialization, deadlock), 53 insufficient resources (disk full,
# out of memory, too many connections), 57 operator intervention (shutdown, query cancelled),
# 58 system error; 25006 read-only transaction (a failover in progress), 55P03 lock timeout.
_TRANSIENT_SQLSTATE_CLASSES = {"08", "40", "53", "57", "58"}
_TRANSIENT_SQLSTATES = {"25006", "55P03"}
# And a schema that is not the one this code was written for: during a rolling upgrade the
# new replica migrates at start while the old one is still consuming, and a table it writes
# may be gone (42P01), a column or function renamed (42703, 42883, 42704), a table now a view
# (42809). Event values travel as parameters, so no event can cause these; the old replica's
# batch is redelivered (to it until it stops, then to the new one) instead of dead-lettered.
_SCHEMA_MISMATCH_SQLSTATES = {"42P01", "42703", "42704", "42809", "42883"}


def is_transient(exc: BaseException) -> bool:
    """Is this failure the infrastructure's (retry later) rather than the event's (poison)?"""
    if isinstance(exc, OSError | TimeoutError | ConnectionError | asyncpg.InterfaceError):
        return True
    if isinstance(exc, asyncpg.InvalidCachedStatementError):
        # A migration changed a table under a prepared statement ("cached plan must not change
        # result type"); asyncpg drops the statement, and the retry prepares it again.
        return True
    if isinstance(exc, asyncpg.PostgresError):
        state = getattr(exc, "sqlstate", None) or ""
        return (
            state[:2] in _TRANSIENT_SQLSTATE_CLASSES
            or state in _TRANSIENT_SQLSTATES
            or state in _SCHEMA_MISMATCH_SQLSTATES
        )
    return False


class TransientFailure(RuntimeError):
    """The infrastructure failed, not the event: do not commit offsets, let Kafka redeliver."""


# Named tuples rather than frozen dataclasses: as immutable, and built three times faster
# (one of each per event, on the hot path).
class ConsumedRecord(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None  # None for a tombstone, which is never a valid event


class IncomingEvent(NamedTuple):
    envelope: CloudEvent
    data: EventData
    record: ConsumedRecord

    @property
    def id(self) -> uuid.UUID:
        return self.envelope.id


# A handler applies a batch in the caller's transaction. One that deduplicates by content
# returns the ids of the events it found already applied (counted as duplicates, like the
# inbox's); the others return None.
Handler = Callable[[Connection, list[IncomingEvent]], Awaitable[Collection[uuid.UUID] | None]]


class EventConsumer:
    """One consumer group: the contracts it reads and the handler that applies them."""

    def __init__(
        self,
        *,
        service: str,
        name: str,
        contracts: Sequence[type[EventData]],
        handler: Handler,
        description: str,
        max_attempts: int = 3,
        on_committed: Callable[[list[IncomingEvent]], None] | None = None,
        deduplicated_by_handler: bool = False,
        quiet: bool = False,
    ) -> None:
        """DEDUPLICATED_BY_HANDLER: the handler itself stores the id of everything it applies
        (a record id, a revision) in the transaction of its effects, and skips what it holds,
        after locking what it reads; so a redelivered or republished event changes nothing
        without the inbox. The inbox row per event is then only cost: it was the largest
        write of the analytics catch-up (a quarter of PostgreSQL's time at 1 M learners).

        QUIET: the group's events are rare and may take up to half a second longer to apply
        (an organisation tree, staff lists); its idle polls are held longer, which spares the
        broker (see shared.service.QUIET_FETCH_MAX_WAIT_MS)."""
        self.service = service
        self.name = name
        self.group_id = f"{service}.{name}"
        self.decoder = EventDecoder(contracts)
        self.contracts = self.decoder.contracts
        self.topics = sorted({c.topic() for c in contracts})
        self.handler = handler
        self.description = description
        self.max_attempts = max_attempts
        self.on_committed = on_committed  # runs after the database commit, e.g. to refresh gauges
        self.deduplicated_by_handler = deduplicated_by_handler
        self.quiet = quiet
        self.pool: asyncpg.Pool | None = None
        self.producer: EventProducer | None = None
        # Labelled metric children, looked up once: `labels()` per event cost more than the
        # rest of the bookkeeping.
        self._counters: dict[tuple[str, str], Any] = {}
        self._delay = metrics.EVENT_TO_EFFECT.labels(service=service)

    def bind(self, pool: asyncpg.Pool, producer: EventProducer) -> None:
        self.pool = pool
        self.producer = producer

    async def process(self, records: Sequence[ConsumedRecord]) -> None:
        """Apply one batch; returns normally when every record is applied, skipped as a
        duplicate or dead-lettered (so the offsets may be committed)."""
        events: list[IncomingEvent] = []
        seen: set[uuid.UUID] = set()
        decode = self.decoder.decode
        for record in records:
            try:
                envelope, data = decode(record.value)
            except EventDecodeError as exc:
                await self._dead_letter(record, f"invalid event: {exc}")
                continue
            if envelope.id in seen:  # the same event twice in one batch
                self._count(record.topic, "duplicate")
                continue
            seen.add(envelope.id)
            events.append(IncomingEvent(envelope, data, record))
        if not events:
            return
        try:
            await self._apply(events)
        except Exception as exc:
            if is_transient(exc):
                raise TransientFailure(str(exc)) from exc
            if len(events) == 1:
                await self._apply_alone(events[0])
                return
            log.warning("batch of %d failed; applying its events one by one", len(events))
            for event in events:
                await self._apply_alone(event)

    async def _apply_alone(self, event: IncomingEvent) -> None:
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self._apply([event])
                return
            except Exception as exc:
                if is_transient(exc):
                    raise TransientFailure(str(exc)) from exc
                with event_context(str(event.id)):
                    log.warning(
                        "handler failed (attempt %d/%d): %r", attempt, self.max_attempts, exc
                    )
                self._count(event.record.topic, "retried")
                if attempt == self.max_attempts:
                    # Last line of defence against blaming the event for a sick database.
                    await self._ensure_database_healthy()
                    await self._dead_letter(event.record, f"handler failed: {exc!r}")
                    return
                await asyncio.sleep(0.05 * 2**attempt)

    async def _ensure_database_healthy(self) -> None:
        assert self.pool is not None
        try:
            async with self.pool.acquire(timeout=5) as conn:
                await conn.fetchval("SELECT 1")
        except Exception as exc:
            raise TransientFailure(f"database unhealthy: {exc!r}") from exc

    async def _apply(self, events: list[IncomingEvent]) -> None:
        assert self.pool is not None, "consumer not bound to a pool"
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await self.apply_in(conn, events)
        if fresh and self.on_committed:
            self.on_committed(fresh)
        now = datetime.now(UTC)
        observe_all(self._delay, [(now - e.envelope.time).total_seconds() for e in fresh])
        outcomes: Counter[tuple[str, str]] = Counter()
        if len(fresh) == len(events):  # the usual case: no duplicate, no set of ids to build
            outcomes.update((event.record.topic, "applied") for event in events)
        else:
            applied = {e.envelope.id for e in fresh}
            for event in events:
                outcome = "applied" if event.envelope.id in applied else "duplicate"
                outcomes[(event.record.topic, outcome)] += 1
        for (topic, outcome), n in outcomes.items():
            self._count(topic, outcome, n)

    async def apply_in(self, conn: Connection, events: list[IncomingEvent]) -> list[IncomingEvent]:
        """A batch's effects inside the caller's transaction: returns the events applied now
        (those neither the inbox nor, when it deduplicates, the handler had seen)."""
        if self.deduplicated_by_handler:
            held = await self.handler(conn, events)
            return [e for e in events if e.envelope.id not in held] if held else events
        fresh_ids = await claim_new(
            conn, self.group_id, [(e.envelope.id, e.record.topic) for e in events]
        )
        fresh = [e for e in events if e.envelope.id in fresh_ids]
        if fresh:
            await self.handler(conn, fresh)
        return fresh

    async def _dead_letter(self, record: ConsumedRecord, reason: str) -> None:
        assert self.producer is not None, "consumer not bound to a producer"
        log.error(
            "dead-lettering %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason
        )
        headers = (
            ("eduhub-error", reason[:2000].encode()),
            ("eduhub-source-topic", record.topic.encode()),
            ("eduhub-source-partition", str(record.partition).encode()),
            ("eduhub-source-offset", str(record.offset).encode()),
            ("eduhub-consumer", self.group_id.encode()),
            ("eduhub-failed-at", datetime.now(UTC).isoformat().encode()),
        )
        key = (record.key or b"").decode(errors="replace")
        try:
            await self.producer.send_all(
                [
                    OutgoingMessage(
                        dead_letter_topic(record.topic), key, record.value or b"", headers
                    )
                ]
            )
        except Exception as exc:
            # Without the DLQ copy we must not move past the record.
            raise TransientFailure(f"dead-letter publish failed: {exc!r}") from exc
        self._count(record.topic, "dead_lettered")

    def _count(self, topic: str, outcome: str, n: int = 1) -> None:
        counter = self._counters.get((topic, outcome))
        if counter is None:
            counter = metrics.EVENTS_CONSUMED.labels(
                service=self.service, topic=topic, outcome=outcome
            )
            self._counters[(topic, outcome)] = counter
        counter.inc(n)


async def backoff_after_transient(started: float, *, minimum: float = 1.0) -> None:
    """Slow the redelivery loop when the database or broker is down."""
    elapsed = time.monotonic() - started
    if elapsed < minimum:
        await asyncio.sleep(minimum - elapsed)
