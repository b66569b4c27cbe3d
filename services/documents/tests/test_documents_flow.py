"""Outgoing and incoming documents on a real PostgreSQL: drafting with recipients of every
kind, issuing (number, notation, routing, one event), the incoming register, assignment,
statuses flowing back, overdue reminders, recall, replacement, registers, and scope."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.documents import incoming, lists, outgoing, register_export, reminders
from services.documents.domain.registers import RegisterKind
from services.documents.domain.status import BusinessType
from services.documents.files import UploadedFile
from shared.auth import AuthorisationError, Principal
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.http.problems import Problem

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DEPARTMENT = Principal("van-thu", "department", "HP")
SCHOOL_1 = Principal("hieu-truong-1", "school", "S-1")
SCHOOL_2 = Principal("hieu-truong-2", "school", "S-2")
SCHOOL_3 = Principal("hieu-truong-3", "school", "S-3")
SCHOOL_4 = Principal("hieu-truong-4", "school", "S-4")
COMMUNE_1 = Principal("ubnd-c1", "commune", "C-1")
TEACHER_1 = Principal("gv-lan", "teacher", "S-1")

TREE = (
    ("HP", "province", None, None, None),
    ("C-1", "commune", "HP", None, None),
    ("C-2", "commune", "HP", None, None),
    ("S-1", "school", "C-1", "lower_secondary", None),
    ("S-2", "school", "C-1", "primary", None),
    ("S-3", "school", "C-1", "lower_secondary", None),
    ("S-4", "school", "C-2", "upper_secondary", None),
    ("S-5", "school", "C-2", "lower_secondary", None),
    ("S-OLD", "school", "C-1", "primary", date(2025, 6, 30)),
)
SCHOOLS = ["S-1", "S-2", "S-3", "S-4", "S-5"]  # S-OLD closed: reached by no selector
C2_SCHOOLS = {"S-4", "S-5"}


async def seed_tree(conn: Connection, tree: Any = TREE) -> None:
    await conn.executemany(
        "INSERT INTO org_units (org_id, revision, kind, name, parent_id, school_type, "
        "valid_from, valid_to) VALUES ($1, 1, $2, $3, $4, $5, '2025-07-01', $6)",
        [(o, k, f"Đơn vị {o}", p, t, v) for o, k, p, t, v in tree],
    )


@pytest.fixture
async def conn(fresh_db: str) -> AsyncIterator[Connection]:
    pool = await create_pool(fresh_db, min_size=1, max_size=1)
    async with pool.acquire() as connection:
        await migrate(connection, "documents", Path("services/documents/migrations"))
        await seed_tree(connection)
        yield connection
    await pool.close()


def draft_input(**overrides: Any) -> outgoing.DraftInput:
    body: dict[str, Any] = {
        "doc_type": "chi_thi",
        "summary": "Về việc tăng cường phòng chống đuối nước cho học sinh",
        "issuer_abbreviation": "SGDĐT",
        "recipients": [{"kind": "schools_of_commune", "commune_id": "C-1"}],
    }
    body.update(overrides)
    return outgoing.draft_from_json(body)


def pdf_file() -> UploadedFile:
    return UploadedFile("pdf", "chi-thi.pdf", "application/pdf", PDF)


async def issued(
    conn: Connection, principal: Principal = DEPARTMENT, today: date | None = None, **fields: Any
) -> Any:
    async with conn.transaction():
        view = await outgoing.create_draft(conn, principal, draft_input(**fields), pdf_file(), [])
        await outgoing.approve(conn, principal, view.id)
        await outgoing.sign(conn, principal, view.id, outgoing.SignerInput(name="Nguyễn Văn A"))
        now = datetime(today.year, today.month, today.day, 9, 0) if today else None
        return await outgoing.issue(conn, principal, view.id, today=today, now=now)


async def events(conn: Connection, event_type: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY position", event_type
    )
    return [json.loads(bytes(r["payload"]))["data"] for r in rows]


async def inbox_ids(conn: Connection, document_id: uuid.UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT recipient_id FROM deliveries WHERE document_id = $1 ORDER BY recipient_id",
        document_id,
    )
    return [r["recipient_id"] for r in rows]


async def test_issue_numbers_routes_and_announces_once(conn: Connection) -> None:
    first = await issued(conn, today=date(2026, 3, 2))
    second = await issued(
        conn, today=date(2026, 3, 3), doc_type="cong_van", drafting_unit="VP", urgency="khan"
    )
    assert (first.number, first.notation) == (1, "01/CT-SGDĐT")
    assert (second.number, second.notation) == (2, "02/SGDĐT-VP")  # công văn: no type
    assert first.state == "issued" and first.signer_name == "Nguyễn Văn A"
    # All active schools of C-1: the closed one and the commune itself are not reached.
    assert await inbox_ids(conn, first.id) == ["S-1", "S-2", "S-3"]
    assert first.recipient_count == 3
    published = await events(conn, "documents.document.issued")
    assert [(e["notation"], e["recipient_count"]) for e in published] == [
        ("01/CT-SGDĐT", 3),
        ("02/SGDĐT-VP", 3),
    ]
    assert "summary" not in published[0] and "signer" not in json.dumps(published[0])
    history = await conn.fetch(
        "SELECT status FROM delivery_history WHERE document_id = $1", first.id
    )
    assert [r["status"] for r in history] == ["01", "01", "01"]


async def test_secret_series_and_year_boundary(conn: Connection) -> None:
    dec = await issued(conn, today=date(2025, 12, 31))
    secret = await issued(conn, today=date(2025, 12, 31), secrecy="mat")
    jan = await issued(conn, today=date(2026, 1, 1))
    jan_secret = await issued(conn, today=date(2026, 1, 1), secrecy="toi_mat")
    assert [d.notation for d in (dec, secret, jan, jan_secret)] == [
        "01/CT-SGDĐT",
        "01/CT-SGDĐT",  # the secret series has its own numbers
        "01/CT-SGDĐT",  # restarts on 1 January
        "01/CT-SGDĐT",
    ]
    again = await issued(conn, today=date(2026, 1, 2))
    assert again.number == 2
    # Back-dating into the closed year is refused and takes no number.
    with pytest.raises(Problem) as caught:
        await issued(conn, today=date(2025, 12, 30))
    assert caught.value.status == 409 and "closed" in (caught.value.detail or "")
    after = await issued(conn, today=date(2026, 1, 3))
    assert after.number == 3
    rows = await register_export.outgoing_rows(conn, "HP", 2026, "ordinary")
    assert [r.notation for r in rows] == ["01/CT-SGDĐT", "02/CT-SGDĐT", "03/CT-SGDĐT"]
    assert [
        r.notation for r in await register_export.outgoing_rows(conn, "HP", 2025, "secret")
    ] == ["01/CT-SGDĐT"]


async def test_every_recipient_kind_and_distribution_lists(conn: Connection) -> None:
    by_type = await issued(
        conn, recipients=[{"kind": "schools_of_type", "school_type": "lower_secondary"}]
    )
    assert await inbox_ids(conn, by_type.id) == ["S-1", "S-3", "S-5"]
    by_type_within = await issued(
        conn,
        recipients=[{"kind": "schools_of_type", "school_type": "lower_secondary", "within": "C-2"}],
    )
    assert await inbox_ids(conn, by_type_within.id) == ["S-5"]
    every_school = await issued(conn, recipients=[{"kind": "all_schools"}])
    assert await inbox_ids(conn, every_school.id) == SCHOOLS
    in_commune_2 = await issued(conn, recipients=[{"kind": "all_schools", "within": "C-2"}])
    assert await inbox_ids(conn, in_commune_2.id) == [s for s in SCHOOLS if s in C2_SCHOOLS]
    assert in_commune_2.recipient_labels[0].startswith("Các cơ sở giáo dục thuộc")
    communes = await issued(conn, recipients=[{"kind": "all_communes"}])
    assert await inbox_ids(conn, communes.id) == ["C-1", "C-2"]
    async with conn.transaction():
        saved = await lists.create(
            conn,
            DEPARTMENT,
            lists.ListInput.model_validate(
                {
                    "name": "THPT và xã C-1",
                    "members": [
                        {"kind": "unit", "org_id": "S-4"},
                        {"kind": "unit", "org_id": "C-1"},
                    ],
                }
            ),
        )
    mixed = await issued(
        conn,
        recipients=[
            {"kind": "list", "list_id": saved["id"]},
            {"kind": "unit", "org_id": "S-2"},
            {"kind": "unit", "org_id": "S-4"},  # twice reached, once delivered
        ],
    )
    assert await inbox_ids(conn, mixed.id) == ["C-1", "S-2", "S-4"]
    assert mixed.recipient_count == 3
    assert mixed.recipient_labels == ("Đơn vị S-4", "Đơn vị C-1", "Đơn vị S-2", "Đơn vị S-4")


async def test_unknown_recipients_are_named_and_nothing_is_created(conn: Connection) -> None:
    with pytest.raises(Problem) as caught:
        await issued(
            conn,
            recipients=[
                {"kind": "unit", "org_id": "S-1"},
                {"kind": "unit", "org_id": "S-NOWHERE"},
                {"kind": "schools_of_commune", "commune_id": "S-2"},
                {"kind": "unit", "org_id": "S-OLD"},
                {"kind": "list", "list_id": str(uuid.uuid4())},
            ],
        )
    assert caught.value.status == 422
    assert [e["field"] for e in caught.value.errors or []] == [
        "recipients[4].list_id",
        "recipients[1].org_id",
        "recipients[2].commune_id",
        "recipients[3].org_id",
    ]
    assert "S-NOWHERE" in (caught.value.detail or "")
    assert await conn.fetchval("SELECT count(*) FROM documents") == 0
    assert await conn.fetchval("SELECT count(*) FROM document_files") == 0


async def test_state_order_and_scope_of_issuing(conn: Connection) -> None:
    async with conn.transaction():
        view = await outgoing.create_draft(conn, DEPARTMENT, draft_input(), pdf_file(), [])
    with pytest.raises(Problem) as caught:
        async with conn.transaction():
            await outgoing.issue(conn, DEPARTMENT, view.id)
    assert caught.value.status == 409 and "signed" in (caught.value.detail or "")
    with pytest.raises(AuthorisationError):
        async with conn.transaction():
            await outgoing.approve(conn, SCHOOL_1, view.id)
    with pytest.raises(Problem) as missing:
        async with conn.transaction():
            await outgoing.create_draft(
                conn, SCHOOL_1, draft_input(issuer_abbreviation=None), pdf_file(), []
            )
    assert missing.value.errors and missing.value.errors[0]["field"] == "issuer_abbreviation"
    with pytest.raises(Problem) as cong_van:
        async with conn.transaction():
            await outgoing.create_draft(
                conn, DEPARTMENT, draft_input(doc_type="cong_van"), pdf_file(), []
            )
    assert cong_van.value.errors and cong_van.value.errors[0]["field"] == "drafting_unit"


async def test_incoming_round_trip_statuses_flow_back(conn: Connection) -> None:
    document = await issued(conn, due_date=date(2026, 3, 20))
    async with conn.transaction():
        first = await incoming.register(
            conn, SCHOOL_1, document.id, incoming.StepInput(), now=datetime(2026, 3, 3, 8)
        )
        other = await incoming.register(
            conn, SCHOOL_2, document.id, incoming.StepInput(), now=datetime(2026, 3, 3, 9)
        )
    assert (first.arrival_number, first.status.value) == (1, "03")
    assert other.arrival_number == 1  # per receiving unit
    another = await issued(conn)
    async with conn.transaction():
        second = await incoming.register(
            conn, SCHOOL_1, another.id, incoming.StepInput(), now=datetime(2026, 3, 4, 8)
        )
    assert second.arrival_number == 2
    received = await events(conn, "documents.document.received")
    assert [(e["recipient_id"], e["arrival_number"]) for e in received] == [
        ("S-1", 1),
        ("S-2", 1),
        ("S-1", 2),
    ]
    async with conn.transaction():
        assigned = await incoming.assign(
            conn,
            SCHOOL_1,
            document.id,
            incoming.AssignInput(
                person="gv-lan", department="Tổ Văn phòng", deadline=date(2026, 3, 10)
            ),
        )
    assert assigned.status.value == "04" and assigned.deadline == date(2026, 3, 10)
    # The teacher it was assigned to works on it; another school's leader may not.
    with pytest.raises(AuthorisationError):
        async with conn.transaction():
            await incoming.progress(
                conn, SCHOOL_2, document.id, incoming.StepInput(org_id="S-1"), done=False
            )
    async with conn.transaction():
        await incoming.progress(conn, TEACHER_1, document.id, incoming.StepInput(), done=False)
        done = await incoming.progress(
            conn, TEACHER_1, document.id, incoming.StepInput(note="Đã triển khai"), done=True
        )
    assert done.status.value == "06" and done.done_at is not None
    with pytest.raises(Problem) as backwards:
        async with conn.transaction():
            await incoming.progress(conn, SCHOOL_1, document.id, incoming.StepInput(), done=False)
    assert backwards.value.status == 409 and "06" in (backwards.value.detail or "")
    status = await incoming.recipients_of(conn, DEPARTMENT, document.id)
    by_org = {r["org_id"]: r for r in status["recipients"]}
    assert (status["total"], status["received"], status["done"]) == (3, 2, 1)
    assert by_org["S-1"]["status"] == "06" and by_org["S-1"]["done"]
    assert by_org["S-2"]["status"] == "03" and by_org["S-2"]["read"]
    assert by_org["S-3"]["status"] == "01" and not by_org["S-3"]["received"]
    changed = await events(conn, "documents.document.status-changed")
    assert [(e["recipient_id"], e["previous_status"], e["status"]) for e in changed] == [
        ("S-1", "03", "04"),
        ("S-1", "04", "05"),
        ("S-1", "05", "06"),
    ]
    rows = await register_export.incoming_rows(conn, "S-1", 2026, "ordinary")
    assert [(r.arrival_number, r.handled_by, r.deadline) for r in rows] == [
        (1, "Tổ Văn phòng / gv-lan", date(2026, 3, 10)),
        (2, "", None),
    ]
    # The per-recipient view is the sender's (and above it): not a recipient's, not a commune's.
    for outsider in (SCHOOL_4, SCHOOL_1, COMMUNE_1):
        with pytest.raises(AuthorisationError):
            await incoming.recipients_of(conn, outsider, document.id)


async def test_overdue_items_and_reminders(conn: Connection) -> None:
    yesterday = date.today() - timedelta(days=2)
    document = await issued(conn, due_date=yesterday)
    async with conn.transaction():
        await incoming.register(conn, SCHOOL_1, document.id, incoming.StepInput())
        await incoming.progress(conn, SCHOOL_1, document.id, incoming.StepInput(), done=True)
    overdue = await incoming.inbox(conn, SCHOOL_2, "S-2", overdue=True)
    assert [i["document_id"] for i in overdue] == [str(document.id)]
    assert overdue[0]["overdue"] is True
    assert await incoming.inbox(conn, SCHOOL_1, "S-1", overdue=True) == []
    async with conn.transaction():
        reminded = await incoming.remind_overdue(conn, DEPARTMENT, document.id)
    assert reminded["reminded"] == ["S-2", "S-3"]
    assert [e["recipient_ids"] for e in await events(conn, "documents.document.reminded")] == [
        ["S-2", "S-3"]
    ]
    item = (await incoming.inbox(conn, SCHOOL_2, "S-2"))[0]
    assert item["reminder_count"] == 1 and item["reminded_at"] is not None

    # The automatic check leaves alone what was reminded within the interval, then reminds
    # again once it has passed; the done school is never reminded.
    every = timedelta(hours=24)
    reminded_at = item["reminded_at"]
    reminded_at = (
        reminded_at if isinstance(reminded_at, datetime) else datetime.fromisoformat(reminded_at)
    )
    async with conn.transaction():
        assert await reminders.remind_all_overdue(conn, now=reminded_at, every=every) == 0
    later = reminded_at + every
    async with conn.transaction():
        assert await reminders.remind_all_overdue(conn, now=later, every=every) == 2
        assert await reminders.remind_all_overdue(conn, now=later, every=every) == 0
    automatic = (await events(conn, "documents.document.reminded"))[-1]
    assert automatic["recipient_ids"] == ["S-2", "S-3"]
    assert automatic["document_id"] == str(document.id)
    item = (await incoming.inbox(conn, SCHOOL_2, "S-2"))[0]
    assert item["reminder_count"] == 2


async def test_recall_agreed_freezes_refused_resumes(conn: Connection) -> None:
    document = await issued(conn)
    async with conn.transaction():
        await incoming.register(conn, SCHOOL_1, document.id, incoming.StepInput())
        await incoming.refuse(
            conn, SCHOOL_3, document.id, incoming.RefuseInput(reason="Không thuộc thẩm quyền")
        )
        recalled = await incoming.request_recall(conn, DEPARTMENT, document.id, "Sai số liệu")
    assert recalled["recall_requested"] == 2  # the refused one is not asked
    async with conn.transaction():
        agreed = await incoming.answer_recall(
            conn, SCHOOL_2, document.id, incoming.RecallAnswerInput(agree=True)
        )
        kept = await incoming.answer_recall(
            conn, SCHOOL_1, document.id, incoming.RecallAnswerInput(agree=False)
        )
    assert (agreed.status.value, kept.status.value) == ("15", "16")
    with pytest.raises(Problem) as frozen:
        async with conn.transaction():
            await incoming.register(conn, SCHOOL_2, document.id, incoming.StepInput())
    assert frozen.value.title == "Document recalled"
    async with conn.transaction():
        resumed = await incoming.assign(
            conn, SCHOOL_1, document.id, incoming.AssignInput(department="Tổ chuyên môn")
        )
    assert resumed.status.value == "04"
    changes = await events(conn, "documents.document.status-changed")
    assert [(e["recipient_id"], e["status"], e["recipient_count"]) for e in changes] == [
        ("S-3", "02", 1),
        (None, "13", 2),
        ("S-2", "15", 1),
        ("S-1", "16", 1),
        ("S-1", "04", 1),
    ]


async def test_replacement_references_the_original_and_reaches_its_recipients(
    conn: Connection,
) -> None:
    original = await issued(conn)
    async with conn.transaction():
        draft = await outgoing.start_successor(
            conn,
            DEPARTMENT,
            original.id,
            {"summary": "Về việc tăng cường phòng chống đuối nước (thay thế)"},
            BusinessType.REPLACEMENT,
            pdf_file(),
            [],
        )
        await outgoing.approve(conn, DEPARTMENT, draft.id)
        await outgoing.sign(conn, DEPARTMENT, draft.id, outgoing.SignerInput(name="Trần B"))
        replacement = await outgoing.issue(conn, DEPARTMENT, draft.id)
    assert replacement.replaces == original.id and replacement.number == 2
    assert await inbox_ids(conn, replacement.id) == await inbox_ids(conn, original.id)
    item = next(
        i
        for i in await incoming.inbox(conn, SCHOOL_1, "S-1")
        if i["document_id"] == str(replacement.id)
    )
    assert item["replaces"] == str(original.id) and item["business_type"] == 3
    old_item = next(
        i
        for i in await incoming.inbox(conn, SCHOOL_1, "S-1")
        if i["document_id"] == str(original.id)
    )
    assert old_item["replaced_by"] == str(replacement.id)
    assert old_item["document_state"] == "replaced"
    assert replacement.issued_on is not None
    rows = await register_export.outgoing_rows(conn, "HP", replacement.issued_on.year, "ordinary")
    assert rows[1].notes == "Thay thế văn bản 01/CT-SGDĐT"
    assert rows[0].notes == "Đã bị thay thế"
    with pytest.raises(Problem) as twice:
        async with conn.transaction():
            await outgoing.start_successor(
                conn, DEPARTMENT, original.id, {}, BusinessType.UPDATE, pdf_file(), []
            )
    assert twice.value.status == 409


async def test_register_exports_are_real_files(conn: Connection) -> None:
    document = await issued(conn, urgency="hoa_toc")
    assert document.issued_on is not None
    rows = await register_export.outgoing_rows(conn, "HP", document.issued_on.year, "ordinary")
    body = register_export.as_json(RegisterKind.OUTGOING, rows)
    assert body["rows"][0]["notation"] == "01/CT-SGDĐT"
    assert body["rows"][0]["urgency"] == "Hỏa tốc"
    assert body["rows"][0]["recipients"] == "Các trường thuộc Đơn vị C-1"
    xlsx = register_export.as_xlsx(RegisterKind.OUTGOING, "Sổ đi", rows)
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None
    assert sheet["A2"].value == "Số, ký hiệu văn bản" and sheet["A3"].value == "01/CT-SGDĐT"
    pdf = register_export.as_pdf(RegisterKind.OUTGOING, "SỔ ĐĂNG KÝ VĂN BẢN ĐI", rows)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1000
