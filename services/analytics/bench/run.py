"""The whole benchmark on one PostgreSQL server and one broker, and its report.

Every figure is measured in the same run on the same servers: the broker's raw consume rate
(and the same read with each event decoded) next to analytics' rate, so the ratio says what
analytics costs on this machine whatever else is running on it.
"""

from __future__ import annotations

import contextlib
import cProfile
import os
import resource
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import click
from tqdm import tqdm

from services.analytics.bench.cpu import CpuUse, snapshot
from services.analytics.bench.measure import (
    Progress,
    RawConsume,
    Steady,
    analytics_definition,
    decoder_of,
    fanout,
    percentile,
    raw_consume,
    steady_publish,
)
from services.analytics.bench.national import Nation, NationalResult, fill, time_queries
from services.analytics.bench.produce import BulkProducer
from services.analytics.bench.replicas import ReplicaConfig, Replicas
from services.analytics.bench.synth import Produced, Province, semester
from shared.db.migrations import migrate
from shared.db.pool import create_pool, ensure_database, with_database
from shared.kafka import ensure_topics

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
TARGET_RATE = 25_000  # events/s through analytics (issue 5)
TARGET_SHARE_OF_RAW = 1 / 3
TARGET_P99 = 1.0  # seconds, at a steady 2,000 events/s


@dataclass
class BenchOptions:
    learners: int = 1_000_000
    schools: int = 0  # 0: one per 540 learners (Hải Phòng: 1,850 schools, a million learners)
    grades: bool = True
    batch_size: int = 500  # CONSUMER_BATCH_SIZE's default
    members: int = 1  # CONSUMER_MEMBERS's default
    processes: int = 1  # analytics processes (replicas), the bench's own included
    pool_size: int = 10  # DB_POOL_SIZE's default
    partitions: int = 3  # KAFKA_TOPIC_PARTITIONS's default
    steady_rate: float = 2_000.0
    steady_seconds: float = 30.0
    nation: Nation | None = field(default_factory=Nation)
    national_runs: int = 50
    seed: int = 2025
    keep: bool = False
    stall_seconds: float = 120.0
    chunk_learners: int = 5_000
    show_progress: bool = True
    profile: Path | None = None  # cProfile statistics of the catch-up phase

    @property
    def school_count(self) -> int:
        return self.schools or max(1, round(self.learners / 540))


@dataclass
class BenchResult:
    province: Province
    produced: Produced
    produce_seconds: float
    raw: RawConsume
    decoded: RawConsume  # the same read, each event decoded and validated as analytics does
    analytics_events: int  # distinct events on the topics analytics reads
    applications: int  # (event, consumer) pairs applied
    consumers: int
    members: int  # of each consumer group in each process
    processes: int  # analytics processes (replicas)
    analytics_seconds: float
    joined_seconds: float  # from the start until every consumer group had its partitions
    unconsumed_topics: dict[str, int]
    totals: dict[str, int]
    expected: dict[str, int]
    steady: Steady | None = None
    national: NationalResult | None = None
    notes: list[str] = field(default_factory=list)
    steady_rate_asked: float = 0.0
    # consumer group -> (events applied, seconds from the start of the catch-up to its last
    # commit)
    groups: dict[str, tuple[int, float]] = field(default_factory=dict)
    replica_applications: int = 0  # of the applications, those the replica processes made
    cpu: CpuUse | None = None  # CPU time of the catch-up, by role

    @property
    def analytics_rate(self) -> float:
        """Distinct events/s from the moment every consumer group is running (joining is a
        fixed start-up cost, printed apart) until every aggregate holds every event."""
        return self.analytics_events / self.analytics_seconds if self.analytics_seconds else 0.0

    @property
    def share_of_raw(self) -> float:
        return self.analytics_rate / self.raw.rate if self.raw.rate else 0.0

    def share_budget_line(self) -> str:
        """What the share-of-raw target leaves per event, beside what reading, then reading and
        decoding, cost in this run (the consumer process and the broker; PostgreSQL idles)."""
        cpus = self.raw.cpu.cpus
        rate = self.raw.rate * TARGET_SHARE_OF_RAW
        budget = cpus / rate * 1e6 if rate else 0.0

        def cost(phase: RawConsume) -> str:
            spent = phase.cpu.microseconds_per_event(phase.records)
            return (
                f"{spent['analytics'] + spent['broker']:,.1f} µs (consumer "
                f"{spent['analytics']:,.1f}, broker {spent['broker']:,.1f})"
            )

        database = (
            f"; the catch-up's PostgreSQL alone "
            f"{self.cpu.microseconds_per_event(self.analytics_events)['PostgreSQL']:,.1f} µs"
            if self.cpu
            else ""
        )
        return (
            f"{TARGET_SHARE_OF_RAW:.2f} of raw consume is {rate:,.0f} events/s: {budget:,.1f} µs "
            f"of CPU per event on {cpus} CPUs for everything; reading cost "
            f"{cost(self.raw)}, reading and decoding {cost(self.decoded)}{database}"
        )

    def print(self, echo: Callable[[str], None] = click.echo) -> None:
        p = self.produced
        echo("")
        echo(
            f"province: {p.learners:,} learners in {self.province.schools:,} schools of "
            f"{self.province.communes} communes, {p.secondary:,} in secondary"
        )
        echo(f"{'phase':<52}{'events':>12}{'seconds':>10}{'events/s':>12}")

        def row(name: str, events: int, seconds: float) -> None:
            rate = events / seconds if seconds else 0.0
            echo(f"{name:<52}{events:>12,}{seconds:>10.1f}{rate:>12,.0f}")

        row("produce, batched, acks=all (all topics)", p.events, self.produce_seconds)
        row(
            "(a) raw consume, no processing (analytics' topics)", self.raw.records, self.raw.seconds
        )
        row(
            "(a2) the same, each event decoded and validated",
            self.decoded.records,
            self.decoded.seconds,
        )
        row(
            f"(b) analytics catch-up, {self.processes} proc x {self.members} member"
            f"{'s' if self.members > 1 else ''}",
            self.analytics_events,
            self.analytics_seconds,
        )
        row(
            "    (event, consumer) applications in that time",
            self.applications,
            self.analytics_seconds,
        )
        row(
            f"    the same with joining the groups ({self.joined_seconds:.1f} s)",
            self.analytics_events,
            self.analytics_seconds + self.joined_seconds,
        )
        echo(
            f"ratio analytics / raw consume: {self.share_of_raw:.2f} (raw is "
            f"{1 / self.share_of_raw if self.share_of_raw else float('inf'):.1f}x analytics); "
            f"targets: >= {TARGET_RATE:,} events/s and >= {TARGET_SHARE_OF_RAW:.2f} of raw: "
            f"{_verdict(self.analytics_rate >= TARGET_RATE)}, "
            f"{_verdict(self.share_of_raw >= TARGET_SHARE_OF_RAW)}"
        )
        if self.cpu:
            echo(self.cpu.line(self.analytics_events))
        echo(self.share_budget_line())
        if self.processes > 1:
            echo(
                f"    of the applications, {self.replica_applications:,} by the "
                f"{self.processes - 1} replica process{'es' if self.processes > 2 else ''}"
            )
        if self.groups:
            echo(
                "    each group's last commit of the catch-up: "
                + ", ".join(
                    f"{group} {n:,} at {at:.1f} s"
                    for group, (n, at) in sorted(self.groups.items(), key=lambda g: -g[1][1])
                )
            )
        for topic, count in sorted(self.unconsumed_topics.items()):
            echo(f"not consumed by analytics (no consumer subscribes yet): {topic} {count:,}")
        if self.steady:
            s = self.steady
            echo(
                f"steady: {s.published:,} events in {s.seconds:.1f} s ({s.rate:,.0f}/s asked "
                f"{self.steady_rate_asked:,.0f}/s); publish -> visible in aggregate: p50 "
                f"{percentile(s.delays, 0.5) * 1000:,.0f} ms, p99 "
                f"{percentile(s.delays, 0.99) * 1000:,.0f} ms, max "
                f"{max(s.delays, default=float('nan')) * 1000:,.0f} ms over {len(s.delays):,} "
                f"events ({s.unmatched} never applied); target p99 < {TARGET_P99:.0f} s: "
                f"{_verdict(percentile(s.delays, 0.99) < TARGET_P99 and not s.unmatched)}"
            )
        echo(
            "aggregates: "
            + ", ".join(
                f"{name} {self.totals[name]:,} (expected {self.expected[name]:,})"
                for name in self.expected
            )
            + f": {_verdict(self.totals == self.expected, 'equal', 'DIFFERENT')}"
        )
        if self.national:
            _print_national(self.national, echo)
        for note in self.notes:
            echo(note)


def _verdict(ok: bool, yes: str = "met", no: str = "NOT met") -> str:
    return yes if ok else no


def _print_national(n: NationalResult, echo: Callable[[str], None]) -> None:
    nation = n.nation
    echo("")
    echo(
        f"national scale: {nation.learners:,} learners, {nation.schools:,} schools, "
        f"{nation.communes:,} communes, {nation.provinces} provinces, {nation.campaigns} "
        f"campaigns; aggregate rows filled in {n.fill_seconds:.1f} s: "
        + ", ".join(f"{t} {c:,}" for t, c in n.rows.items())
    )
    echo(
        f"province {n.province_id}: {n.province_learners:,} learners; answered "
        + ", ".join(f"{k} {v:,}" for k, v in n.answered.items())
    )
    echo(f"{'query (the route function, in-process)':<44}{'runs':>6}{'p50 ms':>10}{'p99 ms':>10}")
    for t in n.timings:
        echo(f"{t.name:<44}{len(t.milliseconds):>6}{t.p50:>10.1f}{t.p99:>10.1f}")
    for name, plan in n.plans.items():
        echo(f"EXPLAIN (ANALYZE, BUFFERS) of {name}:")
        for line in plan:
            echo(f"    {line}")


@contextlib.contextmanager
def _profiled(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)


async def _new_database(server_url: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    await ensure_database(server_url, name)
    url = with_database(server_url, name)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, "analytics", MIGRATIONS)
    finally:
        await conn.close()
    return url


async def _drop_database(server_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _totals(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {
            "enrolled": await conn.fetchval(
                "SELECT coalesce(sum(enrolled), 0) FROM school_enrolment"
            ),
            "measured": await conn.fetchval(
                "SELECT coalesce(sum(measured), 0) FROM nutrition_cells"
            ),
            "eyes_examined": await conn.fetchval(
                "SELECT coalesce(sum(examined), 0) FROM eye_cells"
            ),
            "org_units": await conn.fetchval("SELECT count(*) FROM org_units"),
            "inbox": await conn.fetchval("SELECT count(*) FROM inbox"),
        }
    finally:
        await conn.close()


async def run_bench(
    options: BenchOptions, *, server_url: str, bootstrap_servers: str, isolate: bool
) -> BenchResult:
    """ISOLATE: the broker is shared (tests, a real cluster): use topics and consumer groups of
    this run only. Otherwise the real topic and group names are used."""
    run = uuid.uuid4().hex[:8]
    province = Province(
        learners=options.learners,
        schools=options.school_count,
        seed=options.seed,
        grades=options.grades,
        topic_prefix=f"bench-{run}." if isolate else "",
    )
    url = await _new_database(server_url, "bench_analytics")
    notes = []
    try:
        await ensure_topics(bootstrap_servers, province.topics(), partitions=options.partitions)
        produced = Produced()
        started = time.perf_counter()
        async with BulkProducer(bootstrap_servers) as producer:
            with tqdm(
                total=options.learners,
                desc="produce",
                unit=" learners",
                disable=not options.show_progress,
            ) as bar:
                for chunk in semester(province, produced, chunk_learners=options.chunk_learners):
                    await producer.send(chunk)
                    bar.update(produced.learners - bar.n)
            await producer.flush()
            partitions = producer.partitions
        produce_seconds = time.perf_counter() - started

        wired = analytics_definition().build_consumers()
        readers = fanout(wired, province.topic_prefix)
        consumed_topics = set(readers)
        expected_events = sum(n for t, n in produced.by_topic.items() if t in consumed_topics)
        # An event read by two consumers is applied once by each.
        applications = sum(n * readers[t] for t, n in produced.by_topic.items())
        # The inbox holds a row per application of the consumers that use it.
        inboxed = fanout([c for c in wired if not c.deduplicated_by_handler], province.topic_prefix)
        unconsumed = {t: n for t, n in produced.by_topic.items() if t not in consumed_topics}
        read_partitions = {t: ps for t, ps in partitions.items() if t in consumed_topics}
        raw = await raw_consume(bootstrap_servers, read_partitions)
        decoded = await raw_consume(
            bootstrap_servers, read_partitions, decode=decoder_of(wired).decode
        )

        progress = Progress()
        replica_config = ReplicaConfig(
            database_url=url,
            bootstrap_servers=bootstrap_servers,
            province=province,
            batch_size=options.batch_size,
            members=options.members,
            pool_size=options.pool_size,
            group_suffix=f".bench-{run}" if isolate else "",
        )
        replicas = Replicas(options.processes - 1, replica_config, progress)
        async with (
            replica_config.running(progress) as analytics,
            replicas.running(),
        ):
            joined_seconds = await analytics.joined(
                elsewhere=replicas.assignments,
                # several members of a group join one after another, rebalancing each time
                settle=3.0 if options.processes > 1 or options.members > 1 else 0.0,
            )
            progress.expect(applications)
            with (
                tqdm(
                    total=applications,
                    desc="analytics",
                    unit=" applied",
                    disable=not options.show_progress,
                ) as bar,
                _profiled(options.profile),
            ):
                cpu_at_start = snapshot()  # reading /proc takes a while: before the clock
                started = time.perf_counter()
                analytics.gate.set()
                replicas.gate.set()

                def tick(applied: int) -> None:
                    replicas.assignments()  # raises if a replica failed
                    bar.update(applied - bar.n)

                await progress.wait(stall_seconds=options.stall_seconds, on_tick=tick)
                analytics_seconds = time.perf_counter() - started
                cpu = CpuUse.between(cpu_at_start, snapshot())
                bar.update(progress.applied - bar.n)
            replica_applications = replicas.applied
            groups = {
                group: (n, progress.last_commit[group] - started)
                for group, n in progress.by_group.items()
            }
            steady = None
            if options.steady_seconds > 0:
                replicas.timing.set()  # from now on the replicas report event ids
                steady = await steady_publish(
                    bootstrap_servers=bootstrap_servers,
                    province=province,
                    progress=progress,
                    rate=options.steady_rate,
                    seconds=options.steady_seconds,
                    first_learner=options.learners,
                    readers=readers,
                )
        newcomers = steady.published // 2 if steady else 0
        totals = await _totals(url)
        expected = {
            "enrolled": options.learners + newcomers,
            "measured": options.learners + newcomers,
            "eyes_examined": options.learners + newcomers,
            "org_units": 1 + province.communes + province.schools,
            "inbox": sum(n * inboxed[t] for t, n in produced.by_topic.items())
            + (sum(n * inboxed[t] for t, n in steady.by_topic.items()) if steady else 0),
        }
        if options.profile:
            notes.append(f"cProfile statistics of the catch-up phase: {options.profile}")
    finally:
        if options.keep:
            notes.append(f"kept database {url}")
        else:
            await _drop_database(server_url, url)

    national = None
    if options.nation is not None:
        national = await _national(options, server_url)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    notes.append(
        f"peak memory of this process {peak:,.0f} MiB; CPUs {os.cpu_count()}; load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end"
    )
    result = BenchResult(
        province=province,
        produced=produced,
        produce_seconds=produce_seconds,
        raw=raw,
        decoded=decoded,
        analytics_events=expected_events,
        applications=applications,
        consumers=len(wired),
        members=options.members,
        processes=options.processes,
        analytics_seconds=analytics_seconds,
        joined_seconds=joined_seconds,
        unconsumed_topics=unconsumed,
        totals=totals,
        expected=expected,
        steady=steady,
        national=national,
        notes=notes,
        groups=groups,
        replica_applications=replica_applications,
        cpu=cpu,
    )
    result.steady_rate_asked = options.steady_rate
    return result


async def _national(options: BenchOptions, server_url: str) -> NationalResult:
    assert options.nation is not None
    nation = options.nation
    url = await _new_database(server_url, "bench_national")
    try:
        pool = await create_pool(url, max_size=4)
        try:
            async with pool.acquire() as conn:
                started = time.perf_counter()
                rows = await fill(conn, nation)
                fill_seconds = time.perf_counter() - started
            return await time_queries(
                pool,
                nation,
                province_index=0,
                runs=options.national_runs,
                fill_seconds=fill_seconds,
                rows=rows,
            )
        finally:
            await pool.close()
    finally:
        if not options.keep:
            await _drop_database(server_url, url)
