"""Bulk imports of health checks on a real PostgreSQL: per-row outcomes of a mixed CSV and an
.xlsx, acknowledgement events, the result file, re-runs that change nothing, the bulk path
giving exactly what the savepoint path gives, the fallback of a refused chunk, and scope."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from services.records.health import handlers
from services.records.health.handlers import MeasurementInput
from services.records.imports import cli, framework
from services.records.imports.framework import (
    ImportRow,
    ImportSummary,
    Outcome,
    RowKind,
    RowOutcome,
)
from shared.auth import Principal
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.events.contracts.records import HealthMeasured, RecordAcknowledged, SwimAssessed
from shared.events.envelope import CloudEvent
from shared.http.problems import Problem

pytestmark = pytest.mark.integration

TODAY = date(2025, 10, 20)
YEAR = "2025-2026"
CAMPAIGN = "HP-2025-HK1"
SCHOOL_A = Principal("phan-mem-y-te", "school", "S-A")
SCHOOL_B = Principal("y-te-b", "school", "S-B")
DEPARTMENT = Principal("so-gddt", "department", "HP")

HEADER = (
    "learner_id;school_id;campaign_id;measured_on;height_cm;weight_kg;eyesight_left;"
    "eyesight_right;eye_conditions;sex;birth_date;class_id"
)
# Semicolons and decimal commas, as Vietnamese Excel saves CSV; a BOM in front.
MIXED = [
    "L-BOY;S-A;HP-2025-HK1;01/10/2025;150,5;41,2;10/10;8/10;cận thị;;;",  # 2 repeated by 11
    "L-GIRL;S-A;HP-2025-HK1;2025-10-01;148;40;0.9;0,9;;;;",  # 3 as stored: unchanged
    "L-TALL;S-A;HP-2025-HK1;2025-10-01;350;41,2;10/10;8/10;;;;",  # 4 implausible height
    "L-NOFACTS;S-A;HP-2025-HK1;2025-10-02;140;35;10/10;10/10;;;;",  # 5 no sex or birth date
    "L-MOVER;S-B;HP-2025-HK1;2025-10-02;149;39;10/10;10/10;;;;",  # 6 another school's learner
    "L-NEW;S-A;HP-2025-HK1;2025-10-03;152;45;20/40;10/10;myopia;nữ;01/02/2013;7C",  # 7 accepted
    "L-X;S-A;HP-2025-HK1;hôm qua;150;40;10/10;10/10;cataract;;;",  # 8 unreadable date, condition
    "L-CORR;S-A;HP-2025-HK1;2025-10-01;139,5;33;10/10;10/10;;;;",  # 9 corrects the stored value
    "L-NOFACTS;S-A;HP-2025-HK1;2025-10-02;140;35;10/10;10/10;;female;2014-02-01;",  # 10
    "L-BOY;S-A;HP-2025-HK1;2025-10-01;150,5;41,2;10/10;8/10;cận thị, loạn thị;;;",  # 11
]
EXPECTED = {
    2: ("rejected", ["learner_id [repeated_in_file]"]),
    3: ("unchanged", []),
    4: ("rejected", ["height_cm [plausible_range]"]),
    5: ("rejected", ["learner_id [repeated_in_file]"]),
    6: ("rejected", ["school_id [scope]"]),
    7: ("accepted", []),
    8: ("rejected", ["measured_on [date]", "eye_conditions [allowed_values]"]),
    9: ("accepted", []),
    10: ("accepted", []),
    11: ("accepted", []),
}


def mixed_csv(lines: Sequence[str] = MIXED) -> bytes:
    return ("\ufeff" + "\n".join([HEADER, *lines]) + "\n").encode()


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


LEARNERS = [
    ("L-BOY", "S-A", "7A", "male", date(2013, 4, 2)),
    ("L-GIRL", "S-A", "7B", "female", date(2013, 8, 30)),
    ("L-TALL", "S-A", "7A", "male", date(2013, 6, 1)),
    ("L-NOFACTS", "S-A", "7A", None, None),
    ("L-MOVER", "S-B", "7C", "female", date(2013, 1, 9)),
    ("L-NEW", "S-A", None, None, None),
    ("L-CORR", "S-A", "7B", "female", date(2013, 11, 11)),
]


@pytest.fixture
async def conn(fresh_db: str) -> AsyncIterator[Connection]:
    pool = await create_pool(fresh_db, min_size=1, max_size=1)
    async with pool.acquire() as connection:
        await migrate(connection, "records", Path("services/records/migrations"))
        await add_orgs(connection)
        await connection.executemany(
            "INSERT INTO learners (learner_id, revision, sex, birth_date) VALUES ($1, 1, $2, $3)",
            [(l_id, sex, born) for l_id, _, _, sex, born in LEARNERS],
        )
        await connection.executemany(
            "INSERT INTO enrolments (enrolment_id, learner_id, school_id, school_year, grade, "
            "class_id, enrolled_on) VALUES ($1, $2, $3, $4, 7, $5, '2025-09-05')",
            [(uuid.uuid4(), l_id, school, YEAR, cls) for l_id, school, cls, _, _ in LEARNERS],
        )
        async with connection.transaction():
            await handlers.create_campaign(
                connection,
                DEPARTMENT,
                campaign_id=CAMPAIGN,
                org_id="HP",
                name="Khám sức khỏe đầu năm học",
                school_year=YEAR,
                term=1,
                starts_on=date(2025, 9, 15),
                ends_on=date(2025, 11, 30),
            )
            # Stored before the file arrives: one the file repeats, one it corrects.
            for learner, height, weight in (("L-GIRL", 148.0, 40.0), ("L-CORR", 139.0, 33.0)):
                await handlers.record_measurement(
                    connection,
                    SCHOOL_A,
                    MeasurementInput(
                        learner_id=learner,
                        school_id="S-A",
                        campaign_id=CAMPAIGN,
                        measured_on=date(2025, 10, 1),
                        height_cm=height,
                        weight_kg=weight,
                        eyesight_left=0.9 if learner == "L-GIRL" else 1.0,
                        eyesight_right=0.9 if learner == "L-GIRL" else 1.0,
                    ),
                    today=TODAY,
                )
        yield connection
    await pool.close()


async def run(
    conn: Connection,
    content: bytes,
    *,
    kind: str = "health",
    name: str = "suc-khoe.csv",
    principal: Principal = SCHOOL_A,
    **options: Any,
) -> ImportSummary:
    header, rows = framework.parse_file(content, name)
    async with conn.transaction():
        return await framework.run_import(
            conn,
            principal,
            kind,
            header=header,
            rows=rows,
            file_name=name,
            sha256=hashlib.sha256(content).hexdigest(),
            today=TODAY,
            **options,
        )


async def result_rows(conn: Connection, import_id: uuid.UUID) -> list[dict[str, str]]:
    async with conn.transaction():
        text = "".join([piece async for piece in framework.result_csv(conn, import_id)])
    return list(csv.DictReader(io.StringIO(text)))


async def outbox(conn: Connection, after: int = 0) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT position, message_key, event_type, payload FROM outbox WHERE position > $1 "
        "ORDER BY position",
        after,
    )
    return [
        {"key": r["message_key"], "type": r["event_type"], **json.loads(r["payload"])["data"]}
        for r in rows
    ]


async def last_position(conn: Connection) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM outbox"))


def outcomes(rows: list[dict[str, str]]) -> dict[int, tuple[str, list[str]]]:
    """row -> (outcome, ["field [rule]", ...])"""
    return {
        int(r["row"]): (
            r["outcome"],
            [e.split(":")[0] for e in r["errors"].split(" | ")] if r["errors"] else [],
        )
        for r in rows
    }


@pytest.mark.parametrize("path", ["savepoint", "bulk"])
async def test_a_mixed_csv_gets_an_outcome_and_an_acknowledgement_per_row(conn, path):
    before = await last_position(conn)
    summary = await run(conn, mixed_csv(), path=path)
    assert (summary.path, summary.rows, summary.accepted, summary.unchanged, summary.rejected) == (
        path,
        10,
        4,
        1,
        5,
    )
    results = await result_rows(conn, summary.import_id)
    assert outcomes(results) == EXPECTED
    by_row = {int(r["row"]): r for r in results}
    assert (
        "height_cm 350 cm is outside the plausible range 106–201 cm for boys aged 12"
        in (by_row[4]["errors"])
    )
    assert by_row[6]["errors"] == (
        "school_id [scope]: organisation S-B is outside the scope of school S-A"
    )
    assert (
        "row 11 gives the same record (learner_id L-BOY, campaign_id HP-2025-HK1)"
        in (by_row[2]["errors"])
    )
    assert "row 10 gives the same record" in by_row[5]["errors"]
    stored = {
        r["learner_id"]: r
        for r in await conn.fetch(
            "SELECT learner_id, measurement_id::text AS id, class_id, eye_conditions, sex, "
            "birth_date, eyesight_left FROM health_measurements WHERE replaced_by IS NULL"
        )
    }
    assert by_row[3]["record_id"] == stored["L-GIRL"]["id"]  # unchanged names the stored one
    assert by_row[11]["record_id"] == stored["L-BOY"]["id"]
    assert stored["L-BOY"]["eye_conditions"] == ["astigmatism", "myopia"]
    assert (stored["L-NEW"]["sex"], stored["L-NEW"]["class_id"]) == ("female", "7C")
    assert stored["L-NEW"]["eyesight_left"] == 0.5  # 20/40
    assert stored["L-NOFACTS"]["birth_date"] == date(2014, 2, 1)

    events = await outbox(conn, before)
    acks = [e for e in events if e["type"] == "records.record.acknowledged"]
    assert [(a["row_number"], a["outcome"]) for a in acks] == [
        (n, outcome) for n, (outcome, _) in EXPECTED.items()
    ]
    assert {a["key"] for a in acks} == {str(summary.import_id)}
    assert acks[0]["submitted_by"] == "phan-mem-y-te" and acks[0]["record_kind"] == "health"
    assert acks[2]["errors"][0].startswith("height_cm [plausible_range]: height_cm 350 cm")
    measured = [e for e in events if e["type"] == "records.health.measured"]
    assert [e["learner_id"] for e in measured] == ["L-NEW", "L-CORR", "L-NOFACTS", "L-BOY"]
    corrected = measured[1]
    old = await conn.fetchval(
        "SELECT measurement_id::text FROM health_measurements WHERE learner_id = 'L-CORR' "
        "AND replaced_by IS NOT NULL"
    )
    assert corrected["replaces"] == old and corrected["height_cm"] == 139.5
    # Each row's events come before its acknowledgement.
    kinds = [(e["type"].split(".")[1], e.get("row_number") or e["learner_id"]) for e in events]
    assert kinds[kinds.index(("health", "L-NEW")) + 1] == ("record", 7)


async def test_running_the_same_file_again_changes_nothing(conn):
    first = await run(conn, mixed_csv())
    stored = await conn.fetch("SELECT * FROM health_measurements ORDER BY measurement_id")
    before = await last_position(conn)
    for path in ("savepoint", "bulk"):
        again = await run(conn, mixed_csv(), path=path)
        assert again.import_id != first.import_id
        assert (again.accepted, again.unchanged, again.rejected) == (0, 5, 5)
        results = outcomes(await result_rows(conn, again.import_id))
        assert results == {
            n: ("unchanged", []) if outcome == "accepted" else (outcome, errors)
            for n, (outcome, errors) in EXPECTED.items()
        }
    assert await conn.fetch("SELECT * FROM health_measurements ORDER BY measurement_id") == stored
    events = await outbox(conn, before)
    assert {e["type"] for e in events} == {"records.record.acknowledged"}
    assert len(events) == 20


async def test_an_xlsx_file_is_read_like_a_csv(conn):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Learner_ID", "School_ID", "Campaign_ID", "Measured_On", "Height_cm",
                  "Weight_kg", "Eyesight_Left", "Eyesight_Right", "Eye_Conditions"])  # fmt: skip
    sheet.append(["L-CORR", "S-A", CAMPAIGN, datetime(2025, 10, 1), 139.5, 33, "10/10", 1, ""])
    sheet.append(["L-TALL", "S-A", CAMPAIGN, datetime(2025, 10, 1), 150, 4, "10/10", 1, ""])
    sheet.append([])  # blank lines are skipped, numbering keeps the sheet's line numbers
    sheet.append(["L-GIRL", "S-A", CAMPAIGN, datetime(2025, 10, 1), 148, 40, 0.9, "9/10", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    before = await last_position(conn)
    summary = await run(conn, buffer.getvalue(), name="kham-suc-khoe.xlsx")
    results = await result_rows(conn, summary.import_id)
    assert outcomes(results) == {
        2: ("accepted", []),
        3: ("rejected", ["weight_kg [plausible_range]"]),
        5: ("unchanged", []),
    }
    assert "weight_kg 4 kg is outside the plausible range" in results[1]["errors"]
    events = await outbox(conn, before)
    assert [(e["type"], e.get("row_number")) for e in events] == [
        ("records.health.measured", None),
        ("records.record.acknowledged", 2),
        ("records.record.acknowledged", 3),
        ("records.record.acknowledged", 5),
    ]
    assert events[0]["replaces"] is not None


async def snapshot(conn: Connection, summary: ImportSummary) -> dict[str, Any]:
    """Stored state and events of an import, with the ids it created named by their row."""
    names = {
        r["record_id"]: f"row {r['row_number']}"
        for r in await conn.fetch(
            "SELECT row_number, record_id FROM import_rows WHERE import_id = $1 "
            "AND outcome = 'accepted'",
            summary.import_id,
        )
    }

    def name(value: Any) -> Any:
        return names.get(str(value), str(value)) if value is not None else None

    measurements = sorted(
        (
            name(r["measurement_id"]),
            r["learner_id"],
            r["school_id"],
            r["class_id"],
            r["measured_on"],
            r["sex"],
            r["birth_date"],
            r["height_cm"],
            r["weight_kg"],
            r["eyesight_left"],
            r["eyesight_right"],
            tuple(r["eye_conditions"]),
            name(r["replaces"]),
            name(r["replaced_by"]),
            r["superseded_at"] is not None,
        )
        for r in await conn.fetch("SELECT * FROM health_measurements")
    )
    events = []
    for r in await conn.fetch(
        "SELECT message_key, event_type, payload FROM outbox ORDER BY position"
    ):
        data = json.loads(r["payload"])["data"]
        if data.get("import_id") == str(summary.import_id):
            data["import_id"] = "this import"
            data["record_id"] = name(data["record_id"])
        for field in ("measurement_id", "replaces"):
            if field in data:
                data[field] = name(data[field])
        key = "this import" if r["message_key"] == str(summary.import_id) else r["message_key"]
        events.append((key, r["event_type"], data))
    results = [
        (r["row_number"], r["outcome"], name(r["record_id"]), r["errors"])
        for r in await conn.fetch(
            "SELECT row_number, outcome, record_id, errors::text AS errors FROM import_rows "
            "WHERE import_id = $1 ORDER BY row_number",
            summary.import_id,
        )
    ]
    return {"measurements": measurements, "events": events, "results": results}


async def test_the_bulk_path_gives_what_the_savepoint_path_gives(conn):
    # The mixed file twice over with changed rows in between: repeated records fall in one
    # chunk and across chunks; rows unchanged, corrected, new and rejected in each.
    lines = [*MIXED, *[line.replace("10/10;8/10", "9/10;8/10") for line in MIXED[:4]], *MIXED]
    content = mixed_csv(lines)
    snapshots = {}
    for path, chunk_rows in (("savepoint", 0), ("bulk", 3), ("bulk", 7), ("bulk", 5_000)):
        transaction = conn.transaction()
        await transaction.start()
        try:
            summary = await run(conn, content, path=path, chunk_rows=chunk_rows or 5_000)
            assert summary.path == path
            snapshots[(path, chunk_rows)] = await snapshot(conn, summary)
        finally:
            await transaction.rollback()
    reference = snapshots.pop(("savepoint", 0))
    assert len(reference["events"]) > len(lines)  # acknowledgements and measurements
    for key, other in snapshots.items():
        assert other == reference, key


async def test_a_school_cannot_import_for_another_school(conn):
    lines = [
        "L-BOY;S-A;HP-2025-HK1;2025-10-01;150;41;10/10;10/10;;;;",
        "L-MOVER;S-B;HP-2025-HK1;2025-10-01;149;39;10/10;10/10;;;;",
    ]
    summary = await run(conn, mixed_csv(lines), principal=SCHOOL_B)
    results = await result_rows(conn, summary.import_id)
    assert [(r["outcome"], r["errors"]) for r in results] == [
        ("rejected", "school_id [scope]: organisation S-A is outside the scope of school S-B"),
        ("accepted", ""),
    ]
    assert (
        await conn.fetchval("SELECT count(*) FROM health_measurements WHERE learner_id = 'L-BOY'")
        == 0
    )
    # A teacher may read but not import.
    with pytest.raises(Exception, match="role 'teacher' may not do this"):
        await run(conn, mixed_csv(lines), principal=Principal("gv", "teacher", "S-A"))


async def test_swim_file(conn):
    content = (
        "learner_id,school_id,campaign_id,assessed_on,ability\n"
        "L-BOY,S-A,HP-2025-HK1,2025-10-05,không biết bơi\n"
        "L-GIRL,S-A,HP-2025-HK1,2025-10-05,swims_25m_unaided\n"
        "L-CORR,S-A,HP-2025-HK1,2025-10-05,floats a bit\n"
    ).encode()
    summary = await run(conn, content, kind="swim", name="boi.csv")
    assert outcomes(await result_rows(conn, summary.import_id)) == {
        2: ("accepted", []),
        3: ("accepted", []),
        4: ("rejected", ["ability [allowed_values]"]),
    }
    again = await run(conn, content, kind="swim", name="boi.csv", path="bulk")
    assert (again.accepted, again.unchanged, again.rejected) == (0, 2, 1)
    abilities = await conn.fetch(
        "SELECT learner_id, ability, class_id FROM swim_assessments ORDER BY learner_id"
    )
    assert [tuple(r) for r in abilities] == [
        ("L-BOY", "cannot_swim", "7A"),
        ("L-GIRL", "swims_25m_unaided", "7B"),
    ]


async def test_a_file_without_the_columns_is_refused_whole(conn):
    with pytest.raises(Problem) as caught:
        await run(conn, b"learner_id,height_cm\nL-BOY,150\n")
    assert caught.value.status == 422
    assert {e["field"] for e in caught.value.errors or []} >= {
        "body.school_id",
        "body.campaign_id",
    }
    with pytest.raises(Problem, match="no import kind 'grades'"):
        await run(conn, mixed_csv(), kind="grades")
    assert await conn.fetchval("SELECT count(*) FROM imports") == 0


async def test_a_chunk_the_database_refuses_is_replayed_row_by_row(conn, monkeypatch):
    """A kind plugged in later: its chunk fails in the database, so each row runs alone in a
    savepoint and only the bad row is rejected."""

    class Scores:
        def __init__(self, rows: Sequence[ImportRow]) -> None:
            self.rows = rows

        async def load(self, conn: Connection) -> None:
            pass

        def decide(self) -> list[RowOutcome]:
            return [RowOutcome(Outcome.ACCEPTED, r.values["score"]) for r in self.rows]

        async def write(self, conn: Connection) -> None:
            for row in self.rows:
                await conn.execute(
                    "INSERT INTO audit_log (actor, actor_role, actor_org, action, entity_kind, "
                    "entity_id) VALUES ('t', 't', 't', 'score', 'score', $1)",
                    row.values["score"],
                )
                await conn.execute("SELECT 10 / $1::int", int(row.values["score"]))  # 0 fails

    kind = RowKind("score", ("score",), framework.row_by_row(Scores), bulk=Scores)
    monkeypatch.setitem(framework.ROW_KINDS, "score", kind)
    content = ("score\n" + "\n".join(["7", "8", "0", "9", "6", "5"]) + "\n").encode()
    summary = await run(conn, content, kind="score", name="diem.csv", path="bulk", chunk_rows=4)
    results = await result_rows(conn, summary.import_id)
    assert [(r["row"], r["outcome"]) for r in results] == [
        ("2", "accepted"),
        ("3", "accepted"),
        ("4", "rejected"),
        ("5", "accepted"),
        ("6", "accepted"),
        ("7", "accepted"),
    ]
    assert results[2]["errors"] == "row [database]: division by zero"
    written = await conn.fetch("SELECT entity_id FROM audit_log WHERE action = 'score'")
    assert sorted(r["entity_id"] for r in written) == ["5", "6", "7", "8", "9"]
    acks = [e for e in await outbox(conn) if e["type"] == "records.record.acknowledged"]
    assert [(a["row_number"], a["outcome"], a["record_kind"]) for a in acks][-6:] == [
        (2, "accepted", "score"),
        (3, "accepted", "score"),
        (4, "rejected", "score"),
        (5, "accepted", "score"),
        (6, "accepted", "score"),
        (7, "accepted", "score"),
    ]


def test_event_data_follows_the_contracts_field_order():
    """The bulk path serialises these dicts itself: a field added to a contract must be added
    here too, in its place, or the bytes would differ from what add_events writes."""
    content = (*range(9), ("myopia",), 7)
    candidate = handlers.Candidate("L-1", CAMPAIGN, date(2025, 10, 1), content)
    assert list(handlers.measured_event(candidate, uuid.uuid4(), None)) == list(
        HealthMeasured.model_fields
    )
    candidate = handlers.Candidate("L-1", CAMPAIGN, date(2025, 10, 1), tuple(range(6)))
    assert list(handlers.swim_event(candidate, uuid.uuid4(), None)) == list(
        SwimAssessed.model_fields
    )
    ack = framework.ack_data(
        framework.ImportContext(uuid.uuid4(), "health", SCHOOL_A, TODAY),
        2,
        RowOutcome(Outcome.ACCEPTED, "x"),
    )
    assert list(ack) == list(RecordAcknowledged.model_fields)


def test_the_fast_encoder_writes_what_add_events_writes():
    event_id, at = uuid.uuid4(), datetime(2025, 10, 1, 7, 30, 12, 345678, tzinfo=UTC)
    data = {
        "measurement_id": uuid.uuid4(),
        "learner_id": "L-1",
        "school_id": "S-A",
        "class_id": None,
        "campaign_id": CAMPAIGN,
        "measured_on": date(2025, 10, 1),
        "sex": "female",
        "birth_date": date(2013, 1, 9),
        "height_cm": 148.0,
        "weight_kg": 40.25,
        "eyesight_left": 1.0,
        "eyesight_right": None,
        "eye_conditions": ["myopia", "strabismus"],
        "replaces": uuid.uuid4(),
        "grade": 7,
    }
    fast = framework.encode_event(HealthMeasured, data, subject="L-1", event_id=event_id, time=at)
    envelope = CloudEvent.wrap(
        HealthMeasured.model_validate(data), source="/eduhub/records", event_id=event_id, time=at
    )
    assert fast == (event_id, envelope.topic, "L-1", envelope.type, envelope.to_bytes())
    import_id = uuid.uuid4()
    ack = {
        "import_id": import_id,
        "submitted_by": 'Nguyễn "Văn" A',
        "row_number": 2,
        "record_kind": "health",
        "outcome": "rejected",
        "record_id": None,
        "errors": ["height_cm [plausible_range]: height_cm 350 cm is outside … 106–201 cm"],
    }
    fast = framework.encode_event(
        RecordAcknowledged, ack, subject=f"{import_id}", event_id=event_id, time=at
    )
    envelope = CloudEvent.wrap(
        RecordAcknowledged.model_validate(ack), source="/eduhub/records", event_id=event_id,
        time=at,
    )  # fmt: skip
    assert fast[4] == envelope.to_bytes()


def test_import_file_splits_a_big_file_keeping_line_numbers_and_repeats_together():
    lines = [f"L-{n};S-A;{CAMPAIGN};2025-10-01;150;40;1;1;" for n in range(7)]
    lines.insert(1, "")  # blank lines are skipped; numbering keeps the file's lines
    lines.append(f"L-0;S-A;{CAMPAIGN};2025-10-02;151;40;1;1;")  # repeats line 2, at line 10
    parts = list(cli.split_file(mixed_csv(lines), "f.csv", 3, ["learner_id", "campaign_id"]))
    read = [list(csv.DictReader(io.StringIO(body.decode()))) for body, *_ in parts]
    assert [name for _, name, _, _ in parts] == ["f.csv#1of3", "f.csv#2of3", "f.csv#3of3"]
    assert [[(r["learner_id"], r["source_row"]) for r in part] for part in read] == [
        [("L-1", "4"), ("L-2", "5")],
        [("L-3", "6"), ("L-4", "7"), ("L-5", "8")],
        [("L-0", "2"), ("L-6", "9"), ("L-0", "10")],
    ]
    assert read[0][0]["measured_on"] == "2025-10-01"
    (whole,) = cli.split_file(mixed_csv(lines), "f.csv", 100)
    assert whole[0] == mixed_csv(lines) and whole[2] == "text/csv"
