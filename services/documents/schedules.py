"""The weekly work schedule (lịch công tác) and meeting invitations (giấy mời).

A schedule is drafted for one week, then published to units chosen with the usual recipient
selectors; the units read it (GET /schedules/current). Editing a published schedule publishes
the new version to the same selectors at once (the week's plans change; units always read
the latest).

A giấy mời is an outgoing document (type giay_moi) issued like any other: numbered, in the
invited units' inboxes and registers. The meeting (time, place, presiding) is kept beside it;
each invited unit answers once (and may change its answer): who will attend, or a refusal
with a reason. The inviter sees the attendance list.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.documents import letters, outgoing
from services.documents import recipients as recipient_rules
from services.documents.access import (
    ensure_acts_for,
    ensure_reads_org,
)
from services.documents.domain.schedules import (
    ScheduleItem,
    check_items,
    ordered,
    week_start,
)
from services.documents.recipients import SELECTORS, Selector
from shared.auth import AuthorisationError, Principal, require_role
from shared.db.pool import Connection
from shared.http.problems import Problem, field_error
from shared.vietnam_time import VIETNAM_TIME, now_in_vietnam

READERS = ("department", "commune", "school", "teacher", "auditor", "service")


class ScheduleInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    week_start: date = Field(description="The Monday of the week")
    title: str | None = Field(default=None, max_length=300)
    items: list[ScheduleItem] = Field(default_factory=list, max_length=500)
    recipients: list[Selector] = Field(min_length=1, max_length=500)


def _fail(pairs: list[tuple[str, str]]) -> None:
    if pairs:
        raise Problem(
            422,
            "Invalid request",
            "; ".join(f"{p}: {m}" for p, m in pairs),
            errors=[field_error(p, m) for p, m in pairs],
        )


def _check(body: ScheduleInput) -> None:
    problems = []
    if week_start(body.week_start) != body.week_start:
        problems.append(("week_start", f"{body.week_start} is not a Monday"))
    else:
        problems += check_items(body.week_start, body.items)
    _fail(problems)


def _schedule_json(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "owner_id": row["owner_id"],
        "week_start": row["week_start"].isoformat(),
        "title": row["title"],
        "state": row["state"],
        "version": row["version"],
        "items": row["items"],
        "recipients": row["recipients_spec"],
        "recipient_labels": list(row["recipient_labels"]),
        "published_at": row["published_at"].isoformat() if row["published_at"] else None,
    }


def _items_json(items: list[ScheduleItem]) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json") for item in ordered(items)]


async def create_schedule(
    conn: Connection, principal: Principal, body: ScheduleInput
) -> dict[str, Any]:
    ensure_acts_for(principal, principal.org_id)
    _check(body)
    resolved = await recipient_rules.resolve(
        conn, principal.org_id, list(body.recipients), today=body.week_start
    )
    title = body.title or f"Lịch công tác tuần {body.week_start:%d/%m/%Y}"
    row = await conn.fetchrow(
        """INSERT INTO work_schedules (id, owner_id, week_start, title, items, recipients_spec,
               recipient_labels, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (owner_id, week_start) DO NOTHING RETURNING *""",
        uuid.uuid4(),
        principal.org_id,
        body.week_start,
        title,
        _items_json(body.items),
        [s.model_dump(mode="json") for s in body.recipients],
        resolved.labels,
        principal.key,
    )
    if row is None:
        raise Problem(
            409,
            "Schedule exists",
            f"{principal.org_id} already has a schedule for the week of {body.week_start}; "
            "edit it with PUT /schedules/{id}",
        )
    return _schedule_json(row)


async def _locked(conn: Connection, principal: Principal, schedule_id: uuid.UUID) -> Any:
    row = await conn.fetchrow("SELECT * FROM work_schedules WHERE id = $1 FOR UPDATE", schedule_id)
    if row is None:
        raise Problem(404, "Unknown schedule", f"schedule {schedule_id} does not exist")
    ensure_acts_for(principal, row["owner_id"])
    return row


async def _publish_audience(conn: Connection, row: Any, today: date) -> int:
    selectors = SELECTORS.validate_python(row["recipients_spec"])
    resolved = await recipient_rules.resolve(conn, row["owner_id"], selectors, today=today)
    await conn.execute("DELETE FROM schedule_audience WHERE schedule_id = $1", row["id"])
    # The same "every unit the selectors reach" query as routing a document to inboxes.
    result = await conn.execute(
        "INSERT INTO schedule_audience (schedule_id, org_id) SELECT $1, o.org_id "
        + recipient_rules.reached_clause(2),
        row["id"],
        row["owner_id"],
        today,
        *recipient_rules.selector_args(resolved),
    )
    return int(result.split()[-1])


async def update_schedule(
    conn: Connection, principal: Principal, schedule_id: uuid.UUID, body: ScheduleInput
) -> dict[str, Any]:
    row = await _locked(conn, principal, schedule_id)
    _check(body)
    if body.week_start != row["week_start"]:
        raise Problem(422, "Invalid request", "week_start: a schedule keeps its week")
    resolved = await recipient_rules.resolve(
        conn, row["owner_id"], list(body.recipients), today=body.week_start
    )
    row = await conn.fetchrow(
        """UPDATE work_schedules SET title = COALESCE($2, title), items = $3,
               recipients_spec = $4, recipient_labels = $5, updated_at = now(),
               version = version + CASE WHEN state = 'published' THEN 1 ELSE 0 END
           WHERE id = $1 RETURNING *""",
        schedule_id,
        body.title,
        _items_json(body.items),
        [s.model_dump(mode="json") for s in body.recipients],
        resolved.labels,
    )
    assert row is not None  # locked above
    if row["state"] == "published":
        await _publish_audience(conn, row, now_in_vietnam().date())
    return _schedule_json(row)


async def publish(
    conn: Connection, principal: Principal, schedule_id: uuid.UUID, *, now: datetime | None = None
) -> dict[str, Any]:
    row = await _locked(conn, principal, schedule_id)
    now = now or now_in_vietnam()
    if not row["items"]:
        raise Problem(422, "Invalid request", "items: a schedule without items is not published")
    reached = await _publish_audience(conn, row, now.date())
    row = await conn.fetchrow(
        """UPDATE work_schedules SET state = 'published', published_at = $2, published_by = $3,
               updated_at = now() WHERE id = $1 RETURNING *""",
        schedule_id,
        now,
        principal.key,
    )
    return {**_schedule_json(row), "audience_count": reached}


async def read_schedule(
    conn: Connection, principal: Principal, schedule_id: uuid.UUID
) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM work_schedules WHERE id = $1", schedule_id)
    if row is None:
        raise Problem(404, "Unknown schedule", f"schedule {schedule_id} does not exist")
    require_role(principal, READERS)
    in_audience = row["state"] == "published" and await conn.fetchval(
        "SELECT true FROM schedule_audience WHERE schedule_id = $1 AND org_id = $2",
        schedule_id,
        principal.org_id,
    )
    if not in_audience:
        await ensure_reads_org(conn, principal, row["owner_id"])
    return _schedule_json(row)


async def schedules_for(
    conn: Connection, principal: Principal, org_id: str, week: date
) -> list[dict[str, Any]]:
    """The week's schedules a unit sees: its own (drafts too) and those published to it."""
    await ensure_reads_org(conn, principal, org_id)
    rows = await conn.fetch(
        """SELECT s.* FROM work_schedules s
           WHERE s.week_start = $2 AND (s.owner_id = $1 OR (s.state = 'published' AND EXISTS (
                 SELECT 1 FROM schedule_audience a WHERE a.schedule_id = s.id AND a.org_id = $1)))
           ORDER BY s.owner_id""",
        org_id,
        week_start(week),
    )
    return [_schedule_json(r) for r in rows]


# --- meeting invitations --------------------------------------------------------------------


class MeetingInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime
    ends_at: datetime | None = None
    place: str = Field(min_length=1, max_length=500)
    presiding: str | None = Field(default=None, max_length=300)
    agenda: str | None = Field(default=None, max_length=5000)

    @model_validator(mode="after")
    def _times(self) -> MeetingInput:
        if self.starts_at.tzinfo is None:
            raise ValueError("starts_at needs a timezone, e.g. 2026-03-10T08:00:00+07:00")
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("the meeting ends before it starts")
        return self


class InvitationInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1, max_length=2000, description="Về việc ... (the meeting)")
    meeting: MeetingInput
    invitees: str | None = Field(
        default=None, max_length=500, description="Who is invited, e.g. Hiệu trưởng"
    )
    reply_by: datetime | None = None
    recipients: list[Selector] = Field(min_length=1, max_length=500)
    issuer_abbreviation: str | None = Field(default=None, max_length=40)
    signer: outgoing.SignerInput


def _when(value: datetime) -> str:
    local = value.astimezone(VIETNAM_TIME)
    return f"{local:%H giờ %M}, ngày {local:%d/%m/%Y}"


async def invite(
    conn: Connection, principal: Principal, body: InvitationInput, *, now: datetime | None = None
) -> dict[str, Any]:
    """Issue the giấy mời to the recipients and record the meeting."""
    now = now or now_in_vietnam()
    ensure_acts_for(principal, principal.org_id)
    if body.meeting.starts_at <= now:
        raise Problem(
            422,
            "Invalid request",
            "meeting.starts_at: the meeting is in the past",
            errors=[field_error("meeting.starts_at", "the meeting is in the past")],
        )
    resolved = await recipient_rules.resolve(
        conn, principal.org_id, list(body.recipients), today=now.date()
    )
    meeting = body.meeting
    lines = [f"Trân trọng kính mời {body.invitees or 'đại diện lãnh đạo đơn vị'} dự họp."]
    if meeting.presiding:
        lines.append(f"Chủ trì: {meeting.presiding}.")
    if meeting.agenda:
        lines.append(f"Nội dung: {meeting.agenda}")
    lines.append(f"Thời gian: {_when(meeting.starts_at)}.")
    lines.append(f"Địa điểm: {meeting.place}.")
    if body.reply_by:
        lines.append(f"Đề nghị xác nhận tham dự trên hệ thống EduHub trước {_when(body.reply_by)}.")
    letter = letters.Letter(
        summary=body.summary,
        body=tuple(lines),
        addressees=tuple(resolved.labels),
        signer_name=body.signer.name,
        signer_position=body.signer.position or "Giám đốc",
        type_name="Giấy mời",
    )
    pdf = await letters.render_letter(conn, principal.org_id, letter)
    fields = {
        "doc_type": "giay_moi",
        "summary": body.summary,
        "content": "\n".join(lines),
        "issuer_abbreviation": body.issuer_abbreviation,
        "recipients": [s.model_dump(mode="json") for s in body.recipients],
    }
    document = await letters.issue_at_once(
        conn, principal, fields, letters.letter_file(pdf, "giay-moi.pdf"), body.signer, now=now
    )
    await conn.execute(
        """INSERT INTO meetings (document_id, issuer_id, starts_at, ends_at, place, presiding,
               agenda, reply_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        document.id,
        principal.org_id,
        meeting.starts_at,
        meeting.ends_at,
        meeting.place,
        meeting.presiding,
        meeting.agenda,
        body.reply_by,
    )
    return await attendance(conn, principal, document.id)


class Attendee(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    position: str | None = Field(default=None, max_length=200)


class AttendanceInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: str | None = Field(default=None, description="The invited unit (default: caller)")
    attending: bool
    attendees: list[Attendee] = Field(default_factory=list, max_length=50)
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _consistent(self) -> AttendanceInput:
        if self.attending and not self.attendees:
            raise ValueError("name who will attend (attendees)")
        if not self.attending and not (self.reason or "").strip():
            raise ValueError("a refusal needs its reason")
        if not self.attending and self.attendees:
            raise ValueError("a refusal has no attendees")
        return self


async def _meeting(conn: Connection, document_id: uuid.UUID) -> Any:
    row = await conn.fetchrow(
        "SELECT m.*, d.notation, d.summary FROM meetings m JOIN documents d "
        "ON d.id = m.document_id WHERE m.document_id = $1",
        document_id,
    )
    if row is None:
        raise Problem(404, "Unknown invitation", f"{document_id} is not a meeting invitation")
    return row


async def answer(
    conn: Connection,
    principal: Principal,
    document_id: uuid.UUID,
    body: AttendanceInput,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The invited unit's answer; answering again replaces it."""
    org_id = body.org_id or principal.org_id
    ensure_acts_for(principal, org_id)
    await _meeting(conn, document_id)
    invited = await conn.fetchval(
        "SELECT true FROM deliveries WHERE document_id = $1 AND recipient_id = $2",
        document_id,
        org_id,
    )
    if not invited:
        raise AuthorisationError(f"{org_id} is not invited by {document_id}")
    now = now or now_in_vietnam()
    await conn.execute(
        """INSERT INTO meeting_attendance (document_id, org_id, attending, attendees, reason,
               answered_by, answered_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (document_id, org_id) DO UPDATE SET attending = EXCLUDED.attending,
               attendees = EXCLUDED.attendees, reason = EXCLUDED.reason,
               answered_by = EXCLUDED.answered_by, answered_at = EXCLUDED.answered_at""",
        document_id,
        org_id,
        body.attending,
        [a.model_dump() for a in body.attendees],
        None if body.attending else body.reason,
        principal.key,
        now,
    )
    return {
        "document_id": str(document_id),
        "org_id": org_id,
        "attending": body.attending,
        "attendees": [a.model_dump() for a in body.attendees],
        "reason": None if body.attending else body.reason,
        "answered_at": now.isoformat(),
    }


async def attendance(
    conn: Connection, principal: Principal, document_id: uuid.UUID
) -> dict[str, Any]:
    """The inviter's list: per invited unit attending, declined (reason) or no answer."""
    meeting = await _meeting(conn, document_id)
    await ensure_reads_org(conn, principal, meeting["issuer_id"])
    rows = await conn.fetch(
        """SELECT d.recipient_id, o.name, a.attending, a.attendees, a.reason, a.answered_at
           FROM deliveries d LEFT JOIN meeting_attendance a
             ON a.document_id = d.document_id AND a.org_id = d.recipient_id
           LEFT JOIN org_units o ON o.org_id = d.recipient_id
           WHERE d.document_id = $1 ORDER BY d.recipient_id""",
        document_id,
    )
    units = []
    counts = {"attending": 0, "declined": 0, "no_answer": 0, "people": 0}
    for r in rows:
        answer_state = (
            "no_answer" if r["attending"] is None else "attending" if r["attending"] else "declined"
        )
        counts[answer_state] += 1
        counts["people"] += len(r["attendees"] or [])
        units.append(
            {
                "org_id": r["recipient_id"],
                "name": r["name"],
                "answer": answer_state,
                "attendees": r["attendees"] or [],
                "reason": r["reason"],
                "answered_at": r["answered_at"].isoformat() if r["answered_at"] else None,
            }
        )
    return {
        "document_id": str(document_id),
        "notation": meeting["notation"],
        "summary": meeting["summary"],
        "meeting": {
            "starts_at": meeting["starts_at"].isoformat(),
            "ends_at": meeting["ends_at"].isoformat() if meeting["ends_at"] else None,
            "place": meeting["place"],
            "presiding": meeting["presiding"],
            "agenda": meeting["agenda"],
            "reply_by": meeting["reply_by"].isoformat() if meeting["reply_by"] else None,
        },
        "counts": counts,
        "units": units,
    }
