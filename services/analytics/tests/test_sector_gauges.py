"""The Prometheus sector gauges on a real PostgreSQL: events go through the real consumer
handlers, the refresher reads the maintained cells, and every gauge shows exact values per
commune and province, for the latest campaign or the configured one; labels stay bounded."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from prometheus_client import REGISTRY

from services.analytics.consumers import enrolment_consumer
from services.analytics.gauges import GaugeRefresher
from services.analytics.health_consumers import health_consumer
from shared.consumer.runner import ConsumedRecord, IncomingEvent
from shared.db.migrations import migrate
from shared.db.pool import create_pool
from shared.events.contracts.records import HealthMeasured, StudentEnrolled, SwimAssessed
from shared.events.envelope import CloudEvent, EventData

pytestmark = pytest.mark.integration

CAMPAIGN = "HP-2025-HK1"
OLDER = "HP-2024-HK2"
DAY = date(2025, 10, 1)
T0 = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)
BIRTH = date(2015, 3, 1)  # 127 months on DAY: WHO 2007 reference

NEW_GAUGES = {
    "eduhub_nutrition_learners": {"province", "commune", "status"},
    "eduhub_nutrition_stunted_learners": {"province", "commune"},
    "eduhub_swimming_assessed_learners": {"province", "commune"},
    "eduhub_swimming_non_swimmers": {"province", "commune"},
    "eduhub_swimming_non_swimmer_share": {"province", "commune"},
    "eduhub_eye_examined_learners": {"province", "commune"},
    "eduhub_eye_condition_learners": {"province", "commune", "condition"},
}


def measured(
    learner: str,
    school: str,
    height: float | None,
    weight: float | None,
    *,
    sex: str = "male",
    campaign: str = CAMPAIGN,
    on: date = DAY,
    left: float | None = None,
    right: float | None = None,
    eyes: tuple[str, ...] = (),
) -> HealthMeasured:
    return HealthMeasured(
        measurement_id=uuid.uuid4(),
        learner_id=learner,
        school_id=school,
        class_id="5A",
        campaign_id=campaign,
        measured_on=on,
        sex=sex,  # type: ignore[arg-type]
        birth_date=BIRTH - (DAY - on),  # the same age on the day measured
        height_cm=height,
        weight_kg=weight,
        eyesight_left=left,
        eyesight_right=right,
        eye_conditions=list(eyes),  # type: ignore[arg-type]
    )


def swam(learner: str, school: str, ability: str, *, campaign: str = CAMPAIGN) -> SwimAssessed:
    return SwimAssessed(
        assessment_id=uuid.uuid4(),
        learner_id=learner,
        school_id=school,
        class_id="5A",
        campaign_id=campaign,
        assessed_on=DAY if campaign == CAMPAIGN else date(2024, 10, 1),
        ability=ability,  # type: ignore[arg-type]
    )


def enrolled(learner: str, school: str) -> StudentEnrolled:
    return StudentEnrolled(
        enrolment_id=uuid.uuid4(),
        learner_id=learner,
        school_id=school,
        school_year="2025-2026",
        grade=5,
        enrolled_on=date(2025, 9, 5),
        revision=1,
    )


def incoming(data: EventData, offset: int) -> IncomingEvent:
    envelope = CloudEvent.wrap(data, source="records", time=T0 + timedelta(seconds=offset))
    record = ConsumedRecord(data.topic(), 0, offset, data.subject().encode(), envelope.to_bytes())
    return IncomingEvent(envelope, data, record)


@pytest.fixture
async def pool(fresh_db: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(fresh_db, min_size=1, max_size=2)
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
                ("S-P", "school", "Trường THPT trực thuộc Sở", "HP", "upper_secondary"),
            ],
        )
    yield pool
    await pool.close()


async def feed(pool: asyncpg.Pool) -> None:
    health: list[EventData] = [
        measured("L1", "S-A", 140, 32, left=1.0, right=1.0),  # normal, eyes examined
        measured("L2", "S-A", 140, 45, left=0.5, right=0.9, eyes=("myopia",)),  # obese
        measured("L4", "S-A", 140, 40, sex="female", eyes=("astigmatism",)),  # overweight
        measured("L5", "S-A", 60, 30),  # implausible: flagged
        measured("L6", "S-A", None, 30),  # no height: unknown
        measured("L7", "S-A2", 140, 26),  # thin
        measured("L8", "S-B", 122, 24),  # normal, stunted
        measured("L9", "S-B", 140, 24),  # severely thin
        measured("L11", "S-P", 140, 32),  # normal, school directly under the province
        measured("L1", "S-A", 130, 28, campaign=OLDER, on=date(2024, 10, 1)),  # last year
        swam("L1", "S-A", "cannot_swim"),
        swam("L2", "S-A", "swims_with_aid"),
        swam("L3", "S-A", "swims_25m_unaided"),
        swam("L4", "S-A", "cannot_swim"),
        swam("L5", "S-A", "swims_25m_unaided"),
        swam("L8", "S-B", "cannot_swim"),
        swam("L1", "S-A", "swims_25m_unaided", campaign=OLDER),
    ]
    lifecycle: list[EventData] = [
        enrolled("L1", "S-A"),
        enrolled("L2", "S-A"),
        enrolled("L7", "S-A2"),
        enrolled("L8", "S-B"),
        enrolled("L11", "S-P"),
    ]
    async with pool.acquire() as conn:
        async with conn.transaction():
            await health_consumer(lambda _: None).handler(
                conn, [incoming(d, i) for i, d in enumerate(health)]
            )
        async with conn.transaction():
            await enrolment_consumer(lambda _: None).handler(
                conn, [incoming(d, 100 + i) for i, d in enumerate(lifecycle)]
            )


def value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def samples(name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def nutrition(province: str, commune: str) -> dict[str, float]:
    return {
        dict(labels)["status"]: v
        for labels, v in samples("eduhub_nutrition_learners").items()
        if dict(labels)["province"] == province and dict(labels)["commune"] == commune and v
    }


async def test_gauges_show_exact_values_for_the_latest_campaign(pool):
    await feed(pool)
    await GaugeRefresher(pool, campaign_cache_seconds=0).refresh()

    assert value("eduhub_health_gauge_campaign", source="nutrition_eyes", campaign=CAMPAIGN) == 1
    assert value("eduhub_health_gauge_campaign", source="swimming", campaign=CAMPAIGN) == 1
    assert samples("eduhub_health_gauge_campaign") == {
        (("campaign", CAMPAIGN), ("source", "nutrition_eyes")): 1.0,
        (("campaign", CAMPAIGN), ("source", "swimming")): 1.0,
    }

    assert nutrition("HP", "C-A") == {
        "normal": 1,
        "obese": 1,
        "overweight": 1,
        "thin": 1,
        "flagged": 1,
        "unknown": 1,
    }
    assert nutrition("HP", "C-B") == {"normal": 1, "severely_thin": 1}
    # The province total includes S-P, which lies under no commune.
    assert nutrition("HP", "") == {
        "normal": 3,
        "obese": 1,
        "overweight": 1,
        "thin": 1,
        "severely_thin": 1,
        "flagged": 1,
        "unknown": 1,
    }
    assert value("eduhub_nutrition_learners", province="HP", commune="C-A", status="wasted") == 0
    assert value("eduhub_nutrition_stunted_learners", province="HP", commune="C-A") == 0
    assert value("eduhub_nutrition_stunted_learners", province="HP", commune="C-B") == 1
    assert value("eduhub_nutrition_stunted_learners", province="HP", commune="") == 1

    assert value("eduhub_swimming_assessed_learners", province="HP", commune="C-A") == 5
    assert value("eduhub_swimming_non_swimmers", province="HP", commune="C-A") == 3
    assert value("eduhub_swimming_non_swimmer_share", province="HP", commune="C-A") == 0.6
    assert value("eduhub_swimming_non_swimmer_share", province="HP", commune="C-B") == 1.0
    assert value("eduhub_swimming_assessed_learners", province="HP", commune="") == 6
    assert value("eduhub_swimming_non_swimmer_share", province="HP", commune="") == 4 / 6

    assert value("eduhub_eye_examined_learners", province="HP", commune="C-A") == 3
    conditions = {
        dict(labels)["condition"]: v
        for labels, v in samples("eduhub_eye_condition_learners").items()
        if dict(labels)["commune"] == "C-A"
    }
    assert conditions == {
        "any": 2,
        "myopia": 1,
        "astigmatism": 1,
        "hyperopia": 0,
        "strabismus": 0,
        "other": 0,
    }

    assert value("eduhub_learners_enrolled", province="HP", commune="C-A") == 3
    assert value("eduhub_learners_enrolled", province="HP", commune="C-B") == 1
    assert value("eduhub_learners_enrolled", province="HP", commune="") == 5

    # Bounded labels: province and commune (and a fixed status or condition), nothing finer.
    for name, labels in NEW_GAUGES.items():
        series = samples(name)
        assert series, name
        for key in series:
            found = dict(key)
            assert set(found) == labels, name
            assert found["province"] == "HP" and found["commune"] in {"", "C-A", "C-B"}, name
    assert len(samples("eduhub_nutrition_learners")) == 3 * 9


async def test_a_configured_campaign_replaces_the_latest(pool):
    await feed(pool)
    await GaugeRefresher(pool, campaign=OLDER).refresh()
    assert samples("eduhub_health_gauge_campaign") == {
        (("campaign", OLDER), ("source", "nutrition_eyes")): 1.0,
        (("campaign", OLDER), ("source", "swimming")): 1.0,
    }
    assert nutrition("HP", "C-A") == {"normal": 1}
    assert nutrition("HP", "C-B") == {}
    assert value("eduhub_swimming_non_swimmer_share", province="HP", commune="C-A") == 0.0
    assert value("eduhub_swimming_assessed_learners", province="HP", commune="C-B") is None


def test_a_slow_refresh_waits_twenty_times_as_long_before_the_next():
    refresher = GaugeRefresher(None, interval=1.0)  # type: ignore[arg-type]  # never connects
    assert refresher.pause_after(0.01) == 1.0  # cheap: once a second
    assert refresher.pause_after(0.15) == pytest.approx(3.0)  # a million learners' cells
    assert refresher.pause_after(2.0) == pytest.approx(40.0)
