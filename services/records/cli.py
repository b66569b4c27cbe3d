"""`eduhub records ...`: commands of the records service (registered as a plugin)."""

from __future__ import annotations

import click

from services.records.imports.cli import COMMANDS


@click.group()
def records() -> None:
    """Records: bulk imports of school data and their benchmark."""


for _command in COMMANDS:
    records.add_command(_command)
