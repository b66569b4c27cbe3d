"""Between the documents store's view of a document and edXML packages: pure, no IO.

- An issued document becomes an EdxmlDocument (MessageHeader fields of DOMAIN.md, the signed
  PDF first, then the other attachments).
- A received package becomes a registration request for the incoming register, or a
  PackageRejected naming why (malformed, not a PDF, too large, not addressed to us).
- A processing status change of a received document becomes a StatusMessage to its sender,
  and a received StatusMessage becomes an update of one recipient of our outgoing document.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.documents.domain.classification import Secrecy, Urgency
from services.documents.domain.document_types import document_type
from services.documents.domain.edxml import (
    Attachment,
    Business,
    DocumentCode,
    DocumentId,
    EdxmlConfig,
    EdxmlDocument,
    EdxmlDocumentType,
    MalformedEdxml,
    MessageHeader,
    Organization,
    OtherInfo,
    PromulgationInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusMessage,
    TraceHeader,
    TraceHeaderList,
    UnmappedDocumentType,
    edxml_type_code,
    parse_document_id,
    parse_edxml,
    priority_code,
    urgency_of_priority,
)
from services.documents.domain.numbering import InvalidNotation, format_number, parse_notation
from services.documents.domain.status import BusinessType, ProcessingStatus
from services.documents.files import is_pdf

PDF_TYPE = "application/pdf"
MAIN_CONTENT_ID = "main"


@dataclass(frozen=True)
class Party:
    """An agency on the exchange: its code (OrganId) and name."""

    agency_code: str
    name: str
    organization_in_charge: str | None = None


@dataclass(frozen=True)
class FileContent:
    name: str
    content_type: str
    data: bytes
    description: str | None = None


@dataclass(frozen=True)
class IssuedDocumentView:
    """What the exchange needs of an issued outgoing document (filled from the store)."""

    document_id: str
    sender: Party
    recipients: tuple[Party, ...]  # the external agencies it goes to over the axis
    number: int
    code: str  # the notation without its number: "QĐ-SGDĐT", "SGDĐT-VP"
    issued_on: date
    doc_type_key: str
    subject: str
    main_file: FileContent | None  # the signed PDF
    attachments: tuple[FileContent, ...] = ()
    place: str | None = None
    content: str | None = None
    signer_name: str | None = None
    signer_position: str | None = None
    signer_competence: str | None = None
    due_date: date | None = None
    urgency: Urgency | None = None
    secrecy: Secrecy | None = None
    to_places: tuple[str, ...] = ()
    steering_type: str | None = None
    page_amount: int | None = None
    promulgation_amount: int | None = None
    business: BusinessType = BusinessType.NEW
    business_reason: str | None = None
    # The document an update or replacement follows (ResponseFor), as its sender knows it.
    replaces: ReceivedDocumentRef | None = None

    @property
    def number_notation(self) -> str:
        return f"{format_number(self.number)}/{self.code}"

    @property
    def edxml_document_id(self) -> DocumentId:
        return DocumentId(self.sender.agency_code, self.issued_on, self.number_notation)


class ExportRefused(ValueError):
    """The document cannot go out as a package: `field` names what stops it."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def _organization(party: Party) -> Organization:
    return Organization(party.agency_code, party.name, party.organization_in_charge)


def to_edxml(
    view: IssuedDocumentView,
    config: EdxmlConfig,
    *,
    sent_at: datetime,
    recipients: Collection[str] | None = None,
) -> EdxmlDocument:
    """The package of an issued document, addressed to all its external recipients (or to
    the agency codes in `recipients`). `sent_at` is local time, as TraceHeader carries it."""
    if view.secrecy is not None:
        # The Law on Protection of State Secrets allows secret documents only over channels
        # encrypted with the cipher sector's means; the axis is not one of them.
        raise ExportRefused(
            "secrecy", f"a {view.secrecy.label_vi} document is not sent over the document axis"
        )
    if view.main_file is None:
        raise ExportRefused("main_file", "the document has no signed PDF to send")
    if not is_pdf(view.main_file.data):
        raise ExportRefused("main_file", f"{view.main_file.name!r} is not a PDF")
    to = tuple(
        party for party in view.recipients if recipients is None or party.agency_code in recipients
    )
    if not to:
        raise ExportRefused("recipients", "the document has no recipient with an agency code")
    try:
        type_code = edxml_type_code(document_type(view.doc_type_key), config)
    except UnmappedDocumentType as error:
        raise ExportRefused("doc_type", str(error.args[0])) from None
    files = [
        Attachment(MAIN_CONTENT_ID, view.main_file.name, PDF_TYPE, view.main_file.data,
                   view.main_file.description or "Văn bản chính"),
        *(
            Attachment(f"att-{n}", f.name, f.content_type, f.data, f.description)
            for n, f in enumerate(view.attachments, 1)
        ),
    ]  # fmt: skip
    for file in files:
        if len(file.data) > config.max_attachment_bytes:
            raise ExportRefused(
                "attachments",
                f"{file.name!r} has {len(file.data)} bytes, over the "
                f"{config.max_attachment_bytes}-byte limit",
            )
    signer = (
        SignerInfo(view.signer_name, view.signer_position, view.signer_competence)
        if view.signer_name
        else None
    )
    header = MessageHeader(
        from_=_organization(view.sender),
        to=tuple(_organization(party) for party in to),
        document_id=view.edxml_document_id,
        code=DocumentCode(format_number(view.number), view.code),
        promulgation=PromulgationInfo(view.issued_on, view.place),
        document_type=EdxmlDocumentType(type_code, document_type(view.doc_type_key).name_vi),
        subject=view.subject,
        content=view.content,
        signer=signer,
        due_date=view.due_date,
        to_places=view.to_places,
        other_info=OtherInfo(
            priority=priority_code(view.urgency, config),
            page_amount=view.page_amount,
            promulgation_amount=view.promulgation_amount,
        ),
        steering_type=view.steering_type,
        response_for=(_response_for(view.replaces),) if view.replaces is not None else (),
    )
    trace = TraceHeaderList(
        (TraceHeader(view.sender.agency_code, sent_at),),
        Business(view.business, view.business_reason),
    )
    return EdxmlDocument(header, trace, tuple(files))


# --- receiving ---------------------------------------------------------------------------------


class RejectionCode(StrEnum):
    MALFORMED = "malformed"
    NOT_PDF = "not_pdf"
    NO_MAIN_DOCUMENT = "no_main_document"
    ATTACHMENT_TOO_LARGE = "attachment_too_large"
    UNKNOWN_RECIPIENT = "unknown_recipient"
    UNKNOWN_DOCUMENT = "unknown_document"
    NOT_EXPECTED = "not_expected"


class PackageRejected(ValueError):
    """A package we refuse: `code` for machines, `reason` for the people who sent it, `field`
    the element or part at fault."""

    def __init__(self, code: RejectionCode, field: str, reason: str) -> None:
        self.code = code
        self.field = field
        self.reason = reason
        super().__init__(f"{code.value}: {field}: {reason}")


@dataclass(frozen=True)
class IncomingRegistration:
    """What the incoming register needs to record a received package."""

    edxml_document_id: str  # "OrganId,yyyy/MM/dd,Number/Notation": the dedupe key
    sender: Party
    addressed_to: tuple[str, ...]  # our agency codes among the package's To
    number_notation: str
    code_number: str
    code_notation: str
    promulgated_on: date
    doc_type_key: str | None  # None when neither the Type code nor the notation tells
    doc_type_name: str | None
    subject: str
    main_file: FileContent
    attachments: tuple[FileContent, ...]
    place: str | None = None
    content: str | None = None
    signer_name: str | None = None
    signer_position: str | None = None
    signer_competence: str | None = None
    due_date: date | None = None
    urgency: Urgency | None = None
    business: BusinessType = BusinessType.NEW
    business_reason: str | None = None
    sent_at: datetime | None = None
    # ResponseFor of the header: the documents an update or replacement follows.
    responds_to: tuple[ReceivedDocumentRef, ...] = ()


def _type_key(header: MessageHeader, config: EdxmlConfig) -> str | None:
    for key, code in config.document_type_codes.items():
        if code == header.document_type.type_code:
            return key
    try:
        return parse_notation(header.code.number_notation).doc_type.key
    except InvalidNotation:
        return None


def _too_large(error: MalformedEdxml) -> bool:
    return "-byte limit" in error.problem


def parse_package(data: bytes, config: EdxmlConfig) -> EdxmlDocument | StatusMessage:
    """Either kind of package, or PackageRejected naming the element at fault."""
    try:
        return parse_edxml(data, config)
    except MalformedEdxml as error:
        code = RejectionCode.ATTACHMENT_TOO_LARGE if _too_large(error) else RejectionCode.MALFORMED
        raise PackageRejected(code, error.path, error.problem) from None


def registration_from_edxml(
    document: EdxmlDocument, config: EdxmlConfig, our_agencies: Collection[str]
) -> IncomingRegistration:
    """The registration of a received document package, or PackageRejected."""
    header = document.header
    ours = tuple(org.organ_id for org in header.to if org.organ_id in our_agencies)
    if not ours:
        addressed = ", ".join(org.organ_id for org in header.to)
        raise PackageRejected(
            RejectionCode.UNKNOWN_RECIPIENT,
            "MessageHeader/To",
            f"addressed to {addressed}, none of which is an agency served here",
        )
    if not document.attachments:
        raise PackageRejected(
            RejectionCode.NO_MAIN_DOCUMENT, "AttachmentEncoded", "the package carries no document"
        )
    main, *others = document.attachments
    if not is_pdf(main.data):
        raise PackageRejected(
            RejectionCode.NOT_PDF,
            f"AttachmentEncoded/Attachment[1] ({main.name})",
            f"the main document must be a PDF; {main.name!r} ({main.content_type}) is not",
        )
    for attachment in document.attachments:
        if len(attachment.data) > config.max_attachment_bytes:
            raise PackageRejected(
                RejectionCode.ATTACHMENT_TOO_LARGE,
                f"AttachmentEncoded/Attachment ({attachment.name})",
                f"{len(attachment.data)} bytes, over the {config.max_attachment_bytes}-byte limit",
            )
    if header.document_id.organ_id != header.from_.organ_id:
        raise PackageRejected(
            RejectionCode.MALFORMED,
            "MessageHeader/DocumentId",
            f"names agency {header.document_id.organ_id}, but the package is From "
            f"{header.from_.organ_id}",
        )
    urgency = None
    priority = header.other_info.priority if header.other_info else None
    if priority:
        try:
            urgency = urgency_of_priority(priority, config)
        except ValueError as error:
            raise PackageRejected(
                RejectionCode.MALFORMED, "MessageHeader/OtherInfo/Priority", str(error)
            ) from None
    signer = header.signer
    business = document.trace.business
    sent_at = max((hop.timestamp for hop in document.trace.trace_headers), default=None)
    return IncomingRegistration(
        edxml_document_id=str(header.document_id),
        sender=Party(
            header.from_.organ_id, header.from_.organ_name, header.from_.organization_in_charge
        ),
        addressed_to=ours,
        number_notation=header.code.number_notation,
        code_number=header.code.number,
        code_notation=header.code.notation,
        promulgated_on=header.promulgation.promulgation_date,
        doc_type_key=_type_key(header, config),
        doc_type_name=header.document_type.type_name,
        subject=header.subject,
        main_file=_file(main),
        attachments=tuple(_file(a) for a in others),
        place=header.promulgation.place,
        content=header.content,
        signer_name=signer.full_name if signer else None,
        signer_position=signer.position if signer else None,
        signer_competence=signer.competence if signer else None,
        due_date=header.due_date,
        urgency=urgency,
        business=business.business_type if business else BusinessType.NEW,
        business_reason=business.reason if business else None,
        sent_at=sent_at,
        responds_to=tuple(
            ReceivedDocumentRef(r.organ_id, str(r.document_id), r.code, r.promulgation_date)
            for r in header.response_for
        ),
    )


def _file(attachment: Attachment) -> FileContent:
    return FileContent(
        attachment.name, attachment.content_type, attachment.data, attachment.description
    )


# --- status messages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedDocumentRef:
    """How a received document is known to its sender: enough to answer it."""

    sender_agency: str
    edxml_document_id: str
    number_notation: str
    promulgated_on: date


def _response_for(document: ReceivedDocumentRef) -> ResponseFor:
    return ResponseFor(
        document.sender_agency,
        document.number_notation,
        document.promulgated_on,
        parse_document_id(document.edxml_document_id),
    )


def status_message(
    received: ReceivedDocumentRef,
    us: Party,
    status: ProcessingStatus,
    *,
    at: datetime,
    description: str | None = None,
    staff: StaffInfo | None = None,
) -> StatusMessage:
    """The status message telling the sender where its document stands with us."""
    return StatusMessage(
        response_for=_response_for(received),
        from_=_organization(us),
        status=status,
        timestamp=at,
        description=description if description is not None else status.label_vi,
        staff=staff,
    )


@dataclass(frozen=True)
class RecipientStatusUpdate:
    """A recipient's report on one of our outgoing documents."""

    edxml_document_id: str
    number_notation: str
    recipient_agency: str
    recipient_name: str
    status: ProcessingStatus
    at: datetime
    description: str | None


@dataclass(frozen=True)
class RecallRequest:
    """The issuer of a document we received asks for it back (status 13, or a document
    package of business type 1)."""

    edxml_document_id: str
    sender_agency: str
    at: datetime | None
    description: str | None


def recall_request_from_status(message: StatusMessage) -> RecallRequest:
    """Status 13 about a document of another agency: only its issuer may send it."""
    document_id = message.response_for.document_id
    if message.from_.organ_id != document_id.organ_id:
        raise PackageRejected(
            RejectionCode.NOT_EXPECTED,
            "Status/From",
            f"{message.from_.organ_id} asks to recall {document_id}, which "
            f"{document_id.organ_id} issued: only the issuer recalls a document",
        )
    return RecallRequest(
        str(document_id), message.from_.organ_id, message.timestamp, message.description
    )


def recipient_update_from_status(
    message: StatusMessage, our_agencies: Collection[str]
) -> RecipientStatusUpdate:
    """The update a received status message makes to our outgoing document, or
    PackageRejected when it is not about a document of ours."""
    document_id = message.response_for.document_id
    if document_id.organ_id not in our_agencies:
        raise PackageRejected(
            RejectionCode.UNKNOWN_DOCUMENT,
            "Status/ResponseFor/DocumentId",
            f"{document_id} was not issued by an agency served here",
        )
    if message.status in (ProcessingStatus.RECALL_REQUESTED,):
        # 13 comes from a sender asking for its document back, never from a recipient.
        raise PackageRejected(
            RejectionCode.NOT_EXPECTED,
            "Status/StatusCode",
            "status 13 (recall requested) is sent by the issuer, not by a recipient",
        )
    return RecipientStatusUpdate(
        edxml_document_id=str(document_id),
        number_notation=message.response_for.code,
        recipient_agency=message.from_.organ_id,
        recipient_name=message.from_.organ_name,
        status=message.status,
        at=message.timestamp,
        description=message.description,
    )
