"""Health aggregates follow person merges, on a real PostgreSQL: once identity merges two records
of one child, the nutrition, eye and swim cells count the child once (the latest measurement of
the campaign wins); an unmerge gives both back; the order the events come in does not matter."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date

import pytest

from services.analytics import health_store
from services.analytics.domain.health_fold import (
    Cells,
    MergeLink,
    persons,
    recount,
    regrouped_persons,
)
from services.analytics.health_api import nutrition_stats, swimming_stats
from services.analytics.health_consumers import health_consumer
from services.analytics.tests.test_health_aggregates import (
    CAMPAIGN,
    DEPARTMENT,
    STATE_TABLES,
    incoming,
    measured,
    swam,
)
from services.analytics.tests.test_health_aggregates import conn as aggregates_conn
from shared.consumer.runner import ConsumedRecord, IncomingEvent
from shared.db.pool import Connection
from shared.events.contracts.identity import PersonMerged, PersonUnmerged
from shared.events.contracts.records import HealthMeasured
from shared.events.envelope import CloudEvent

pytestmark = pytest.mark.integration
conn = aggregates_conn  # the same database and organisation tree as the aggregates' tests

SURVIVOR = "HS-31-2015-0000001-4"
RETIRED = "HS-31-2015-0000002-7"
THIRD = "HS-31-2015-0000003-1"
MERGE = uuid.UUID("00000000-0000-4000-8000-000000000001")


def merged(survivor: str = SURVIVOR, retired: str = RETIRED, merge_id: uuid.UUID = MERGE):
    return PersonMerged(merge_id=merge_id, survivor_id=survivor, merged_id=retired, reason="x")


def unmerged(survivor: str = SURVIVOR, retired: str = RETIRED, merge_id: uuid.UUID = MERGE):
    return PersonUnmerged(merge_id=merge_id, survivor_id=survivor, merged_id=retired, reason="y")


def identity_event(data: PersonMerged | PersonUnmerged, offset: int = 0) -> IncomingEvent:
    envelope = CloudEvent.wrap(data, source="identity")
    record = ConsumedRecord(data.topic(), 0, offset, data.subject().encode(), envelope.to_bytes())
    return IncomingEvent(envelope, data, record)


async def deliver(conn: Connection, events: list[IncomingEvent]) -> None:
    async with conn.transaction():
        await health_consumer(lambda _: None).handler(conn, events)


async def measured_per_school(conn: Connection) -> Counter[str]:
    rows = await conn.fetch("SELECT school_id, measured FROM nutrition_cells WHERE measured > 0")
    return Counter({r["school_id"]: r["measured"] for r in rows})


async def assert_equals_recount(conn: Connection) -> None:
    measurements, swims = await health_store.all_records(conn)
    shares, cells = recount(measurements, swims, await health_store.all_links(conn))
    assert await health_store.all_cells(conn) == cells
    counted = await conn.fetch(
        "SELECT learner_id, campaign_id FROM health_counted_measurements "
        "UNION SELECT learner_id, campaign_id FROM health_counted_swims"
    )
    assert {(r["learner_id"], r["campaign_id"]) for r in counted} == set(shares)


def two_records() -> tuple[HealthMeasured, HealthMeasured]:
    """The same girl measured twice under two IDs: first at S-A (normal), later at S-B
    (overweight, with myopia). The later one describes her now."""
    at_a = measured(SURVIVOR, "S-A", "5A", 140, 32, sex="female", on=date(2025, 10, 1))
    at_b = measured(
        RETIRED,
        "S-B",
        "5C",
        140,
        45,
        sex="female",
        on=date(2025, 10, 6),
        left=0.5,
        eyes=("myopia",),
    )
    return at_a, at_b


async def test_a_merged_child_counts_once_and_an_unmerge_restores_both(conn):
    at_a, at_b = two_records()
    await deliver(conn, [incoming(at_a, 0), incoming(at_b, 1)])
    both = await health_store.all_cells(conn)
    assert await measured_per_school(conn) == Counter({"S-A": 1, "S-B": 1})

    await deliver(conn, [identity_event(merged())])
    # One girl, counted where her latest measurement was taken, under the survivor's ID.
    assert await measured_per_school(conn) == Counter({"S-B": 1})
    city = await nutrition_stats(conn, DEPARTMENT, org_id="HP", campaign_id=CAMPAIGN)
    assert (city.total.measured, city.total.overweight, city.total.normal) == (1, 1, 0)
    eyes = await conn.fetchval("SELECT sum(myopia)::int FROM eye_cells")
    assert eyes == 1
    counted = await conn.fetch("SELECT learner_id, measurement_id FROM health_counted_measurements")
    assert [(r["learner_id"], r["measurement_id"]) for r in counted] == [
        (SURVIVOR, at_b.measurement_id)
    ]
    await assert_equals_recount(conn)

    await deliver(conn, [identity_event(unmerged())])
    assert await health_store.all_cells(conn) == both
    counted = await conn.fetch(
        "SELECT learner_id, measurement_id FROM health_counted_measurements ORDER BY learner_id"
    )
    assert [(r["learner_id"], r["measurement_id"]) for r in counted] == [
        (SURVIVOR, at_a.measurement_id),
        (RETIRED, at_b.measurement_id),
    ]
    await assert_equals_recount(conn)


async def test_records_arriving_after_the_merge_under_either_id_count_once(conn):
    at_a, at_b = two_records()
    await deliver(conn, [identity_event(merged())])
    await deliver(conn, [incoming(at_b, 1)])
    await deliver(conn, [incoming(at_a, 0)])  # older, under the survivor: changes nothing
    assert await measured_per_school(conn) == Counter({"S-B": 1})
    # A swim assessment under each ID: one child, the later assessment (same day: the later
    # event time) counts, with the sex of her counted measurement.
    await deliver(conn, [incoming(swam(RETIRED, "S-B", "5C", "cannot_swim"), 2)])
    await deliver(conn, [incoming(swam(SURVIVOR, "S-A", "5A", "swims_25m_unaided"), 3)])
    swim = await conn.fetch("SELECT school_id, sex, swims_25m_unaided, assessed FROM swim_cells")
    assert [tuple(r) for r in swim if r["assessed"]] == [("S-A", "female", 1, 1)]
    stats = await swimming_stats(conn, DEPARTMENT, org_id="HP", campaign_id=CAMPAIGN)
    assert (stats.total.assessed, stats.total.not_able_to_swim_safely) == (1, 0)
    await assert_equals_recount(conn)


async def test_an_unmerge_arriving_before_its_merge_wins(conn):
    at_a, at_b = two_records()
    await deliver(conn, [incoming(at_a, 0), incoming(at_b, 1), identity_event(unmerged())])
    await deliver(conn, [identity_event(merged())])  # late: the merge was already undone
    assert await measured_per_school(conn) == Counter({"S-A": 1, "S-B": 1})
    assert await conn.fetchval("SELECT merged AND unmerged FROM health_merges") is True
    await assert_equals_recount(conn)


async def test_a_merge_in_the_same_batch_as_records_and_its_duplicate(conn):
    at_a, at_b = two_records()
    merge = identity_event(merged())
    await deliver(conn, [incoming(at_a, 0), merge, incoming(at_b, 1)])
    once = await health_store.all_cells(conn)
    assert await measured_per_school(conn) == Counter({"S-B": 1})
    # The merge republished in a new envelope, and both records again: nothing changes.
    await deliver(conn, [identity_event(merged()), incoming(at_a, 5), incoming(at_b, 6)])
    assert await health_store.all_cells(conn) == once
    await assert_equals_recount(conn)


async def test_chains_of_merges_and_a_correction_under_the_survivor(conn):
    """THIRD merged into RETIRED, then RETIRED into SURVIVOR: one person. A correction that
    records publishes under the survivor (it holds the rows now) retracts a measurement received
    under a retired ID."""
    at_a, at_b = two_records()
    third = measured(THIRD, "S-A2", "5A", 140, 26, sex="female", on=date(2025, 10, 9))  # thin
    second_merge = uuid.UUID("00000000-0000-4000-8000-000000000002")
    await deliver(conn, [incoming(at_a, 0), incoming(at_b, 1), incoming(third, 2)])
    await deliver(conn, [identity_event(merged(RETIRED, THIRD, second_merge))])
    assert await measured_per_school(conn) == Counter({"S-A": 1, "S-A2": 1})
    await deliver(conn, [identity_event(merged())])
    assert await measured_per_school(conn) == Counter({"S-A2": 1})
    assert await conn.fetchval("SELECT learner_id FROM health_counted_measurements") == SURVIVOR

    correction = measured(
        SURVIVOR,
        "S-A2",
        "5A",
        140,
        32,
        sex="female",
        on=date(2025, 10, 2),
        replaces=third.measurement_id,
    )
    await deliver(conn, [incoming(correction, 3)])
    # THIRD's measurement is retracted; of the live ones at_b (6 October) is now the latest.
    counted = await conn.fetchval("SELECT measurement_id FROM health_counted_measurements")
    assert counted == at_b.measurement_id
    assert await measured_per_school(conn) == Counter({"S-B": 1})
    await assert_equals_recount(conn)

    # Undo the first merge only: SURVIVOR is alone again (with the correction, which retracts
    # nothing in her own pool), RETIRED and THIRD stay one person named RETIRED.
    await deliver(conn, [identity_event(unmerged())])
    rows = await conn.fetch(
        "SELECT learner_id, measurement_id FROM health_counted_measurements ORDER BY learner_id"
    )
    assert [(r["learner_id"], r["measurement_id"]) for r in rows] == [
        (SURVIVOR, correction.measurement_id),
        (RETIRED, third.measurement_id),
    ]
    await assert_equals_recount(conn)


async def test_same_day_same_time_the_record_id_decides_whichever_id_survives(conn):
    low, high = sorted([uuid.uuid4(), uuid.uuid4()])
    results = []
    for survivor, retired in ((SURVIVOR, RETIRED), (RETIRED, SURVIVOR)):
        await conn.execute(f"TRUNCATE {', '.join((*STATE_TABLES, 'health_merges'))}")
        a = measured(SURVIVOR, "S-A", "5A", 140, 32).model_copy(update={"measurement_id": low})
        b = measured(RETIRED, "S-B", "5C", 140, 45).model_copy(update={"measurement_id": high})
        await deliver(
            conn, [incoming(b, 0), incoming(a, 0), identity_event(merged(survivor, retired))]
        )
        results.append(
            await conn.fetchval("SELECT measurement_id FROM health_counted_measurements")
        )
        await assert_equals_recount(conn)
    assert results == [high, high]


async def test_one_event_at_a_time_in_reverse_gives_the_same_cells(conn):
    at_a, at_b = two_records()
    third = measured(THIRD, "S-A2", None, 130, 28, on=date(2025, 10, 2))
    stream = [
        incoming(at_a, 0),
        incoming(swam(SURVIVOR, "S-A", "5A", "cannot_swim"), 1),
        identity_event(merged()),
        incoming(at_b, 2),
        identity_event(merged(SURVIVOR, THIRD, uuid.UUID(int=7))),
        incoming(third, 3),
        identity_event(unmerged(SURVIVOR, THIRD, uuid.UUID(int=7))),
        incoming(swam(RETIRED, "S-B", "5C", "swims_with_aid"), 4),
    ]
    await deliver(conn, stream)
    in_one_batch = await health_store.all_cells(conn)
    assert in_one_batch != Cells()
    await conn.execute(f"TRUNCATE {', '.join((*STATE_TABLES, 'health_merges'))}")
    for event in reversed(stream):
        await deliver(conn, [event])
    assert await health_store.all_cells(conn) == in_one_batch
    assert await measured_per_school(conn) == Counter({"S-B": 1, "S-A2": 1})
    await assert_equals_recount(conn)


def test_the_consumer_reads_the_merge_topics():
    topics = health_consumer(lambda _: None).topics
    assert {"identity.person.merged", "identity.person.unmerged"} <= set(topics)


def link(survivor: str, retired: str, n: int, *, undone: bool = False) -> MergeLink:
    return MergeLink(uuid.UUID(int=n), survivor, retired, True, undone)


def test_persons_follow_chains_and_name_odd_groups_by_the_final_links_only():
    chain = [link("B", "A", 1), link("C", "B", 2), link("E", "D", 3, undone=True)]
    assert persons(chain) == {"A": "C", "B": "C", "C": "C"}
    assert persons(reversed(chain)) == persons(chain)
    # Identity never makes these; the answer is still a function of the set of links.
    two_survivors = [link("Y", "X", 1), link("Z", "X", 2)]
    assert persons(two_survivors) == {"X": "Y", "Y": "Y", "Z": "Y"}
    cycle = [link("Q", "P", 1), link("P", "Q", 2)]
    assert persons(cycle) == {"P": "P", "Q": "P"}
    assert regrouped_persons({}, persons(chain), ["A", "B", "C", "F"]) == {"A", "B", "C"}
