"""Health checks end to end inside records, on a real PostgreSQL: campaigns, measurements with
their plausibility rules, corrections that replace, identical re-submissions that publish
nothing, swim assessments, scope, and the audited reads."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest

from services.records.health import handlers
from services.records.health.handlers import MeasurementInput, SwimInput
from shared.auth import AuthorisationError, Principal
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.http.problems import Problem

pytestmark = pytest.mark.integration

T = TypeVar("T")
TODAY = date(2025, 10, 20)
YEAR = "2025-2026"
CAMPAIGN = "HP-2025-HK1"
DEPARTMENT = Principal("so-gddt", "department", "HP")
SCHOOL_A = Principal("y-te-a", "school", "S-A")
SCHOOL_B = Principal("y-te-b", "school", "S-B")
COMMUNE_A = Principal("ubnd-a", "commune", "C-A")

BOY, GIRL, NO_FACTS, MOVER = "L-BOY", "L-GIRL", "L-NOFACTS", "L-MOVER"


async def tx(conn: Connection, work: Callable[[Connection], Awaitable[T]]) -> T:
    async with conn.transaction():
        return await work(conn)


async def add_orgs(conn: Connection) -> None:
    units = [
        ("HP", "province", "Thành phố Hải Phòng", None, None),
        ("C-A", "commune", "Phường Hồng Bàng", "HP", None),
        ("C-B", "commune", "Phường Lê Chân", "HP", None),
        ("S-A", "school", "Trường THCS Hồng Bàng", "C-A", "lower_secondary"),
        ("S-B", "school", "Trường THCS Lê Chân", "C-B", "lower_secondary"),
    ]
    await conn.executemany(
        "INSERT INTO org_units (org_id, revision, kind, name, parent_id, school_type, "
        "valid_from) VALUES ($1, 1, $2, $3, $4, $5, '2025-07-01')",
        units,
    )


async def enrol(
    conn: Connection,
    learner: str,
    school: str,
    class_id: str | None,
    *,
    sex: str | None,
    birth_date: date | None,
) -> None:
    await conn.execute(
        "INSERT INTO learners (learner_id, revision, sex, birth_date) VALUES ($1, 1, $2, $3)",
        learner,
        sex,
        birth_date,
    )
    await conn.execute(
        "INSERT INTO enrolments (enrolment_id, learner_id, school_id, school_year, grade, "
        "class_id, enrolled_on) VALUES ($1, $2, $3, $4, 7, $5, '2025-09-05')",
        uuid.uuid4(),
        learner,
        school,
        YEAR,
        class_id,
    )


@pytest.fixture
async def conn(fresh_db: str) -> AsyncIterator[Connection]:
    pool = await create_pool(fresh_db, min_size=1, max_size=1)
    async with pool.acquire() as connection:
        await migrate(connection, "records", Path("services/records/migrations"))
        await add_orgs(connection)
        await enrol(connection, BOY, "S-A", "7A", sex="male", birth_date=date(2013, 4, 2))
        await enrol(connection, GIRL, "S-A", "7B", sex="female", birth_date=date(2013, 8, 30))
        await enrol(connection, NO_FACTS, "S-A", "7A", sex=None, birth_date=None)
        await enrol(connection, MOVER, "S-B", "7C", sex="female", birth_date=date(2013, 1, 9))
        await tx(
            connection,
            lambda c: handlers.create_campaign(
                c,
                DEPARTMENT,
                campaign_id=CAMPAIGN,
                org_id="HP",
                name="Khám sức khỏe đầu năm học",
                school_year=YEAR,
                term=1,
                starts_on=date(2025, 9, 15),
                ends_on=date(2025, 11, 30),
            ),
        )
        yield connection
    await pool.close()


def measurement(learner: str = BOY, **changes: Any) -> MeasurementInput:
    fields: dict[str, Any] = {
        "learner_id": learner,
        "school_id": "S-A",
        "campaign_id": CAMPAIGN,
        "measured_on": date(2025, 10, 1),
        "height_cm": 150.5,
        "weight_kg": 41.2,
        "eyesight_left": 1.0,
        "eyesight_right": 0.8,
        "eye_conditions": ("myopia",),
    }
    return MeasurementInput(**(fields | changes))


async def measure(
    conn: Connection, m: MeasurementInput, principal: Principal = SCHOOL_A
) -> dict[str, Any]:
    return await tx(conn, lambda c: handlers.record_measurement(c, principal, m, today=TODAY))


async def swim(conn: Connection, ability: str, principal: Principal = SCHOOL_A) -> dict[str, Any]:
    s = SwimInput(BOY, "S-A", CAMPAIGN, date(2025, 10, 2), ability)
    return await tx(conn, lambda c: handlers.record_swim(c, principal, s, today=TODAY))


async def events(conn: Connection, event_type: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT message_key, payload FROM outbox WHERE event_type = $1 ORDER BY position",
        event_type,
    )
    return [{"key": r["message_key"], **json.loads(r["payload"])["data"]} for r in rows]


async def rejected(conn: Connection, m: MeasurementInput) -> list[dict[str, str]]:
    with pytest.raises(Problem) as caught:
        await measure(conn, m)
    assert caught.value.status == 422
    assert caught.value.errors
    return caught.value.errors


async def test_implausible_values_are_rejected_naming_field_rule_and_value(conn):
    errors = await rejected(conn, measurement(height_cm=350.0, weight_kg=4.1))
    by_field = {e["field"]: e for e in errors}
    assert by_field["body.height_cm"]["type"] == "plausible_range"
    assert (
        "height_cm 350 cm is outside the plausible range 106–201 cm for boys aged 12"
        in (by_field["body.height_cm"]["message"])
    )
    assert by_field["body.weight_kg"]["type"] == "plausible_range"
    assert "weight_kg 4.1 kg" in by_field["body.weight_kg"]["message"]
    # Each value plausible alone, impossible together (BMI): named with the height.
    errors = await rejected(conn, measurement(height_cm=120.0, weight_kg=80.0))
    assert [(e["field"], e["type"]) for e in errors] == [("body.weight_kg", "plausible_range")]
    assert "at height 120 cm" in errors[0]["message"]
    errors = await rejected(conn, measurement(measured_on=date(2025, 9, 5)))
    assert [(e["field"], e["type"]) for e in errors] == [("body.measured_on", "within_campaign")]
    assert (
        "measured_on 2025-09-05 is outside campaign HP-2025-HK1 (2025-09-15 to 2025-11-30)"
        in (errors[0]["message"])
    )
    errors = await rejected(conn, measurement(measured_on=date(2025, 10, 25)))
    assert [(e["field"], e["type"]) for e in errors] == [("body.measured_on", "not_in_future")]
    errors = await rejected(
        conn, measurement(height_cm=None, weight_kg=None, eyesight_left=None, eyesight_right=None,
                          eye_conditions=()),
    )  # fmt: skip
    assert [e["type"] for e in errors] == ["at_least_one_value"]
    errors = await rejected(conn, measurement(campaign_id="NO-SUCH"))
    assert [(e["field"], e["type"]) for e in errors] == [("body.campaign_id", "known_campaign")]
    errors = await rejected(conn, measurement(MOVER))
    assert [(e["field"], e["type"]) for e in errors] == [("body.learner_id", "enrolled_at_school")]
    assert await conn.fetchval("SELECT count(*) FROM health_measurements") == 0
    assert await events(conn, "records.health.measured") == []


async def test_a_correction_replaces_the_earlier_value_and_names_it(conn):
    first = await measure(conn, measurement())
    assert first["outcome"] == "accepted" and first["replaces"] is None
    second = await measure(conn, measurement(height_cm=151.5))
    assert second == {
        "outcome": "accepted",
        "record_id": second["record_id"],
        "replaces": first["record_id"],
    }
    rows = await conn.fetch(
        "SELECT measurement_id::text AS id, height_cm, replaces::text, replaced_by::text, "
        "superseded_at IS NOT NULL AS superseded FROM health_measurements ORDER BY recorded_at"
    )
    assert [dict(r) for r in rows] == [
        {"id": first["record_id"], "height_cm": 150.5, "replaces": None,
         "replaced_by": second["record_id"], "superseded": True},
        {"id": second["record_id"], "height_cm": 151.5, "replaces": first["record_id"],
         "replaced_by": None, "superseded": False},
    ]  # fmt: skip
    published = await events(conn, "records.health.measured")
    assert [(e["measurement_id"], e["replaces"], e["height_cm"]) for e in published] == [
        (first["record_id"], None, 150.5),
        (second["record_id"], first["record_id"], 151.5),
    ]
    assert published[1] | {"measurement_id": "x"} == {
        "key": BOY,
        "measurement_id": "x",
        "learner_id": BOY,
        "school_id": "S-A",
        "class_id": "7A",  # from the enrolment
        "campaign_id": CAMPAIGN,
        "measured_on": "2025-10-01",
        "sex": "male",
        "birth_date": "2013-04-02",
        "height_cm": 151.5,
        "weight_kg": 41.2,
        "eyesight_left": 1.0,
        "eyesight_right": 0.8,
        "eye_conditions": ["myopia"],
        "replaces": first["record_id"],
        "grade": 7,
    }


async def test_the_same_values_again_change_and_publish_nothing(conn):
    first = await measure(conn, measurement())
    outbox_before = await conn.fetchval("SELECT count(*) FROM outbox")
    again = await measure(conn, measurement())
    assert again == {"outcome": "unchanged", "record_id": first["record_id"], "replaces": None}
    assert await conn.fetchval("SELECT count(*) FROM outbox") == outbox_before
    assert await conn.fetchval("SELECT count(*) FROM health_measurements") == 1
    # Going back to a superseded value is a change, not a repeat.
    await measure(conn, measurement(weight_kg=42.0))
    back = await measure(conn, measurement())
    assert back["outcome"] == "accepted"
    assert len(await events(conn, "records.health.measured")) == 3


async def test_sex_and_birth_date_come_from_the_record_or_the_submission(conn):
    errors = await rejected(conn, measurement(NO_FACTS))
    assert {(e["field"], e["type"]) for e in errors} == {
        ("body.sex", "required"),
        ("body.birth_date", "required"),
    }
    assert "learner L-NOFACTS has no sex on record" in errors[0]["message"]
    done = await measure(conn, measurement(NO_FACTS, sex="female", birth_date=date(2014, 2, 1)))
    assert done["outcome"] == "accepted"
    (event,) = await events(conn, "records.health.measured")
    assert (event["sex"], event["birth_date"]) == ("female", "2014-02-01")
    errors = await rejected(conn, measurement(BOY, sex="female"))
    assert [(e["field"], e["type"]) for e in errors] == [("body.sex", "matches_learner_record")]
    assert "differs from the learner's record (male)" in errors[0]["message"]


async def test_a_school_cannot_record_for_another_school(conn):
    with pytest.raises(AuthorisationError, match="outside the scope of school S-B"):
        await measure(conn, measurement(), principal=SCHOOL_B)
    # The commune above the school may.
    assert (await measure(conn, measurement(), principal=COMMUNE_A))["outcome"] == "accepted"
    # A campaign of one school does not cover another.
    await tx(
        conn,
        lambda c: handlers.create_campaign(
            c, SCHOOL_B, campaign_id="S-B-BOI", org_id="S-B", name="Bơi", school_year=YEAR,
            term=1, starts_on=date(2025, 9, 15), ends_on=date(2025, 11, 30),
        ),
    )  # fmt: skip
    errors = await rejected(conn, measurement(campaign_id="S-B-BOI"))
    assert [(e["field"], e["type"]) for e in errors] == [
        ("body.campaign_id", "campaign_covers_school")
    ]
    with pytest.raises(AuthorisationError):
        await tx(
            conn,
            lambda c: handlers.create_campaign(
                c, SCHOOL_B, campaign_id="X", org_id="S-A", name="x", school_year=YEAR,
                term=1, starts_on=date(2025, 9, 15), ends_on=date(2025, 11, 30),
            ),
        )  # fmt: skip


async def test_swim_assessments_replace_and_repeat_like_measurements(conn):
    first = await swim(conn, "cannot_swim")
    again = await swim(conn, "cannot_swim")
    better = await swim(conn, "swims_with_aid")
    assert (first["outcome"], again["outcome"], better["outcome"]) == (
        "accepted",
        "unchanged",
        "accepted",
    )
    assert better["replaces"] == first["record_id"]
    published = await events(conn, "records.swim.assessed")
    assert [
        (e["ability"], e["replaces"], e["class_id"], e["grade"], e["sex"]) for e in published
    ] == [
        ("cannot_swim", None, "7A", 7, "male"),
        ("swims_with_aid", first["record_id"], "7A", 7, "male"),
    ]


async def test_reads_are_scoped_and_audited(conn):
    first = await measure(conn, measurement())
    await measure(conn, measurement(height_cm=152.0))
    await measure(conn, measurement(GIRL, height_cm=148.0, weight_kg=40.0))
    health = await tx(
        conn, lambda c: handlers.learner_health(c, SCHOOL_A, BOY, include_superseded=True)
    )
    assert [m["height_cm"] for m in health["measurements"]] == [152.0, 150.5]
    assert health["measurements"][1]["record_id"] == uuid.UUID(first["record_id"])
    with pytest.raises(Problem) as caught:
        await tx(
            conn, lambda c: handlers.learner_health(c, SCHOOL_B, BOY, include_superseded=False)
        )
    assert caught.value.status == 404
    items, more = await tx(
        conn,
        lambda c: handlers.list_school(
            c, COMMUNE_A, kind="measurements", campaign_id=CAMPAIGN, school_id="S-A",
            class_id=None, after=None, limit=1,
        ),
    )  # fmt: skip
    assert [(i["learner_id"], i["height_cm"]) for i in items] == [(BOY, 152.0)] and more
    items, more = await tx(
        conn,
        lambda c: handlers.list_school(
            c, SCHOOL_A, kind="measurements", campaign_id=CAMPAIGN, school_id="S-A",
            class_id="7B", after=None, limit=50,
        ),
    )  # fmt: skip
    assert [i["learner_id"] for i in items] == [GIRL] and not more
    with pytest.raises(AuthorisationError):
        await tx(
            conn,
            lambda c: handlers.list_school(
                c, SCHOOL_B, kind="measurements", campaign_id=CAMPAIGN, school_id="S-A",
                class_id=None, after=None, limit=50,
            ),
        )  # fmt: skip
    audit = await conn.fetch(
        "SELECT actor, entity_id, detail FROM audit_log WHERE entity_kind = 'learner' ORDER BY id"
    )
    assert [(a["actor"], a["entity_id"]) for a in audit] == [
        ("y-te-a", BOY),
        ("ubnd-a", BOY),
        ("y-te-a", GIRL),
    ]
    assert audit[0]["detail"] == {"health": {"measurements": 2, "swim_assessments": 0}}


async def test_the_history_follows_a_transferred_learner(conn):
    await measure(conn, measurement())
    # The learner moves from S-A to S-B.
    await conn.execute(
        "UPDATE enrolments SET status = 'ended' WHERE learner_id = $1 AND status = 'active'", BOY
    )
    await conn.execute(
        "INSERT INTO enrolments (enrolment_id, learner_id, school_id, school_year, grade, "
        "class_id, enrolled_on) VALUES ($1, $2, 'S-B', $3, 7, '7C', '2025-10-10')",
        uuid.uuid4(),
        BOY,
        YEAR,
    )
    for principal in (SCHOOL_B, SCHOOL_A):  # the new school sees it; the old one, its own

        def read(c: Connection, p: Principal = principal) -> Awaitable[Any]:
            return handlers.learner_health(c, p, BOY, include_superseded=False)

        health = await tx(conn, read)
        assert [m["school_id"] for m in health["measurements"]] == ["S-A"]
    # The old school can no longer record for the learner.
    errors = await rejected(conn, measurement(height_cm=151.0))
    assert [(e["field"], e["type"]) for e in errors] == [("body.learner_id", "enrolled_at_school")]
