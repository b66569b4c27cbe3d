"""The measurements of the event path: raw consume (without and with decoding), analytics
catch-up, steady delay.

Analytics runs here as it runs in the service: the consumers app.py wires (the same
EventConsumer instances and handlers), subscribed with shared.service.subscribe_consumer
(FastStream batch subscribers over aiokafka, NACK_ON_ERROR, offsets committed after the
database commit), bound to a pool and a producer, with app.py's start and stop hooks (the gauge
refresher). Only the HTTP side, the outbox relay and the lag monitor are left out. Progress
and delays are read from each consumer's `on_committed` hook, which runs right after the
batch's transaction commits: from then on the aggregate includes the event for every reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.kafka import KafkaBroker

from services.analytics.bench.cpu import CpuUse, snapshot
from services.analytics.bench.produce import BulkProducer
from services.analytics.bench.synth import Province, newcomer
from shared.consumer.runner import ConsumedRecord, EventConsumer, IncomingEvent
from shared.events.envelope import EventDecoder, dead_letter_topic
from shared.gc_tuning import tune_garbage_collector
from shared.kafka import EventProducer, ensure_topics
from shared.service import ServiceDefinition, subscribe_consumer


def analytics_definition() -> ServiceDefinition:
    """The ServiceDefinition services/analytics/app.py builds (its consumers and its start and
    stop hooks), captured without building the FastAPI app: the bench runs exactly what the
    service wires, whatever consumers are added to it later."""
    from services.analytics import app

    captured: list[ServiceDefinition] = []

    def capture(definition: ServiceDefinition, settings: Any = None) -> Any:
        captured.append(definition)
        return None

    original = app.create_service_app
    app.create_service_app = capture
    try:
        app.create_app()
    finally:
        app.create_service_app = original
    return captured[0]


def fanout(consumers: Sequence[EventConsumer], prefix: str = "") -> Counter[str]:
    """Topic -> how many consumers read it (an event is applied once by each of them)."""
    return Counter(f"{prefix}{t}" for c in consumers for t in c.topics)


# --------------------------------------------------------------------------- raw consume


@dataclass(frozen=True)
class RawConsume:
    records: int
    bytes: int
    seconds: float
    cpu: CpuUse  # the machine's CPU time over the read, by role

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


async def raw_consume(
    bootstrap_servers: str,
    partitions_of: dict[str, list[int]],
    decode: Callable[[bytes | None], object] | None = None,
) -> RawConsume:
    """A plain aiokafka consumer reads the topics from the start to the end; no processing,
    or with DECODE only that per record (the decoding every analytics consumer starts with:
    what any consumer that validates its input spends before it does anything else).
    PARTITIONS_OF: topic -> its partitions, as the producer learnt them."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t, ps in partitions_of.items() for p in ps]
        ends = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records = size = 0
        cpu_at_start = snapshot()  # reading /proc takes a while: before the clock
        started = time.perf_counter()
        remaining = {tp for tp, end in ends.items() if end > 0}
        while remaining:
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, batch in batches.items():
                records += len(batch)
                size += sum(len(r.value or b"") for r in batch)
                if decode is not None:
                    for r in batch:
                        decode(r.value)
                if batch[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        seconds = time.perf_counter() - started
        return RawConsume(records, size, seconds, CpuUse.between(cpu_at_start, snapshot()))
    finally:
        await consumer.stop()


def decoder_of(consumers: Sequence[EventConsumer]) -> EventDecoder:
    """One decoder for every contract the consumers read, as their own decoders decode them."""
    contracts = {key: c for consumer in consumers for key, c in consumer.contracts.items()}
    return EventDecoder(contracts.values())


# --------------------------------------------------------------------------- analytics


@dataclass
class Progress:
    """Events applied (committed) by the consumers, and the delays of those being timed."""

    applied: int = 0
    target: int = 0
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    # event id -> [send time, consumers still to apply it]: an event's delay ends when every
    # aggregate it feeds has it
    published_at: dict[uuid.UUID, list[float]] = field(default_factory=dict)
    delays: list[float] = field(default_factory=list)
    last_change: float = field(default_factory=time.monotonic)
    # consumer group -> events it applied and when its last batch committed: the group that
    # finishes last is the one that bounds the catch-up
    by_group: Counter[str] = field(default_factory=Counter)
    last_commit: dict[str, float] = field(default_factory=dict)

    def committed(self, fresh: list[IncomingEvent], group: str = "") -> None:
        now = time.perf_counter()
        if self.published_at:
            self.record(group, [event.id for event in fresh], now)
        else:  # nothing is timed: the ids are not needed
            self.record_count(group, len(fresh), now)

    def record(self, group: str, ids: Sequence[uuid.UUID], now: float) -> None:
        """GROUP committed the events IDS at NOW (time.perf_counter, which is the system-wide
        monotonic clock on Linux, so replicas in other processes report on the same clock)."""
        if self.published_at:
            for event_id in ids:
                pending = self.published_at.get(event_id)
                if pending is not None:
                    pending[1] -= 1
                    if pending[1] <= 0:
                        self.delays.append(now - pending[0])
                        del self.published_at[event_id]
        self.record_count(group, len(ids), now)

    def record_count(self, group: str, count: int, now: float) -> None:
        """GROUP committed COUNT events at NOW, none of them timed."""
        self.applied += count
        self.by_group[group] += count
        self.last_commit[group] = max(now, self.last_commit.get(group, now))
        self.last_change = time.monotonic()
        if self.target and self.applied >= self.target:
            self.reached.set()

    def expect(self, target: int) -> None:
        """From now on, wait for TARGET applications. The stall clock starts here: joining
        the groups before it may take minutes (a replica process's members rebalance every
        group as they join), and is not a stall."""
        self.target = target
        self.last_change = time.monotonic()
        self.reached.clear()
        if self.applied >= target:
            self.reached.set()

    async def wait(
        self, *, stall_seconds: float, on_tick: Callable[[int], None] | None = None
    ) -> None:
        """Until the target is reached; fail when nothing was applied for STALL_SECONDS."""
        while not self.reached.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.reached.wait(), timeout=0.2)
            if on_tick:
                on_tick(self.applied)
            if time.monotonic() - self.last_change > stall_seconds:
                raise RuntimeError(
                    f"analytics stalled at {self.applied:,} of {self.target:,} events (dead "
                    "letters? see the log)"
                )


def _gate(consumer: EventConsumer, gate: asyncio.Event) -> None:
    """Hold each consumer's first batch until the gate opens: the catch-up is timed with every
    group running, not while groups join one after another. The batch waits before its
    transaction begins: a batch waiting inside one would hold its inbox claims, and the member
    that gets its partition in a rebalance would block on them."""
    process = consumer.process

    async def gated(records: Sequence[ConsumedRecord]) -> None:
        await gate.wait()
        await process(records)

    consumer.process = gated  # type: ignore[method-assign]


def _observe(consumer: EventConsumer, progress: Progress) -> None:
    original = consumer.on_committed

    def committed(fresh: list[IncomingEvent]) -> None:
        progress.committed(fresh, consumer.group_id)
        if original:
            original(fresh)

    consumer.on_committed = committed


@dataclass
class RunningAnalytics:
    pool: asyncpg.Pool
    consumers: list[EventConsumer]
    progress: Progress
    started_at: float
    broker: KafkaBroker
    gate: asyncio.Event

    def assignment(self) -> dict[str, set[TopicPartition]]:
        """Consumer group -> the partitions this process's members hold."""
        held: dict[str, set[TopicPartition]] = {}
        subscriber: Any  # FastStream's Kafka batch subscriber: group_id, consumer
        for subscriber in self.broker.subscribers:
            kafka = getattr(subscriber, "consumer", None)
            held.setdefault(subscriber.group_id, set()).update(
                kafka.assignment() if kafka is not None else ()
            )
        return held

    def unassigned(self, elsewhere: Sequence[dict[str, set[TopicPartition]]] = ()) -> list[str]:
        """What is not yet running: every consumer group must have joined, and every
        partition of its topics gone to one of its members, here or in the replica processes
        (ELSEWHERE: their assignments). (Joining takes seconds on the embedded broker; the
        rate is measured from then on.)"""
        assigned: dict[str, set[Any]] = {}
        for held in elsewhere:
            for group, partitions in held.items():
                assigned.setdefault(group, set()).update(partitions)
        wanted: dict[str, set[Any]] = {}
        missing: list[str] = []
        subscriber: Any  # FastStream's Kafka batch subscriber: group_id, topic_names, consumer
        for subscriber in self.broker.subscribers:
            group = subscriber.group_id
            kafka = getattr(subscriber, "consumer", None)
            if kafka is None:
                missing.append(f"{group}: a member not started")
                continue
            assigned.setdefault(group, set()).update(kafka.assignment())
            for topic in subscriber.topic_names:
                partitions = kafka.partitions_for_topic(topic)
                if not partitions:
                    missing.append(f"{group}: no metadata of {topic}")
                wanted.setdefault(group, set()).update(
                    TopicPartition(topic, p) for p in partitions or ()
                )
        for group, partitions in wanted.items():
            for tp in sorted(partitions - assigned.get(group, set())):
                missing.append(f"{group}: {tp.topic}[{tp.partition}]")
        return missing

    async def joined(
        self,
        *,
        within: float = 300.0,
        elsewhere: Callable[[], Sequence[dict[str, set[TopicPartition]]] | None] = lambda: (),
        settle: float = 0.0,
    ) -> float:
        """Seconds from the start until every group has its partitions (and has kept them for
        SETTLE seconds: members joining one after another rebalance the group each time).
        ELSEWHERE gives the replica processes' assignments, None until each has reported."""
        deadline = time.monotonic() + within
        complete_since: float | None = None
        while True:
            others = elsewhere()
            missing = ["a replica process not started"] if others is None else []
            missing = missing or self.unassigned(others or ())
            now = time.monotonic()
            if missing:
                complete_since = None
            elif complete_since is None:
                complete_since = now
            if complete_since is not None and now - complete_since >= settle:
                return time.perf_counter() - self.started_at
            if now > deadline:
                raise RuntimeError(
                    f"consumer groups not assigned after {within:.0f} s: " + "; ".join(missing)
                )
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running_analytics(
    *,
    database_url: str,
    bootstrap_servers: str,
    province: Province,
    batch_size: int,
    pool_size: int,
    members: int = 1,
    group_suffix: str = "",
    progress: Progress | None = None,
) -> AsyncIterator[RunningAnalytics]:
    """The analytics consumers, subscribed and started as create_service_app does."""
    from shared.db.pool import create_pool

    pool = await create_pool(database_url, max_size=pool_size)
    producer = EventProducer(bootstrap_servers, client_id="eduhub-analytics-producer")
    definition = analytics_definition()
    progress = progress or Progress()
    gate = asyncio.Event()
    consumers = definition.build_consumers()
    for consumer in consumers:
        # On a shared broker the run reads its own topics under its own group ids.
        consumer.topics = [f"{province.topic_prefix}{t}" for t in consumer.topics]
        consumer.group_id += group_suffix
        _observe(consumer, progress)
        _gate(consumer, gate)
    broker = KafkaBroker(
        bootstrap_servers,
        client_id="eduhub-analytics",
        logger=logging.getLogger("faststream.analytics"),
        log_level=logging.DEBUG,
        graceful_timeout=15.0,
    )
    for consumer in consumers:
        subscribe_consumer(broker, consumer, max_records=batch_size, members=members)
    await ensure_topics(
        bootstrap_servers,
        {t for c in consumers for t in c.topics}
        | {dead_letter_topic(t) for c in consumers for t in c.topics},
    )
    await producer.start()
    for consumer in consumers:
        consumer.bind(pool, producer)
    # app.py's start and stop hooks (the gauge refresher) use only the context's pool.
    context: Any = SimpleNamespace(pool=pool)
    # As run_service does for the service's own process.
    tune_garbage_collector()
    try:
        started = time.perf_counter()
        # FastStream's own start, joining the groups one after another, not the services'
        # start_broker: the gate holds each member's first batch, and a process whose members
        # took every partition before a replica's joined would apply every held batch, leaving
        # the replica nothing but duplicates (seen on Apache Kafka, where joins take 3 s).
        await broker.start()
        if definition.on_started:
            await definition.on_started(context)
        yield RunningAnalytics(pool, consumers, progress, started, broker, gate)
    finally:
        if definition.on_stopping:
            await definition.on_stopping(context)
        await broker.stop()
        await producer.stop()
        await pool.close()


# --------------------------------------------------------------------------- steady delay


@dataclass(frozen=True)
class Steady:
    published: int
    by_topic: Counter[str]
    seconds: float
    delays: list[float]
    unmatched: int

    @property
    def rate(self) -> float:
        return self.published / self.seconds if self.seconds else 0.0


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


async def steady_publish(
    *,
    bootstrap_servers: str,
    province: Province,
    progress: Progress,
    rate: float,
    seconds: float,
    first_learner: int,
    readers: Counter[str],
    drain_seconds: float = 60.0,
) -> Steady:
    """Publish newcomers (an enrolment and a measurement each) at RATE events/s for SECONDS,
    through a producer configured as the services' (acks=all, linger 5 ms); time each event
    from the send call to the commit of the batch that applied it."""
    rng = random.Random(province.seed + 7)
    futures = []
    published = 0
    by_topic: Counter[str] = Counter()
    number = first_learner
    # The services' producer settings (acks=all, linger 5 ms), one send call per event.
    async with BulkProducer(bootstrap_servers, client_id="eduhub-analytics-bench-steady") as bulk:
        kafka = bulk.producer
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            due = int(elapsed * rate) - published
            while due > 0:
                for message in newcomer(province, rng, number):
                    progress.published_at[message.event_id] = [
                        time.perf_counter(),
                        readers[message.topic],
                    ]
                    by_topic[message.topic] += 1
                    futures.append(
                        await kafka.send(message.topic, value=message.value, key=message.key)
                    )
                    published += 1
                    due -= 1
                number += 1
            await asyncio.sleep(0.005)
        publish_seconds = time.perf_counter() - started
        await asyncio.gather(*futures)
    progress.expect(progress.applied + sum(int(p[1]) for p in progress.published_at.values()))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(progress.reached.wait(), timeout=drain_seconds)
    unmatched = len(progress.published_at)
    progress.published_at.clear()
    return Steady(published, by_topic, publish_seconds, list(progress.delays), unmatched)
