"""Events published by the documents service (the e-office).

They carry identifiers, numbers and statuses, never a document's summary, content or signer:
a secret document's summary must not travel on the bus, and consumers that need more read it
through the documents API with their own scope.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from shared.events.contracts.identity import OrgId
from shared.events.envelope import EventData

StatusCode = Literal["01", "02", "03", "04", "05", "06", "13", "15", "16"]
UrgencyCode = Literal["khan", "thuong_khan", "hoa_toc"]
SecrecyCode = Literal["mat", "toi_mat", "tuyet_mat"]


class DocumentIssued(EventData):
    """An outgoing document got its number and notation and was routed to every recipient's
    inbox in the same transaction. One event per issue, however many recipients: the
    per-recipient rows are in the documents service (GET /documents/{id}/recipients)."""

    EVENT_TYPE = "documents.document.issued"
    VERSION = 1

    document_id: uuid.UUID
    issuer_id: OrgId
    doc_type: str = Field(min_length=1, max_length=40, description="document_types key")
    number: int = Field(ge=1)
    notation: str = Field(min_length=1, max_length=100, description="e.g. 15/QĐ-SGDĐT")
    issued_on: date
    urgency: UrgencyCode | None = None
    secrecy: SecrecyCode | None = None
    business_type: Literal[0, 2, 3] = Field(description="0 new, 2 update, 3 replacement")
    replaces: uuid.UUID | None = None
    due_date: date | None = None
    recipient_count: int = Field(ge=0)
    issued_at: datetime

    def subject(self) -> str:
        return str(self.document_id)


class DocumentReceived(EventData):
    """A recipient registered the document in its incoming register (status 03) and gave it
    an arrival number: the acknowledgement of receipt owed to the sender the same day."""

    EVENT_TYPE = "documents.document.received"
    VERSION = 1

    document_id: uuid.UUID
    issuer_id: OrgId
    recipient_id: OrgId
    arrival_number: int = Field(ge=1)
    arrival_year: int = Field(ge=2000, le=2200)
    received_at: datetime

    def subject(self) -> str:
        return str(self.document_id)


class DocumentStatusChanged(EventData):
    """A document's processing status changed at a recipient (edXML status codes 02, 04, 05,
    06, 15, 16), or the sender asked for it back (13). A recall request covers every recipient
    at once: `recipient_id` is then null and `recipient_count` says how many were touched."""

    EVENT_TYPE = "documents.document.status-changed"
    VERSION = 1

    document_id: uuid.UUID
    issuer_id: OrgId
    recipient_id: OrgId | None = None
    status: StatusCode
    previous_status: StatusCode | None = None
    recipient_count: int = Field(default=1, ge=0)
    changed_at: datetime

    def subject(self) -> str:
        return str(self.document_id)


class DocumentReminded(EventData):
    """The sender reminded the recipients whose handling is overdue (a notifier can mail or
    push it). Organisation ids only."""

    EVENT_TYPE = "documents.document.reminded"
    VERSION = 1

    document_id: uuid.UUID
    issuer_id: OrgId
    recipient_ids: list[OrgId] = Field(min_length=1, max_length=20_000)
    reminded_at: datetime

    def subject(self) -> str:
        return str(self.document_id)


ReportResponseKind = Literal["form", "file"]


class ReportRequested(EventData):
    """The issuer asked a set of units for a report (a form to fill or a file to upload) by a
    deadline. The request travels as an issued công văn (`document_id`), so the units also
    find it in their inbox. Identifiers and counts only: the title and the form stay in the
    documents service (GET /report-requests/{id})."""

    EVENT_TYPE = "documents.report.requested"
    VERSION = 1

    request_id: uuid.UUID
    document_id: uuid.UUID
    issuer_id: OrgId
    response_kind: ReportResponseKind
    deadline: datetime
    target_count: int = Field(ge=1)
    requested_at: datetime

    def subject(self) -> str:
        return str(self.request_id)


class ReportSubmitted(EventData):
    """A unit submitted (or replaced) its answer to a report request. `late` is true when it
    came after the deadline; `version` counts the unit's submissions (2 = one replacement)."""

    EVENT_TYPE = "documents.report.submitted"
    VERSION = 1

    request_id: uuid.UUID
    issuer_id: OrgId
    org_id: OrgId
    version: int = Field(ge=1)
    late: bool
    submitted_at: datetime

    def subject(self) -> str:
        return str(self.request_id)
