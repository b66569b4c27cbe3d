"""Kafka consumer of the teacher-shortage forecast: teachers' profiles from records."""

from __future__ import annotations

from collections.abc import Callable

from services.analytics import forecast_store
from shared.consumer.runner import EventConsumer, IncomingEvent
from shared.db.pool import Connection
from shared.events.contracts.records import StaffUpdated


async def apply_staff(conn: Connection, events: list[IncomingEvent]) -> None:
    """Keep the newest revision of each staff member's profile; older ones change nothing."""
    newest: dict[str, StaffUpdated] = {}
    for event in events:
        data = event.data
        if not isinstance(data, StaffUpdated):
            continue
        held = newest.get(data.staff_id)
        if held is None or held.revision < data.revision:
            newest[data.staff_id] = data
    await forecast_store.save_staff(conn, list(newest.values()))


def staff_consumer(
    on_committed: Callable[[list[IncomingEvent]], None] | None = None,
) -> EventConsumer:
    return EventConsumer(
        service="analytics",
        name="staff",
        contracts=[StaffUpdated],
        handler=apply_staff,
        description="Keeps teachers' school, subjects, birth date and sex for the "
        "teacher-shortage forecast.",
        on_committed=on_committed,
        quiet=True,  # staff lists change by the school year, not by the second
    )
