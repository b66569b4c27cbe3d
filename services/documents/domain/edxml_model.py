"""What an edXML package carries (QCVN 102:2016/BTTTT), as plain values.

Field names follow the elements; None means "element absent" and "" means "element present
but empty", so a package survives build -> parse unchanged. Identifiers, dates and codes that
the exchange needs to route and match a document are required and refused when empty.

Not modelled: the XML signature of the envelope (signing and checking work on the serialized
bytes, outside this module) and the business detail blocks that accompany update and
replacement packages beyond their type and reason (check the operator's guidance when those
flows are built).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from services.documents.domain.numbering import Notation, format_number
from services.documents.domain.status import BusinessType, ProcessingStatus

EDXML_DATE_FORMAT = "yyyy/MM/dd"
_EDXML_DATE = re.compile(r"^([0-9]{4})/([0-9]{2})/([0-9]{2})$")


def format_edxml_date(value: date) -> str:
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def parse_edxml_date(text: str) -> date:
    """A yyyy/MM/dd date; ValueError for anything else (including unpadded fields)."""
    match = _EDXML_DATE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a date of the form {EDXML_DATE_FORMAT}")
    return date(int(match[1]), int(match[2]), int(match[3]))


class MalformedEdxml(ValueError):
    """A package that cannot be read: `path` is the element (edXML/.../PromulgationDate, with
    [n] counting repeated elements from 1) and `problem` what is wrong with it."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


def _require(value: str, what: str) -> None:
    if not value:
        raise ValueError(f"{what} must not be empty")


@dataclass(frozen=True)
class Organization:
    """From / To: an agency on the exchange, identified by its agency code (OrganId)."""

    organ_id: str
    organ_name: str
    organization_in_charge: str | None = None  # cơ quan chủ quản, in SDK samples
    organ_add: str | None = None
    email: str | None = None
    telephone: str | None = None
    fax: str | None = None
    website: str | None = None

    def __post_init__(self) -> None:
        _require(self.organ_id, "OrganId")
        _require(self.organ_name, "OrganName")


@dataclass(frozen=True)
class DocumentId:
    """`OrganId,yyyy/MM/dd,Number/Notation`: the document's identity across the exchange."""

    organ_id: str
    promulgation_date: date
    number_notation: str

    def __post_init__(self) -> None:
        _require(self.organ_id, "DocumentId organ id")
        _require(self.number_notation, "DocumentId number/notation")
        if "," in self.organ_id:
            raise ValueError(f"agency code {self.organ_id!r} contains a comma")

    def __str__(self) -> str:
        return f"{self.organ_id},{format_edxml_date(self.promulgation_date)},{self.number_notation}"


def parse_document_id(text: str) -> DocumentId:
    # The number/notation comes last and may itself hold a comma in foreign notations, so
    # split at the first two commas only.
    parts = text.split(",", 2)
    if len(parts) != 3:
        raise ValueError(f"{text!r} is not OrganId,{EDXML_DATE_FORMAT},Number/Notation")
    organ_id, promulgated, number_notation = parts
    return DocumentId(organ_id, parse_edxml_date(promulgated), number_notation)


@dataclass(frozen=True)
class DocumentCode:
    """Code: CodeNumber ("15") and CodeNotation ("QĐ-SGDĐT"), kept as text ("05" stays)."""

    number: str
    notation: str

    def __post_init__(self) -> None:
        _require(self.number, "CodeNumber")
        _require(self.notation, "CodeNotation")

    @property
    def number_notation(self) -> str:
        return f"{self.number}/{self.notation}"


def code_from_notation(notation: Notation) -> DocumentCode:
    return DocumentCode(format_number(notation.number), notation.code)


@dataclass(frozen=True)
class PromulgationInfo:
    promulgation_date: date
    place: str | None = None  # địa danh, e.g. "Hải Phòng"


@dataclass(frozen=True)
class EdxmlDocumentType:
    """DocumentType: the exchange's numeric Type code (see edxml_config) and its name."""

    type_code: str
    type_name: str | None = None

    def __post_init__(self) -> None:
        _require(self.type_code, "DocumentType/Type")


@dataclass(frozen=True)
class SignerInfo:
    full_name: str
    position: str | None = None  # chức vụ
    competence: str | None = None  # thẩm quyền ký: TM., KT., Q., TL., TUQ.


@dataclass(frozen=True)
class OtherInfo:
    priority: str | None = None  # code: see edxml_config.priority_code
    sphere_of_promulgation: str | None = None  # phạm vi ban hành
    typist: str | None = None  # ký hiệu người đánh máy
    promulgation_amount: int | None = None  # số bản phát hành
    page_amount: int | None = None  # số trang
    appendixes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("promulgation_amount", "page_amount"):
            amount = getattr(self, name)
            if amount is not None and amount < 0:
                raise ValueError(f"{name} {amount} is negative")


@dataclass(frozen=True)
class ResponseFor:
    """The document this package or status answers."""

    organ_id: str
    code: str  # number/notation: "15/QĐ-SGDĐT"
    promulgation_date: date
    document_id: DocumentId

    def __post_init__(self) -> None:
        _require(self.organ_id, "ResponseFor/OrganId")
        _require(self.code, "ResponseFor/Code")


@dataclass(frozen=True)
class MessageHeader:
    from_: Organization
    to: tuple[Organization, ...]
    document_id: DocumentId
    code: DocumentCode
    promulgation: PromulgationInfo
    document_type: EdxmlDocumentType
    subject: str  # trích yếu
    content: str | None = None
    signer: SignerInfo | None = None
    due_date: date | None = None
    to_places: tuple[str, ...] = ()  # nơi nhận as printed on the document
    other_info: OtherInfo | None = None
    response_for: tuple[ResponseFor, ...] = ()
    steering_type: str | None = None

    def __post_init__(self) -> None:
        if not self.to:
            raise ValueError("a document needs at least one recipient (To)")
        _require(self.subject, "Subject")


@dataclass(frozen=True)
class TraceHeader:
    """One hop of the package: which agency handled it and when (local time)."""

    organ_id: str
    timestamp: datetime

    def __post_init__(self) -> None:
        _require(self.organ_id, "TraceHeader/OrganId")


@dataclass(frozen=True)
class Business:
    business_type: BusinessType
    reason: str | None = None


@dataclass(frozen=True)
class TraceHeaderList:
    trace_headers: tuple[TraceHeader, ...] = ()
    business: Business | None = None


@dataclass(frozen=True)
class Attachment:
    """A file of the package; its manifest Reference is derived from it."""

    content_id: str
    name: str
    content_type: str
    data: bytes
    description: str | None = None

    def __post_init__(self) -> None:
        _require(self.content_id, "Attachment ContentId")
        _require(self.name, "AttachmentName")
        _require(self.content_type, "ContentType")


@dataclass(frozen=True)
class EdxmlDocument:
    header: MessageHeader
    trace: TraceHeaderList = TraceHeaderList()
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        ids = [attachment.content_id for attachment in self.attachments]
        if len(set(ids)) != len(ids):
            raise ValueError("two attachments share one ContentId")


@dataclass(frozen=True)
class StaffInfo:
    department: str | None = None
    staff: str | None = None
    mobile: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class StatusMessage:
    """A receiver's report on a document it received (or the sender's recall request)."""

    response_for: ResponseFor
    from_: Organization
    status: ProcessingStatus
    timestamp: datetime
    description: str | None = None
    staff: StaffInfo | None = None
