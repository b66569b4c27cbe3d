"""The walking skeleton, end to end through the real services, broker and databases:
identity registers a school -> records learns it -> an enrolment through records' API ->
analytics counts it for the school, its commune and the province, in its API and /metrics."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from shared.events.envelope import CloudEvent
from shared.kafka import EventProducer, OutgoingMessage
from shared.tests.support import read_topic
from tests.e2e.support import enrolled, enrolment, metric_value, new_school, wait_for

pytestmark = pytest.mark.e2e


def test_enrolment_reaches_analytics_within_a_second(platform):
    with platform.client() as api:
        commune, school = new_school(platform, api)
        province_before = enrolled(platform, api, "HP")
        delays = []
        for n in range(5):
            response = api.post(f"{platform.url('records')}/enrolments", json=enrolment(school))
            assert response.status_code == 201, response.text
            posted = time.monotonic()
            wait_for(
                lambda n=n: enrolled(platform, api, school) == n + 1, timeout=10, interval=0.01
            )
            delays.append(time.monotonic() - posted)
        print(f"\npublish-to-visible delays (s): {[round(d, 3) for d in delays]}")
        assert statistics.median(delays) < 1.0
        assert max(delays) < 2.0
        assert enrolled(platform, api, commune) == 5
        assert enrolled(platform, api, "HP") == province_before + 5
        wait_for(
            lambda: (
                metric_value(
                    platform,
                    "analytics",
                    "eduhub_learners_enrolled",
                    province="HP",
                    commune=commune,
                )
                == 5.0
            ),
            timeout=2,
        )
        assert (
            metric_value(
                platform, "analytics", "eduhub_learners_enrolled", province="HP", commune=""
            )
            == province_before + 5
        )
        published = metric_value(
            platform, "records", "eduhub_events_published_total", topic="records.student.enrolled"
        )
        assert published is not None and published >= 5


async def _records_outbox_payload(platform, learner_id: str) -> bytes:
    conn = await asyncpg.connect(platform.database_url("records"))
    try:
        return await conn.fetchval(
            "SELECT payload FROM outbox WHERE message_key = $1 ORDER BY position DESC LIMIT 1",
            learner_id,
        )
    finally:
        await conn.close()


async def test_duplicate_delivery_counts_once(platform, kafka):
    with platform.client() as api:
        _, school = new_school(platform, api)
        body = enrolment(school)
        assert api.post(f"{platform.url('records')}/enrolments", json=body).status_code == 201
        wait_for(lambda: enrolled(platform, api, school) == 1)
        duplicates_before = (
            metric_value(
                platform,
                "analytics",
                "eduhub_events_consumed_total",
                topic="records.student.enrolled",
                outcome="duplicate",
            )
            or 0.0
        )

        payload = await _records_outbox_payload(platform, body["learner_id"])
        # The same event delivered twice more, and a new event carrying an old revision.
        stale = json.loads(payload)
        stale["id"] = str(uuid.uuid4())
        stale["data"]["school_id"] = "S-ELSEWHERE"
        producer = EventProducer(kafka.bootstrap_servers)
        await producer.start()
        try:
            await producer.send_all(
                [
                    OutgoingMessage("records.student.enrolled", body["learner_id"], payload),
                    OutgoingMessage("records.student.enrolled", body["learner_id"], payload),
                    OutgoingMessage(
                        "records.student.enrolled", body["learner_id"], json.dumps(stale).encode()
                    ),
                ]
            )
        finally:
            await producer.stop()
        wait_for(
            lambda: (
                (
                    metric_value(
                        platform,
                        "analytics",
                        "eduhub_events_consumed_total",
                        topic="records.student.enrolled",
                        outcome="duplicate",
                    )
                    or 0
                )
                >= duplicates_before + 2
            )
        )
        # The stale event is applied (new id) but changes nothing: revision 1 is not newer.
        await asyncio.sleep(0.5)
        assert enrolled(platform, api, school) == 1


async def test_poison_event_goes_to_the_dlq_and_the_consumer_keeps_going(platform, kafka):
    with platform.client() as api:
        _, school = new_school(platform, api)
        marker = uuid.uuid4().hex
        bad_version = CloudEvent(
            specversion="1.0",
            id=uuid.uuid4(),
            source="/test",
            type="records.student.enrolled",
            time=datetime.now(UTC),
            subject="L-poison",
            dataschema="urn:eduhub:schema:records.student.enrolled:v7",
            data={"marker": marker},
        )
        producer = EventProducer(kafka.bootstrap_servers)
        await producer.start()
        try:
            await producer.send_all(
                [
                    OutgoingMessage(
                        "records.student.enrolled", "L-poison", f'{{"garbage": "{marker}"'.encode()
                    ),
                    OutgoingMessage("records.student.enrolled", "L-poison", bad_version.to_bytes()),
                ]
            )
        finally:
            await producer.stop()
        response = api.post(f"{platform.url('records')}/enrolments", json=enrolment(school))
        assert response.status_code == 201
        wait_for(lambda: enrolled(platform, api, school) == 1)

    records = await read_topic(
        kafka.bootstrap_servers, "records.student.enrolled.dlq", expect=1000, within=5
    )
    ours = [r for r in records if marker.encode() in r.value]
    # Every consumer group of the topic dead-letters both messages on its own: analytics'
    # enrolment (counts and dated history) and identity's roster.
    by_group: dict[str, list[str]] = {}
    for record in ours:
        headers = dict(record.headers)
        assert headers["eduhub-source-topic"] == b"records.student.enrolled"
        by_group.setdefault(headers["eduhub-consumer"].decode(), []).append(
            headers["eduhub-error"].decode()
        )
    assert sorted(by_group) == [
        "analytics.enrolment",
        "identity.roster",
    ]
    for reasons in by_group.values():
        reasons.sort()
        assert len(reasons) == 2
        assert reasons[0].startswith("invalid event: no contract for type")
        assert reasons[1].startswith("invalid event: not JSON")
