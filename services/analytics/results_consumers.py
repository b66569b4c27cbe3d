"""Kafka consumers of the gradebook results and the teacher statistics: validate (done by the
runner), load what the fold needs, fold, write once per batch."""

from __future__ import annotations

from collections.abc import Callable

from services.analytics import results_store, teacher_store
from services.analytics.domain.results_fold import (
    Timed,
    class_terms,
    fold_results,
    touched_ids,
)
from services.analytics.domain.teacher_stats import fold_teachers
from shared.consumer.runner import EventConsumer, IncomingEvent
from shared.db.pool import Connection
from shared.events.contracts.identity import PersonMerged, PersonUnmerged
from shared.events.contracts.records import StaffUpdated, TermFinalized


async def apply_results(conn: Connection, events: list[IncomingEvent]) -> None:
    """One batch, one transaction: lock, load the memory of every ID the batch touches and
    every ID merged with them, fold, write the new memory and the cell deltas."""
    timed = [
        Timed(e.id, e.envelope.time, e.data)
        for e in events
        if isinstance(e.data, TermFinalized | PersonMerged | PersonUnmerged)
    ]
    if not timed:
        return
    merge_ids = [t.data.merge_id for t in timed if not isinstance(t.data, TermFinalized)]
    await results_store.lock_merges(conn, changing=bool(merge_ids))
    terms = sorted(class_terms(timed))
    # Learners of earlier finalisations of the same class terms: a newer one may drop them.
    # (Read before the locks on learners, re-read after: another batch may have added some.)
    locked = touched_ids(timed) | await results_store.learners_of_class_terms(conn, terms)
    await results_store.lock_ids(conn, sorted(locked))
    seeds = locked | await results_store.learners_of_class_terms(conn, terms)
    # Merges cannot change meanwhile (lock_merges), so the component is stable.
    component = await results_store.merge_component(conn, sorted(seeds))
    await results_store.lock_ids(conn, sorted(component - locked))
    memory = await results_store.load_memory(conn, sorted(component), merge_ids)
    for final in await results_store.load_finalizations_of(conn, terms):
        memory.finalizations[final.event_id] = final
    result = fold_results(memory, timed)
    await results_store.remember(conn, result.new_finalizations, result.new_figures, result.merges)
    await results_store.add_to_cells(conn, result.deltas)


def results_consumer(
    on_committed: Callable[[list[IncomingEvent]], None] | None = None,
) -> EventConsumer:
    return EventConsumer(
        service="analytics",
        name="results",
        contracts=[TermFinalized, PersonMerged, PersonUnmerged],
        handler=apply_results,
        description="Maintains gradebook results per school, class, grade, school year, term "
        "and subject (learners with an average, sum of averages, average bands, comment "
        "grades, learning-result levels) from finalised terms, following person merges.",
        on_committed=on_committed,
    )


async def apply_teachers(conn: Connection, events: list[IncomingEvent]) -> None:
    """One batch, one transaction: lock the batch's staff, fold, write records and deltas."""
    profiles = [e.data for e in events if isinstance(e.data, StaffUpdated)]
    if not profiles:
        return
    held = await teacher_store.lock_staff(conn, [p.staff_id for p in profiles])
    result = fold_teachers(held, profiles)
    await teacher_store.save_records(conn, result.records)
    await teacher_store.add_to_cells(conn, result.deltas)


def teacher_stats_consumer(
    on_committed: Callable[[list[IncomingEvent]], None] | None = None,
) -> EventConsumer:
    return EventConsumer(
        service="analytics",
        name="teacher-stats",
        contracts=[StaffUpdated],
        handler=apply_teachers,
        description="Maintains teachers per school, main subject, sex and birth year, for each "
        "school year, from staff profiles (newest revision wins).",
        on_committed=on_committed,
        quiet=True,  # staff lists change by the school year, not by the second
    )
