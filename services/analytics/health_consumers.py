"""Kafka consumer of the health aggregates: validate (done by the runner), call the fold."""

from __future__ import annotations

from collections.abc import Callable

from services.analytics import health_store
from services.analytics.domain.health_fold import HealthState, Timed, fold_health
from shared.consumer.runner import EventConsumer, IncomingEvent
from shared.db.pool import Connection
from shared.events.contracts.records import HealthMeasured, SwimAssessed


async def apply_health(conn: Connection, events: list[IncomingEvent]) -> None:
    """One batch, one transaction: lock the batch's learners, load what the fold needs, fold,
    write the new records, the changed shares and the cell deltas."""
    timed = [
        Timed(e.envelope.time, e.data)
        for e in events
        if isinstance(e.data, HealthMeasured | SwimAssessed)
    ]
    if not timed:
        return
    learners = sorted({t.data.learner_id for t in timed})
    await health_store.lock_learners(conn, learners)
    measured = sorted({(t.data.learner_id, t.data.campaign_id) for t in timed if _measured(t)})
    swum = sorted({(t.data.learner_id, t.data.campaign_id) for t in timed if not _measured(t)})
    state = HealthState(
        measurements=await health_store.load_measurements(conn, measured) if measured else {},
        swims=await health_store.load_swims(conn, swum) if swum else {},
        counted=await health_store.load_counted(conn, learners),
    )
    result = fold_health(state, timed)
    await health_store.remember(conn, result.new_measurements, result.new_swims)
    await health_store.save_counted(conn, result.counted)
    await health_store.add_to_cells(conn, result.deltas)


def _measured(t: Timed) -> bool:
    return isinstance(t.data, HealthMeasured)


def health_consumer(on_committed: Callable[[list[IncomingEvent]], None]) -> EventConsumer:
    return EventConsumer(
        service="analytics",
        name="health",
        contracts=[HealthMeasured, SwimAssessed],
        handler=apply_health,
        description="Maintains nutrition (WHO), eye-health and swimming counts per campaign, "
        "school, class, grade and sex from health measurements and swim assessments, with "
        "corrections.",
        on_committed=on_committed,
    )
