"""Work schedules and meeting invitations on a real PostgreSQL: a schedule drafted, checked,
published to the schools of a commune and read by them; a giấy mời issued, answered by the
invited units (attending with names, or declining with a reason) and listed for the inviter."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.documents import schedules
from services.documents.domain.schedules import ScheduleItem, check_items, ordered, week_start
from services.documents.tests.test_documents_flow import seed_tree
from shared.auth import AuthorisationError, Principal
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.http.problems import Problem
from shared.vietnam_time import VIETNAM_TIME

DEPARTMENT = Principal("van-thu", "department", "HP")
S1, S2, S3, S4 = (Principal(f"ht-{s}", "school", s) for s in ("S-1", "S-2", "S-3", "S-4"))
MONDAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=VIETNAM_TIME)


def item(day: date, hour: int, content: str, **extra: Any) -> dict[str, Any]:
    return {"day": day.isoformat(), "start": f"{hour:02d}:00", "content": content, **extra}


def test_week_rules() -> None:
    assert week_start(date(2026, 3, 8)) == MONDAY  # a Sunday belongs to the week before it
    items = [
        ScheduleItem.model_validate(item(MONDAY + timedelta(days=1), 14, "B")),
        ScheduleItem.model_validate(item(MONDAY, 8, "A")),
        ScheduleItem.model_validate({**item(MONDAY + timedelta(days=7), 8, "C"), "end": "07:00"}),
    ]
    assert [i.content for i in ordered(items)] == ["A", "B", "C"]
    assert check_items(MONDAY, items) == [
        ("items[2].day", "2026-03-09 is outside the week 2026-03-02–2026-03-08"),
        ("items[2].end", "the end is not after the start"),
    ]


@pytest.fixture
async def conn(fresh_db: str) -> AsyncIterator[Connection]:
    pool = await create_pool(fresh_db, min_size=1, max_size=1)
    async with pool.acquire() as connection:
        await migrate(connection, "documents", Path("services/documents/migrations"))
        await seed_tree(connection)
        yield connection
    await pool.close()


integration = pytest.mark.integration


@integration
async def test_schedule_is_drafted_published_and_read_by_its_units(conn: Connection) -> None:
    body = schedules.ScheduleInput.model_validate(
        {
            "week_start": MONDAY.isoformat(),
            "items": [
                item(MONDAY + timedelta(days=2), 14, "Kiểm tra trường THCS", place="S-1"),
                item(MONDAY, 8, "Giao ban", presiding="Giám đốc", participants="Trưởng phòng"),
            ],
            "recipients": [{"kind": "schools_of_commune", "commune_id": "C-1"}],
        }
    )
    async with conn.transaction():
        draft = await schedules.create_schedule(conn, DEPARTMENT, body)
    assert draft["state"] == "draft" and draft["title"] == "Lịch công tác tuần 02/03/2026"
    assert [i["content"] for i in draft["items"]] == ["Giao ban", "Kiểm tra trường THCS"]
    # Not published yet: the schools do not see it.
    assert await schedules.schedules_for(conn, S1, "S-1", MONDAY) == []
    with pytest.raises(Problem) as twice:
        await schedules.create_schedule(conn, DEPARTMENT, body)
    assert twice.value.status == 409

    sid = uuid.UUID(draft["id"])
    async with conn.transaction():
        published = await schedules.publish(conn, DEPARTMENT, sid, now=NOW)
    assert (published["state"], published["audience_count"]) == ("published", 3)
    (seen,) = await schedules.schedules_for(conn, S2, "S-2", MONDAY + timedelta(days=4))
    assert seen["id"] == draft["id"] and seen["items"][0]["presiding"] == "Giám đốc"
    assert await schedules.schedules_for(conn, S4, "S-4", MONDAY) == []  # C-2 not addressed
    with pytest.raises(AuthorisationError):
        await schedules.read_schedule(conn, S4, sid)

    changed = body.model_copy(
        update={"items": [*body.items, ScheduleItem.model_validate(item(MONDAY, 16, "Họp"))]}
    )
    async with conn.transaction():
        edited = await schedules.update_schedule(conn, DEPARTMENT, sid, changed)
    assert (edited["version"], len(edited["items"])) == (2, 3)
    assert len((await schedules.read_schedule(conn, S3, sid))["items"]) == 3

    with pytest.raises(Problem) as tuesday:
        await schedules.create_schedule(
            conn, DEPARTMENT, body.model_copy(update={"week_start": MONDAY + timedelta(days=1)})
        )
    assert (tuesday.value.errors or [])[0]["field"] == "week_start"


@integration
async def test_invitation_is_issued_and_attendance_collected(conn: Connection) -> None:
    body = schedules.InvitationInput.model_validate(
        {
            "summary": "Về việc họp triển khai phòng chống đuối nước",
            "meeting": {
                "starts_at": "2026-03-10T08:00:00+07:00",
                "place": "Hội trường Sở",
                "presiding": "Phó Giám đốc",
            },
            "invitees": "Hiệu trưởng",
            "recipients": [
                {"kind": "unit", "org_id": "S-1"},
                {"kind": "unit", "org_id": "S-2"},
                {"kind": "unit", "org_id": "S-3"},
            ],
            "issuer_abbreviation": "SGDĐT",
            "signer": {"name": "Trần Thị B", "position": "Phó Giám đốc"},
        }
    )
    async with conn.transaction():
        invited = await schedules.invite(conn, DEPARTMENT, body, now=NOW)
    assert invited["notation"] == "01/GM-SGDĐT"
    assert invited["counts"] == {"attending": 0, "declined": 0, "no_answer": 3, "people": 0}
    doc_id = uuid.UUID(invited["document_id"])
    assert await conn.fetchval("SELECT doc_type FROM documents WHERE id = $1", doc_id) == "giay_moi"

    def said(**fields: Any) -> schedules.AttendanceInput:
        return schedules.AttendanceInput.model_validate(fields)

    async with conn.transaction():
        await schedules.answer(conn, S1, doc_id, said(attending=True, attendees=[{"name": "A"}]))
        await schedules.answer(conn, S1, doc_id, said(attending=True, attendees=[
            {"name": "Nguyễn Văn C", "position": "Hiệu trưởng"}, {"name": "Lê D"}]))  # fmt: skip
        await schedules.answer(conn, S2, doc_id, said(attending=False, reason="Trùng lịch thi"))
    with pytest.raises(AuthorisationError):
        await schedules.answer(conn, S4, doc_id, said(attending=True, attendees=[{"name": "X"}]))
    with pytest.raises(ValueError, match="a refusal needs its reason"):
        said(attending=False)

    listed = await schedules.attendance(conn, DEPARTMENT, doc_id)
    assert listed["counts"] == {"attending": 1, "declined": 1, "no_answer": 1, "people": 2}
    assert [(u["org_id"], u["answer"], u["reason"]) for u in listed["units"]] == [
        ("S-1", "attending", None),
        ("S-2", "declined", "Trùng lịch thi"),
        ("S-3", "no_answer", None),
    ]
    assert listed["units"][0]["attendees"][0] == {"name": "Nguyễn Văn C", "position": "Hiệu trưởng"}
    assert listed["meeting"]["place"] == "Hội trường Sở"
    assert datetime.fromisoformat(listed["meeting"]["starts_at"]).astimezone(
        VIETNAM_TIME
    ).time() == time(8)
