"""The consumer that keeps a service's copy of the organisation tree (`org_units`)."""

from __future__ import annotations

from collections.abc import Callable

from shared.consumer.runner import EventConsumer, IncomingEvent
from shared.db.pool import Connection
from shared.events.contracts.identity import OrgChanged
from shared.orgs.mirror import apply_org_changed


async def _apply(conn: Connection, events: list[IncomingEvent]) -> None:
    for event in events:
        assert isinstance(event.data, OrgChanged)
        await apply_org_changed(conn, event.data)


def org_mirror_consumer(
    service: str,
    *,
    on_committed: Callable[[list[IncomingEvent]], None] | None = None,
    quiet: bool = False,
) -> EventConsumer:
    """QUIET for a service that only reads the tree (analytics rolls figures up at query
    time); not for one that checks writes against it, where a school just created must be
    known at once."""
    return EventConsumer(
        service=service,
        name="org-mirror",
        contracts=[OrgChanged],
        handler=_apply,
        description="Keeps this service's copy of the organisation tree (newest revision wins).",
        on_committed=on_committed,
        quiet=quiet,
    )
