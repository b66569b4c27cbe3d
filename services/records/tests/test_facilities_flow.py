"""School facilities end to end inside records on a real PostgreSQL: revisions and history,
the events in the outbox, unchanged figures publishing nothing, stale and inconsistent reports
named, and scope."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest

from services.records.facilities import handlers
from services.records.facilities.handlers import FacilitiesReport
from shared.auth import AuthorisationError, Principal
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.http.problems import Problem

pytestmark = pytest.mark.integration

TODAY = date(2026, 3, 2)
DEPARTMENT = Principal("so-gddt", "department", "HP")
COMMUNE_1 = Principal("ubnd-c1", "commune", "C-1")
COMMUNE_2 = Principal("ubnd-c2", "commune", "C-2")
SCHOOL_A1 = Principal("hieu-truong-a1", "school", "S-A1")
SCHOOL_A2 = Principal("hieu-truong-a2", "school", "S-A2")
TEACHER_A1 = Principal("gv-a1", "teacher", "S-A1")
T = TypeVar("T")


@pytest.fixture
async def conn(fresh_db: str) -> AsyncIterator[Connection]:
    pool = await create_pool(fresh_db, min_size=1, max_size=1)
    async with pool.acquire() as connection:
        await migrate(connection, "records", Path("services/records/migrations"))
        for org_id, kind, parent, valid_to in (
            ("HP", "province", None, None),
            ("C-1", "commune", "HP", None),
            ("C-2", "commune", "HP", None),
            ("S-A1", "school", "C-1", None),
            ("S-A2", "school", "C-1", None),
            ("S-OLD", "school", "C-1", date(2025, 6, 30)),
        ):
            await connection.execute(
                "INSERT INTO org_units (org_id, revision, kind, name, parent_id, school_type, "
                "valid_from, valid_to) VALUES ($1, 1, $2, $3, $4, $5, '2025-07-01', $6)",
                org_id,
                kind,
                f"Đơn vị {org_id}",
                parent,
                "primary" if kind == "school" else None,
                valid_to,
            )
        yield connection
    await pool.close()


async def tx(conn: Connection, work: Callable[[Connection], Awaitable[T]]) -> T:
    async with conn.transaction():
        return await work(conn)


def report(**overrides: Any) -> FacilitiesReport:
    body: dict[str, Any] = {
        "classrooms": 24,
        "labs": 3,
        "libraries": 1,
        "computers_for_learning": 40,
        "internet_bandwidth_mbps": 150.0,
        "connected": True,
        "updated_on": "2025-09-05",
    }
    body.update(overrides)
    return FacilitiesReport.model_validate(body)


async def put(
    conn: Connection, body: FacilitiesReport, principal: Principal = SCHOOL_A1, school: str = "S-A1"
) -> tuple[int, dict[str, Any]]:
    return await tx(
        conn, lambda c: handlers.report_facilities(c, principal, school, body, today=TODAY)
    )


async def events(conn: Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT message_key, payload FROM outbox WHERE event_type = 'records.facility.updated' "
        "ORDER BY position"
    )
    out = []
    for row in rows:
        envelope = json.loads(bytes(row["payload"]))
        assert envelope["subject"] == row["message_key"]
        out.append(envelope["data"])
    return out


async def refused(
    conn: Connection,
    body: FacilitiesReport,
    status: int,
    principal: Principal = SCHOOL_A1,
    school: str = "S-A1",
) -> Problem:
    with pytest.raises(Problem) as caught:
        await put(conn, body, principal, school)
    assert caught.value.status == status, caught.value.detail
    return caught.value


async def test_revisions_events_and_history(conn: Connection) -> None:
    status, first = await put(conn, report())
    assert (status, first["revision"], first["changed"]) == (201, 1, True)
    assert first["recorded_by"] == "school:S-A1:hieu-truong-a1"
    assert await events(conn) == [
        {
            "school_id": "S-A1",
            "revision": 1,
            "classrooms": 24,
            "labs": 3,
            "libraries": 1,
            "computers_for_learning": 40,
            "internet_bandwidth_mbps": 150.0,
            "connected": True,
            "updated_on": "2025-09-05",
        }
    ]

    # The same figures on a later day: nothing changes, nothing is published.
    status, same = await put(conn, report(updated_on="2026-01-10"))
    assert (status, same["revision"], same["changed"], same["updated_on"]) == (
        200,
        1,
        False,
        "2025-09-05",
    )
    assert len(await events(conn)) == 1

    status, second = await put(
        conn, report(computers_for_learning=65, updated_on="2026-01-10"), principal=COMMUNE_1
    )
    assert (status, second["revision"], second["changed"]) == (200, 2, True)
    status, third = await put(
        conn, report(computers_for_learning=65, internet_bandwidth_mbps=None, updated_on=None)
    )
    assert (third["revision"], third["updated_on"], third["internet_bandwidth_mbps"]) == (
        3,
        "2026-03-02",
        None,
    )
    assert [
        (e["revision"], e["computers_for_learning"], e["internet_bandwidth_mbps"], e["updated_on"])
        for e in await events(conn)
    ] == [
        (1, 40, 150.0, "2025-09-05"),
        (2, 65, 150.0, "2026-01-10"),
        (3, 65, None, "2026-03-02"),
    ]

    current = await tx(conn, lambda c: handlers.current_facilities(c, TEACHER_A1, "S-A1"))
    assert (current.revision, current.computers_for_learning) == (3, 65)
    page = await tx(
        conn, lambda c: handlers.facilities_history(c, COMMUNE_1, "S-A1", before=None, limit=2)
    )
    assert [r.revision for r in page.items] == [3, 2]
    assert page.next_before == 2
    rest = await tx(
        conn, lambda c: handlers.facilities_history(c, COMMUNE_1, "S-A1", before=2, limit=2)
    )
    assert [(r.revision, r.computers_for_learning) for r in rest.items] == [(1, 40)]
    assert rest.next_before is None


async def test_bad_and_stale_reports_are_named(conn: Connection) -> None:
    problem = await refused(
        conn,
        report(connected=False, internet_bandwidth_mbps=20, updated_on="2026-04-01"),
        422,
    )
    assert [e["field"] for e in problem.errors or []] == [
        "body.internet_bandwidth_mbps",
        "body.updated_on",
    ]
    assert "S-A1: 20.0 Mbps of bandwidth but not connected" in (problem.detail or "")
    # Not connected with no (or zero) bandwidth is consistent.
    await put(conn, report(connected=False, internet_bandwidth_mbps=0, updated_on="2026-01-10"))

    problem = await refused(conn, report(updated_on="2025-12-31"), 409)
    assert problem.detail == (
        "school S-A1: the report of 2025-12-31 is older than revision 1 of 2026-01-10 already "
        "recorded"
    )
    assert [e["field"] for e in problem.errors or []] == ["body.updated_on"]

    for school, message in (
        ("S-NOWHERE", "unknown school S-NOWHERE"),
        ("C-1", "unknown school C-1"),
        ("S-OLD", "school S-OLD is closed or merged"),
    ):
        problem = await refused(conn, report(), 422, DEPARTMENT, school)
        assert [e["field"] for e in problem.errors or []] == ["path.school_id"]
        assert message in (problem.detail or "")
    assert len(await events(conn)) == 1


async def test_scope(conn: Connection) -> None:
    await put(conn, report())
    with pytest.raises(AuthorisationError, match="S-A1 is outside the scope of school S-A2"):
        await put(conn, report(classrooms=1), SCHOOL_A2)
    with pytest.raises(AuthorisationError, match="S-A1 is outside the scope of commune C-2"):
        await put(conn, report(classrooms=1), COMMUNE_2)
    with pytest.raises(AuthorisationError):  # teachers read facilities, do not report them
        await put(conn, report(classrooms=1), TEACHER_A1)
    with pytest.raises(AuthorisationError):
        await tx(conn, lambda c: handlers.current_facilities(c, SCHOOL_A2, "S-A1"))
    with pytest.raises(AuthorisationError):
        await tx(
            conn, lambda c: handlers.facilities_history(c, COMMUNE_2, "S-A1", before=None, limit=5)
        )
    assert (await tx(conn, lambda c: handlers.current_facilities(c, COMMUNE_1, "S-A1"))).revision
    with pytest.raises(Problem) as caught:
        await tx(conn, lambda c: handlers.current_facilities(c, SCHOOL_A2, "S-A2"))
    assert (caught.value.status, caught.value.detail) == (
        404,
        "no facilities recorded for school S-A2",
    )
    assert [e["classrooms"] for e in await events(conn)] == [24]
