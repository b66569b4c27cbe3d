"""Health aggregates on a real PostgreSQL: the consumer's handler folds measurements, corrections,
duplicates and swim assessments into cells; the API's query functions read exact counts and
rates for a school, its commune and the province; the cells equal a recount from scratch."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from services.analytics import health_store
from services.analytics.domain.health_fold import Cells, recount
from services.analytics.health_api import eye_stats, nutrition_stats, swimming_stats
from services.analytics.health_consumers import health_consumer
from shared.auth import AuthorisationError, Principal
from shared.consumer.runner import ConsumedRecord, IncomingEvent
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.events.contracts.records import HealthMeasured, SwimAssessed
from shared.events.envelope import CloudEvent
from shared.http.problems import Problem

pytestmark = pytest.mark.integration

CAMPAIGN = "HP-2025-HK1"
DAY = date(2025, 10, 1)
T0 = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)
BIRTH = date(2015, 3, 1)  # 127 months on DAY: WHO 2007 reference
DEPARTMENT = Principal("so-gddt", "department", "HP")
COMMUNE_A = Principal("ubnd-a", "commune", "C-A")
SCHOOL_A = Principal("y-te-a", "school", "S-A")
TEACHER_A = Principal("gv-a", "teacher", "S-A")
SCHOOL_B = Principal("y-te-b", "school", "S-B")

STATE_TABLES = (
    "health_measurements",
    "swim_assessments",  # health_measurements carries the marks of counted measurements
    "health_counted_swims",
    "nutrition_cells",
    "eye_cells",
    "swim_cells",
)


@pytest.fixture
async def conn(fresh_db: str) -> AsyncIterator[Connection]:
    pool = await create_pool(fresh_db, min_size=1, max_size=1)
    async with pool.acquire() as connection:
        await migrate(connection, "analytics", Path("services/analytics/migrations"))
        await connection.executemany(
            "INSERT INTO org_units (org_id, revision, kind, name, parent_id, school_type, "
            "valid_from) VALUES ($1, 1, $2, $3, $4, $5, '2025-07-01')",
            [
                ("HP", "province", "Thành phố Hải Phòng", None, None),
                ("C-A", "commune", "Phường Hồng Bàng", "HP", None),
                ("C-B", "commune", "Xã An Hưng", "HP", None),
                ("S-A", "school", "Trường Tiểu học Hồng Bàng", "C-A", "primary"),
                ("S-A2", "school", "Trường Tiểu học Quang Trung", "C-A", "primary"),
                ("S-B", "school", "Trường Tiểu học An Hưng", "C-B", "primary"),
            ],
        )
        yield connection
    await pool.close()


def measured(
    learner: str,
    school: str,
    class_id: str | None,
    height: float | None,
    weight: float | None,
    *,
    sex: str = "male",
    on: date = DAY,
    birth: date = BIRTH,
    left: float | None = None,
    right: float | None = None,
    eyes: tuple[str, ...] = (),
    replaces: uuid.UUID | None = None,
) -> HealthMeasured:
    return HealthMeasured(
        measurement_id=uuid.uuid4(),
        learner_id=learner,
        school_id=school,
        class_id=class_id,
        campaign_id=CAMPAIGN,
        measured_on=on,
        sex=sex,  # type: ignore[arg-type]
        birth_date=birth,
        height_cm=height,
        weight_kg=weight,
        eyesight_left=left,
        eyesight_right=right,
        eye_conditions=list(eyes),  # type: ignore[arg-type]
        replaces=replaces,
    )


def swam(
    learner: str,
    school: str,
    class_id: str,
    ability: str,
    *,
    replaces: uuid.UUID | None = None,
) -> SwimAssessed:
    return SwimAssessed(
        assessment_id=uuid.uuid4(),
        learner_id=learner,
        school_id=school,
        class_id=class_id,
        campaign_id=CAMPAIGN,
        assessed_on=DAY,
        ability=ability,  # type: ignore[arg-type]
        replaces=replaces,
    )


def incoming(data: HealthMeasured | SwimAssessed, minute: int, offset: int = 0) -> IncomingEvent:
    """As the runner hands it over: a fresh envelope (new event id) around the data."""
    envelope = CloudEvent.wrap(data, source="records", time=T0 + timedelta(minutes=minute))
    record = ConsumedRecord(data.topic(), 0, offset, data.subject().encode(), envelope.to_bytes())
    return IncomingEvent(envelope, data, record)


async def deliver(conn: Connection, events: list[IncomingEvent]) -> None:
    async with conn.transaction():
        await health_consumer(lambda _: None).handler(conn, events)


def school_day() -> tuple[list[IncomingEvent], list[IncomingEvent]]:
    """Two batches for a small city: S-A (classes 5A, 5B), S-A2 in commune C-A, S-B in C-B."""
    l2_first = measured("L2", "S-A", "5A", 140, 32)  # corrected below: really 45 kg
    l3_first_swim = swam("L3", "S-A", "5A", "cannot_swim")  # corrected below
    l1 = measured("L1", "S-A", "5A", 140, 32, left=1.0, right=1.0)  # normal
    first = [
        incoming(l1, 0),
        incoming(l2_first, 1),
        incoming(measured("L3", "S-A", "5A", 140, 32, sex="female", on=date(2025, 10, 3)), 2),
        incoming(measured("L4", "S-A", "5B", 140, 40, sex="female", eyes=("astigmatism",)), 3),
        incoming(measured("L5", "S-A", "5B", 60, 30), 4),  # implausible: flagged
        incoming(measured("L6", "S-A", "5B", None, 30), 5),  # no height: unknown
        incoming(measured("L7", "S-A2", "5A", 140, 26), 6),  # thin
        incoming(measured("L8", "S-B", "5C", 122, 24), 7),  # normal, stunted
        incoming(measured("L9", "S-B", "5C", 140, 24), 8),  # severely thin
        incoming(swam("L1", "S-A", "5A", "cannot_swim"), 9),
        incoming(swam("L2", "S-A", "5A", "swims_with_aid"), 10),
        incoming(l3_first_swim, 11),
        incoming(swam("L4", "S-A", "5B", "cannot_swim"), 12),
        incoming(swam("L5", "S-A", "5B", "swims_25m_unaided"), 13),
        incoming(swam("L8", "S-B", "5C", "cannot_swim"), 14),
    ]
    second = [
        # The correction of L2: obese, with eye findings.
        incoming(
            measured(
                "L2",
                "S-A",
                "5A",
                140,
                45,
                left=0.5,
                right=0.9,
                eyes=("myopia",),
                replaces=l2_first.measurement_id,
            ),
            20,
        ),
        # An older measurement of L3 arriving late: changes nothing.
        incoming(measured("L3", "S-A", "5A", 140, 45, sex="female", on=date(2025, 9, 28)), 21),
        # L1's measurement republished (another envelope, same measurement): a duplicate.
        incoming(l1, 22),
        incoming(
            swam("L3", "S-A", "5A", "swims_25m_unaided", replaces=l3_first_swim.assessment_id),
            23,
        ),
    ]
    return first, second


async def test_counts_and_rates_for_a_school_its_commune_and_the_province(conn):
    first, second = school_day()
    await deliver(conn, first)
    await deliver(conn, second)

    school = await nutrition_stats(conn, SCHOOL_A, org_id="S-A", campaign_id=CAMPAIGN)
    t = school.total
    assert (t.measured, t.assessed, t.flagged, t.unknown) == (6, 4, 1, 1)
    assert (t.normal, t.overweight, t.obese, t.thin, t.stunted) == (2, 1, 1, 0, 0)
    assert t.rates.normal == 0.5
    assert t.rates.overweight_or_obese == 0.5
    assert t.rates.obese == 0.25
    assert t.rates.thinness == 0.0
    assert list(school.by_age_group) == ["5_19"]
    by_class = {p.unit_id: p for p in school.breakdown}
    assert [(p.unit_id, p.kind) for p in school.breakdown] == [("5A", "class"), ("5B", "class")]
    a, b = by_class["5A"].total, by_class["5B"].total
    assert (a.measured, a.assessed, a.normal, a.obese) == (3, 3, 2, 1)
    assert (b.measured, b.assessed, b.overweight, b.flagged, b.unknown) == (3, 1, 1, 1, 1)
    assert b.rates.overweight == 1.0

    commune = await nutrition_stats(conn, COMMUNE_A, org_id="C-A", campaign_id=CAMPAIGN)
    assert (commune.total.measured, commune.total.assessed, commune.total.thin) == (7, 5, 1)
    assert commune.total.rates.thinness == 0.2
    assert [(p.unit_id, p.kind, p.name, p.total.measured) for p in commune.breakdown] == [
        ("S-A", "school", "Trường Tiểu học Hồng Bàng", 6),
        ("S-A2", "school", "Trường Tiểu học Quang Trung", 1),
    ]

    city = await nutrition_stats(conn, DEPARTMENT, org_id="HP", campaign_id=CAMPAIGN)
    c = city.total
    assert (c.measured, c.assessed, c.normal, c.stunted, c.thin, c.severely_thin) == (
        9,
        7,
        3,
        1,
        1,
        1,
    )
    assert c.rates.stunting == 0.1429
    assert c.rates.thinness == 0.2857
    assert c.rates.severe_thinness == 0.1429
    assert [(p.unit_id, p.kind, p.total.measured) for p in city.breakdown] == [
        ("C-A", "commune", 7),
        ("C-B", "commune", 2),
    ]

    swim = await swimming_stats(conn, TEACHER_A, org_id="S-A", campaign_id=CAMPAIGN)
    assert (swim.total.assessed, swim.total.not_able_to_swim_safely) == (5, 3)
    assert swim.total.share_not_able == 0.6
    assert (swim.total.cannot_swim, swim.total.swims_with_aid) == (2, 1)
    assert swim.total.swims_25m_unaided == 2  # L3's correction and L5
    assert [(p.unit_id, p.total.assessed, p.total.share_not_able) for p in swim.breakdown] == [
        ("5A", 3, 0.6667),
        ("5B", 2, 0.5),
    ]
    city_swim = await swimming_stats(conn, DEPARTMENT, org_id="HP", campaign_id=CAMPAIGN)
    assert (city_swim.total.assessed, city_swim.total.share_not_able) == (6, 0.6667)
    assert [(p.unit_id, p.total.share_not_able) for p in city_swim.breakdown] == [
        ("C-A", 0.6),
        ("C-B", 1.0),
    ]

    eyes = await eye_stats(conn, SCHOOL_A, org_id="S-A", campaign_id=CAMPAIGN)
    e = eyes.total
    assert eyes.reduced_acuity_below == 0.8
    assert (e.examined, e.any_condition, e.myopia, e.astigmatism, e.hyperopia) == (3, 2, 1, 1, 0)
    assert (e.acuity_measured, e.reduced_acuity) == (2, 1)
    assert e.rates.any_condition == 0.6667
    assert e.rates.reduced_acuity == 0.5
    assert [(p.unit_id, p.total.examined) for p in eyes.breakdown] == [("5A", 2), ("5B", 1)]

    # The cells are what a recount from scratch of everything remembered gives.
    _, recounted = recount(*await health_store.all_records(conn))
    assert await health_store.all_cells(conn) == recounted

    # Swim cells carry the sex of the learner's measurement (SwimAssessed has none).
    sexes = await conn.fetch(
        "SELECT sex, sum(assessed)::int AS n FROM swim_cells GROUP BY sex ORDER BY sex"
    )
    assert [(r["sex"], r["n"]) for r in sexes] == [("female", 2), ("male", 4)]

    # Every answer is in the audit log, naming the unit and the campaign.
    audited = await conn.fetch(
        "SELECT actor, entity_id, detail FROM audit_log "
        "WHERE action = 'read_health_statistics' ORDER BY id"
    )
    assert [(r["actor"], r["entity_id"], r["detail"]["indicator"]) for r in audited] == [
        ("y-te-a", "S-A", "nutrition"),
        ("ubnd-a", "C-A", "nutrition"),
        ("so-gddt", "HP", "nutrition"),
        ("gv-a", "S-A", "swimming"),
        ("so-gddt", "HP", "swimming"),
        ("y-te-a", "S-A", "eyes"),
    ]


async def test_thinness_and_wasting_are_shares_of_their_own_age_group(conn):
    toddler = date(2022, 3, 1)  # 43 months: WHO 2006 standards
    await deliver(
        conn,
        [
            incoming(measured("K1", "S-B", "MG", 100, 12.5, sex="female", birth=toddler), 0),
            incoming(measured("K2", "S-B", "MG", 100, 15.5, sex="female", birth=toddler), 1),
            incoming(measured("K3", "S-B", "MG", 100, 21, sex="female", birth=toddler), 2),
            incoming(measured("L1", "S-B", "1A", 140, 26), 3),  # thin
            incoming(measured("L2", "S-B", "1A", 140, 32), 4),
        ],
    )
    stats = await nutrition_stats(conn, DEPARTMENT, org_id="S-B", campaign_id=CAMPAIGN)
    t = stats.total
    assert (t.assessed, t.wasted, t.thin, t.obese, t.normal) == (5, 1, 1, 1, 2)
    assert (t.rates.wasting, t.rates.thinness) == (0.3333, 0.5)
    assert (t.rates.obese, t.rates.normal) == (0.2, 0.4)
    under_5, older = stats.by_age_group["under_5"], stats.by_age_group["5_19"]
    assert (under_5.assessed, under_5.rates.wasting, under_5.rates.thinness) == (3, 0.3333, None)
    assert (older.assessed, older.rates.thinness, older.rates.wasting) == (2, 0.5, None)
    assert [p.unit_id for p in stats.breakdown] == ["1A", "MG"]


async def test_another_delivery_order_one_event_at_a_time_gives_the_same_cells(conn):
    first, second = school_day()
    await deliver(conn, first + second)
    in_one_batch = await health_store.all_cells(conn)
    await conn.execute(f"TRUNCATE {', '.join(STATE_TABLES)}")
    for event in reversed(first + second):
        await deliver(conn, [event])
    assert await health_store.all_cells(conn) == in_one_batch
    assert in_one_batch != Cells()


async def test_scope_unknown_units_and_other_campaigns(conn):
    first, _ = school_day()
    await deliver(conn, first)
    with pytest.raises(AuthorisationError):
        await nutrition_stats(conn, SCHOOL_B, org_id="S-A", campaign_id=CAMPAIGN)
    with pytest.raises(AuthorisationError):
        await swimming_stats(conn, COMMUNE_A, org_id="HP", campaign_id=CAMPAIGN)
    with pytest.raises(Problem) as caught:
        await eye_stats(conn, DEPARTMENT, org_id="NO-SUCH", campaign_id=CAMPAIGN)
    assert caught.value.status == 404
    other = await nutrition_stats(conn, DEPARTMENT, org_id="HP", campaign_id="HP-2024-HK2")
    assert (other.total.measured, other.total.rates.normal, other.breakdown) == (0, None, [])


async def test_a_record_id_reused_for_another_learner_fails_its_batch(conn):
    first, _ = school_day()
    await deliver(conn, first)
    stolen = first[0].data
    assert isinstance(stolen, HealthMeasured)
    forged = stolen.model_copy(update={"learner_id": "L99"})
    with pytest.raises(asyncpg.UniqueViolationError):
        await deliver(conn, [incoming(forged, 30)])
    # Nothing of the failed batch stayed.
    assert await conn.fetchval("SELECT count(*) FROM health_counted_measurements") == 9
