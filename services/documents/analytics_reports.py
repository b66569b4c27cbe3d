"""analytics.report.ready → an outgoing DRAFT of the Department, addressed to the right units.

A report the analytics service built (e.g. the non-swimmer workbook of a commune) becomes a
công văn draft "V/v gửi <title>" from the Department (the province unit above the addressed
one) to the commune and all its schools (a school: the school alone). It stays a draft: a
leader approves and signs it through the ordinary routes. One draft per report id, however
often the event is delivered or re-emitted (analytics_report_drafts is keyed by report id).

The workbook itself stays on the analytics service (events carry references, not files).
Services here do not call each other with a service identity, so the bytes are attached when
a clerk works on the draft: POST /analytics-reports/{report_id}/workbook either with the file
(the clerk downloaded it from analytics with their own token), or empty when
DOCUMENTS_ANALYTICS_URL is set, in which case this service fetches download_path forwarding the
clerk's own bearer token, so analytics checks the clerk's scope and audits the download.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.documents import letters, outgoing
from services.documents.access import ensure_acts_for, ensure_reads_org
from services.documents.config import documents_settings
from services.documents.domain.report_forms import check_report_file
from services.documents.files import UploadedFile, decode_base64
from shared.auth import Principal, require_role
from shared.consumer.runner import EventConsumer, IncomingEvent
from shared.db.pool import Connection
from shared.events.contracts.analytics import ReportReady
from shared.http.problems import Problem, invalid
from shared.orgs.mirror import ancestors, get_unit
from shared.vietnam_time import VIETNAM_TIME

CONSUMER_SUBJECT = "analytics-report-consumer"
KIND_SUMMARIES = {"non_swimmers": "danh sách học sinh chưa biết bơi an toàn"}


class AnalyticsReportSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCUMENTS_ANALYTICS_", extra="ignore")

    drafting_unit: str = Field(default="VP", description="Drafting unit of the cover letters")
    signer_position: str = "Giám đốc"
    url: str | None = Field(default=None, description="Base URL of the analytics service")


async def _issuer_of(conn: Connection, org_id: str) -> str | None:
    """The province unit above (the Department acts for it)."""
    for candidate in await ancestors(conn, org_id) or []:
        unit = await get_unit(conn, candidate)
        if unit is not None and unit["kind"] == "province":
            return candidate
    return None


def _recipients(unit: Any) -> list[dict[str, str]]:
    if unit["kind"] == "commune":
        return [
            {"kind": "unit", "org_id": unit["org_id"]},
            {"kind": "schools_of_commune", "commune_id": unit["org_id"]},
        ]
    return [{"kind": "unit", "org_id": unit["org_id"]}]


async def draft_for_report(
    conn: Connection, report: ReportReady, *, settings: AnalyticsReportSettings | None = None
) -> uuid.UUID | None:
    """The draft's id (new or already made); None when it cannot be addressed (reason kept)."""
    settings = settings or AnalyticsReportSettings()
    existing = await conn.fetchrow(
        "SELECT document_id FROM analytics_report_drafts WHERE report_id = $1 FOR UPDATE",
        report.report_id,
    )
    if existing is not None and existing["document_id"] is not None:
        return existing["document_id"]
    unit = await get_unit(conn, report.org_id)
    issuer_id = await _issuer_of(conn, report.org_id) if unit is not None else None
    reason = None
    if unit is None:
        reason = f"unit {report.org_id} is not known to the documents service (yet)"
    elif issuer_id is None:
        reason = f"no province unit above {report.org_id} to issue from"
    document_id = None
    if reason is None:
        assert unit is not None and issuer_id is not None
        document_id = await _make_draft(conn, report, unit, issuer_id, settings)
    await conn.execute(
        """INSERT INTO analytics_report_drafts (report_id, kind, title, org_id, campaign_id,
               download_path, report_created_at, document_id, skipped_reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (report_id) DO UPDATE SET document_id = EXCLUDED.document_id,
               skipped_reason = EXCLUDED.skipped_reason""",
        report.report_id,
        report.kind,
        report.title,
        report.org_id,
        report.campaign_id,
        report.download_path,
        report.created_at,
        document_id,
        reason,
    )
    return document_id


async def _make_draft(
    conn: Connection,
    report: ReportReady,
    unit: Any,
    issuer_id: str,
    settings: AnalyticsReportSettings,
) -> uuid.UUID:
    principal = Principal(CONSUMER_SUBJECT, "service", issuer_id)
    what = KIND_SUMMARIES.get(report.kind, "báo cáo")
    summary = f"V/v gửi {what}: {report.title}"[:2000]
    created = report.created_at.astimezone(VIETNAM_TIME)
    body = (
        f"Sở Giáo dục và Đào tạo gửi {unit['name']} và các đơn vị liên quan {report.title} "
        f"(số liệu lập ngày {created:%d/%m/%Y}, tệp đính kèm).",
        "Đề nghị các đơn vị rà soát, sử dụng số liệu đúng mục đích và bảo vệ dữ liệu cá nhân "
        "của học sinh theo quy định.",
    )
    recipients = _recipients(unit)
    labels = [unit["name"]] + (
        [f"Các trường thuộc {unit['name']}"] if unit["kind"] == "commune" else []
    )
    pdf = await letters.render_letter(
        conn,
        issuer_id,
        letters.Letter(
            summary=summary,
            body=body,
            addressees=tuple(labels),
            signer_name="",
            signer_position=settings.signer_position,
        ),
    )
    has_profile = await conn.fetchval(
        "SELECT true FROM issuer_profiles WHERE org_id = $1", issuer_id
    )
    draft = outgoing.draft_from_json(
        {
            "doc_type": "cong_van",
            "summary": summary,
            "content": "\n".join(body),
            "drafting_unit": settings.drafting_unit,
            "issuer_abbreviation": None if has_profile else "SGDĐT",
            "recipients": recipients,
        }
    )
    view = await outgoing.create_draft(
        conn, principal, draft, letters.letter_file(pdf, "cong-van.pdf"), []
    )
    return view.id


async def _apply(conn: Connection, events: list[IncomingEvent]) -> None:
    settings = AnalyticsReportSettings()
    for event in events:
        assert isinstance(event.data, ReportReady)
        await draft_for_report(conn, event.data, settings=settings)


def analytics_report_consumer() -> EventConsumer:
    return EventConsumer(
        service="documents",
        name="analytics-reports",
        contracts=[ReportReady],
        handler=_apply,
        description="Turns analytics.report.ready into an outgoing draft to the addressed "
        "unit (a commune and its schools), once per report.",
        quiet=True,  # a few reports a day; a clerk issues the draft
    )


# --- the clerk's side -----------------------------------------------------------------------


def row_json(row: Any) -> dict[str, Any]:
    return {
        "report_id": str(row["report_id"]),
        "kind": row["kind"],
        "title": row["title"],
        "org_id": row["org_id"],
        "campaign_id": row["campaign_id"],
        "download_path": row["download_path"],
        "document_id": str(row["document_id"]) if row["document_id"] else None,
        "document_state": row["state"],
        "skipped_reason": row["skipped_reason"],
        "workbook_attached": row["attached_file_id"] is not None,
        "received_at": row["received_at"].isoformat(),
    }


_SELECT = (
    "SELECT a.*, d.state, d.issuer_id FROM analytics_report_drafts a "
    "LEFT JOIN documents d ON d.id = a.document_id"
)


async def list_drafts(conn: Connection, principal: Principal, org_id: str) -> list[dict[str, Any]]:
    await ensure_reads_org(conn, principal, org_id)
    rows = await conn.fetch(
        _SELECT + " WHERE d.issuer_id = $1 OR a.document_id IS NULL "
        "ORDER BY a.received_at DESC LIMIT 500",
        org_id,
    )
    return [row_json(r) for r in rows]


async def get_draft(conn: Connection, principal: Principal, report_id: uuid.UUID) -> Any:
    row = await conn.fetchrow(_SELECT + " WHERE a.report_id = $1", report_id)
    if row is None:
        raise Problem(404, "Unknown report", f"no analytics report {report_id} has arrived")
    if row["issuer_id"] is not None:
        await ensure_reads_org(conn, principal, row["issuer_id"])
    return row


async def retry(conn: Connection, principal: Principal, report_id: uuid.UUID) -> dict[str, Any]:
    """Make the draft of a report that could not be addressed when it arrived."""
    row = await get_draft(conn, principal, report_id)
    if row["document_id"] is None:
        require_role(principal, ("department", "service"))
        report = ReportReady(
            report_id=row["report_id"],
            kind=row["kind"],
            title=row["title"],
            org_id=row["org_id"],
            campaign_id=row["campaign_id"],
            download_path=row["download_path"],
            created_at=row["report_created_at"],
        )
        await draft_for_report(conn, report)
    return row_json(await get_draft(conn, principal, report_id))


class WorkbookInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str | None = Field(default=None, max_length=255)
    content_base64: str | None = Field(
        default=None, description="The workbook; omit to fetch it (DOCUMENTS_ANALYTICS_URL)"
    )


async def fetch_workbook(base_url: str, path: str, authorization: str) -> bytes:
    """GET the report from analytics with the caller's own bearer token."""
    import httpx

    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.get(
            base_url.rstrip("/") + path, headers={"Authorization": authorization}
        )
    if response.status_code != 200:
        raise Problem(
            502,
            "Analytics refused the download",
            f"GET {path} on the analytics service answered {response.status_code}",
        )
    return response.content


async def attach_workbook(
    conn: Connection,
    principal: Principal,
    report_id: uuid.UUID,
    body: WorkbookInput,
    *,
    authorization: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Attach the report's workbook to its draft (once; before approval)."""
    row = await get_draft(conn, principal, report_id)
    if row["document_id"] is None:
        raise Problem(409, "No draft yet", f"report {report_id}: {row['skipped_reason']}")
    ensure_acts_for(principal, row["issuer_id"])
    if row["attached_file_id"] is not None:
        return row_json(row)
    if row["state"] != "draft":
        raise Problem(
            409, "Wrong document state", f"the draft is {row['state']}; attach before approval"
        )
    filename = body.filename or f"{row['kind']}-{report_id}.xlsx"
    if body.content_base64 is not None:
        content = decode_base64(body.content_base64, "content_base64")
    else:
        base_url = AnalyticsReportSettings().url
        if base_url is None or authorization is None:
            raise invalid(
                "content_base64",
                "give the workbook (download it from the analytics service at "
                f"{row['download_path']}); fetching needs DOCUMENTS_ANALYTICS_URL",
            )
        content = await fetch_workbook(base_url, row["download_path"], authorization)
    try:
        verdict = check_report_file(filename, content, documents_settings().max_attachment_bytes)
    except ValueError as exc:
        raise invalid("content_base64", str(exc)) from None
    attached = await outgoing.add_attachment(
        conn,
        principal,
        row["document_id"],
        UploadedFile("content_base64", filename, verdict.content_type, content),
    )
    file_id = attached.id
    await conn.execute(
        "UPDATE analytics_report_drafts SET attached_file_id = $2 WHERE report_id = $1",
        report_id,
        file_id,
    )
    return row_json(await get_draft(conn, principal, report_id))
