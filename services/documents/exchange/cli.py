"""`eduhub edxml export DOCUMENT_ID -o FILE` and `eduhub edxml import FILE`: the edXML
exchange through the documents API, with a bearer token (as `eduhub records import-file`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import click
import httpx

documents_url_option = click.option(
    "--documents-url",
    envvar="EDUHUB_DOCUMENTS_URL",
    default="http://127.0.0.1:8004",
    show_default=True,
    help="The documents service [env EDUHUB_DOCUMENTS_URL].",
)
token_option = click.option(
    "--token", envvar="EDUHUB_TOKEN", required=True, help="Bearer token [EDUHUB_TOKEN]."
)


def _fail(response: httpx.Response) -> click.ClickException:
    try:
        problem: dict[str, Any] = response.json()
    except ValueError:
        return click.ClickException(f"{response.status_code} {response.text}")
    lines = [f"{response.status_code} {problem.get('title')}: {problem.get('detail') or ''}"]
    lines += [f"  {e['field']}: {e['message']}" for e in problem.get("errors") or []]
    return click.ClickException("\n".join(lines))


@click.group()
def edxml() -> None:
    """edXML exchange (QCVN 102:2016) with other agencies."""


@edxml.command("export")
@click.argument("document_id")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="The package file to write.",
)  # fmt: skip
@click.option(
    "--to", "to", multiple=True,
    help="Recipient agency code (repeatable; default: the agencies it was sent to).",
)  # fmt: skip
@documents_url_option
@token_option
def export(document_id: str, output: Path, to: tuple[str, ...], documents_url: str,
           token: str) -> None:  # fmt: skip
    """Write the edXML package of the issued document DOCUMENT_ID to FILE."""
    url = f"{documents_url.rstrip('/')}/documents/{document_id}/edxml"
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=300) as client:
        response = client.get(url, params=[("to", code) for code in to])
    if response.status_code != 200:
        raise _fail(response)
    output.write_bytes(response.content)
    click.echo(f"wrote {output} ({len(response.content):,} bytes)")


@edxml.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@documents_url_option
@token_option
def import_(file: Path, documents_url: str, token: str) -> None:
    """Import the edXML package FILE: a document goes into the receiving unit's incoming
    register (once, however often the file is imported); a status message updates the
    document it answers."""
    data = file.read_bytes()
    # The same file gives the same key: a retry after a lost answer replays it.
    key = f"edxml-import:{hashlib.sha256(data).hexdigest()}"
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=300) as client:
        response = client.post(
            f"{documents_url.rstrip('/')}/edxml/import",
            content=data,
            headers={"Content-Type": "application/xml", "Idempotency-Key": key},
        )
    if response.status_code != 200:
        raise _fail(response)
    result = response.json()
    if result.get("kind") == "document":
        again = " (already registered before)" if result["outcome"] == "duplicate" else ""
        number = result.get("arrival_number")
        click.echo(
            f"{result['notation']} from {result['sender']}: {result['outcome']}{again}, "
            f"document {result['document_id']}" + (f", arrival number {number}" if number else "")
        )
    else:
        click.echo(json.dumps(result, ensure_ascii=False))
