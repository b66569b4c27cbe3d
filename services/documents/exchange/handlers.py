"""Use cases of the edXML exchange, as plain async functions on a connection (in a transaction
the caller owns) or on the pool, with the exchange's configuration passed in.

- export_package / send_document: an issued document of our agency as a package, downloaded
  or queued for the adapter (edxml_outbound) with its recipients tracked in edxml_sent.
- import_package: a received package (document or status), registered once.
- queue_status_reports: processing steps of received documents -> status messages queued.
- flush_outbound / receive_pending: the two halves of a poll through the adapter.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.documents import incoming, views
from services.documents.access import ensure_acts_for, ensure_reads_document
from services.documents.domain.edxml import (
    DocumentId,
    EdxmlConfig,
    StatusMessage,
    build_document,
    build_status,
)
from services.documents.domain.numbering import InvalidNotation, parse_notation
from services.documents.domain.status import (
    BusinessType,
    IncomingDocumentState,
    InvalidTransition,
    ProcessingStatus,
    transition,
)
from services.documents.exchange import store
from services.documents.exchange.adapter import ExchangeAdapter
from services.documents.exchange.mapping import (
    ExportRefused,
    FileContent,
    IncomingRegistration,
    IssuedDocumentView,
    PackageRejected,
    Party,
    RecallRequest,
    ReceivedDocumentRef,
    RejectionCode,
    parse_package,
    recall_request_from_status,
    recipient_update_from_status,
    registration_from_edxml,
    status_message,
    to_edxml,
)
from services.documents.exchange.settings import ExchangeSettings
from shared.auth import Principal
from shared.db.pool import Connection
from shared.http.problems import Problem, field_error, invalid
from shared.orgs.mirror import get_unit
from shared.vietnam_time import VIETNAM_TIME

log = logging.getLogger(__name__)


@dataclass
class Exchange:
    """The exchange as configured for this service (settings, edXML options, adapter)."""

    settings: ExchangeSettings
    adapter: ExchangeAdapter | None = None

    def __post_init__(self) -> None:
        self.config: EdxmlConfig = self.settings.edxml_config()

    @property
    def agency_code(self) -> str:
        if self.settings.agency_code is None:
            raise Problem(
                503,
                "edXML exchange not configured",
                "set EDXML_AGENCY_CODE (this agency's code) and EDXML_AGENCY_ORG_ID (its unit)",
            )
        return self.settings.agency_code

    @property
    def org_id(self) -> str:
        if self.settings.agency_org_id is None:
            raise Problem(
                503,
                "edXML exchange not configured",
                "set EDXML_AGENCY_ORG_ID: the unit whose documents go out under "
                f"{self.settings.agency_code} and whose incoming register receives packages",
            )
        return self.settings.agency_org_id


def vietnam_local_now() -> datetime:
    # TraceHeader and Status timestamps are local time without an offset (UTC+7).
    return datetime.now(VIETNAM_TIME).replace(tzinfo=None, microsecond=0)


async def our_party(conn: Connection, exchange: Exchange) -> Party:
    name = exchange.settings.agency_name
    if name is None:
        unit = await get_unit(conn, exchange.org_id)
        name = unit["name"] if unit is not None else exchange.agency_code
    return Party(exchange.agency_code, name)


# --- sending ----------------------------------------------------------------------------------


async def _recipients(conn: Connection, codes: list[str]) -> tuple[Party, ...]:
    if not codes:
        raise invalid("to", "name at least one recipient agency code (to=...)")
    known = await store.agencies(conn, codes)
    errors = [
        field_error(f"to[{n}]", f"agency {code} is not known here: add it with POST "
                    "/edxml/agencies", "unknown_agency")
        for n, code in enumerate(codes)
        if code not in known
    ]  # fmt: skip
    if errors:
        raise Problem(422, "Unknown recipient agency", errors[0]["message"], errors=errors)
    return tuple(known[code] for code in dict.fromkeys(codes))


async def issued_view(
    conn: Connection,
    principal: Principal,
    exchange: Exchange,
    document_id: uuid.UUID,
    recipients: tuple[Party, ...],
) -> IssuedDocumentView:
    document = await views.load_document(conn, document_id)
    if document is None:
        raise Problem(404, "Unknown document", f"document {document_id} does not exist")
    if await ensure_reads_document(conn, principal, document_id, document.issuer_id):
        raise Problem(403, "Forbidden", "only the issuer sends its document over the exchange")
    if document.state != "issued" or document.number is None or document.issued_on is None:
        raise Problem(
            409, "Not issued", f"document {document_id} is {document.state}: issue it first"
        )
    if document.issuer_id != exchange.org_id:
        raise Problem(
            409,
            "Not this agency's document",
            f"documents of {document.issuer_id} cannot go out under agency code "
            f"{exchange.agency_code}, which belongs to {exchange.org_id}",
        )
    main = await views.load_file_content(conn, document.main_pdf.id)
    attachments = [
        FileContent(f.filename, f.content_type, await views.load_file_content(conn, f.id) or b"")
        for f in document.attachments
    ]
    notation = document.notation or ""
    replaces = None
    if document.replaces is not None:
        original = await views.load_document(conn, document.replaces)
        if original is not None and original.notation and original.issued_on:
            replaces = ReceivedDocumentRef(
                exchange.agency_code,
                str(DocumentId(exchange.agency_code, original.issued_on, original.notation)),
                original.notation,
                original.issued_on,
            )
    return IssuedDocumentView(
        document_id=str(document.id),
        sender=await our_party(conn, exchange),
        recipients=recipients,
        number=document.number,
        code=notation.split("/", 1)[1] if "/" in notation else notation,
        issued_on=document.issued_on,
        doc_type_key=document.doc_type.key,
        subject=document.summary,
        main_file=FileContent(document.main_pdf.filename, document.main_pdf.content_type, main)
        if main is not None
        else None,
        attachments=tuple(attachments),
        place=exchange.settings.place,
        content=document.content,
        signer_name=document.signer_name,
        signer_position=document.signer_position,
        signer_competence=document.signer_competence,
        due_date=document.due_date,
        urgency=document.urgency,
        secrecy=document.secrecy,
        to_places=document.recipient_labels,
        business=document.business_type,
        replaces=replaces,
    )


async def export_package(
    conn: Connection,
    principal: Principal,
    exchange: Exchange,
    document_id: uuid.UUID,
    to: list[str],
) -> tuple[bytes, IssuedDocumentView]:
    """The package of an issued document addressed to the agencies `to` (known agencies;
    by default those it was sent to before)."""
    if not to:
        to = [r["agency_code"] for r in await store.sent_recipients(conn, document_id)]
    view = await issued_view(conn, principal, exchange, document_id, await _recipients(conn, to))
    try:
        package = build_document(
            to_edxml(view, exchange.config, sent_at=vietnam_local_now()), exchange.config
        )
    except ExportRefused as refused:
        raise Problem(
            422,
            "Cannot be sent as edXML",
            refused.reason,
            errors=[field_error(refused.field, refused.reason, "export_refused")],
        ) from None
    return package, view


async def send_document(
    conn: Connection,
    principal: Principal,
    exchange: Exchange,
    document_id: uuid.UUID,
    to: list[str],
) -> dict[str, Any]:
    """Queue the package for every agency in `to` (sent by the poller through the adapter)."""
    if exchange.adapter is None:
        raise Problem(
            409,
            "No exchange adapter",
            "EDXML_ADAPTER is 'none': download the package (GET /documents/{id}/edxml) and "
            "carry it, or configure the file drop",
        )
    package, view = await export_package(conn, principal, exchange, document_id, to)
    queued = []
    for party in view.recipients:
        outbound_id = await store.enqueue(
            conn, to_agency=party.agency_code, kind="document", label=view.number_notation,
            payload=package,
        )  # fmt: skip
        await store.record_sent(conn, document_id, party, str(view.edxml_document_id))
        queued.append({"agency_code": party.agency_code, "outbound_id": outbound_id})
    return {
        "document_id": str(document_id),
        "edxml_document_id": str(view.edxml_document_id),
        "queued": queued,
        "bytes": len(package),
    }


# --- receiving ----------------------------------------------------------------------------------


def _issuer_abbreviation(notation: str, code_notation: str) -> str:
    try:
        return parse_notation(notation).issuer
    except InvalidNotation:
        return code_notation


async def import_package(
    conn: Connection, exchange: Exchange, data: bytes, *, source: str
) -> dict[str, Any]:
    """Register a received package in this transaction, once: a document goes into our
    incoming register (arrived, then registered with an arrival number); a status message
    updates what we know of one recipient of our document. PackageRejected for a package we
    refuse; nothing is written then (the caller rolls back)."""
    parsed = parse_package(data, exchange.config)
    if isinstance(parsed, StatusMessage):
        if parsed.status is ProcessingStatus.RECALL_REQUESTED:
            return await apply_recall_request(
                conn, exchange, recall_request_from_status(parsed), source=source
            )
        return await apply_status(conn, exchange, parsed)
    registration = registration_from_edxml(parsed, exchange.config, {exchange.agency_code})
    if registration.business is BusinessType.RECALL:
        # The document package itself, sent again with business type 1: a recall request.
        return await apply_recall_request(
            conn,
            exchange,
            RecallRequest(
                registration.edxml_document_id,
                registration.sender.agency_code,
                registration.sent_at,
                registration.business_reason,
            ),
            source=source,
        )
    recipient_id = exchange.org_id
    document_id = uuid.uuid4()
    earlier = await store.claim_received(
        conn, registration, recipient_id=recipient_id, document_id=document_id,
        sha256=hashlib.sha256(data).hexdigest(), source=source,
    )  # fmt: skip
    result = {
        "kind": "document",
        "edxml_document_id": registration.edxml_document_id,
        "sender": registration.sender.agency_code,
        "notation": registration.number_notation,
        "recipient_id": recipient_id,
    }
    if earlier is not None:
        return {**result, "outcome": "duplicate", "document_id": str(earlier)}
    await store.upsert_agency(conn, registration.sender)
    unit = await get_unit(conn, recipient_id)
    # The core records it and checks the signatures of its PDF (flagged ones are registered
    # with their flag showing in the inbox, never silently accepted).
    signature = await incoming.create_external(
        conn,
        external_document(registration),
        document_id=document_id,
        recipient_id=recipient_id,
        recipient_label=unit["name"] if unit is not None else recipient_id,
        created_by=f"edxml:{source}",
    )
    clerk = Principal(subject=f"edxml-{source}", role="service", org_id=recipient_id)
    await incoming.deliver_external(
        conn, document_id=document_id, recipient_id=recipient_id, actor=clerk.key
    )
    # Registered on arrival: Decree 30 wants received documents in the register the same day,
    # and the sender is told at once (01 then 03).
    registered = await incoming.register(
        conn, clerk, document_id,
        incoming.StepInput(org_id=recipient_id, note=f"edXML {registration.number_notation}"),
    )  # fmt: skip
    successor: dict[str, Any] = {}
    if registration.business in (BusinessType.UPDATE, BusinessType.REPLACEMENT):
        original = await _original_of(conn, registration, recipient_id)
        if original is not None:
            await incoming.link_received_successor(
                conn, document_id, original, int(registration.business)
            )
        # An update of a document we never received is still a document addressed to us:
        # registered, with `replaces` null telling the clerk the original is not here.
        successor = {
            "business_type": int(registration.business),
            "replaces": str(original) if original is not None else None,
        }
    return {
        **result,
        **successor,
        "outcome": "registered",
        "document_id": str(document_id),
        "arrival_number": registered.arrival_number,
        "signature_verdict": signature["verdict"],
        "signature_reason": signature["reason"],
    }


async def _original_of(
    conn: Connection, registration: IncomingRegistration, recipient_id: str
) -> uuid.UUID | None:
    """The received document an update or replacement follows: by the DocumentId of its
    ResponseFor, else by the sender's number/notation there (or in the business reason)."""
    for ref in registration.responds_to:
        row = await store.received_for_update(conn, ref.edxml_document_id, recipient_id)
        if row is None:
            row = await store.received_by_notation(
                conn, ref.sender_agency, ref.number_notation, recipient_id
            )
        if row is not None and row["sender_agency"] == registration.sender.agency_code:
            return uuid.UUID(str(row["document_id"]))
    reason = registration.business_reason or ""
    for word in reason.replace(",", " ").split():
        if "/" in word:
            row = await store.received_by_notation(
                conn, registration.sender.agency_code, word.strip(".;:()"), recipient_id
            )
            if row is not None:
                return uuid.UUID(str(row["document_id"]))
    return None


async def apply_recall_request(
    conn: Connection, exchange: Exchange, request: RecallRequest, *, source: str
) -> dict[str, Any]:
    """The sender of a document we received asks for it back: our copy goes to 13 by the
    core's recall rules, and our answer (15 or 16, POST /inbox/{id}/recall-answer) goes back
    as a status message like every other step."""
    recipient_id = exchange.org_id
    row = await store.received_for_update(conn, request.edxml_document_id, recipient_id)
    if row is None:
        raise PackageRejected(
            RejectionCode.UNKNOWN_DOCUMENT,
            "ResponseFor/DocumentId",
            f"{request.edxml_document_id} was not received here: nothing to recall",
        )
    if row["sender_agency"] != request.sender_agency:
        raise PackageRejected(
            RejectionCode.NOT_EXPECTED,
            "From/OrganId",
            f"{request.edxml_document_id} came from {row['sender_agency']}; "
            f"{request.sender_agency} cannot recall it",
        )
    document_id = uuid.UUID(str(row["document_id"]))
    sender = Principal(subject=f"edxml-{request.sender_agency}", role="service",
                       org_id=recipient_id)  # fmt: skip
    try:
        applied = await incoming.recall_received(
            conn, sender, document_id, recipient_id,
            note=f"edXML ({source}): {request.description or 'recall requested'}",
        )  # fmt: skip
    except InvalidTransition as error:
        raise PackageRejected(
            RejectionCode.NOT_EXPECTED, "Status/StatusCode", f"recall refused here: {error}"
        ) from None
    return {
        "kind": "recall",
        "outcome": "applied" if applied else "repeated",
        "document_id": str(document_id),
        "edxml_document_id": request.edxml_document_id,
        "sender": request.sender_agency,
        "status": ProcessingStatus.RECALL_REQUESTED.value,
    }


def _file(f: FileContent) -> incoming.ExternalFile:
    return incoming.ExternalFile(f.name, f.content_type, f.data)


def external_document(registration: IncomingRegistration) -> incoming.ExternalDocument:
    """A received package as the core's external document, issued by the sender's code."""
    return incoming.ExternalDocument(
        issuer_id=registration.sender.agency_code,
        issuer_name=registration.sender.name,
        issuer_abbreviation=_issuer_abbreviation(
            registration.number_notation, registration.code_notation
        ),
        # Type unknown from both the code and the notation: filed as a công văn, the type of
        # any letter without a type name.
        doc_type=registration.doc_type_key or "cong_van",
        summary=registration.subject,
        number=int(registration.code_number),
        notation=registration.number_notation,
        issued_on=registration.promulgated_on,
        issued_at=registration.sent_at,
        main_pdf=_file(registration.main_file),
        attachments=tuple(_file(f) for f in registration.attachments),
        content=registration.content,
        urgency=registration.urgency.value if registration.urgency else None,
        business_type=int(registration.business),
        due_date=registration.due_date,
        signer_name=registration.signer_name,
        signer_position=registration.signer_position,
        signer_competence=registration.signer_competence,
    )


# Forward order of a recipient's processing: a report behind what we hold is stale (an
# older message delivered late), not an error.
_PROGRESS = {
    ProcessingStatus.ARRIVED: 1,
    ProcessingStatus.ACCEPTED: 2,
    ProcessingStatus.ASSIGNED: 3,
    ProcessingStatus.IN_PROGRESS: 4,
    ProcessingStatus.DONE: 5,
}


_AWAITING_ANSWER = frozenset({ProcessingStatus.RECALL_REQUESTED, ProcessingStatus.RECALL_AGREED})


async def apply_status(
    conn: Connection, exchange: Exchange, message: StatusMessage
) -> dict[str, Any]:
    update = recipient_update_from_status(message, {exchange.agency_code})
    row = await store.sent_for_update(conn, update.edxml_document_id, update.recipient_agency)
    if row is None:
        raise PackageRejected(
            RejectionCode.UNKNOWN_DOCUMENT,
            "Status/ResponseFor/DocumentId",
            f"{update.edxml_document_id} was not sent to {update.recipient_agency} from here",
        )
    current = ProcessingStatus(row["status"]) if row["status"] else None
    before_recall = (
        ProcessingStatus(row["status_before_recall"]) if row["status_before_recall"] else None
    )
    target = update.status
    new_before_recall = before_recall
    if current is None:
        outcome = "applied"  # the first report; a recipient may skip 01 and start at 02/03
        state = IncomingDocumentState(str(row["document_id"]), ProcessingStatus.ARRIVED)
        if target is not ProcessingStatus.ARRIVED:
            new_before_recall = _checked(
                state, target, update.recipient_agency
            ).status_before_recall
    elif target is current:
        outcome = "repeated"
    else:
        state = IncomingDocumentState(str(row["document_id"]), current, before_recall)
        if target in _PROGRESS and current in _PROGRESS and _PROGRESS[target] < _PROGRESS[current]:
            outcome = "stale"
        elif target in _PROGRESS and current in _AWAITING_ANSWER:
            # A step sent before our recall request reached them, delivered after it.
            outcome = "stale"
        else:
            new_before_recall = _checked(
                state, target, update.recipient_agency
            ).status_before_recall
            outcome = "applied"
    await store.log_status(
        conn, document_id=row["document_id"], agency_code=update.recipient_agency,
        status=target.value, previous_status=current.value if current else None,
        outcome=outcome, reported_at=update.at, description=update.description,
    )  # fmt: skip
    if outcome == "applied":
        await store.set_sent_status(
            conn, document_id=row["document_id"], agency_code=update.recipient_agency,
            status=target.value,
            status_before_recall=new_before_recall.value if new_before_recall else None,
            at=update.at, description=update.description,
        )  # fmt: skip
    return {
        "kind": "status",
        "outcome": outcome,
        "document_id": str(row["document_id"]),
        "edxml_document_id": update.edxml_document_id,
        "agency_code": update.recipient_agency,
        "status": target.value,
    }


def _checked(
    state: IncomingDocumentState, target: ProcessingStatus, agency: str
) -> IncomingDocumentState:
    try:
        return transition(state, target)
    except InvalidTransition as error:
        raise PackageRejected(
            RejectionCode.NOT_EXPECTED, "Status/StatusCode", f"from {agency}: {error}"
        ) from None


async def import_as(
    conn: Connection, principal: Principal, exchange: Exchange, data: bytes, *, source: str
) -> dict[str, Any]:
    """An upload by a person (API, CLI): they must act for the receiving unit. A rejection is
    a 422 problem naming the element; nothing was registered."""
    ensure_acts_for(principal, exchange.org_id)
    try:
        return await import_package(conn, exchange, data, source=source)
    except PackageRejected as rejected:
        raise Problem(
            422,
            "edXML package rejected",
            f"{rejected.code.value}: {rejected.reason}",
            errors=[field_error(rejected.field, rejected.reason, rejected.code.value)],
        ) from None


# --- reporting our processing back to senders ----------------------------------------------------

# What a recipient reports; 13 in our history is the sender's own request, not ours to echo.
_REPORTED = frozenset(ProcessingStatus) - {ProcessingStatus.RECALL_REQUESTED}


async def queue_status_reports(conn: Connection, exchange: Exchange, limit: int = 200) -> int:
    """Queue a status message for every processing step of a received document not yet
    reported to its sender; returns how many were queued."""
    steps = await store.unreported_steps(conn, limit)
    if not steps:
        return 0
    us = await our_party(conn, exchange)
    queued = 0
    for step in steps:
        status = ProcessingStatus(step["status"])
        if status not in _REPORTED:
            await store.mark_step_reported(conn, step["id"], 0)
            continue
        message = status_message(
            ReceivedDocumentRef(
                step["sender_agency"], step["edxml_document_id"], step["number_notation"],
                step["promulgated_on"],
            ),
            us,
            status,
            at=step["at"].astimezone(VIETNAM_TIME).replace(tzinfo=None, microsecond=0),
            # Internal notes stay here; only a refusal's reason is the sender's business.
            description=(step["note"] if status is ProcessingStatus.REFUSED else None)
            or status.label_vi,
        )  # fmt: skip
        outbound_id = await store.enqueue(
            conn, to_agency=step["sender_agency"], kind="status",
            label=f"status-{status.value}-{step['number_notation']}",
            payload=build_status(message, exchange.config),
        )  # fmt: skip
        await store.mark_step_reported(conn, step["id"], outbound_id)
        queued += 1
    return queued


async def queue_recall_requests(conn: Connection, exchange: Exchange, limit: int = 200) -> int:
    """Queue status 13 to every agency an issued document of ours went to, once per recall
    request (POST /documents/{id}/recall); the agency's answer (15/16) comes back as a status.
    An agency that refused the document (02) or already gave it back (15) is not asked."""
    rows = await store.pending_recalls(conn, limit)
    if not rows:
        return 0
    us = await our_party(conn, exchange)
    at = vietnam_local_now()
    queued = 0
    for row in rows:
        current = ProcessingStatus(row["status"]) if row["status"] else ProcessingStatus.ARRIVED
        before = row["status_before_recall"]
        state = IncomingDocumentState(
            str(row["document_id"]), current, ProcessingStatus(before) if before else None
        )
        await store.mark_recall_sent(
            conn, row["document_id"], row["agency_code"], row["recall_requested_at"]
        )
        try:
            asked = transition(state, ProcessingStatus.RECALL_REQUESTED)
        except InvalidTransition:
            continue
        ref = ReceivedDocumentRef(
            exchange.agency_code, row["edxml_document_id"], row["notation"], row["issued_on"]
        )
        message = status_message(ref, us, ProcessingStatus.RECALL_REQUESTED, at=at)
        await store.enqueue(
            conn, to_agency=row["agency_code"], kind="status",
            label=f"status-13-{row['notation']}", payload=build_status(message, exchange.config),
        )  # fmt: skip
        await store.log_status(
            conn, document_id=row["document_id"], agency_code=row["agency_code"],
            status=ProcessingStatus.RECALL_REQUESTED.value,
            previous_status=row["status"], outcome="requested", reported_at=at,
            description=ProcessingStatus.RECALL_REQUESTED.label_vi,
        )  # fmt: skip
        assert asked.status_before_recall is not None
        await store.set_sent_status(
            conn, document_id=row["document_id"], agency_code=row["agency_code"],
            status=ProcessingStatus.RECALL_REQUESTED.value,
            status_before_recall=asked.status_before_recall.value, at=at,
            description=ProcessingStatus.RECALL_REQUESTED.label_vi,
        )  # fmt: skip
        queued += 1
    return queued


# --- the two halves of a poll ---------------------------------------------------------------------


async def flush_outbound(pool: asyncpg.Pool, adapter: ExchangeAdapter, limit: int = 100) -> int:
    """Hand queued packages to the adapter, oldest first; stops at the first failure so the
    order to each agency is kept. A crash after sending and before the commit sends that
    package again: receivers recognise it (dedupe key, repeated status)."""
    sent = 0
    while sent < limit:
        async with pool.acquire() as conn, conn.transaction():
            row = await store.next_outbound(conn)
            if row is None:
                break
            try:
                handle = await adapter.send(row["to_agency"], bytes(row["payload"]),
                                            label=row["label"])  # fmt: skip
            except Exception as error:
                log.warning("edXML package %s to %s not sent: %s", row["id"], row["to_agency"],
                            error)  # fmt: skip
                await store.mark_failed(conn, row["id"], f"{type(error).__name__}: {error}")
                break
            await store.mark_sent(conn, row["id"], handle)
        sent += 1
    return sent


async def receive_pending(
    pool: asyncpg.Pool, exchange: Exchange, limit: int = 50
) -> list[dict[str, Any]]:
    """Take what waits for us: each package is imported in its own transaction, then settled
    with the adapter (processed, or rejected with the reason)."""
    assert exchange.adapter is not None
    outcomes: list[dict[str, Any]] = []
    for package in await exchange.adapter.fetch_pending(limit):
        try:
            async with pool.acquire() as conn, conn.transaction():
                outcome = await import_package(conn, exchange, package.data, source="poller")
        except PackageRejected as rejected:
            async with pool.acquire() as conn, conn.transaction():
                await store.record_rejection(
                    conn, source="poller", handle=package.handle, code=rejected.code.value,
                    field=rejected.field, reason=rejected.reason,
                    sha256=hashlib.sha256(package.data).hexdigest(),
                )  # fmt: skip
            await exchange.adapter.acknowledge(
                package.handle, accepted=False,
                reason=f"{rejected.code.value}: {rejected.reason}\nelement: {rejected.field}",
            )  # fmt: skip
            outcomes.append({"handle": package.handle, "outcome": "rejected",
                             "code": rejected.code.value, "reason": rejected.reason})  # fmt: skip
            continue
        except Exception:
            # Not the package's fault as far as we can tell (database, a bug): leave it
            # pending and try again at the next poll.
            log.exception("edXML package %s could not be imported; left pending", package.handle)
            continue
        await exchange.adapter.acknowledge(package.handle, accepted=True)
        outcomes.append({"handle": package.handle, **outcome})
    return outcomes


async def poll_once(pool: asyncpg.Pool, exchange: Exchange) -> dict[str, Any]:
    """One round: take what arrived, queue reports of our processing, send the queue."""
    assert exchange.adapter is not None
    received = await receive_pending(pool, exchange, exchange.settings.poll_batch)
    async with pool.acquire() as conn, conn.transaction():
        reported = await queue_status_reports(conn, exchange)
        recalls = await queue_recall_requests(conn, exchange)
    sent = await flush_outbound(pool, exchange.adapter)
    return {
        "received": received,
        "reports_queued": reported,
        "recalls_queued": recalls,
        "sent": sent,
    }
