"""The `eduhub` command line. Subcommands of the services register themselves through the
`eduhub.commands` entry-point group, so this platform package never imports a service."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

import click

DEFAULT_HOME = Path(os.environ.get("EDUHUB_HOME", ".eduhub"))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """EduHub: the education sector data platform of a provincial Department of Education."""


@main.command()
@click.option(
    "--home",
    type=click.Path(path_type=Path),
    default=DEFAULT_HOME,
    show_default=True,
    help="Where the local stack keeps its database, keys and logs.",
)
@click.option(
    "--seed/--no-seed",
    default=True,
    show_default=True,
    help="Load the demo data set once the services are ready.",
)
def up(home: Path, seed: bool) -> None:
    """Run the whole platform on this machine (embedded PostgreSQL and broker unless
    DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS are set). Ctrl-C stops everything."""
    from shared.localstack.seed import SeedContext, load_demo_data
    from shared.localstack.stack import (
        SERVICES,
        StackConfig,
        run_until_interrupted,
        start_stack,
        summary,
    )

    config = StackConfig.from_env(home.resolve(), seed=seed)
    try:
        stack = start_stack(config, say=click.echo)
    except (RuntimeError, TimeoutError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        if seed:
            click.echo("Loading the demo data set...")
            load_demo_data(
                SeedContext(
                    urls={s: config.url_of(s) for s in SERVICES},
                    token=stack.token(),
                    progress=lambda line: click.echo(f"  {line}"),
                )
            )
        click.echo(summary(stack))
    except BaseException:
        stack.stop()
        raise
    sys.exit(run_until_interrupted(stack, say=click.echo))


@main.command()
@click.option(
    "--http-port-base",
    default=8001,
    show_default=True,
    help="Port of identity; records, analytics and documents follow it.",
)
@click.option("--home", type=click.Path(path_type=Path), default=DEFAULT_HOME, show_default=True)
def seed(http_port_base: int, home: Path) -> None:
    """Load the demo data set into a running platform (safe to repeat)."""
    from shared.localstack.seed import SeedContext, load_demo_data
    from shared.localstack.stack import SERVICES

    urls = {s: f"http://127.0.0.1:{http_port_base + i}" for i, s in enumerate(SERVICES)}
    load_demo_data(
        SeedContext(
            urls=urls, token=_local_token(home, "department", "HP", "seed"), progress=click.echo
        )
    )


def _local_token(home: Path, role: str, org: str, subject: str) -> str:
    from shared.auth import issue_token

    key = home / "keys" / "jwt-private.pem"
    if not key.exists():
        raise click.ClickException(f"no signing key at {key}: run `eduhub up` or `eduhub keys`")
    return issue_token(key.read_bytes(), subject=subject, role=role, org_id=org)


@main.command()
@click.option(
    "--role",
    default="department",
    show_default=True,
    type=click.Choice(["department", "commune", "school", "teacher", "auditor", "service"]),
)
@click.option("--org", default="HP", show_default=True, help="Organisation the caller acts for.")
@click.option("--subject", default="local-user", show_default=True)
@click.option("--home", type=click.Path(path_type=Path), default=DEFAULT_HOME, show_default=True)
def token(role: str, org: str, subject: str, home: Path) -> None:
    """Print a bearer token signed with the local stack's key (local use only)."""
    click.echo(_local_token(home, role, org, subject))


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=DEFAULT_HOME / "keys",
    show_default=True,
)
def keys(directory: Path) -> None:
    """Generate the RS256 key pair that signs local tokens (kept if it exists)."""
    from shared.auth import generate_key_pair

    private, public = generate_key_pair(directory)
    click.echo(f"private key: {private}\npublic key:  {public}")


@main.group()
def contracts() -> None:
    """Event contracts and their committed JSON Schemas."""


@contracts.command("export")
def contracts_export() -> None:
    """Write the JSON Schema of every contract to shared/events/schemas/."""
    from shared.events.contracts import ALL_CONTRACTS
    from shared.events.schemas import export_schemas

    for path in export_schemas(ALL_CONTRACTS):
        click.echo(path)


@contracts.command("check")
def contracts_check() -> None:
    """Fail if a contract changed in a way old events could not be read."""
    from shared.events.contracts import ALL_CONTRACTS
    from shared.events.schemas import compatibility_problems, current_schema, schema_file

    failed = False
    for contract in ALL_CONTRACTS:
        path = schema_file(contract)
        if not path.exists():
            click.echo(
                f"{contract.EVENT_TYPE} v{contract.VERSION}: no committed schema "
                "(run `eduhub contracts export`)"
            )
            failed = True
            continue
        for problem in compatibility_problems(
            json.loads(path.read_text()), current_schema(contract)
        ):
            click.echo(f"{contract.EVENT_TYPE} v{contract.VERSION}: {problem}")
            failed = True
    if failed:
        raise click.ClickException("contracts are not backward compatible")
    click.echo(f"{len(ALL_CONTRACTS)} contracts compatible with their committed schemas")


@main.group()
def outbox() -> None:
    """A service's outbox: its durable event log."""


def _database_url(url: str | None) -> str:
    url = url or os.environ.get("DATABASE_URL")
    if not url:
        raise click.ClickException("give --database-url or set DATABASE_URL (the service's DB)")
    return url


@outbox.command("replay")
@click.option("--database-url", help="The service's database (default: $DATABASE_URL).")
@click.option(
    "--bootstrap-servers",
    envvar="KAFKA_BOOTSTRAP_SERVERS",
    required=True,
    help="Kafka to publish to (default: $KAFKA_BOOTSTRAP_SERVERS).",
)
@click.option(
    "--from",
    "from_position",
    type=int,
    default=1,
    show_default=True,
    help="First outbox position to republish.",
)
@click.option("--to", "to_position", type=int, default=None, help="Last position (default: end).")
@click.option("--topic", default=None, help="Only this topic.")
def outbox_replay(
    database_url: str | None,
    bootstrap_servers: str,
    from_position: int,
    to_position: int | None,
    topic: str | None,
) -> None:
    """Republish a range of the outbox, in order (consumers skip what they already applied)."""
    import asyncpg
    from tqdm import tqdm

    from shared.kafka import EventProducer
    from shared.outbox.relay import replay

    async def run() -> int:
        conn = await asyncpg.connect(_database_url(database_url))
        producer = EventProducer(bootstrap_servers)
        await producer.start()
        try:
            total = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE position >= $1 "
                "AND ($2::bigint IS NULL OR position <= $2) AND ($3::text IS NULL OR topic = $3)",
                from_position,
                to_position,
                topic,
            )
            with tqdm(total=total, unit="event", desc="replay") as bar:
                return await replay(
                    conn,
                    producer,
                    from_position=from_position,
                    to_position=to_position,
                    topic=topic,
                    progress=bar.update,
                )
        finally:
            await producer.stop()
            await conn.close()

    click.echo(f"republished {asyncio.run(run())} events")


@outbox.command("prune")
@click.option("--database-url", help="The service's database (default: $DATABASE_URL).")
@click.option("--retention-days", type=int, default=30, show_default=True)
def outbox_prune(database_url: str | None, retention_days: int) -> None:
    """Delete published outbox rows, and inbox ids and idempotency answers kept longer than
    the retention period (the inbox keeps 15 days more, so a replay of the retained log is
    still recognised)."""
    import asyncpg

    from shared.consumer.inbox import prune as prune_inbox
    from shared.http.idempotency import prune as prune_idempotency
    from shared.outbox.relay import prune_published

    async def run() -> tuple[int, int, int]:
        conn = await asyncpg.connect(_database_url(database_url))
        try:
            return (
                await prune_published(conn, retention_days=retention_days),
                await prune_inbox(conn, retention_days=retention_days + 15),
                await prune_idempotency(conn, retention_days=retention_days),
            )
        finally:
            await conn.close()

    outbox_rows, inbox_rows, answers = asyncio.run(run())
    click.echo(
        f"pruned {outbox_rows} outbox rows, {inbox_rows} inbox ids, {answers} idempotency answers"
    )


@main.group()
def dlq() -> None:
    """Dead-letter topics: events consumers could not apply."""


@dlq.command("redrive")
@click.argument("dlq_topic")
@click.option(
    "--bootstrap-servers",
    envvar="KAFKA_BOOTSTRAP_SERVERS",
    required=True,
    help="Kafka (default: $KAFKA_BOOTSTRAP_SERVERS).",
)
@click.option(
    "--consumer-group",
    default=None,
    help="Only what this consumer group dead-lettered (e.g. analytics.enrolment).",
)
@click.option("--dry-run", is_flag=True, help="Count, do not publish.")
def dlq_redrive(
    dlq_topic: str, bootstrap_servers: str, consumer_group: str | None, dry_run: bool
) -> None:
    """Send the events of DLQ_TOPIC back to their source topic, once the cause is fixed.
    Consumers skip what they had already applied."""
    from tqdm import tqdm

    from shared.consumer.redrive import redrive

    if not dlq_topic.endswith(".dlq"):
        raise click.ClickException(f"{dlq_topic} is not a dead-letter topic (<topic>.dlq)")
    with tqdm(unit="event", desc="redrive") as bar:
        report = asyncio.run(
            redrive(
                bootstrap_servers,
                dlq_topic,
                consumer_group=consumer_group,
                dry_run=dry_run,
                progress=bar.update,
            )
        )
    verb = "would redrive" if dry_run else "redrove"
    click.echo(f"read {report.read}, {verb} {report.redriven}, skipped {report.skipped}")


def _load_plugins() -> None:
    for entry in entry_points(group="eduhub.commands"):
        command = entry.load()
        if isinstance(command, click.Command) and command.name not in main.commands:
            main.add_command(command)


_load_plugins()
