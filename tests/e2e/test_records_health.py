"""Health checks over real HTTP: a campaign, a measurement and its identical repeat, a CSV
import with a result per row, the audited read of the learner, and the acknowledgements
reaching Kafka through the outbox relay.

Needs the health and imports routers in services/records/app.py (404 until they are there)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from shared.tests.support import read_topic
from tests.e2e.support import enrolment, new_school

pytestmark = pytest.mark.e2e


def _school_year(today: date) -> tuple[str, date, date]:
    first = today.year if today.month >= 8 else today.year - 1
    return f"{first}-{first + 1}", date(first, 8, 1), date(first + 1, 7, 31)


async def _published(platform, import_id: str) -> int:
    conn = await asyncpg.connect(platform.database_url("records"))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE message_key = $1 AND published_at IS NOT NULL",
                import_id,
            )
        )
    finally:
        await conn.close()


async def test_a_health_campaign_over_http(platform, kafka):
    today = (datetime.now(UTC) + timedelta(hours=7)).date()
    year, year_start, year_end = _school_year(today)
    with platform.client() as api:
        _, school = new_school(platform, api)
        records = platform.url("records")
        learners = [f"LH-{school}-{n}" for n in range(3)]
        for learner in learners:
            response = api.post(f"{records}/enrolments", json=enrolment(school, learner_id=learner))
            assert response.status_code == 201, response.text
        campaign = f"KSK-{school}"
        created = api.post(
            f"{records}/health/campaigns",
            json={
                "campaign_id": campaign,
                "org_id": school,
                "name": "Khám sức khỏe đầu năm",
                "school_year": year,
                "term": 1 if today.month >= 8 or today.month == 1 else 2,
                "starts_on": max(year_start, today - timedelta(days=20)).isoformat(),
                "ends_on": min(year_end, today + timedelta(days=20)).isoformat(),
            },
        )
        assert created.status_code == 201, created.text

    with platform.client(role="school", org=school) as nurse:
        body = {
            "learner_id": learners[0],
            "school_id": school,
            "campaign_id": campaign,
            "measured_on": today.isoformat(),
            "height_cm": 148.5,
            "weight_kg": 39.0,
            "eyesight_left": "10/10",
            "eyesight_right": "8/10",
            "eye_conditions": ["cận thị"],
        }
        first = nurse.post(f"{records}/health/measurements", json=body)
        assert first.status_code == 201, first.text
        again = nurse.post(f"{records}/health/measurements", json=body)
        assert again.status_code == 200, again.text
        assert again.json() == {
            "outcome": "unchanged",
            "record_id": first.json()["record_id"],
            "replaces": None,
        }
        implausible = nurse.post(f"{records}/health/measurements", json=body | {"height_cm": 480})
        assert implausible.status_code == 422
        assert implausible.json()["errors"][0]["field"] == "body.height_cm"
        assert implausible.json()["errors"][0]["type"] == "plausible_range"

        lines = [
            "learner_id;school_id;campaign_id;measured_on;height_cm;weight_kg;eyesight_left;"
            "eyesight_right;eye_conditions",
            f"{learners[0]};{school};{campaign};{today:%d/%m/%Y};149;39;10/10;8/10;cận thị",
            f"{learners[1]};{school};{campaign};{today.isoformat()};151,5;42;1;1;",
            f"{learners[2]};{school};{campaign};{today.isoformat()};1515;42;1;1;",
        ]
        content = ("\ufeff" + "\n".join(lines) + "\n").encode()
        missing_key = nurse.post(
            f"{records}/imports/health",
            content=content,
            headers={"Content-Type": "text/csv", "Idempotency-Key": ""},
        )
        assert missing_key.status_code in (400, 422)
        key = str(uuid.uuid4())
        imported = nurse.post(
            f"{records}/imports/health",
            content=content,
            params={"filename": "kham-suc-khoe.csv"},
            headers={"Content-Type": "text/csv", "Idempotency-Key": key},
        )
        assert imported.status_code == 201, imported.text
        summary = imported.json()
        assert (summary["accepted"], summary["unchanged"], summary["rejected"]) == (2, 0, 1)
        replayed = nurse.post(
            f"{records}/imports/health",
            content=content,
            params={"filename": "kham-suc-khoe.csv"},
            headers={"Content-Type": "text/csv", "Idempotency-Key": key},
        )
        assert replayed.json()["import_id"] == summary["import_id"]
        assert replayed.headers["Idempotency-Replayed"] == "true"

        result = nurse.get(f"{records}/imports/{summary['import_id']}/result.csv")
        assert result.status_code == 200
        rows = list(csv.DictReader(io.StringIO(result.content.decode("utf-8-sig"))))
        assert [(r["row"], r["outcome"]) for r in rows] == [
            ("2", "accepted"),
            ("3", "accepted"),
            ("4", "rejected"),
        ]
        assert rows[2]["errors"].startswith("height_cm [plausible_range]: height_cm 1515 cm")

        health = nurse.get(
            f"{records}/health/learners/{learners[0]}", params={"include_superseded": "true"}
        )
        assert health.status_code == 200, health.text
        measurements = health.json()["measurements"]
        assert [m["height_cm"] for m in measurements] == [149.0, 148.5]
        assert measurements[0]["replaces"] == first.json()["record_id"]
        listing = nurse.get(f"{records}/health/campaigns/{campaign}/schools/{school}/measurements")
        assert {m["learner_id"] for m in listing.json()["items"]} == set(learners[:2])

    with platform.client(role="school", org="S-NOT-THIS-ONE") as stranger:
        assert stranger.get(f"{records}/health/learners/{learners[0]}").status_code == 404

    # Three acknowledgements (one per row) leave through the outbox to Kafka.
    deadline = asyncio.get_running_loop().time() + 20
    while await _published(platform, summary["import_id"]) < 3:
        assert asyncio.get_running_loop().time() < deadline, "acknowledgements not published"
        await asyncio.sleep(0.2)
    messages = await read_topic(
        kafka.bootstrap_servers, "records.record.acknowledged", expect=10_000, within=5
    )
    acks = [
        json.loads(m.value)["data"]
        for m in messages
        if m.key and m.key.decode() == summary["import_id"]
    ]
    assert [(a["row_number"], a["outcome"]) for a in acks] == [
        (2, "accepted"),
        (3, "accepted"),
        (4, "rejected"),
    ]
