"""Teacher-shortage forecast as a service, on a real PostgreSQL: staff events through the
consumer's handler, enrolment from the learner placements, schools from the organisation mirror;
exact figures for a tiny province computed by hand, the workbook and the chart.

The province HP, base school year 2025-2026, two years ahead:
  commune C-A: S-TH-A (primary), S-THCS-A (lower secondary)
  commune C-B: S-THCS-B (lower secondary; no primary school, so no grade-6 intake)
Learners placed in 2025-2026 (plus one who left and one 2024-2025 placement, not counted):
  S-TH-A    g1..g5: 30 30 30 30 50
  S-THCS-A  g6..g9: 46 45 90 40
  S-THCS-B  g6..g9: 40 40 40 40
Lower secondary, progression 1, grade 6 = the commune's grade-5 leavers of the year before:
             S-THCS-A g6..g9      classes (ceil /45)   S-THCS-B g6..g9   classes
  2025       46 45 90 40          2 1 2 1 = 6          40 40 40 40       1 1 1 1 = 4
  2026       50 46 45 90          2 2 1 2 = 7           0 40 40 40       0 1 1 1 = 3
  2027       30 50 46 45          1 2 2 1 = 6           0  0 40 40       0 0 1 1 = 2
Toán: 140 periods a class a year; one full-time teacher 19 x 35 = 665 periods.
  C-A: 840, 980, 840 periods -> 1.26, 1.47, 1.26 teachers
  C-B: 560, 420, 280 periods -> 0.84, 0.63, 0.42 teachers
  HP: 10, 10, 8 classes -> 1400, 1400, 1120 periods -> 2.11, 2.11, 1.68 teachers
Teachers of Toán: T1 (S-THCS-A, woman born March 1970: reaches 57y4m in July 2027, so
retires in school year 2026-2027), T2 (S-THCS-A), T3 (S-THCS-B). Not counted: P1 (a
principal), T4 (left in 2024), T5 (a primary class teacher: van_hoa, whatever her subject).
  Supply C-A 2, 1, 1; C-B 1, 1, 1; HP 3, 2, 2.
  Shortage C-A: 840/665 - 2 = -0.74; 980/665 - 1 = 0.47; 840/665 - 1 = 0.26
           C-B: 560/665 - 1 = -0.16; 420/665 - 1 = -0.37; 280/665 - 1 = -0.58
           HP: 1400/665 - 3 = -0.89; 1400/665 - 2 = 0.11; 1120/665 - 2 = -0.32
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from services.analytics.forecast_api import (
    SUMMARY_SHEET,
    TeacherForecastReport,
    forecast_chart,
    forecast_workbook,
    teacher_forecast,
)
from services.analytics.forecast_consumers import staff_consumer
from shared.auth import AuthorisationError, Principal
from shared.consumer.runner import ConsumedRecord, IncomingEvent
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.events.contracts.records import StaffUpdated
from shared.events.envelope import CloudEvent

pytestmark = pytest.mark.integration

T0 = datetime(2025, 9, 5, 8, 0, tzinfo=UTC)
DEPARTMENT = Principal("so-gddt", "department", "HP")
COMMUNE_A = Principal("ubnd-a", "commune", "C-A")
SCHOOL_A = Principal("thcs-a", "school", "S-THCS-A")

ENROLMENT = {
    "S-TH-A": (1, [30, 30, 30, 30, 50]),
    "S-THCS-A": (6, [46, 45, 90, 40]),
    "S-THCS-B": (6, [40, 40, 40, 40]),
}


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
                ("S-TH-A", "school", "Trường Tiểu học Hồng Bàng", "C-A", "primary"),
                ("S-THCS-A", "school", "Trường THCS Hồng Bàng", "C-A", "lower_secondary"),
                ("S-THCS-B", "school", "Trường THCS An Hưng", "C-B", "lower_secondary"),
            ],
        )
        # Learners placed now: open intervals of the enrolment history.
        for school, (first, counts) in ENROLMENT.items():
            for offset, learners in enumerate(counts):
                await connection.execute(
                    """INSERT INTO enrolment_intervals (learner_id, revision, school_id,
                           school_year, grade, sex, valid_from, valid_to)
                       SELECT $1 || '-' || $2::int || '-' || n, 1, $1, '2025-2026', $2::int,
                              'female', '2025-09-05', NULL
                       FROM generate_series(1, $3) AS n""",
                    school,
                    first + offset,
                    learners,
                )
        await connection.executemany(
            "INSERT INTO enrolment_intervals (learner_id, revision, school_id, school_year, "
            "grade, sex, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, 'male', $6, $7)",
            [
                # moved on (a newer revision placed them elsewhere or they left): not counted
                ("LEFT-1", 2, "S-THCS-A", "2025-2026", 6, date(2025, 9, 5), date(2026, 1, 10)),
                # placed now, but in another school year
                ("OLD-1", 3, "S-THCS-A", "2024-2025", 7, date(2024, 9, 5), None),
            ],
        )
        yield connection
    await pool.close()


def staff(
    staff_id: str,
    school: str,
    subjects: list[str],
    born: date,
    sex: str,
    *,
    revision: int = 1,
    position: str = "teacher",
    until: date | None = None,
) -> StaffUpdated:
    return StaffUpdated(
        staff_id=staff_id,
        school_id=school,
        position=position,  # type: ignore[arg-type]
        subjects=subjects,
        birth_date=born,
        sex=sex,  # type: ignore[arg-type]
        employed_from=date(2010, 9, 1),
        employed_until=until,
        revision=revision,
    )


def incoming(data: StaffUpdated, minute: int) -> IncomingEvent:
    envelope = CloudEvent.wrap(data, source="records", time=T0 + timedelta(minutes=minute))
    record = ConsumedRecord(data.topic(), 0, minute, data.subject().encode(), envelope.to_bytes())
    return IncomingEvent(envelope, data, record)


async def deliver(conn: Connection, events: list[StaffUpdated], start: int = 0) -> None:
    async with conn.transaction():
        await staff_consumer().handler(conn, [incoming(e, start + i) for i, e in enumerate(events)])


T3_NEW = staff("T3", "S-THCS-B", ["toan"], date(1985, 2, 1), "female", revision=2)
STAFF = [
    staff("T1", "S-THCS-A", ["toan", "vat_ly"], date(1970, 3, 15), "female"),
    staff("T2", "S-THCS-A", ["toan"], date(1990, 5, 2), "male"),
    T3_NEW,
    staff("P1", "S-THCS-A", ["toan"], date(1975, 1, 1), "male", position="principal"),
    staff("T4", "S-THCS-B", ["toan"], date(1980, 1, 1), "male", until=date(2024, 6, 30)),
    staff("T5", "S-TH-A", ["toan"], date(1988, 4, 4), "female"),
]


def toan(report: TeacherForecastReport, commune: str | None = None) -> list[tuple[object, ...]]:
    area = (
        report.area if commune is None else next(c for c in report.communes if c.org_id == commune)
    )
    [row] = [s for s in area.subjects if (s.level, s.subject) == ("lower_secondary", "toan")]
    return [(y.year, y.demand, y.supply, y.shortage) for y in row.years]


async def test_province_and_communes_by_hand(conn: Connection) -> None:
    await deliver(conn, STAFF)
    report = await teacher_forecast(conn, DEPARTMENT, org_id="HP", years=2)
    assert (report.base_year, report.years) == (2025, [2025, 2026, 2027])
    assert toan(report) == [(2025, 2.11, 3, -0.89), (2026, 2.11, 2, 0.11), (2027, 1.68, 2, -0.32)]
    assert toan(report, "C-A") == [
        (2025, 1.26, 2, -0.74),
        (2026, 1.47, 1, 0.47),
        (2027, 1.26, 1, 0.26),
    ]
    assert toan(report, "C-B") == [
        (2025, 0.84, 1, -0.16),
        (2026, 0.63, 1, -0.37),
        (2027, 0.42, 1, -0.58),
    ]
    assert [(c.org_id, c.name) for c in report.communes] == [
        ("C-A", "Phường Hồng Bàng"),
        ("C-B", "Xã An Hưng"),
    ]
    # The inputs travel with each figure: classes per grade, periods, norm, retirements.
    [a_toan] = [s for s in report.communes[0].subjects if s.subject == "toan"]
    y2026 = a_toan.years[1]
    assert [(g.grade, g.learners, g.classes, g.periods) for g in y2026.grades] == [
        (6, 50, 2, 280),
        (7, 46, 2, 280),
        (8, 45, 1, 140),
        (9, 90, 2, 280),
    ]
    assert (y2026.periods, y2026.weekly_norm, y2026.weeks) == (980, 19, 35)
    assert (y2026.retirements, y2026.retiring_staff_ids) == (1, ["T1"])
    # T5 teaches primary: she is a class teacher (van_hoa), not a Toán teacher.
    [van_hoa] = [s for s in report.area.subjects if s.subject == "van_hoa"]
    assert van_hoa.years[0].supply == 1
    assert not [s for s in report.area.subjects if (s.level, s.subject) == ("primary", "toan")]


async def test_stale_and_duplicate_staff_events_change_nothing(conn: Connection) -> None:
    await deliver(conn, STAFF)
    before = await conn.fetch("SELECT * FROM forecast_teachers ORDER BY staff_id")
    report = await teacher_forecast(conn, DEPARTMENT, org_id="HP", years=2)
    # An older revision of T3 (at another school, another subject) arrives late; then the
    # newest again (a redelivery under a new event id).
    stale = staff("T3", "S-THCS-A", ["ngu_van"], date(1985, 2, 1), "female", revision=1)
    await deliver(conn, [stale, T3_NEW], start=100)
    assert await conn.fetch("SELECT * FROM forecast_teachers ORDER BY staff_id") == before
    row = await conn.fetchrow("SELECT * FROM forecast_teachers WHERE staff_id = 'T3'")
    assert row is not None
    assert (row["revision"], row["school_id"], row["subjects"]) == (2, "S-THCS-B", ["toan"])
    again = await teacher_forecast(conn, DEPARTMENT, org_id="HP", years=2)
    assert again == report
    # A newer revision does count: T2 moves to C-B.
    await deliver(
        conn, [staff("T2", "S-THCS-B", ["toan"], date(1990, 5, 2), "male", revision=2)], 200
    )
    moved = await teacher_forecast(conn, DEPARTMENT, org_id="HP", years=2)
    assert [y[2] for y in toan(moved, "C-A")] == [1, 0, 0]
    assert [y[2] for y in toan(moved, "C-B")] == [2, 2, 2]


async def test_commune_and_school_in_scope(conn: Connection) -> None:
    await deliver(conn, STAFF)
    commune = await teacher_forecast(conn, COMMUNE_A, org_id="C-A", years=2)
    assert commune.communes == []
    assert toan(commune) == [(2025, 1.26, 2, -0.74), (2026, 1.47, 1, 0.47), (2027, 1.26, 1, 0.26)]
    school = await teacher_forecast(conn, SCHOOL_A, org_id="S-THCS-A", years=2)
    assert toan(school) == toan(commune)  # the only lower secondary school of C-A
    assert {lvl.level for lvl in school.area.levels} == {"lower_secondary"}
    with pytest.raises(AuthorisationError):
        await teacher_forecast(conn, COMMUNE_A, org_id="HP", years=2)
    with pytest.raises(AuthorisationError):
        await teacher_forecast(conn, SCHOOL_A, org_id="S-THCS-B", years=2)


async def test_workbook_and_chart(conn: Connection) -> None:
    await deliver(conn, STAFF)
    report = await teacher_forecast(conn, DEPARTMENT, org_id="HP", years=2)
    workbook = openpyxl.load_workbook(io.BytesIO(forecast_workbook(report)))
    assert workbook.sheetnames == [SUMMARY_SHEET, "Phường Hồng Bàng", "Xã An Hưng"]
    sheet = workbook["Phường Hồng Bàng"]
    assert sheet["A4"].value == "Cấp học"
    rows = {(r[0], r[1], r[2]): r for r in sheet.iter_rows(min_row=5, values_only=True) if r[0]}
    row = rows[("THCS", "toan", "2026-2027")]
    assert row[3] == "lớp 6: 2, lớp 7: 2, lớp 8: 1, lớp 9: 2"
    assert (row[4], row[7], row[8], row[9], row[10]) == (980, 1.47, 1, 1, 0.47)
    cell = next(c for c in sheet["H"] if c.value == 1.47)
    assert cell.number_format == "0.00"
    png = forecast_chart(report, "toan")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
