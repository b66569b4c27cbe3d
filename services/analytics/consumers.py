"""Kafka consumers of the analytics service: validate (done by the runner), call the fold."""

from __future__ import annotations

from collections.abc import Callable

from services.analytics import store
from services.analytics.domain.enrolment import fold_enrolments
from shared.consumer.runner import EventConsumer, IncomingEvent
from shared.db.pool import Connection
from shared.events.contracts.records import StudentEnrolled, StudentLeft, StudentTransferred


async def apply_enrolments(conn: Connection, events: list[IncomingEvent]) -> None:
    """One batch, one transaction: lock the learners' placements, fold, write the deltas."""
    lifecycle = [
        e.data
        for e in events
        if isinstance(e.data, StudentEnrolled | StudentTransferred | StudentLeft)
    ]
    current = await store.lock_placements(conn, sorted({e.learner_id for e in lifecycle}))
    result = fold_enrolments(current, lifecycle)
    await store.save_placements(conn, result.placements)
    await store.add_to_counts(conn, result.deltas)


def enrolment_consumer(on_committed: Callable[[list[IncomingEvent]], None]) -> EventConsumer:
    return EventConsumer(
        service="analytics",
        name="enrolment",
        contracts=[StudentEnrolled, StudentTransferred, StudentLeft],
        handler=apply_enrolments,
        description="Maintains enrolment counts per school and school year from enrolments, "
        "transfers and leavers.",
        on_committed=on_committed,
    )
