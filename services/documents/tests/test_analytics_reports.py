"""analytics.report.ready on a real PostgreSQL: one draft per report id, from the Department
to the commune and its schools, with the workbook attached when the clerk provides it."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.documents import analytics_reports, outgoing
from services.documents.tests.test_documents_flow import seed_tree
from services.documents.views import load_document, load_file_content
from shared.auth import Principal
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.events.contracts.analytics import ReportReady
from shared.http.problems import Problem

pytestmark = pytest.mark.integration

DEPARTMENT = Principal("van-thu", "department", "HP")
WORKBOOK = b"PK\x03\x04 a stand-in for the xlsx bytes"


@pytest.fixture
async def conn(fresh_db: str) -> AsyncIterator[Connection]:
    pool = await create_pool(fresh_db, min_size=1, max_size=1)
    async with pool.acquire() as connection:
        await migrate(connection, "documents", Path("services/documents/migrations"))
        await seed_tree(connection)
        yield connection
    await pool.close()


def ready(org_id: str = "C-1", report_id: uuid.UUID | None = None) -> ReportReady:
    report_id = report_id or uuid.uuid4()
    return ReportReady(
        report_id=report_id,
        kind="non_swimmers",
        title=f"Học sinh chưa biết bơi an toàn — Đơn vị {org_id} — đợt 2026-1",
        org_id=org_id,
        campaign_id="2026-1",
        download_path=f"/reports/{report_id}.xlsx",
        created_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
    )


async def test_report_becomes_one_draft_to_the_commune_and_its_schools(conn: Connection) -> None:
    report = ready()
    async with conn.transaction():
        first = await analytics_reports.draft_for_report(conn, report)
    async with conn.transaction():  # the same report again (re-emitted): the same draft
        again = await analytics_reports.draft_for_report(conn, report)
    assert first is not None and again == first
    assert await conn.fetchval("SELECT count(*) FROM documents") == 1
    view = await load_document(conn, first)
    assert view is not None
    assert (view.issuer_id, view.doc_type.key, view.state) == ("HP", "cong_van", "draft")
    assert view.summary.startswith("V/v gửi danh sách học sinh chưa biết bơi an toàn: ")
    assert view.recipient_labels == ("Đơn vị C-1", "Các trường thuộc Đơn vị C-1")
    pdf = await load_file_content(conn, view.main_pdf.id)
    assert pdf is not None and pdf.startswith(b"%PDF-")

    # The clerk attaches the workbook, then the leader approves, signs and it is issued.
    async with conn.transaction():
        attached = await analytics_reports.attach_workbook(
            conn,
            DEPARTMENT,
            report.report_id,
            analytics_reports.WorkbookInput(content_base64=base64.b64encode(WORKBOOK).decode()),
        )
    assert attached["workbook_attached"] is True
    view = await load_document(conn, first)
    assert view is not None
    (attachment,) = view.attachments
    assert attachment.filename == f"non_swimmers-{report.report_id}.xlsx"
    assert await load_file_content(conn, attachment.id) == WORKBOOK
    async with conn.transaction():
        await outgoing.approve(conn, DEPARTMENT, first)
        await outgoing.sign(conn, DEPARTMENT, first, outgoing.SignerInput(name="Nguyễn Văn A"))
        issued = await outgoing.issue(conn, DEPARTMENT, first)
    assert issued.notation == "01/SGDĐT-VP"
    inboxes = await conn.fetch(
        "SELECT recipient_id FROM deliveries WHERE document_id = $1 ORDER BY 1", first
    )
    assert [r["recipient_id"] for r in inboxes] == ["C-1", "S-1", "S-2", "S-3"]


async def test_a_report_for_an_unknown_unit_waits_for_a_retry(conn: Connection) -> None:
    report = ready("C-9")
    async with conn.transaction():
        assert await analytics_reports.draft_for_report(conn, report) is None
    row = await analytics_reports.get_draft(conn, DEPARTMENT, report.report_id)
    assert row["skipped_reason"] == "unit C-9 is not known to the documents service (yet)"
    await conn.execute(
        "INSERT INTO org_units (org_id, revision, kind, name, parent_id, valid_from) "
        "VALUES ('C-9', 1, 'commune', 'Xã Chín', 'HP', '2025-07-01')"
    )
    async with conn.transaction():
        retried = await analytics_reports.retry(conn, DEPARTMENT, report.report_id)
    assert retried["document_state"] == "draft" and retried["skipped_reason"] is None
    with pytest.raises(Problem) as wrong:  # not an xlsx
        await analytics_reports.attach_workbook(
            conn,
            DEPARTMENT,
            report.report_id,
            analytics_reports.WorkbookInput(content_base64=base64.b64encode(b"%PDF-").decode()),
        )
    assert (wrong.value.errors or [])[0]["field"] == "content_base64"
    async with conn.transaction():
        await outgoing.approve(conn, DEPARTMENT, uuid.UUID(retried["document_id"]))
    with pytest.raises(Problem) as approved:  # attached before approval, never after
        await analytics_reports.attach_workbook(
            conn,
            DEPARTMENT,
            report.report_id,
            analytics_reports.WorkbookInput(content_base64=base64.b64encode(WORKBOOK).decode()),
        )
    assert approved.value.status == 409
