"""Report requests: the Department asks units for a report (a form or a file) by a deadline.

A request is issued as a công văn to the units (letters.issue_at_once), so it has a number,
sits in every unit's inbox and incoming register, and the units asked are exactly that
document's recipients (copied into report_targets in the same transaction). Each unit keeps
one current submission: a resubmission replaces it; one after the deadline is accepted and
marked late. The issuer sees who has submitted, who is late and who is missing, reminds the
missing ones (documents.document.reminded on the request's công văn, as for overdue
documents, so one notifier serves both), and downloads everything as one zip with a summary
workbook.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.documents import incoming, letters, outgoing
from services.documents import recipients as recipient_rules
from services.documents.access import (
    ensure_acts_for,
    ensure_reads_org,
)
from services.documents.config import documents_settings
from services.documents.domain.report_forms import (
    FormField,
    check_form,
    check_report_file,
    is_late,
    submission_state,
    validate_values,
)
from services.documents.files import decode_base64
from services.documents.recipients import Selector
from shared.auth import AuthorisationError, Principal, require_role
from shared.db.pool import Connection
from shared.events.contracts.documents import (
    DocumentReminded,
    ReportRequested,
    ReportSubmitted,
)
from shared.http.problems import Problem, field_error, invalid
from shared.outbox.writer import add_event
from shared.vietnam_time import VIETNAM_TIME, now_in_vietnam

SOURCE = "documents"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TYPE_LABELS = {
    "text": "văn bản",
    "integer": "số nguyên",
    "number": "số",
    "date": "ngày",
    "boolean": "có/không",
    "choice": "chọn một",
}


class ReportRequestInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500, description="e.g. Báo cáo số học sinh ...")
    instructions: str | None = Field(default=None, max_length=20_000)
    response_kind: Literal["form", "file"]
    form: list[FormField] = Field(default_factory=list, max_length=200)
    deadline: datetime = Field(description="When the reports are due (with a timezone)")
    recipients: list[Selector] = Field(min_length=1, max_length=500)
    drafting_unit: str = Field(min_length=1, max_length=40, description="e.g. VP, GDTrH")
    issuer_abbreviation: str | None = Field(default=None, max_length=40)
    signer: outgoing.SignerInput

    @model_validator(mode="after")
    def _form_matches_kind(self) -> ReportRequestInput:
        if self.response_kind == "form" and not self.form:
            raise ValueError("a form request needs its fields (form)")
        if self.response_kind == "file" and self.form:
            raise ValueError("a file request has no form fields")
        if self.deadline.tzinfo is None:
            raise ValueError("the deadline needs a timezone, e.g. 2026-03-20T17:00:00+07:00")
        return self


class ReportFileInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    content_base64: str


class SubmissionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: str | None = Field(default=None, description="The submitting unit (default: caller)")
    values: dict[str, Any] | None = Field(default=None, description="Form answers by name")
    file: ReportFileInput | None = None

    @model_validator(mode="after")
    def _one_answer(self) -> SubmissionInput:
        if (self.values is None) == (self.file is None):
            raise ValueError("give either values (a form) or file")
        return self


def _problems(pairs: list[tuple[str, str]]) -> None:
    if pairs:
        errors = [field_error(path, message) for path, message in pairs]
        raise Problem(
            422, "Invalid request", "; ".join(f"{p}: {m}" for p, m in pairs), errors=errors
        )


def _letter_body(body: ReportRequestInput) -> tuple[str, ...]:
    deadline = body.deadline.astimezone(VIETNAM_TIME)
    lines = [body.instructions] if body.instructions else []
    lines.append(
        f"Đề nghị các đơn vị gửi {body.title[:1].lower() + body.title[1:]} trên hệ thống EduHub "
        f"(mục Yêu cầu báo cáo) trước {deadline:%H giờ %M} ngày {deadline:%d/%m/%Y}."
    )
    if body.response_kind == "form":
        lines.append("Nội dung báo cáo gồm:")
        lines += [
            f"{i}. {f.label} ({_TYPE_LABELS[f.type]}{'' if f.required else ', không bắt buộc'})."
            for i, f in enumerate(body.form, 1)
        ]
    else:
        lines.append("Báo cáo gửi dưới dạng tệp xlsx, docx, pdf hoặc csv.")
    lines.append("Báo cáo gửi sau thời hạn được ghi nhận là nộp muộn.")
    return tuple(lines)


async def create_request(
    conn: Connection, principal: Principal, body: ReportRequestInput, *, now: datetime | None = None
) -> dict[str, Any]:
    """Issue the request's công văn and open the request, in the caller's transaction."""
    issuer_id = principal.org_id
    ensure_acts_for(principal, issuer_id)
    now = now or now_in_vietnam()
    _problems(check_form(body.form))
    if body.deadline <= now:
        raise invalid("deadline", "the deadline has already passed")
    resolved = await recipient_rules.resolve(
        conn, issuer_id, list(body.recipients), today=now.date()
    )
    summary = f"V/v {body.title[:1].lower() + body.title[1:]}"[:2000]
    letter = letters.Letter(
        summary=summary,
        body=_letter_body(body),
        addressees=tuple(resolved.labels),
        signer_name=body.signer.name,
        signer_position=body.signer.position or "Giám đốc",
    )
    pdf = await letters.render_letter(conn, issuer_id, letter)
    fields = {
        "doc_type": "cong_van",
        "summary": summary,
        "content": "\n".join(letter.body),
        "drafting_unit": body.drafting_unit,
        "issuer_abbreviation": body.issuer_abbreviation,
        "due_date": body.deadline.astimezone(VIETNAM_TIME).date().isoformat(),
        "recipients": [s.model_dump(mode="json") for s in body.recipients],
    }
    document = await letters.issue_at_once(
        conn,
        principal,
        fields,
        letters.letter_file(pdf, "yeu-cau-bao-cao.pdf"),
        body.signer,
        now=now,
    )
    request_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO report_requests (id, issuer_id, document_id, title, instructions,
               response_kind, form_fields, deadline, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        request_id,
        issuer_id,
        document.id,
        body.title,
        body.instructions,
        body.response_kind,
        [f.model_dump(mode="json") for f in body.form],
        body.deadline,
        principal.key,
        now,
    )
    targets = await conn.execute(
        "INSERT INTO report_targets (request_id, org_id) "
        "SELECT $1, recipient_id FROM deliveries WHERE document_id = $2",
        request_id,
        document.id,
    )
    await add_event(
        conn,
        ReportRequested(
            request_id=request_id,
            document_id=document.id,
            issuer_id=issuer_id,
            response_kind=body.response_kind,
            deadline=body.deadline,
            target_count=int(targets.split()[-1]),
            requested_at=now,
        ),
        source=SOURCE,
    )
    return await describe(conn, principal, request_id)


async def _request(conn: Connection, request_id: uuid.UUID, *, lock: bool = False) -> Any:
    row = await conn.fetchrow(
        "SELECT r.*, d.notation FROM report_requests r JOIN documents d ON d.id = r.document_id "
        "WHERE r.id = $1" + (" FOR UPDATE OF r" if lock else ""),
        request_id,
    )
    if row is None:
        raise Problem(404, "Unknown report request", f"report request {request_id} does not exist")
    return row


def _request_json(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "issuer_id": row["issuer_id"],
        "document_id": str(row["document_id"]),
        "notation": row["notation"],
        "title": row["title"],
        "instructions": row["instructions"],
        "response_kind": row["response_kind"],
        "form": row["form_fields"],
        "deadline": row["deadline"].isoformat(),
        "created_at": row["created_at"].isoformat(),
    }


async def _is_target(conn: Connection, request_id: uuid.UUID, org_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT true FROM report_targets WHERE request_id = $1 AND org_id = $2",
            request_id,
            org_id,
        )
    )


async def describe(conn: Connection, principal: Principal, request_id: uuid.UUID) -> dict[str, Any]:
    """The request; the issuer (and units above it) also get the per-unit status, a unit asked
    gets its own submission."""
    row = await _request(conn, request_id)
    out = _request_json(row)
    if principal.role != "service" and await _is_target(conn, request_id, principal.org_id):
        own = await _statuses(conn, request_id, org_id=principal.org_id)
        out["my_submission"] = own[0]
        return out
    await ensure_reads_org(conn, principal, row["issuer_id"])
    out.update(await status(conn, principal, request_id))
    return out


async def _statuses(
    conn: Connection, request_id: uuid.UUID, *, org_id: str | None = None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT t.org_id, o.name, t.reminded_at, t.reminder_count, s.version, s.late,
                  s.submitted_at, s.first_submitted_at, s.filename, s.size, s.form_values
           FROM report_targets t LEFT JOIN report_submissions s USING (request_id, org_id)
           LEFT JOIN org_units o ON o.org_id = t.org_id
           WHERE t.request_id = $1 AND ($2::text IS NULL OR t.org_id = $2)
           ORDER BY t.org_id""",
        request_id,
        org_id,
    )
    return [
        {
            "org_id": r["org_id"],
            "name": r["name"],
            "state": submission_state(r["submitted_at"], r["late"]),
            "submitted_at": r["submitted_at"].isoformat() if r["submitted_at"] else None,
            "first_submitted_at": (
                r["first_submitted_at"].isoformat() if r["first_submitted_at"] else None
            ),
            "version": r["version"],
            "filename": r["filename"],
            "size": r["size"],
            "values": r["form_values"],
            "reminded_at": r["reminded_at"].isoformat() if r["reminded_at"] else None,
            "reminder_count": r["reminder_count"],
        }
        for r in rows
    ]


async def status(conn: Connection, principal: Principal, request_id: uuid.UUID) -> dict[str, Any]:
    """Who has submitted (on time), who is late, who is missing; for the issuer's side."""
    row = await _request(conn, request_id)
    await ensure_reads_org(conn, principal, row["issuer_id"])
    units = await _statuses(conn, request_id)
    counts = {"submitted": 0, "late": 0, "missing": 0}
    for unit in units:
        counts[unit["state"]] += 1
    return {"total": len(units), "counts": counts, "units": units}


async def submit(
    conn: Connection,
    principal: Principal,
    request_id: uuid.UUID,
    body: SubmissionInput,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Store (or replace) the unit's answer; after the deadline it is kept and marked late."""
    org_id = body.org_id or principal.org_id
    ensure_acts_for(principal, org_id)
    row = await _request(conn, request_id)
    if not await _is_target(conn, request_id, org_id):
        raise AuthorisationError(f"report request {request_id} was not sent to {org_id}")
    now = now or now_in_vietnam()
    values = content = filename = content_type = sha = None
    if row["response_kind"] == "form":
        if body.values is None:
            raise invalid("values", "this request asks for the form's values, not a file")
        fields = [FormField.model_validate(f) for f in row["form_fields"]]
        values, problems = validate_values(fields, body.values)
        _problems(problems)
    else:
        if body.file is None:
            raise invalid("file", "this request asks for a file (xlsx, docx, pdf or csv)")
        content = decode_base64(body.file.content_base64, "file.content_base64")
        try:
            verdict = check_report_file(
                body.file.filename, content, documents_settings().max_attachment_bytes
            )
        except ValueError as exc:
            raise invalid("file", str(exc)) from None
        filename, content_type = body.file.filename.strip(), verdict.content_type
        sha = hashlib.sha256(content).hexdigest()
    late = is_late(now, row["deadline"])
    stored = await conn.fetchrow(
        """INSERT INTO report_submissions (request_id, org_id, version, late, form_values,
               filename, content_type, size, sha256, content, submitted_by, submitted_at,
               first_submitted_at)
           VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
           ON CONFLICT (request_id, org_id) DO UPDATE SET
               version = report_submissions.version + 1, late = EXCLUDED.late,
               form_values = EXCLUDED.form_values, filename = EXCLUDED.filename,
               content_type = EXCLUDED.content_type, size = EXCLUDED.size,
               sha256 = EXCLUDED.sha256, content = EXCLUDED.content,
               submitted_by = EXCLUDED.submitted_by, submitted_at = EXCLUDED.submitted_at
           RETURNING version""",
        request_id,
        org_id,
        late,
        values,
        filename,
        content_type,
        len(content) if content is not None else None,
        sha,
        content,
        principal.key,
        now,
    )
    assert stored is not None  # an upsert always returns its row
    await add_event(
        conn,
        ReportSubmitted(
            request_id=request_id,
            issuer_id=row["issuer_id"],
            org_id=org_id,
            version=stored["version"],
            late=late,
            submitted_at=now,
        ),
        source=SOURCE,
    )
    # The request's công văn is answered: done (06) in the unit's inbox, so the sender's
    # per-recipient view shows it; the core's status rules decide (registered first if needed).
    letter = await incoming.complete_by_answer(
        conn, principal, row["document_id"], org_id,
        note=f"report submitted (version {stored['version']})",
    )  # fmt: skip
    (own,) = await _statuses(conn, request_id, org_id=org_id)
    return {"request_id": str(request_id), **own, "letter_status": letter.status}


async def remind_missing(
    conn: Connection, principal: Principal, request_id: uuid.UUID, *, now: datetime | None = None
) -> dict[str, Any]:
    """Remind every unit that has not submitted yet (before or after the deadline)."""
    row = await _request(conn, request_id, lock=True)
    ensure_acts_for(principal, row["issuer_id"])
    now = now or now_in_vietnam()
    rows = await conn.fetch(
        """UPDATE report_targets t SET reminded_at = $2, reminder_count = t.reminder_count + 1
           WHERE t.request_id = $1 AND NOT EXISTS (SELECT 1 FROM report_submissions s
                 WHERE s.request_id = t.request_id AND s.org_id = t.org_id)
           RETURNING t.org_id""",
        request_id,
        now,
    )
    reminded = sorted(r["org_id"] for r in rows)
    if reminded:
        await add_event(
            conn,
            DocumentReminded(
                document_id=row["document_id"],
                issuer_id=row["issuer_id"],
                recipient_ids=reminded,
                reminded_at=now,
            ),
            source=SOURCE,
        )
    return {"request_id": str(request_id), "reminded": reminded}


async def list_requests(
    conn: Connection, principal: Principal, *, org_id: str, addressed: bool
) -> list[dict[str, Any]]:
    """The requests a unit issued, or (addressed=True) the ones sent to it with its state."""
    await ensure_reads_org(conn, principal, org_id)
    if addressed:
        rows = await conn.fetch(
            """SELECT r.*, d.notation, s.submitted_at, s.late FROM report_requests r
               JOIN documents d ON d.id = r.document_id
               JOIN report_targets t ON t.request_id = r.id AND t.org_id = $1
               LEFT JOIN report_submissions s ON s.request_id = r.id AND s.org_id = $1
               ORDER BY r.deadline DESC LIMIT 500""",
            org_id,
        )
        return [
            {**_request_json(r), "state": submission_state(r["submitted_at"], r["late"])}
            for r in rows
        ]
    rows = await conn.fetch(
        """SELECT r.*, d.notation,
                  (SELECT count(*) FROM report_targets t WHERE t.request_id = r.id) AS total,
                  (SELECT count(*) FROM report_submissions s WHERE s.request_id = r.id)
                      AS submitted
           FROM report_requests r JOIN documents d ON d.id = r.document_id
           WHERE r.issuer_id = $1 ORDER BY r.created_at DESC LIMIT 500""",
        org_id,
    )
    return [{**_request_json(r), "targets": r["total"], "submitted": r["submitted"]} for r in rows]


# --- the zip of all submissions ------------------------------------------------------------

_STATE_VI = {"submitted": "Đã nộp", "late": "Nộp muộn", "missing": "Chưa nộp"}


def _local(value: datetime | None) -> str:
    return value.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M") if value else ""


def _archive_name(org_id: str, filename: str) -> str:
    safe = "".join(c if c.isalnum() or c in "._- " else "_" for c in filename).strip() or "file"
    return f"files/{org_id}_{safe}"


def summary_workbook(request: Any, units: list[Any]) -> bytes:
    """One sheet: a row per unit asked, its state, time, file and (form) one column per field."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    fields = [FormField.model_validate(f) for f in request["form_fields"]]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Tổng hợp"
    sheet.append([request["title"]])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([f"Hạn nộp: {_local(request['deadline'])}"])
    header = ["STT", "Mã đơn vị", "Tên đơn vị", "Tình trạng", "Thời điểm nộp", "Lần nộp",
              "Số lần nhắc", "Tệp"] + [f.label for f in fields]  # fmt: skip
    sheet.append(header)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for index, unit in enumerate(units, 1):
        state = submission_state(unit["submitted_at"], unit["late"])
        values = unit["form_values"] or {}
        sheet.append(
            [
                index,
                unit["org_id"],
                unit["name"] or "",
                _STATE_VI[state],
                _local(unit["submitted_at"]),
                unit["version"] or 0,
                unit["reminder_count"],
                _archive_name(unit["org_id"], unit["filename"]) if unit["filename"] else "",
            ]
            + [values.get(f.name) for f in fields]
        )
    for column, width in zip("ABCDEFGH", (6, 14, 40, 14, 18, 9, 11, 40), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def export_zip(
    conn: Connection, principal: Principal, request_id: uuid.UUID
) -> tuple[str, bytes]:
    """(file name, zip bytes): tong-hop.xlsx plus every submitted file under files/."""
    request = await _request(conn, request_id)
    await ensure_reads_org(conn, principal, request["issuer_id"])
    require_role(principal, ("department", "commune", "school", "service", "auditor"))
    units = await conn.fetch(
        """SELECT t.org_id, o.name, t.reminder_count, s.version, s.late, s.submitted_at,
                  s.filename, s.form_values, s.content
           FROM report_targets t LEFT JOIN report_submissions s USING (request_id, org_id)
           LEFT JOIN org_units o ON o.org_id = t.org_id
           WHERE t.request_id = $1 ORDER BY t.org_id""",
        request_id,
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tong-hop.xlsx", summary_workbook(request, list(units)))
        for unit in units:
            if unit["content"] is not None:
                archive.writestr(
                    _archive_name(unit["org_id"], unit["filename"]), bytes(unit["content"])
                )
    return f"bao-cao-{request_id}.zip", buffer.getvalue()


def deadline_in(days: int, *, now: datetime | None = None) -> datetime:
    """A deadline `days` from now at 17:00 Vietnam time (for tests and the demo)."""
    base = (now or now_in_vietnam()).astimezone(VIETNAM_TIME) + timedelta(days=days)
    return base.replace(hour=17, minute=0, second=0, microsecond=0)
