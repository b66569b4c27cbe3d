"""Report requests on a real PostgreSQL: the request is issued as a công văn to the units,
units submit (a form or a file), a resubmission replaces, a late one is marked late, the
missing ones are reminded, and the zip holds every file and the summary workbook."""

from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from services.documents import report_requests as rr
from services.documents.domain.report_forms import FormField, check_report_file, validate_values
from services.documents.tests.test_documents_flow import seed_tree
from shared.auth import AuthorisationError, Principal
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.http.problems import Problem
from shared.vietnam_time import VIETNAM_TIME

DEPARTMENT = Principal("van-thu", "department", "HP")
SCHOOL = {s: Principal(f"ht-{s}", "school", s) for s in ("S-1", "S-2", "S-3", "S-4")}
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=VIETNAM_TIME)
DEADLINE = datetime(2026, 3, 6, 17, 0, tzinfo=VIETNAM_TIME)
FORM = [
    {"name": "pupils", "label": "Số học sinh", "type": "integer", "min": 0},
    {"name": "swim_share", "label": "Tỷ lệ biết bơi", "type": "number", "required": False},
    {"name": "pool", "label": "Có bể bơi", "type": "boolean"},
]


# --- pure rules -----------------------------------------------------------------------------


def test_form_values_are_normalised_and_every_problem_named() -> None:
    fields = [FormField.model_validate(f) for f in FORM]
    clean, problems = validate_values(fields, {"pupils": "412", "pool": True})
    assert clean == {"pupils": 412, "swim_share": None, "pool": True}
    assert problems == []
    _, problems = validate_values(fields, {"pupils": -1, "pool": "yes", "extra": 1})
    assert problems == [
        ("values.extra", "not a field of this report"),
        ("values.pupils", "Số học sinh: -1 is below the minimum 0"),
        ("values.pool", "Có bể bơi: expected true or false"),
    ]


def test_report_files_are_checked_by_bytes_and_size() -> None:
    assert check_report_file("bc.csv", b"a,b\n", 100).content_type == "text/csv"
    assert check_report_file("BC.XLSX", b"PK\x03\x04rest", 100).extension == "xlsx"
    for name, content, message in (
        ("bc.exe", b"MZ", "only csv, docx, pdf, xlsx files are accepted"),
        ("bc.xlsx", b"not a zip", "is not an Office Open XML file"),
        ("bc.pdf", b"hello", "is not a PDF"),
        ("bc.csv", b"x" * 101, "101 bytes; the limit is 100 bytes"),
    ):
        with pytest.raises(ValueError, match=message):
            check_report_file(name, content, 100)


# --- on PostgreSQL --------------------------------------------------------------------------


@pytest.fixture
async def conn(fresh_db: str) -> AsyncIterator[Connection]:
    pool = await create_pool(fresh_db, min_size=1, max_size=1)
    async with pool.acquire() as connection:
        await migrate(connection, "documents", Path("services/documents/migrations"))
        await seed_tree(connection)
        yield connection
    await pool.close()


def request_input(**overrides: Any) -> rr.ReportRequestInput:
    body: dict[str, Any] = {
        "title": "Báo cáo số học sinh biết bơi",
        "response_kind": "form",
        "form": FORM,
        "deadline": DEADLINE.isoformat(),
        "recipients": [{"kind": "schools_of_commune", "commune_id": "C-1"}],
        "drafting_unit": "GDTrH",
        "issuer_abbreviation": "SGDĐT",
        "signer": {"name": "Nguyễn Văn A", "position": "Phó Giám đốc"},
    }
    body.update(overrides)
    return rr.ReportRequestInput.model_validate(body)


async def open_request(conn: Connection, **overrides: Any) -> dict[str, Any]:
    async with conn.transaction():
        return await rr.create_request(conn, DEPARTMENT, request_input(**overrides), now=NOW)


async def events(conn: Connection, event_type: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY position", event_type
    )
    return [json.loads(bytes(r["payload"]))["data"] for r in rows]


async def submit(conn: Connection, org: str, at: datetime, request_id: str, **body: Any) -> Any:
    async with conn.transaction():
        return await rr.submit(
            conn, SCHOOL[org], uuid.UUID(request_id), rr.SubmissionInput(**body), now=at
        )


pytestmark_integration = pytest.mark.integration


@pytestmark_integration
async def test_request_is_an_issued_letter_in_every_inbox(conn: Connection) -> None:
    opened = await open_request(conn)
    assert opened["notation"] == "01/SGDĐT-GDTrH"
    assert [u["org_id"] for u in opened["units"]] == ["S-1", "S-2", "S-3"]
    assert opened["counts"] == {"submitted": 0, "late": 0, "missing": 3}
    document = await conn.fetchrow(
        "SELECT doc_type, state, due_date, summary FROM documents WHERE id = $1",
        uuid.UUID(opened["document_id"]),
    )
    assert document is not None
    assert (document["doc_type"], document["state"]) == ("cong_van", "issued")
    assert document["due_date"] == DEADLINE.date()
    assert document["summary"] == "V/v báo cáo số học sinh biết bơi"
    inboxes = await conn.fetch(
        "SELECT recipient_id FROM deliveries WHERE document_id = $1 ORDER BY 1",
        uuid.UUID(opened["document_id"]),
    )
    assert [r["recipient_id"] for r in inboxes] == ["S-1", "S-2", "S-3"]
    (requested,) = await events(conn, "documents.report.requested")
    assert (requested["request_id"], requested["target_count"]) == (opened["id"], 3)
    assert requested["response_kind"] == "form" and "title" not in requested


@pytestmark_integration
async def test_submissions_replace_late_ones_are_marked_and_missing_reminded(
    conn: Connection,
) -> None:
    opened = await open_request(conn)
    rid = opened["id"]
    first = await submit(
        conn, "S-1", NOW + timedelta(hours=1), rid, values={"pupils": 400, "pool": False}
    )
    assert (first["state"], first["version"], first["values"]["pupils"]) == ("submitted", 1, 400)
    again = await submit(
        conn, "S-1", NOW + timedelta(days=1), rid, values={"pupils": "412", "pool": True}
    )
    assert (again["state"], again["version"], again["values"]["pupils"]) == ("submitted", 2, 412)
    assert again["first_submitted_at"] == first["submitted_at"]
    late = await submit(
        conn, "S-2", DEADLINE + timedelta(minutes=1), rid, values={"pupils": 90, "pool": True}
    )
    assert (late["state"], late["version"]) == ("late", 1)

    with pytest.raises(Problem) as bad:
        await submit(conn, "S-3", NOW, rid, values={"pupils": "many"})
    assert [e["field"] for e in bad.value.errors or []] == ["values.pupils", "values.pool"]
    with pytest.raises(AuthorisationError):  # S-4 (commune C-2) was not asked
        await submit(conn, "S-4", NOW, rid, values={"pupils": 1, "pool": True})

    async with conn.transaction():
        overview = await rr.status(conn, DEPARTMENT, uuid.UUID(rid))
    assert overview["counts"] == {"submitted": 1, "late": 1, "missing": 1}
    assert {u["org_id"]: u["state"] for u in overview["units"]} == {
        "S-1": "submitted", "S-2": "late", "S-3": "missing",
    }  # fmt: skip
    async with conn.transaction():
        reminded = await rr.remind_missing(conn, DEPARTMENT, uuid.UUID(rid), now=DEADLINE)
    assert reminded["reminded"] == ["S-3"]
    (event,) = await events(conn, "documents.document.reminded")
    assert event["recipient_ids"] == ["S-3"] and event["document_id"] == opened["document_id"]
    submitted = await events(conn, "documents.report.submitted")
    assert [(e["org_id"], e["version"], e["late"]) for e in submitted] == [
        ("S-1", 1, False), ("S-1", 2, False), ("S-2", 1, True),
    ]  # fmt: skip
    with pytest.raises(AuthorisationError):  # a school cannot remind in the Department's name
        await rr.remind_missing(conn, SCHOOL["S-1"], uuid.UUID(rid))

    name, content = await rr.export_zip(conn, DEPARTMENT, uuid.UUID(rid))
    sheet = load_workbook(io.BytesIO(zipfile.ZipFile(io.BytesIO(content)).read("tong-hop.xlsx")))[
        "Tổng hợp"
    ]
    rows = [row for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert [(r[1], r[3], r[5], r[6], r[8], r[10]) for r in rows] == [
        ("S-1", "Đã nộp", 2, 0, 412, True),
        ("S-2", "Nộp muộn", 1, 0, 90, True),
        ("S-3", "Chưa nộp", 0, 1, None, None),
    ]
    assert name == f"bao-cao-{rid}.zip"


@pytestmark_integration
async def test_file_reports_are_zipped_and_bad_files_refused(conn: Connection) -> None:
    opened = await open_request(conn, response_kind="file", form=[])
    rid = opened["id"]
    csv = "đơn vị,số\nS-1,3\n".encode()

    def file(name: str, content: bytes) -> dict[str, str]:
        return {"filename": name, "content_base64": base64.b64encode(content).decode()}

    await submit(conn, "S-1", NOW, rid, file=file("bao cao.csv", csv))
    with pytest.raises(Problem) as bad:
        await submit(conn, "S-2", NOW, rid, file=file("bc.xlsx", b"not an xlsx"))
    assert (bad.value.errors or [])[0]["field"] == "file"
    with pytest.raises(Problem):  # a file request takes no values
        await submit(conn, "S-2", NOW, rid, values={"pupils": 1})
    _, content = await rr.export_zip(conn, DEPARTMENT, uuid.UUID(rid))
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert sorted(archive.namelist()) == ["files/S-1_bao cao.csv", "tong-hop.xlsx"]
    assert archive.read("files/S-1_bao cao.csv") == csv


@pytestmark_integration
async def test_a_request_with_a_past_deadline_or_unknown_unit_creates_nothing(
    conn: Connection,
) -> None:
    with pytest.raises(Problem) as past:
        await open_request(conn, deadline=(NOW - timedelta(hours=1)).isoformat())
    assert (past.value.errors or [])[0]["field"] == "deadline"
    with pytest.raises(Problem) as unknown:
        await open_request(conn, recipients=[{"kind": "unit", "org_id": "S-NONE"}])
    assert (unknown.value.errors or [])[0]["field"] == "recipients[0].org_id"
    assert await conn.fetchval("SELECT count(*) FROM documents") == 0
    assert await conn.fetchval("SELECT count(*) FROM report_requests") == 0


@pytestmark_integration
async def test_submitting_marks_the_request_letter_done_in_the_units_inbox(
    conn: Connection,
) -> None:
    from services.documents import incoming

    opened = await open_request(conn)
    rid, letter = opened["id"], uuid.UUID(opened["document_id"])
    async with conn.transaction():  # S-2 registered the letter itself; S-3 refused it
        await incoming.register(conn, SCHOOL["S-2"], letter, incoming.StepInput())
        await incoming.refuse(conn, SCHOOL["S-3"], letter, incoming.RefuseInput(reason="nhầm"))
    first = await submit(conn, "S-1", NOW, rid, values={"pupils": 400, "pool": False})
    assert first["letter_status"] == "06"
    second = await submit(conn, "S-2", NOW, rid, values={"pupils": 90, "pool": True})
    assert second["letter_status"] == "06"
    refused = await submit(conn, "S-3", NOW, rid, values={"pupils": 5, "pool": False})
    assert refused["letter_status"] == "02"  # the rules allow no 06 after a refusal
    again = await submit(conn, "S-1", NOW, rid, values={"pupils": 401, "pool": False})
    assert (again["version"], again["letter_status"]) == (2, "06")

    history = await conn.fetch(
        "SELECT recipient_id, status, previous_status FROM delivery_history "
        "WHERE document_id = $1 AND recipient_id IN ('S-1', 'S-2') ORDER BY id",
        letter,
    )
    # S-1 never registered it: registered (arrival number) then done, once.
    assert [tuple(r) for r in history if r["recipient_id"] == "S-1"] == [
        ("S-1", "01", None),
        ("S-1", "03", "01"),
        ("S-1", "06", "03"),
    ]
    assert [tuple(r) for r in history if r["recipient_id"] == "S-2"] == [
        ("S-2", "01", None),
        ("S-2", "03", "01"),
        ("S-2", "06", "03"),
    ]
    async with conn.transaction():
        seen = await incoming.recipients_of(conn, DEPARTMENT, letter)
    assert {r["org_id"]: r["status"] for r in seen["recipients"]} == {
        "S-1": "06", "S-2": "06", "S-3": "02",
    }  # fmt: skip
    assert (seen["done"], seen["received"]) == (2, 2)
    s1 = next(r for r in seen["recipients"] if r["org_id"] == "S-1")
    assert s1["arrival_number"] == 1 and s1["done_at"] is not None
