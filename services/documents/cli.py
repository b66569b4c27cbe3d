"""`eduhub documents ...`: operator commands of the documents service."""

from __future__ import annotations

import asyncio
import resource
from pathlib import Path

import click


@click.group(help="The e-office: operator commands of the documents service.")
def documents() -> None:
    pass


@documents.command("test-pki")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def test_pki(directory: Path) -> None:
    """Make a TEST signing set in DIRECTORY for a trial deployment (compose, Kubernetes).

    Writes the test CA (`trust-roots.pem`, to use as DOCUMENTS_TRUST_ROOTS), the signer's
    and the organisation's PKCS#12 files and their password, and prints the settings. Never
    use these certificates in production: load the agency's own (see the README).
    """
    from services.documents.signing.local_pki import ensure_test_pki

    pki = ensure_test_pki(directory)
    password = pki.password.decode()
    # The deployment files expect the trusted roots under this name.
    trust_roots = pki.directory / "trust-roots.pem"
    trust_roots.write_bytes(pki.ca_certificate.read_bytes())
    click.echo(f"Test PKI in {pki.directory} (not for production).")
    click.echo(f"DOCUMENTS_SIGNER_P12={pki.person_p12}")
    click.echo(f"DOCUMENTS_SEAL_P12={pki.organisation_p12}")
    click.echo(f"DOCUMENTS_TRUST_ROOTS={trust_roots}")
    click.echo(f"DOCUMENTS_SIGNER_P12_PASSWORD={password}")
    click.echo(f"DOCUMENTS_SEAL_P12_PASSWORD={password}")


@documents.command("bench")
@click.option("--schools", default=1_850, show_default=True, help="Schools of the city.")
@click.option("--communes", default=114, show_default=True, help="Communes they belong to.")
@click.option(
    "--repeat",
    default=20,
    show_default=True,
    help="More directives issued after the first, for the delivery rate.",
)
@click.option(
    "--concurrency", default=32, show_default=True, help="Inbox readers at once (connections)."
)
@click.option(
    "--database-url",
    default=None,
    help="A PostgreSQL server (the bench makes its own database there and drops it after) "
    "[default: an embedded PostgreSQL].",
)
@click.option(
    "--bootstrap",
    default=None,
    help="Kafka brokers [default: the embedded broker]. On a shared broker, no other "
    "documents service may run: the bench's service joins the real consumer group.",
)
@click.option("--keep", is_flag=True, help="Keep the bench database.")
def bench(
    schools: int,
    communes: int,
    repeat: int,
    concurrency: int,
    database_url: str | None,
    bootstrap: str | None,
    keep: bool,
) -> None:
    """Issue one directive to every school of the city over HTTP: the issue request, documents
    routed per second, the time until every school's inbox shows it, REPEAT more issues in
    deliveries per second, and the Department's recipients list."""
    from services.documents.bench import (
        BenchError,
        BenchOptions,
        machine_note,
        run_bench,
        servers,
    )

    if schools < 1 or repeat < 0 or concurrency < 1 or communes < 1:
        raise click.UsageError("--schools, --communes and --concurrency >= 1, --repeat >= 0")
    options = BenchOptions(
        schools=schools, communes=communes, repeat=repeat, concurrency=concurrency, keep=keep
    )

    async def run() -> None:
        async with servers(database_url, bootstrap) as (server_url, brokers, home):
            result = await run_bench(
                options, server_url=server_url, bootstrap_servers=brokers, work_dir=home
            )
        for line in result.lines():
            click.echo(line)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        click.echo(f"peak memory of the bench process {peak:,.0f} MiB; {machine_note()}")

    try:
        asyncio.run(run())
    except BenchError as exc:
        raise click.ClickException(str(exc)) from None
