"""Published statistics and the non-swimmers report on a real PostgreSQL: counts folded by the
consumers' handlers, suppression that leaves no hidden cell recoverable, a workbook whose cells
equal hand-computed figures, one analytics.report.ready in the outbox, scope checks."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from openpyxl import load_workbook

from services.analytics.consumers import apply_enrolments
from services.analytics.domain.suppression import audit_list, audit_table
from services.analytics.health_consumers import apply_health
from services.analytics.public_api import (
    DEPARTMENT_LINE,
    Line,
    enrolment_list,
    public_enrolment,
    public_swimming,
    render_page,
    swimming_table,
)
from services.analytics.reports import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    HEADERS,
    TITLE_ROW,
    build_non_swimmers_report,
    load_report,
)
from shared.auth import AuthorisationError, Principal
from shared.consumer.runner import ConsumedRecord, IncomingEvent
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.events.contracts.analytics import ReportReady
from shared.events.contracts.records import StudentEnrolled, SwimAssessed
from shared.events.envelope import CloudEvent, EventData
from shared.http.problems import Problem

pytestmark = pytest.mark.integration

YEAR = "2025-2026"
CAMPAIGN = "HP-2025-BOI"
T0 = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)
DEPARTMENT = Principal("so-gddt", "department", "HP")
COMMUNE_A = Principal("ubnd-a", "commune", "C-A")
COMMUNE_B = Principal("ubnd-b", "commune", "C-B")
SCHOOL_A = Principal("bgh-a", "school", "S-A1")

_offsets = count()
_learners = count(1)


ORG_UNITS = [
    ("HP", "province", "Thành phố Hải Phòng", None, None),
    ("C-A", "commune", "Phường Hồng Bàng", "HP", None),
    ("C-B", "commune", "Xã Bạch Long Vĩ", "HP", None),
    ("C-C", "commune", "Xã Cát Hải", "HP", None),
    ("C-D", "commune", "Xã Đông Hải", "HP", None),  # no data at all
    ("S-A1", "school", "Trường Tiểu học Hồng Bàng", "C-A", "primary"),
    ("S-A2", "school", "Trường Tiểu học Quang Trung", "C-A", "primary"),
    ("S-B", "school", "Trường TH&THCS Bạch Long Vĩ", "C-B", "primary"),
    ("S-C", "school", "Trường Tiểu học Cát Hải", "C-C", "primary"),
    ("S-P", "school", "Trường THPT Trần Phú", "HP", "upper_secondary"),  # under the Department
]


async def prepare(connection: Connection) -> None:
    await migrate(connection, "analytics", Path("services/analytics/migrations"))
    await connection.executemany(
        "INSERT INTO org_units (org_id, revision, kind, name, parent_id, school_type, "
        "valid_from) VALUES ($1, 1, $2, $3, $4, $5, '2025-07-01')",
        ORG_UNITS,
    )


@pytest.fixture
async def conn(fresh_db: str) -> AsyncIterator[Connection]:
    pool = await create_pool(fresh_db, min_size=1, max_size=1)
    async with pool.acquire() as connection:
        await prepare(connection)
        yield connection
    await pool.close()


def incoming(data: EventData, source: str = "records") -> IncomingEvent:
    offset = next(_offsets)
    envelope = CloudEvent.wrap(data, source=source, time=T0 + timedelta(seconds=offset))
    record = ConsumedRecord(data.topic(), 0, offset, data.subject().encode(), envelope.to_bytes())
    return IncomingEvent(envelope, data, record)


def enrolled(school: str, n: int, year: str = YEAR) -> list[IncomingEvent]:
    return [
        incoming(
            StudentEnrolled(
                enrolment_id=uuid.uuid4(),
                learner_id=f"L{next(_learners)}",
                school_id=school,
                school_year=year,
                grade=5,
                enrolled_on=date(2025, 9, 5),
                revision=1,
            )
        )
        for _ in range(n)
    ]


def swam(
    school: str, class_id: str, cannot: int, with_aid: int, unaided: int
) -> list[IncomingEvent]:
    abilities = ["cannot_swim"] * cannot + ["swims_with_aid"] * with_aid
    abilities += ["swims_25m_unaided"] * unaided
    return [
        incoming(
            SwimAssessed(
                assessment_id=uuid.uuid4(),
                learner_id=f"L{next(_learners)}",
                school_id=school,
                class_id=class_id,
                campaign_id=CAMPAIGN,
                assessed_on=date(2025, 10, 1),
                ability=ability,  # type: ignore[arg-type]
            )
        )
        for ability in abilities
    ]


async def fill(conn: Connection) -> None:
    """Enrolment: C-A 25, C-B 4, C-C 12, S-P (under the Department) 30; 7 in another year.
    Swimming (not able = cannot + with aid):
      S-A1 5A: 2 + 1 of 12, S-A1 5B: 4 + 0 of 10, S-A2 4A: 3 + 4 of 12  -> C-A 14 of 34
      S-B 1A: 1 + 1 of 5 -> C-B 2 of 5;  S-C 2A: 11 + 0 of 23 -> C-C 11 of 23."""
    async with conn.transaction():
        await apply_enrolments(
            conn,
            enrolled("S-A1", 15)
            + enrolled("S-A2", 10)
            + enrolled("S-B", 4)
            + enrolled("S-C", 12)
            + enrolled("S-P", 30)
            + enrolled("S-B", 7, year="2024-2025"),
        )
    async with conn.transaction():
        await apply_health(
            conn,
            swam("S-A1", "5A", 2, 1, 9)
            + swam("S-A1", "5B", 4, 0, 6)
            + swam("S-A2", "4A", 3, 4, 5)
            + swam("S-B", "1A", 1, 1, 3)
            + swam("S-C", "2A", 11, 0, 12),
        )


# --------------------------------------------------------------------------- published


async def test_public_enrolment_hides_small_communes_and_a_complement(conn: Connection) -> None:
    await fill(conn)
    published = await public_enrolment(conn, school_year=YEAR)
    lines = {line.name: line for line in published.communes}
    assert [line.name for line in published.communes] == [
        "Phường Hồng Bàng",
        "Xã Bạch Long Vĩ",
        "Xã Cát Hải",
        "Xã Đông Hải",
        DEPARTMENT_LINE,
    ]
    assert lines["Phường Hồng Bàng"].enrolled.value == 25
    assert lines["Xã Bạch Long Vĩ"].enrolled.model_dump() == {
        "value": None,
        "suppressed": "primary",
    }
    # The smallest non-zero published count of the line is the complement; zeros stay.
    assert lines["Xã Cát Hải"].enrolled.model_dump() == {"value": None, "suppressed": "secondary"}
    assert lines["Xã Đông Hải"].enrolled.value == 0
    assert lines[DEPARTMENT_LINE].enrolled.value == 30
    assert lines[DEPARTMENT_LINE].org_id is None
    assert published.total.value == 71  # 25 + 4 + 12 + 30; the other year is not counted

    # An intruder with the published figures cannot pin the hidden ones down.
    names = [line.name for line in published.communes]
    hidden = enrolment_list([_line(n) for n in names], [25, 4, 12, 0, 30])  # as the endpoint
    assert hidden.values == (25, None, None, 0, 30)
    report = audit_list(hidden)
    assert report.recoverable() == []
    assert report.intervals is not None
    assert report.intervals[(0, 1)].lower == 0 and report.intervals[(0, 1)].upper == 16


def _line(name: str) -> Line:
    return Line(None, "commune", name)


async def test_public_swimming_suppresses_a_small_commune_with_complements(
    conn: Connection,
) -> None:
    await fill(conn)
    published = await public_swimming(conn, campaign_id=CAMPAIGN)
    lines = {line.name: line for line in published.communes}
    assert set(lines) == {"Phường Hồng Bàng", "Xã Bạch Long Vĩ", "Xã Cát Hải", "Xã Đông Hải"}

    a = lines["Phường Hồng Bàng"]
    assert (a.assessed.value, a.not_able_to_swim_safely.value, a.able_to_swim_safely.value) == (
        34,
        14,
        20,
    )
    assert a.share_not_able == round(14 / 34, 4)
    b = lines["Xã Bạch Long Vĩ"]
    assert [b.assessed.suppressed, b.not_able_to_swim_safely.suppressed] == ["primary"] * 2
    assert b.assessed.value is None and b.not_able_to_swim_safely.value is None
    assert b.share_not_able is None
    # Cát Hải (11 of 23, 12 able) is the cheapest complement in every column.
    c = lines["Xã Cát Hải"]
    assert [c.assessed.suppressed, c.not_able_to_swim_safely.suppressed] == ["secondary"] * 2
    assert c.assessed.value is None and c.not_able_to_swim_safely.value is None
    d = lines["Xã Đông Hải"]
    assert (d.assessed.value, d.not_able_to_swim_safely.value, d.share_not_able) == (0, 0, None)
    total = published.total
    assert (total.assessed.value, total.not_able_to_swim_safely.value) == (62, 27)
    assert total.assessed.suppressed is None

    # Same table, audited exactly (linear programming over the published values).
    order = [line.name for line in published.communes]
    counts = {"Phường Hồng Bàng": [14, 20], "Xã Bạch Long Vĩ": [2, 3], "Xã Cát Hải": [11, 12]}
    table = swimming_table([_line(n) for n in order], [counts.get(n, [0, 0]) for n in order])
    assert {tuple(row) for row in table.grid} >= {(14, 20, 34), (27, 35, 62)}
    report = audit_table(table)
    assert report.isolated == ()
    assert report.recoverable() == []
    row_b = order.index("Xã Bạch Long Vĩ")
    assert report.intervals is not None
    interval = report.intervals[(row_b, 0)]
    assert interval.lower == 0 and interval.upper == 13  # 2 + 11 hidden in the column


async def test_public_page_shows_hidden_cells_and_the_rule(conn: Connection) -> None:
    await fill(conn)
    page = render_page(
        await public_enrolment(conn, school_year=YEAR),
        await public_swimming(conn, campaign_id=CAMPAIGN),
        "Thành phố Hải Phòng",
    )
    assert page.startswith("<!DOCTYPE html>")
    assert "&lt;10" in page and "·" in page
    assert "Ô có số đếm từ 1 đến 9 được ẩn" in page
    assert "<script" not in page and "http" not in page  # no external assets
    assert ">71<" in page and ">62<" in page and ">34<" in page


async def test_public_tables_without_data(conn: Connection) -> None:
    published = await public_swimming(conn, campaign_id="no-such-campaign")
    assert all(line.assessed.value == 0 for line in published.communes)
    assert published.total.assessed.value == 0


# --------------------------------------------------------------------------- report


async def test_non_swimmers_report_workbook_outbox_and_download(conn: Connection) -> None:
    await fill(conn)
    async with conn.transaction():
        ready = await build_non_swimmers_report(
            conn, DEPARTMENT, campaign_id=CAMPAIGN, commune_id="C-A"
        )

    sheet = load_workbook(io.BytesIO(await _content(conn, ready.report_id))).active
    assert sheet is not None
    assert "Phường Hồng Bàng" in str(sheet.cell(TITLE_ROW, 1).value)
    assert CAMPAIGN in str(sheet.cell(TITLE_ROW, 1).value)
    assert tuple(sheet.cell(HEADER_ROW, k).value for k in range(1, 7)) == HEADERS
    rows = [
        tuple(sheet.cell(r, k).value for k in range(1, 7))
        for r in range(FIRST_DATA_ROW, sheet.max_row + 1)
    ]
    a1, a2 = "Trường Tiểu học Hồng Bàng", "Trường Tiểu học Quang Trung"
    expected = [
        (1, a1, "5A", 12, 3, 3 / 12),
        (2, a1, "5B", 10, 4, 4 / 10),
        (None, f"Cộng {a1}", None, 22, 7, 7 / 22),
        (3, a2, "4A", 12, 7, 7 / 12),
        (None, f"Cộng {a2}", None, 12, 7, 7 / 12),
        (None, "Tổng cộng Phường Hồng Bàng", None, 34, 14, 14 / 34),
    ]
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert got[:5] == want[:5]
        assert got[5] == pytest.approx(want[5])
    assert sheet.cell(FIRST_DATA_ROW, 6).number_format == "0.0%"

    events = await conn.fetch("SELECT * FROM outbox WHERE event_type = 'analytics.report.ready'")
    assert len(events) == 1
    assert events[0]["topic"] == "analytics.report.ready"
    assert events[0]["message_key"] == str(ready.report_id)
    envelope = CloudEvent.model_validate(json.loads(events[0]["payload"]))
    data = ReportReady.model_validate(envelope.data)
    assert data == ready
    assert data.kind == "non_swimmers"
    assert data.org_id == "C-A"
    assert data.campaign_id == CAMPAIGN
    assert data.download_path == f"/reports/{ready.report_id}.xlsx"
    assert envelope.source == "analytics"
    assert envelope.subject == str(ready.report_id)

    stored = await conn.fetchrow("SELECT * FROM reports WHERE report_id = $1", ready.report_id)
    assert stored is not None
    assert stored["kind"] == "non_swimmers"
    assert stored["params"] == {"campaign_id": CAMPAIGN, "commune_id": "C-A"}
    assert stored["created_by"] == DEPARTMENT.key

    # The commune downloads it; the download is audited.
    async with conn.transaction():
        found = await load_report(conn, COMMUNE_A, ready.report_id)
    assert found.content == bytes(stored["content"])
    audited = await conn.fetch(
        "SELECT actor, action FROM audit_log WHERE entity_kind = 'report' AND entity_id = $1",
        str(ready.report_id),
    )
    assert [(r["actor"], r["action"]) for r in audited] == [("ubnd-a", "download_report")]


async def _content(conn: Connection, report_id: uuid.UUID) -> bytes:
    return bytes(await conn.fetchval("SELECT content FROM reports WHERE report_id = $1", report_id))


async def test_a_commune_builds_its_own_report_but_not_another_communes(conn: Connection) -> None:
    await fill(conn)
    async with conn.transaction():
        own = await build_non_swimmers_report(
            conn, COMMUNE_B, campaign_id=CAMPAIGN, commune_id="C-B"
        )
    with pytest.raises(AuthorisationError):
        async with conn.transaction():
            await build_non_swimmers_report(conn, COMMUNE_B, campaign_id=CAMPAIGN, commune_id="C-A")
    with pytest.raises(AuthorisationError):  # schools receive nothing from this endpoint
        async with conn.transaction():
            await build_non_swimmers_report(conn, SCHOOL_A, campaign_id=CAMPAIGN, commune_id="C-A")
    with pytest.raises(AuthorisationError):  # nor download another commune's report
        async with conn.transaction():
            await load_report(conn, COMMUNE_A, own.report_id)
    with pytest.raises(Problem) as not_commune:
        async with conn.transaction():
            await build_non_swimmers_report(
                conn, DEPARTMENT, campaign_id=CAMPAIGN, commune_id="S-A1"
            )
    assert not_commune.value.status == 422
    assert await conn.fetchval("SELECT count(*) FROM reports") == 1
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 1


# --------------------------------------------------------------------------- HTTP


class _TokenIsPrincipal:
    """Stands in for the JWT verifier: the bearer token is "role:org:subject"."""

    def verify(self, token: str) -> Principal:
        role, org, subject = token.split(":")
        return Principal(subject, role, org)


async def test_http_routes(fresh_db: str) -> None:
    import httpx
    from fastapi import FastAPI

    from services.analytics.public_api import router as public_router
    from services.analytics.reports_api import router as reports_router
    from shared.http.problems import install_problem_handlers

    pool = await create_pool(fresh_db, min_size=1, max_size=2)
    async with pool.acquire() as connection:
        await prepare(connection)
        await fill(connection)
    app = FastAPI()
    app.include_router(public_router)
    app.include_router(reports_router)
    install_problem_handlers(app)
    app.state.context = type("Context", (), {"pool": pool, "verifier": _TokenIsPrincipal()})()
    transport = httpx.ASGITransport(app=app)

    def client(token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(transport=transport, base_url="http://analytics", headers=headers)

    body = {"campaign_id": CAMPAIGN, "commune_id": "C-A"}
    try:
        async with (
            client() as anonymous,
            client("department:HP:so") as department,
            client("commune:C-A:ubnd-a") as commune_a,
            client("commune:C-B:ubnd-b") as commune_b,
        ):
            enrolment = await anonymous.get("/public/enrolment", params={"school_year": YEAR})
            assert enrolment.status_code == 200, enrolment.text
            assert enrolment.json()["total"] == {"value": 71, "suppressed": None}
            swimming = await anonymous.get("/public/swimming", params={"campaign_id": CAMPAIGN})
            assert swimming.status_code == 200, swimming.text
            page = await anonymous.get("/public")
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            assert "&lt;10" in page.text and CAMPAIGN in page.text and YEAR in page.text

            assert (await anonymous.post("/reports/non-swimmers", json=body)).status_code == 401
            missing_key = await department.post("/reports/non-swimmers", json=body)
            assert missing_key.status_code == 400
            key = {"Idempotency-Key": "r-1"}
            first = await department.post("/reports/non-swimmers", json=body, headers=key)
            assert first.status_code == 201, first.text
            again = await department.post("/reports/non-swimmers", json=body, headers=key)
            assert again.headers["Idempotency-Replayed"] == "true"
            assert again.json() == first.json()
            path = first.json()["download_path"]
            download = await commune_a.get(path)
            assert download.status_code == 200, download.text
            assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
            assert load_workbook(io.BytesIO(download.content)).active is not None
            assert (await commune_b.get(path)).status_code == 403
            other = await commune_b.post(
                "/reports/non-swimmers", json=body, headers={"Idempotency-Key": "r-2"}
            )
            assert other.status_code == 403
            assert (await commune_a.get(f"/reports/{uuid.uuid4()}.xlsx")).status_code == 404
        async with pool.acquire() as connection:
            assert await connection.fetchval("SELECT count(*) FROM outbox") == 1
    finally:
        await pool.close()
