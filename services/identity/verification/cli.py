"""`eduhub identity verification-export / verification-import`: verification files for the
Department's operators, straight against the identity database (no running service needed).

Both commands act as a `service` principal (the person at the console is named in the audit
log as `cli:<login>`) and reuse the same use cases as the HTTP API.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import click

from services.identity.domain.verification_files import write_request_batch
from services.identity.verification import handlers
from services.identity.verification.register import FileExchangeRegister
from shared.auth import AuthorisationError, Principal
from shared.db.pool import Connection, create_pool
from shared.http.problems import Problem
from shared.vietnam_time import today_in_vietnam

T = TypeVar("T")


def _principal(org_id: str) -> Principal:
    try:
        login = getpass.getuser()
    except Exception:  # no login name in some containers
        login = "unknown"
    return Principal(subject=f"cli:{login}", role="service", org_id=org_id)


def _database_url(url: str | None) -> str:
    url = url or os.environ.get("DATABASE_URL")
    if not url:
        raise click.ClickException("give --database-url or set DATABASE_URL (identity's DB)")
    return url


def _run(database_url: str, work: Callable[[Connection], Awaitable[T]]) -> T:
    """Run `work` in one transaction; problems become messages, not tracebacks."""

    async def run() -> T:
        pool = await create_pool(database_url, min_size=1, max_size=1)
        try:
            async with pool.acquire() as conn, conn.transaction():
                return await work(conn)
        finally:
            await pool.close()

    try:
        return asyncio.run(run())
    except Problem as problem:
        lines = [problem.detail or problem.title]
        lines += [
            f"  {e['field']}: {e['message']}"
            for e in problem.errors or []
            if e["message"] != problem.detail
        ]
        raise click.ClickException("\n".join(lines)) from None
    except AuthorisationError as error:
        raise click.ClickException(str(error)) from None
    except asyncpg.UndefinedTableError:
        raise click.ClickException(
            "the verification tables are missing: start the identity service once so that it "
            "applies its migrations"
        ) from None
    except asyncpg.PostgresError as error:
        raise click.ClickException(f"the identity database refused: {error}") from None
    except OSError as error:  # the database unreachable, or the exchange folder unwritable
        raise click.ClickException(str(error)) from None


DATABASE_OPTION = click.option(
    "--database-url", help="The identity service's database (default: $DATABASE_URL)."
)
FOLDER_OPTION = click.option(
    "--exchange-folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Shared folder of the file exchange: requests go to <folder>/outbox, responses are "
    "read from <folder>/inbox/<batch_id>.response.csv.",
)


@click.command("verification-export")
@click.option("--org", "org_id", help="New batch: the unverified persons held at or below it.")
@click.option("--batch", "batch_id", help="Write the request file of an existing batch again.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the request file.",
)
@FOLDER_OPTION
@click.option(
    "--include-pending",
    is_flag=True,
    help="Also send persons still waiting for an answer in an unanswered batch.",
)
@click.option(
    "--limit",
    type=click.IntRange(1, handlers.MAX_BATCH_ROWS),
    default=handlers.MAX_BATCH_ROWS,
    show_default=True,
    help="At most this many persons; run again for the rest.",
)
@DATABASE_OPTION
def verification_export(
    org_id: str | None,
    batch_id: str | None,
    output: Path | None,
    exchange_folder: Path | None,
    include_pending: bool,
    limit: int,
    database_url: str | None,
) -> None:
    """Create a verification batch and write its request file for the population register."""
    if (org_id is None) == (batch_id is None):
        raise click.UsageError("give --org (a new batch) or --batch (an existing one)")
    if (output is None) == (exchange_folder is None):
        raise click.UsageError("give -o FILE or --exchange-folder DIR")
    url = _database_url(database_url)
    principal = _principal(org_id or "cli")
    created: dict[str, Any] = {}
    if org_id is not None:
        created = _run(
            url,
            lambda conn: handlers.create_batch(
                conn,
                principal,
                org_id=org_id,
                include_pending=include_pending,
                limit=limit,
                today=today_in_vietnam(),
            ),
        )
        batch_id = created["batch_id"]
    assert batch_id is not None
    the_batch = batch_id
    # The batch is committed before its file is written: a failed write is repeated with
    # --batch, never leaves a file naming a batch the database does not know.
    if exchange_folder is not None:
        register = FileExchangeRegister(exchange_folder)
        result = _run(url, lambda conn: handlers.submit_batch(conn, principal, the_batch, register))
        target, rows = register.request_path(the_batch), result["rows"]
    else:
        assert output is not None
        batch = _run(url, lambda conn: handlers.load_request(conn, principal, the_batch))
        try:
            write_request_batch(output, the_batch, (row.record for row in batch.rows))
        except OSError as error:
            raise click.ClickException(
                f"cannot write {output} ({error}); batch {the_batch} exists: write its file "
                f"again with --batch {the_batch}"
            ) from None
        target, rows = output, len(batch.rows)
    click.echo(f"batch {the_batch}: {rows} persons written to {target}")
    if created.get("more_remaining"):
        click.echo("more unverified persons remain: run the command again for the next batch")


@click.command("verification-import")
@click.argument("batch_id")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@FOLDER_OPTION
@DATABASE_OPTION
def verification_import(
    batch_id: str, file: Path | None, exchange_folder: Path | None, database_url: str | None
) -> None:
    """Import the register's response to BATCH_ID from FILE (or the exchange folder's inbox).

    Exit status 0 when every line was applied, 1 when some lines were reported (the others
    are applied; fix them and import the corrected file: what is recorded is not applied
    twice), 2 on usage errors.
    """
    if (file is None) == (exchange_folder is None):
        raise click.UsageError("give FILE or --exchange-folder DIR")
    url = _database_url(database_url)
    principal = _principal("cli")
    report: dict[str, Any] | None
    if file is not None:
        data = file.read_bytes()
        report = _run(url, lambda conn: handlers.import_response(conn, principal, batch_id, data))
    else:
        assert exchange_folder is not None
        register = FileExchangeRegister(exchange_folder)
        report = _run(
            url, lambda conn: handlers.collect_response(conn, principal, batch_id, register)
        )
        if report is None:
            raise click.ClickException(
                f"no response yet: expected {register.response_path(batch_id)}"
            )
    sys.exit(_print_report(report))


def _print_report(report: dict[str, Any]) -> int:
    applied = report["applied"]
    click.echo(
        f"batch {report['batch_id']}: {applied['verified']} verified, "
        f"{applied['mismatch']} mismatch, {applied['not_found']} not found; "
        f"{report['personal_numbers_stored']} personal numbers stored; "
        f"{report['already_recorded']} already recorded"
    )
    for skipped in report["not_applied"]:
        click.echo(f"  row {skipped['row_no']} ({skipped['sector_id']}): {skipped['reason']}")
    for note in report["notes"]:
        click.echo(f"  {note['sector_id']}: {note['message']}")
    for error in report["errors"]:
        row = f"row {error['row_no']}" if error["row_no"] is not None else "row ?"
        click.echo(f"  line {error['line']} ({row}) {error['field']}: {error['message']}", err=True)
    if report["unanswered_rows"]:
        shown = ", ".join(str(n) for n in report["unanswered_rows"][:20])
        more = " ..." if len(report["unanswered_rows"]) > 20 else ""
        click.echo(f"  still unanswered: rows {shown}{more}")
    return 1 if report["errors"] or report["not_applied"] else 0


COMMANDS = [verification_export, verification_import]
