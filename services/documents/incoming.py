"""Incoming documents: each recipient's inbox, the arrival register, assignment, processing
statuses with history (the edXML status machine in domain/status.py), recall, reminders, and
the statuses the sender sees per recipient.

Every change of one delivery locks its row, asks the domain whether the move is allowed, stores
it with a history row and announces it in the same transaction: registration as
documents.document.received (with the arrival number), everything else as
documents.document.status-changed.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.documents import series, signing_hooks
from services.documents.access import (
    UNIT_ROLES,
    ensure_acts_for,
    ensure_reads_org,
)
from services.documents.domain.classification import Secrecy
from services.documents.domain.status import (
    RECALLABLE,
    DocumentFrozen,
    IncomingDocumentState,
    InvalidTransition,
    ProcessingStatus,
    allowed_next,
    transition,
)
from services.documents.views import RecipientView, recipient_view, store_signature_check
from shared.auth import AuthorisationError, Principal, require_role
from shared.db.pool import Connection
from shared.events.contracts.documents import (
    DocumentReceived,
    DocumentReminded,
    DocumentStatusChanged,
)
from shared.http.problems import Problem
from shared.outbox.writer import add_event
from shared.vietnam_time import now_in_vietnam

SOURCE = "documents"
S = ProcessingStatus
# Finished at the recipient: nothing is overdue or remindable any more.
CLOSED = ("02", "06", "15")


class AssignInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: str | None = Field(default=None, description="The receiving unit (default: yours)")
    department: str | None = Field(default=None, max_length=200, description="Handling section")
    person: str | None = Field(
        default=None, max_length=200, description="Handling person (their user id, token sub)"
    )
    deadline: date | None = None
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _someone(self) -> AssignInput:
        if not self.department and not self.person:
            raise ValueError("name a handling department or person")
        return self


class StepInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: str | None = Field(default=None, description="The receiving unit (default: yours)")
    note: str | None = Field(default=None, max_length=2000)


class RefuseInput(StepInput):
    reason: str = Field(min_length=1, max_length=2000)


class RecallAnswerInput(StepInput):
    agree: bool


@dataclass(frozen=True)
class _Delivery:
    row: Any
    issuer_id: str
    secrecy: Secrecy | None
    notation: str | None

    @property
    def state(self) -> IncomingDocumentState:
        before = self.row["status_before_recall"]
        return IncomingDocumentState(
            f"{self.notation or self.row['document_id']} at {self.row['recipient_id']}",
            S(self.row["status"]),
            S(before) if before else None,
        )


async def _lock_delivery(conn: Connection, document_id: uuid.UUID, org_id: str) -> _Delivery:
    row = await conn.fetchrow(
        "SELECT * FROM deliveries WHERE document_id = $1 AND recipient_id = $2 FOR UPDATE",
        document_id,
        org_id,
    )
    if row is None:
        raise Problem(404, "Not in this inbox", f"document {document_id} was not sent to {org_id}")
    doc = await conn.fetchrow(
        "SELECT issuer_id, secrecy, notation FROM documents WHERE id = $1", document_id
    )
    assert doc is not None  # deliveries reference documents
    return _Delivery(
        row, doc["issuer_id"], Secrecy(doc["secrecy"]) if doc["secrecy"] else None, doc["notation"]
    )


def _moved(delivery: _Delivery, target: ProcessingStatus) -> IncomingDocumentState:
    try:
        return transition(delivery.state, target)
    except DocumentFrozen as exc:
        raise Problem(409, "Document recalled", str(exc)) from None
    except InvalidTransition as exc:
        raise Problem(409, "Status not allowed", str(exc)) from None


async def _store(
    conn: Connection,
    principal: Principal,
    delivery: _Delivery,
    new: IncomingDocumentState,
    *,
    now: datetime,
    note: str | None,
    columns: dict[str, Any] | None = None,
    announce: bool = True,
) -> None:
    sets = {
        "status": new.status.value,
        "status_before_recall": new.status_before_recall.value
        if new.status_before_recall
        else None,
        "updated_at": now,
        **(columns or {}),
    }
    names = list(sets)
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=3))
    await conn.execute(
        f"UPDATE deliveries SET {assignments} WHERE document_id = $1 AND recipient_id = $2",
        delivery.row["document_id"],
        delivery.row["recipient_id"],
        *sets.values(),
    )
    await conn.execute(
        "INSERT INTO delivery_history (document_id, recipient_id, status, previous_status, at, "
        "actor, note) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        delivery.row["document_id"],
        delivery.row["recipient_id"],
        new.status.value,
        delivery.row["status"],
        now,
        principal.key,
        note,
    )
    if announce:
        await add_event(
            conn,
            DocumentStatusChanged(
                document_id=delivery.row["document_id"],
                issuer_id=delivery.issuer_id,
                recipient_id=delivery.row["recipient_id"],
                status=new.status.value,
                previous_status=delivery.row["status"],
                changed_at=now,
            ),
            source=SOURCE,
        )


async def _view(conn: Connection, document_id: uuid.UUID, org_id: str) -> RecipientView:
    row = await conn.fetchrow(
        "SELECT d.*, o.name FROM deliveries d LEFT JOIN org_units o ON o.org_id = d.recipient_id "
        "WHERE d.document_id = $1 AND d.recipient_id = $2",
        document_id,
        org_id,
    )
    return recipient_view(row)


async def register(
    conn: Connection,
    principal: Principal,
    document_id: uuid.UUID,
    step: StepInput,
    *,
    now: datetime | None = None,
) -> RecipientView:
    """Accept the document into the unit's incoming register: it gets the next arrival number
    of the unit's series for the year (03), and the sender is told (received)."""
    org_id = step.org_id or principal.org_id
    ensure_acts_for(principal, org_id)
    now = now or now_in_vietnam()
    delivery = await _lock_delivery(conn, document_id, org_id)
    new = _moved(delivery, S.ACCEPTED)
    columns: dict[str, Any] = {"read_at": delivery.row["read_at"] or now}
    number = delivery.row["arrival_number"]
    year = delivery.row["arrival_year"]
    if number is None:
        klass, number = await series.allocate_arrival_number(
            conn, org_id, now.date(), delivery.secrecy
        )
        year = now.year
        columns |= {
            "arrival_series": klass.value,
            "arrival_year": year,
            "arrival_number": number,
            "registered_at": now,
        }
    await _store(
        conn, principal, delivery, new, now=now, note=step.note, columns=columns, announce=False
    )
    await add_event(
        conn,
        DocumentReceived(
            document_id=document_id,
            issuer_id=delivery.issuer_id,
            recipient_id=org_id,
            arrival_number=number,
            arrival_year=year,
            received_at=now,
        ),
        source=SOURCE,
    )
    return await _view(conn, document_id, org_id)


async def refuse(
    conn: Connection, principal: Principal, document_id: uuid.UUID, step: RefuseInput
) -> RecipientView:
    org_id = step.org_id or principal.org_id
    ensure_acts_for(principal, org_id)
    now = now_in_vietnam()
    delivery = await _lock_delivery(conn, document_id, org_id)
    new = _moved(delivery, S.REFUSED)
    await _store(
        conn,
        principal,
        delivery,
        new,
        now=now,
        note=step.reason,
        columns={"refused_reason": step.reason},
    )
    return await _view(conn, document_id, org_id)


async def assign(
    conn: Connection, principal: Principal, document_id: uuid.UUID, body: AssignInput
) -> RecipientView:
    """A leader of the receiving unit gives it to a section or person, with a deadline (04)."""
    org_id = body.org_id or principal.org_id
    ensure_acts_for(principal, org_id)
    now = now_in_vietnam()
    delivery = await _lock_delivery(conn, document_id, org_id)
    new = _moved(delivery, S.ASSIGNED)
    await _store(
        conn,
        principal,
        delivery,
        new,
        now=now,
        note=body.note,
        columns={
            "assigned_department": body.department,
            "assigned_person": body.person,
            "deadline": body.deadline,
            "assigned_at": now,
            "assigned_by": principal.key,
        },
    )
    return await _view(conn, document_id, org_id)


def _ensure_handler(principal: Principal, org_id: str, delivery: _Delivery) -> None:
    """The unit itself, or the teacher (person) it was assigned to."""
    if principal.role == "teacher":
        if principal.org_id != org_id or delivery.row["assigned_person"] != principal.subject:
            raise AuthorisationError(
                f"document {delivery.row['document_id']} is not assigned to {principal.subject}"
            )
        return
    ensure_acts_for(principal, org_id)


async def progress(
    conn: Connection,
    principal: Principal,
    document_id: uuid.UUID,
    step: StepInput,
    *,
    done: bool,
) -> RecipientView:
    """In progress (05) or done (06), by the unit or the person handling it."""
    org_id = step.org_id or principal.org_id
    require_role(principal, (*UNIT_ROLES, "teacher"))
    now = now_in_vietnam()
    delivery = await _lock_delivery(conn, document_id, org_id)
    _ensure_handler(principal, org_id, delivery)
    new = _moved(delivery, S.DONE if done else S.IN_PROGRESS)
    columns = {"done_at": now} if done else {}
    await _store(conn, principal, delivery, new, now=now, note=step.note, columns=columns)
    return await _view(conn, document_id, org_id)


async def complete_by_answer(
    conn: Connection,
    principal: Principal,
    document_id: uuid.UUID,
    org_id: str,
    *,
    note: str,
) -> RecipientView:
    """The unit answered what the document asked (a report request's công văn): it is done
    (06) in the unit's inbox, registered first if it was never registered, by the usual
    status rules. A document the unit refused, or that is being or was recalled, stays as
    it is (the rules do not allow 06 from there); one already done is left alone."""
    delivery = await _lock_delivery(conn, document_id, org_id)
    if delivery.state.status is S.ARRIVED:
        await register(conn, principal, document_id, StepInput(org_id=org_id, note=note))
        delivery = await _lock_delivery(conn, document_id, org_id)
    if S.DONE in allowed_next(delivery.state) and not delivery.state.frozen:
        now = now_in_vietnam()
        new = transition(delivery.state, S.DONE)
        await _store(conn, principal, delivery, new, now=now, note=note,
                     columns={"done_at": now})  # fmt: skip
    return await _view(conn, document_id, org_id)


async def answer_recall(
    conn: Connection, principal: Principal, document_id: uuid.UUID, body: RecallAnswerInput
) -> RecipientView:
    """The recipient agrees (15: the document is frozen for it) or refuses (16)."""
    org_id = body.org_id or principal.org_id
    ensure_acts_for(principal, org_id)
    now = now_in_vietnam()
    delivery = await _lock_delivery(conn, document_id, org_id)
    new = _moved(delivery, S.RECALL_AGREED if body.agree else S.RECALL_REFUSED)
    await _store(conn, principal, delivery, new, now=now, note=body.note)
    return await _view(conn, document_id, org_id)


async def mark_read(conn: Connection, document_id: uuid.UUID, org_id: str) -> None:
    """The first time someone of the receiving unit opens the document."""
    await conn.execute(
        "UPDATE deliveries SET read_at = now(), updated_at = now() "
        "WHERE document_id = $1 AND recipient_id = $2 AND read_at IS NULL",
        document_id,
        org_id,
    )


# Statuses a recall request may interrupt (domain/status.py), and 16: a refused recall may be
# asked again.
_RECALL_FROM = sorted({s.value for s in RECALLABLE} | {S.RECALL_REFUSED.value})


async def request_recall(
    conn: Connection, principal: Principal, document_id: uuid.UUID, note: str | None
) -> dict[str, Any]:
    """The sender asks every recipient for the document back (13), in one statement; one
    status-changed event with no recipient (it concerns all of them) and the count."""
    doc = await conn.fetchrow(
        "SELECT issuer_id, state FROM documents WHERE id = $1 FOR UPDATE", document_id
    )
    if doc is None:
        raise Problem(404, "Unknown document", f"document {document_id} does not exist")
    ensure_acts_for(principal, doc["issuer_id"])
    if doc["state"] not in ("issued", "replaced"):
        raise Problem(409, "Not issued", f"document {document_id} is {doc['state']}")
    now = now_in_vietnam()
    # A repeated request after a refusal keeps the status processing would resume from
    # (domain.transition does the same for one document).
    rows = await conn.fetch(
        """UPDATE deliveries SET status = '13', updated_at = $3,
               status_before_recall = CASE WHEN status = '16' THEN status_before_recall
                                           ELSE status END
           WHERE document_id = $1 AND status = ANY($2::text[])
           RETURNING recipient_id""",
        document_id,
        _RECALL_FROM,
        now,
    )
    await conn.execute(
        """INSERT INTO delivery_history (document_id, recipient_id, status, previous_status,
               at, actor, note)
           SELECT document_id, recipient_id, '13', status_before_recall, $2, $3, $4
           FROM deliveries WHERE document_id = $1 AND recipient_id = ANY($5::text[])""",
        document_id,
        now,
        principal.key,
        note,
        [r["recipient_id"] for r in rows],
    )
    await conn.execute(
        "UPDATE documents SET recall_requested_at = $2, updated_at = now() WHERE id = $1",
        document_id,
        now,
    )
    if rows:
        await add_event(
            conn,
            DocumentStatusChanged(
                document_id=document_id,
                issuer_id=doc["issuer_id"],
                recipient_id=None,
                status="13",
                recipient_count=len(rows),
                changed_at=now,
            ),
            source=SOURCE,
        )
    return {"document_id": str(document_id), "recall_requested": len(rows)}


async def recall_received(
    conn: Connection,
    principal: Principal,
    document_id: uuid.UUID,
    recipient_id: str,
    *,
    note: str | None,
) -> bool:
    """The issuer of a document we received from outside (edXML) asks for it back: our
    delivery moves to 13 by the same rules as an internal recall (domain.transition). False
    when that request is already pending or agreed (a package seen again). InvalidTransition
    when the status refuses a recall (refused with 02)."""
    delivery = await _lock_delivery(conn, document_id, recipient_id)
    if delivery.state.status in (S.RECALL_REQUESTED, S.RECALL_AGREED):
        return False
    new = transition(delivery.state, S.RECALL_REQUESTED)
    now = now_in_vietnam()
    await _store(conn, principal, delivery, new, now=now, note=note)
    await conn.execute(
        "UPDATE documents SET recall_requested_at = $2, updated_at = now() WHERE id = $1",
        document_id,
        now,
    )
    return True


async def link_received_successor(
    conn: Connection, document_id: uuid.UUID, original_id: uuid.UUID, business_type: int
) -> None:
    """A received update (2) or replacement (3) names the received document it follows, as
    issuing links our own successors (outgoing.issue): a replaced original is 'replaced'."""
    await conn.execute(
        "UPDATE documents SET replaces = $2, updated_at = now() WHERE id = $1",
        document_id,
        original_id,
    )
    await conn.execute(
        "UPDATE documents SET replaced_by = $2, updated_at = now(), "
        "state = CASE WHEN $3 = 3 THEN 'replaced' ELSE state END WHERE id = $1",
        original_id,
        document_id,
        business_type,
    )


# Past its deadline ($2 = today) and not finished: done, refused or recalled items are not due.
OVERDUE_CONDITION = (
    "COALESCE(d.deadline, doc.due_date) < $2 AND d.status <> ALL('{02,06,15}'::text[])"
)


async def remind_overdue(
    conn: Connection, principal: Principal, document_id: uuid.UUID
) -> dict[str, Any]:
    """The sender reminds the recipients whose deadline has passed and who are not done."""
    doc = await conn.fetchrow("SELECT issuer_id FROM documents WHERE id = $1", document_id)
    if doc is None:
        raise Problem(404, "Unknown document", f"document {document_id} does not exist")
    ensure_acts_for(principal, doc["issuer_id"])
    now = now_in_vietnam()
    rows = await conn.fetch(
        f"""UPDATE deliveries d SET reminded_at = $3, reminder_count = d.reminder_count + 1
            FROM documents doc WHERE doc.id = d.document_id AND d.document_id = $1
              AND {OVERDUE_CONDITION}
            RETURNING d.recipient_id""",
        document_id,
        now.date(),
        now,
    )
    reminded = sorted(r["recipient_id"] for r in rows)
    if reminded:
        await add_event(
            conn,
            DocumentReminded(
                document_id=document_id,
                issuer_id=doc["issuer_id"],
                recipient_ids=reminded,
                reminded_at=now,
            ),
            source=SOURCE,
        )
    return {"document_id": str(document_id), "reminded": reminded}


async def recipients_of(
    conn: Connection, principal: Principal, document_id: uuid.UUID
) -> dict[str, Any]:
    """Per recipient: received, read, assigned, done, with times; and counts per status."""
    doc = await conn.fetchrow("SELECT issuer_id FROM documents WHERE id = $1", document_id)
    if doc is None:
        raise Problem(404, "Unknown document", f"document {document_id} does not exist")
    await ensure_reads_org(conn, principal, doc["issuer_id"])
    rows = await conn.fetch(
        "SELECT d.*, o.name FROM deliveries d LEFT JOIN org_units o ON o.org_id = d.recipient_id "
        "WHERE d.document_id = $1 ORDER BY d.recipient_id",
        document_id,
    )
    views = [recipient_view(r) for r in rows]
    counts: dict[str, int] = {}
    for view in views:
        counts[view.status.value] = counts.get(view.status.value, 0) + 1
    return {
        "document_id": str(document_id),
        "total": len(views),
        "received": sum(v.registered_at is not None for v in views),
        "read": sum(v.read_at is not None for v in views),
        "done": sum(v.done_at is not None for v in views),
        "by_status": counts,
        "recipients": [v.to_json() for v in views],
        "external": await _external_recipients(conn, document_id),
    }


async def _external_recipients(conn: Connection, document_id: uuid.UUID) -> list[dict[str, Any]]:
    """Agencies it went to over the edXML exchange, with the last status they reported (the
    exchange's table; absent when the exchange never started on this database)."""
    if await conn.fetchval("SELECT to_regclass('edxml_sent')") is None:
        return []
    rows = await conn.fetch(
        "SELECT agency_code, agency_name, sent_at, status, status_at FROM edxml_sent "
        "WHERE document_id = $1 ORDER BY agency_code",
        document_id,
    )
    return [
        {
            "agency_code": r["agency_code"],
            "name": r["agency_name"],
            "sent_at": r["sent_at"].isoformat(),
            "status": r["status"],
            "status_label": S(r["status"]).label_vi if r["status"] else None,
            "status_at": r["status_at"].isoformat() if r["status_at"] else None,
        }
        for r in rows
    ]


async def history(
    conn: Connection, principal: Principal, document_id: uuid.UUID, org_id: str
) -> list[dict[str, Any]]:
    await ensure_reads_org(conn, principal, org_id)
    rows = await conn.fetch(
        "SELECT status, previous_status, at, actor, note FROM delivery_history "
        "WHERE document_id = $1 AND recipient_id = $2 ORDER BY id",
        document_id,
        org_id,
    )
    return [
        {
            "status": r["status"],
            "status_label": S(r["status"]).label_vi,
            "previous_status": r["previous_status"],
            "at": r["at"].isoformat(),
            "actor": r["actor"],
            "note": r["note"],
        }
        for r in rows
    ]


async def inbox(
    conn: Connection,
    principal: Principal,
    org_id: str,
    *,
    overdue: bool = False,
    status: str | None = None,
    limit: int = 200,
    before: datetime | None = None,
) -> list[dict[str, Any]]:
    """The unit's incoming documents, newest first; a teacher sees what is assigned to them."""
    await ensure_reads_org(conn, principal, org_id)
    today = now_in_vietnam().date()
    conditions = ["d.recipient_id = $1"]
    args: list[Any] = [org_id, today]
    if overdue:
        conditions.append(OVERDUE_CONDITION)
    if status:
        args.append(status)
        conditions.append(f"d.status = ${len(args)}")
    if principal.role == "teacher":
        args.append(principal.subject)
        conditions.append(f"d.assigned_person = ${len(args)}")
    if before is not None:
        args.append(before)
        conditions.append(f"d.arrived_at < ${len(args)}")
    args.append(limit)
    rows = await conn.fetch(
        f"""SELECT d.*, doc.issuer_id, doc.notation, doc.doc_type, doc.summary, doc.issued_on,
                   doc.urgency, doc.secrecy, doc.due_date, doc.replaces, doc.replaced_by,
                   doc.business_type, doc.state AS document_state,
                   COALESCE(o.name, doc.issuer_name) AS issuer_name,
                   doc.signature_verdict, doc.signature_check->'reason'->>'vi' AS signature_reason,
                   COALESCE(d.deadline, doc.due_date) AS effective_deadline
            FROM deliveries d JOIN documents doc ON doc.id = d.document_id
            LEFT JOIN org_units o ON o.org_id = doc.issuer_id
            WHERE {" AND ".join(conditions)} AND $2::date IS NOT NULL
            ORDER BY d.arrived_at DESC, d.document_id LIMIT ${len(args)}""",
        *args,
    )
    out = []
    for r in rows:
        deadline = r["effective_deadline"]
        out.append(
            {
                "document_id": str(r["document_id"]),
                "issuer_id": r["issuer_id"],
                "issuer_name": r["issuer_name"],
                "notation": r["notation"],
                "doc_type": r["doc_type"],
                "summary": r["summary"],
                "issued_on": r["issued_on"].isoformat() if r["issued_on"] else None,
                "urgency": r["urgency"],
                "secrecy": r["secrecy"],
                "business_type": r["business_type"],
                "replaces": str(r["replaces"]) if r["replaces"] else None,
                "replaced_by": str(r["replaced_by"]) if r["replaced_by"] else None,
                "document_state": r["document_state"],
                "status": r["status"],
                "status_label": S(r["status"]).label_vi,
                "arrived_at": r["arrived_at"].isoformat(),
                "read_at": r["read_at"].isoformat() if r["read_at"] else None,
                "arrival_number": r["arrival_number"],
                "assigned_department": r["assigned_department"],
                "assigned_person": r["assigned_person"],
                "deadline": deadline.isoformat() if deadline else None,
                "overdue": bool(deadline and deadline < today and r["status"] not in CLOSED),
                "reminded_at": r["reminded_at"].isoformat() if r["reminded_at"] else None,
                "reminder_count": r["reminder_count"],
                # 'ok' | 'flagged' | 'unsigned' (never checked): a flagged document is shown
                # as such, with the reason, never silently accepted.
                "signature_verdict": r["signature_verdict"] or "unsigned",
                "signature_reason_vi": r["signature_reason"],
            }
        )
    return out


async def deliver_external(
    conn: Connection, *, document_id: uuid.UUID, recipient_id: str, actor: str
) -> bool:
    """Put a document that came from outside (edXML import) in a unit's inbox (01); False if
    it was already there."""
    now = now_in_vietnam()
    inserted = await conn.fetchval(
        "INSERT INTO deliveries (document_id, recipient_id, status, arrived_at, updated_at) "
        "VALUES ($1, $2, '01', $3, $3) ON CONFLICT DO NOTHING RETURNING true",
        document_id,
        recipient_id,
        now,
    )
    if inserted:
        await conn.execute(
            "INSERT INTO delivery_history (document_id, recipient_id, status, at, actor, note) "
            "VALUES ($1, $2, '01', $3, $4, 'arrived from the exchange')",
            document_id,
            recipient_id,
            now,
            actor,
        )
    return bool(inserted)


@dataclass(frozen=True)
class ExternalFile:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ExternalDocument:
    """A document issued elsewhere (another agency over edXML, or uploaded by our clerk): kept
    as an issued `documents` row under the sender's id, with the sender's own number."""

    issuer_id: str  # the sender's code (edXML OrganId); no row in org_units
    issuer_name: str | None
    issuer_abbreviation: str
    doc_type: str
    summary: str
    number: int
    notation: str
    issued_on: date
    main_pdf: ExternalFile
    attachments: tuple[ExternalFile, ...] = ()
    issued_at: datetime | None = None
    content: str | None = None
    urgency: str | None = None
    business_type: int = 0
    due_date: date | None = None
    signer_name: str | None = None
    signer_position: str | None = None
    signer_competence: str | None = None


async def create_external(
    conn: Connection,
    document: ExternalDocument,
    *,
    document_id: uuid.UUID,
    recipient_id: str,
    recipient_label: str,
    created_by: str,
) -> dict[str, Any]:
    """Record a document received from outside and check the signatures of its PDF; returns
    the validator's report (stored with the document and shown in the inbox). A flagged
    document is still recorded, flagged: the clerk decides, nothing is silently accepted.
    Series columns stay NULL: another agency's numbers are not ours to keep unique."""
    check = await asyncio.to_thread(signing_hooks.check_signatures, document.main_pdf.content)
    await conn.execute(
        """INSERT INTO documents (id, issuer_id, issuer_name, doc_type, issuer_abbreviation,
               summary, content, urgency, state, business_type, due_date, recipients_spec,
               recipient_labels, signer_name, signer_position, signer_competence, number,
               notation, issued_on, issued_at, recipient_count, created_by, pdf_source)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'issued', $9, $10, $11, $12, $13, $14, $15,
                   $16, $17, $18, $19, 1, $20, 'received')""",
        document_id,
        document.issuer_id,
        document.issuer_name,
        document.doc_type,
        document.issuer_abbreviation,
        document.summary,
        document.content,
        document.urgency,
        document.business_type,
        document.due_date,
        [{"kind": "unit", "org_id": recipient_id}],
        [recipient_label],
        document.signer_name,
        document.signer_position,
        document.signer_competence,
        document.number,
        document.notation,
        document.issued_on,
        document.issued_at,
        created_by,
    )
    files = [("main", 0, document.main_pdf)] + [
        ("attachment", n, f) for n, f in enumerate(document.attachments, 1)
    ]
    await conn.executemany(
        """INSERT INTO document_files (id, document_id, role, position, filename, content_type,
               size, sha256, content, signed)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        [
            (uuid.uuid4(), document_id, role, position, f.filename, f.content_type,
             len(f.content), hashlib.sha256(f.content).hexdigest(), f.content,
             role == "main" and bool(check["signatures"]))
            for role, position, f in files
        ],
    )  # fmt: skip
    await store_signature_check(conn, document_id, check)
    return check


class ReceivedInput(BaseModel):
    """A document received outside the exchange (e-mail, paper scanned to PDF) that a clerk
    enters into the unit's incoming register with its PDF."""

    model_config = ConfigDict(extra="forbid")

    org_id: str | None = Field(default=None, description="The receiving unit (default: yours)")
    sender_name: str = Field(min_length=1, max_length=300, description="Cơ quan ban hành")
    sender_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$",
        description="The sender's code (edXML OrganId) if known; default EXT-<hash of name>",
    )
    notation: str = Field(
        min_length=3, max_length=100, pattern=r"^[0-9]+/\S+$", description="e.g. 07/SYT-NV"
    )
    issued_on: date
    doc_type: str = Field(default="cong_van", description="Document type key")
    summary: str = Field(min_length=1, max_length=2000)
    urgency: str | None = Field(default=None, pattern=r"^(khan|thuong_khan|hoa_toc)$")
    due_date: date | None = None

    @model_validator(mode="after")
    def _known_type(self) -> ReceivedInput:
        from services.documents.domain.document_types import DOCUMENT_TYPES

        if self.doc_type not in DOCUMENT_TYPES:
            raise ValueError(f"unknown document type; known: {', '.join(DOCUMENT_TYPES)}")
        return self


async def receive_upload(
    conn: Connection,
    principal: Principal,
    received: ReceivedInput,
    main_pdf: ExternalFile,
    attachments: list[ExternalFile],
) -> dict[str, Any]:
    """Record, check the signatures of, deliver and register a document received by other
    means; a flagged signature is registered with its flag showing, never hidden."""
    org_id = received.org_id or principal.org_id
    ensure_acts_for(principal, org_id)
    label = await conn.fetchval("SELECT name FROM org_units WHERE org_id = $1", org_id)
    document_id = uuid.uuid4()
    # Events carry the issuer id (an org id pattern), so a sender without a code gets a stable
    # one derived from its name.
    digest = hashlib.sha256(received.sender_name.strip().casefold().encode()).hexdigest()
    sender_id = received.sender_id or f"EXT-{digest[:12]}"
    number, _, code = received.notation.partition("/")
    check = await create_external(
        conn,
        ExternalDocument(
            issuer_id=sender_id,
            issuer_name=received.sender_name,
            issuer_abbreviation=code.split("-")[-1],
            doc_type=received.doc_type,
            summary=received.summary,
            number=int(number),
            notation=received.notation,
            issued_on=received.issued_on,
            main_pdf=main_pdf,
            attachments=tuple(attachments),
            urgency=received.urgency,
            due_date=received.due_date,
        ),
        document_id=document_id,
        recipient_id=org_id,
        recipient_label=label or org_id,
        created_by=principal.key,
    )
    await deliver_external(conn, document_id=document_id, recipient_id=org_id, actor=principal.key)
    registered = await register(conn, principal, document_id, StepInput(org_id=org_id))
    return {
        "document_id": str(document_id),
        "recipient": registered.to_json(),
        "signature_verdict": check["verdict"],
    }
