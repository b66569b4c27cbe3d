"""`eduhub analytics ...`: commands of the analytics service (registered as a plugin)."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import click


@click.group()
def analytics() -> None:
    """Analytics: live aggregates and their benchmark."""


@contextlib.asynccontextmanager
async def _servers(
    database_url: str | None, bootstrap: str | None
) -> AsyncIterator[tuple[str, str]]:
    """The given servers, or the embedded PostgreSQL and broker `make up` runs, started in a
    temporary folder and stopped after."""
    from shared.localstack.broker import EmbeddedBroker
    from shared.localstack.postgres import EmbeddedPostgres, free_port

    with tempfile.TemporaryDirectory(prefix="eduhub-bench-analytics-") as folder:
        server = None if database_url else EmbeddedPostgres(Path(folder) / "pgdata", free_port())
        broker = None if bootstrap else EmbeddedBroker(free_port(), Path(folder) / "broker.log")
        try:
            if server:
                await asyncio.to_thread(server.start)
            if broker:
                broker.start()
            yield (
                database_url or (server.admin_url if server else ""),
                bootstrap or (broker.bootstrap_servers if broker else ""),
            )
        finally:
            if broker:
                broker.stop()
            if server:
                await asyncio.to_thread(server.stop)


@analytics.command("bench")
@click.option("--learners", default=1_000_000, show_default=True, help="Learners of the province.")
@click.option("--schools", default=0, help="Schools [default: one per 540 learners].")
@click.option(
    "--grades/--no-grades",
    default=True,
    show_default=True,
    help="Also publish secondary learners' end-of-term scores and finalised terms.",
)
@click.option(
    "--batch-size",
    default=500,
    show_default=True,
    help="Records per consumer batch (as CONSUMER_BATCH_SIZE).",
)
@click.option(
    "--members",
    default=1,
    show_default=True,
    help="Members of each consumer group (as CONSUMER_MEMBERS).",
)
@click.option(
    "--processes",
    default=1,
    show_default=True,
    help="Analytics processes, as replicas of the service (the bench's own included).",
)
@click.option("--pool-size", default=10, show_default=True, help="Connections (as DB_POOL_SIZE).")
@click.option("--partitions", default=3, show_default=True, help="Partitions of each topic.")
@click.option(
    "--steady-rate", default=2_000.0, show_default=True, help="Events/s of the delay test."
)
@click.option(
    "--steady-seconds", default=30.0, show_default=True, help="Length of the delay test (0: skip)."
)
@click.option("--national-learners", default=23_000_000, show_default=True)
@click.option("--national-schools", default=40_000, show_default=True)
@click.option("--national-communes", default=3_321, show_default=True)
@click.option("--national-provinces", default=34, show_default=True)
@click.option("--national-runs", default=50, show_default=True, help="Timed runs per query.")
@click.option("--no-national", is_flag=True, help="Skip the national-scale queries.")
@click.option(
    "--database-url",
    default=None,
    help="A PostgreSQL server (the bench makes its own databases there and drops them after) "
    "[default: an embedded PostgreSQL].",
)
@click.option(
    "--bootstrap",
    default=None,
    help="Kafka brokers, e.g. an Apache Kafka; the run then uses topics and groups of its own "
    "[default: an embedded tansu broker].",
)
@click.option("--seed", default=2025, show_default=True)
@click.option("--keep", is_flag=True, help="Keep the bench databases.")
@click.option(
    "--profile",
    type=click.Path(path_type=Path),
    default=None,
    help="Write cProfile statistics of the catch-up phase to this file.",
)
def bench(
    learners: int,
    schools: int,
    grades: bool,
    batch_size: int,
    members: int,
    processes: int,
    pool_size: int,
    partitions: int,
    steady_rate: float,
    steady_seconds: float,
    national_learners: int,
    national_schools: int,
    national_communes: int,
    national_provinces: int,
    national_runs: int,
    no_national: bool,
    database_url: str | None,
    bootstrap: str | None,
    seed: int,
    keep: bool,
    profile: Path | None,
) -> None:
    """Replay a province's semester through analytics: events/s next to the broker's raw
    consume rate, publish-to-aggregate delay at a steady rate, and province queries over
    aggregates filled to national scale."""
    from services.analytics.bench.national import Nation
    from services.analytics.bench.run import BenchOptions, run_bench

    options = BenchOptions(
        learners=learners,
        schools=schools,
        grades=grades,
        batch_size=batch_size,
        members=members,
        processes=processes,
        pool_size=pool_size,
        partitions=partitions,
        steady_rate=steady_rate,
        steady_seconds=steady_seconds,
        nation=None
        if no_national
        else Nation(
            learners=national_learners,
            schools=national_schools,
            communes=national_communes,
            provinces=national_provinces,
        ),
        national_runs=national_runs,
        seed=seed,
        keep=keep,
        profile=profile,
    )

    async def run() -> None:
        async with _servers(database_url, bootstrap) as (server_url, servers):
            result = await run_bench(
                options,
                server_url=server_url,
                bootstrap_servers=servers,
                isolate=bootstrap is not None,
            )
        result.print()

    asyncio.run(run())


if __name__ == "__main__":
    analytics()
