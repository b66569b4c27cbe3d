"""Kafka consumer of the health aggregates: validate (done by the runner), call the fold."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from services.analytics import health_store
from services.analytics.domain.health_fold import (
    HealthState,
    Key,
    Timed,
    counted_marks,
    fold_health,
    merge_links,
    persons,
    regrouped_persons,
)
from shared.consumer.runner import EventConsumer, IncomingEvent
from shared.db.pool import Connection
from shared.events.contracts.identity import PersonMerged, PersonUnmerged
from shared.events.contracts.records import HealthMeasured, SwimAssessed


async def apply_health(conn: Connection, events: list[IncomingEvent]) -> set[uuid.UUID]:
    """One batch, one transaction: apply the batch's merges, lock the batch's persons, load
    what the fold needs, fold, write the new records, the changed shares and the cell deltas.
    Returns the ids of the events whose record was already held (duplicates)."""
    records = [
        (e.envelope, e.data) for e in events if isinstance(e.data, HealthMeasured | SwimAssessed)
    ]
    timed = [Timed(envelope.time, data) for envelope, data in records]
    merges = [e.data for e in events if isinstance(e.data, PersonMerged | PersonUnmerged)]
    if not timed and not merges:
        return set()
    await health_store.lock_merges(conn, changing=bool(merges))
    named = {t.data.learner_id for t in timed}
    named |= {i for m in merges for i in (m.survivor_id, m.merged_id)}
    before = persons(await health_store.load_links(conn, sorted(named)))
    after, regrouped = before, frozenset[str]()
    if merges:
        await health_store.save_links(conn, merge_links(merges))
        after = persons(await health_store.load_links(conn, sorted(named | before.keys())))
        regrouped = regrouped_persons(before, after, named | before.keys() | after.keys())
    universe = named | before.keys() | after.keys()  # every learner ID of the persons in play

    def person(learner: str) -> str:
        return after.get(learner, learner)

    members: dict[str, set[str]] = {}
    for learner in universe:
        members.setdefault(person(learner), set()).add(learner)
    touched = {person(t.data.learner_id) for t in timed}
    await health_store.lock_persons(conn, sorted(touched | regrouped))

    # Every record of a regrouped person, all campaigns; for the others, the records of the
    # campaigns the batch names, under every learner ID of the person.
    moving = [i for i in universe if before.get(i, i) in regrouped or person(i) in regrouped]
    measurements, swims = await health_store.load_records_of(conn, sorted(moving))
    rest = [t for t in timed if person(t.data.learner_id) not in regrouped]
    measured = _keys(rest, HealthMeasured, members, person)
    swum = _keys(rest, SwimAssessed, members, person)
    if measured:
        measurements.update(await health_store.load_measurements(conn, measured))
    if swum:
        swims.update(await health_store.load_swims(conn, swum))
    state = HealthState(
        measurements=measurements,
        swims=swims,
        counted=await health_store.load_counted(
            conn, sorted(touched | regrouped), sorted(universe)
        ),
        person_of=dict(after),
        regrouped=regrouped,
    )
    result = fold_health(state, timed)
    marks = counted_marks(state.counted, result.counted)
    await health_store.remember(conn, result.new_measurements, result.new_swims, marks.mark)
    inserted = {m.measurement_id for m in result.new_measurements}
    await health_store.move_marks(conn, marks, inserted)
    held = {(person, c) for person, shares in state.counted.items() for c in shares}
    await health_store.save_counted_swims(conn, result.counted, held)
    await health_store.add_to_cells(conn, result.deltas)
    return {records[position][0].id for position in result.duplicates}


def _keys(
    timed: Iterable[Timed],
    kind: type[HealthMeasured] | type[SwimAssessed],
    members: dict[str, set[str]],
    person: Callable[[str], str],
) -> list[Key]:
    """(learner, campaign) pairs to load: the campaigns of these records under every learner
    ID of the person each record belongs to."""
    return sorted(
        {
            (member, t.data.campaign_id)
            for t in timed
            if isinstance(t.data, kind)
            for member in members.get(person(t.data.learner_id), {t.data.learner_id})
        }
    )


def health_consumer(on_committed: Callable[[list[IncomingEvent]], None]) -> EventConsumer:
    return EventConsumer(
        service="analytics",
        name="health",
        contracts=[HealthMeasured, SwimAssessed, PersonMerged, PersonUnmerged],
        handler=apply_health,
        description="Maintains nutrition (WHO), eye-health and swimming counts per campaign, "
        "school, class, grade and sex from health measurements and swim assessments, with "
        "corrections; follows person merges so that a merged child counts once.",
        on_committed=on_committed,
        # Idempotent by content, without the inbox: under the persons' locks the fold loads
        # every record held for the batch's (learner, campaign) pairs and skips a measurement
        # or assessment id it holds; a merge's row only ever gains `merged`/`unmerged`, and an
        # unchanged grouping regroups nobody.
        deduplicated_by_handler=True,
    )
