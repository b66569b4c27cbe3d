"""Kafka consumers of the identity service."""

from __future__ import annotations

from services.identity import roster_store
from shared.consumer.runner import EventConsumer, IncomingEvent
from shared.db.pool import Connection
from shared.events.contracts.records import StudentEnrolled


async def apply_enrolments(conn: Connection, events: list[IncomingEvent]) -> None:
    await roster_store.save_enrolments(
        conn, [e.data for e in events if isinstance(e.data, StudentEnrolled)]
    )


def roster_consumer() -> EventConsumer:
    return EventConsumer(
        service="identity",
        name="roster",
        contracts=[StudentEnrolled],
        handler=apply_enrolments,
        description="Keeps where each learner is enrolled (school, class) for roster exports.",
    )
