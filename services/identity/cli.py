"""`eduhub identity ...`: commands of the identity service (registered as a plugin).

Commands that work on the registry connect to the identity database directly (DATABASE_URL)
and act as a `service` principal; every read of personal data is audited all the same.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import click

from shared.auth import Principal

CLI_PRINCIPAL = Principal(
    subject=f"cli:{os.environ.get('USER', 'operator')}", role="service", org_id="cli"
)


def database_url_option(function: Any) -> Any:
    return click.option(
        "--database-url",
        envvar="DATABASE_URL",
        required=True,
        help="The identity service's database (default: $DATABASE_URL).",
    )(function)


@click.group()
def identity() -> None:
    """Identity registry: legacy imports, verification files, roster exports."""


@identity.command("export-oneroster")
@click.argument("org_id")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="The ZIP file to write."
)
@database_url_option
def export_oneroster(org_id: str, output: Path, database_url: str) -> None:
    """Write the OneRoster 1.1 roster of ORG_ID and everything below it."""
    import asyncpg

    from services.identity.roster_export import export_roster
    from shared.http.problems import Problem

    async def run() -> bytes:
        conn = await asyncpg.connect(database_url)
        try:
            async with conn.transaction():
                return await export_roster(conn, CLI_PRINCIPAL, org_id)
        finally:
            await conn.close()

    try:
        content = asyncio.run(run())
    except Problem as problem:
        raise click.ClickException(problem.detail or problem.title) from None
    output.write_bytes(content)
    click.echo(f"wrote {output} ({len(content)} bytes)")


def _attach_commands() -> None:
    """Commands written in their own modules join this group."""
    from services.identity.legacy.cli import COMMANDS as LEGACY
    from services.identity.verification.cli import COMMANDS as VERIFICATION

    for command in (*LEGACY, *VERIFICATION):
        identity.add_command(command)


_attach_commands()
