"""Kafka consumer of enrolment: validate (done by the runner), call the folds.

One consumer group, `analytics.enrolment`, keeps both the live counts and the dated history
(for "as of" figures) in the batch's one transaction. They were two groups reading the same
topics; one group decodes and fetches each event once instead of twice. The group keeps no
inbox rows: the history's (learner, revision) key says what it has applied (see
`enrolment_consumer`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from services.analytics import census_store, store
from services.analytics.domain.census import (
    HistoryEvent,
    Merge,
    history_event,
    placement_intervals,
)
from services.analytics.domain.enrolment import fold_enrolments, placement_of
from shared.consumer.runner import EventConsumer, IncomingEvent
from shared.db.pool import Connection
from shared.events.contracts.identity import PersonMerged, PersonUnmerged
from shared.events.contracts.records import StudentEnrolled, StudentLeft, StudentTransferred

Lifecycle = StudentEnrolled | StudentTransferred | StudentLeft


async def apply_enrolments(conn: Connection, events: list[IncomingEvent]) -> set[uuid.UUID]:
    """The batch's live counts, then its dated history, in the caller's transaction, after
    locking its learners (both steps rely on that lock). Returns the ids of the events whose
    (learner, revision) was already held: duplicates, which changed nothing."""
    lifecycle = [
        (e.data, e.envelope.time, e.envelope.id)
        for e in events
        if isinstance(e.data, StudentEnrolled | StudentTransferred | StudentLeft)
    ]
    learners = sorted({data.learner_id for data, _, _ in lifecycle})
    await census_store.lock_learners(conn, learners)
    # What was held before this batch, read once for both steps: the counts start from the
    # placements it gives, and the history adds the batch's events to it.
    history = await census_store.events_of(conn, learners) if learners else {}
    await _apply_counts(conn, history, [data for data, _, _ in lifecycle])
    return await _apply_history(conn, history, lifecycle, events)


async def _apply_counts(
    conn: Connection, history: Mapping[str, list[HistoryEvent]], data: list[Lifecycle]
) -> None:
    """Fold from the placements the held history gives, write the deltas."""
    current = {
        learner: placement
        for learner, held in history.items()
        if (placement := placement_of(held)) is not None
    }
    await store.add_to_counts(conn, fold_enrolments(current, data).deltas)


async def _apply_history(
    conn: Connection,
    history: dict[str, list[HistoryEvent]],
    lifecycle: list[tuple[Lifecycle, datetime, uuid.UUID]],
    events: list[IncomingEvent],
) -> set[uuid.UUID]:
    """Keep every lifecycle event by its effective date, rewrite the placement intervals of the
    learners it touched (from all their events, so arrival order does not matter), and keep
    identity's person merges (from EVENTS) so that a merged child counts once on any date.
    HISTORY: the batch's learners' events held before it (updated here). Returns the ids of
    the lifecycle events whose (learner, revision) was held already."""
    dated = [(history_event(data), time, event_id) for data, time, event_id in lifecycle]
    merges = [
        Merge(str(e.data.merge_id), e.data.survivor_id, e.data.merged_id, undone=False)
        for e in events
        if isinstance(e.data, PersonMerged)
    ] + [
        Merge(str(e.data.merge_id), e.data.survivor_id, e.data.merged_id, undone=True)
        for e in events
        if isinstance(e.data, PersonUnmerged)
    ]
    duplicates: set[uuid.UUID] = set()
    if dated:
        # Only learners with events held before can have intervals to replace.
        placed_before = [learner for learner, held in history.items() if held]
        known = {(e.learner_id, e.revision) for held in history.values() for e in held}
        new: list[tuple[HistoryEvent, datetime]] = []
        for event, time, event_id in dated:
            if (event.learner_id, event.revision) in known:  # a held (or earlier) one wins
                duplicates.add(event_id)
                continue
            known.add((event.learner_id, event.revision))
            new.append((event, time))
            history[event.learner_id].append(event)
        await census_store.remember_events(conn, new)
        intervals = [i for held in history.values() for i in placement_intervals(held)]
        await census_store.replace_intervals(conn, placed_before, intervals)
    await census_store.remember_merges(conn, merges)
    return duplicates


def enrolment_consumer(
    on_committed: Callable[[list[IncomingEvent]], None] | None = None,
) -> EventConsumer:
    return EventConsumer(
        service="analytics",
        name="enrolment",
        contracts=[StudentEnrolled, StudentTransferred, StudentLeft, PersonMerged, PersonUnmerged],
        handler=apply_enrolments,
        description="Maintains enrolment counts per school and school year from enrolments, "
        "transfers and leavers, and keeps every learner's placements by effective date "
        "(enrolled_on, transferred_on, left_on) with identity's person merges, for enrolment "
        "on a date (GET /stats/enrolment/{org_id}?as_of=) and frozen censuses.",
        on_committed=on_committed,
        # Idempotent by content, without the inbox: under the learners' locks, a lifecycle
        # event no newer than the held revision changes no count, a (learner, revision) held
        # in the history is not added again, and a merge's row only ever gains `undone`.
        deduplicated_by_handler=True,
    )
