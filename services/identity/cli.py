"""`eduhub identity ...`: commands of the identity service (registered as a plugin)."""

from __future__ import annotations

import click


@click.group()
def identity() -> None:
    """Identity registry: legacy imports, verification files, roster exports."""
