"""The demo data set, loaded through the services' public APIs (as a vendor would).

Each service contributes a seeding step through the `eduhub.seed` entry-point group (run in
the order of their names), so this platform package never imports a service. Every POST
carries an Idempotency-Key derived from the record, so re-running changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points


@dataclass
class SeedContext:
    urls: dict[str, str]
    token: str
    progress: Callable[[str], None] = print
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.headers = {"Authorization": f"Bearer {self.token}"}


def load_demo_data(context: SeedContext) -> list[str]:
    steps = sorted(entry_points(group="eduhub.seed"), key=lambda e: e.name)
    for step in steps:
        step.load()(context)
    return [step.name for step in steps]
