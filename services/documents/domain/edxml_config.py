"""Settings of the edXML exchange that the standard leaves open or that we could not confirm.

QCVN 102:2016/BTTTT fixes the element names of the envelope; the axis operator's SDK and its
sample packages fix the rest (the root wrapper, the element that carries the base64 data,
whether attachments are zipped). We built from public implementations of that SDK, not from
the operator's current specification, so every default below is marked "check": confirm them
against the operator's sample packages before connecting to the national axis, and override
them per deployment rather than editing code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from services.documents.domain.classification import Urgency
from services.documents.domain.document_types import DocumentType

QCVN_102_NAMESPACE = "http://www.mic.gov.vn/TBT/QCVN_102_2016"

# check: priority 0-4 as remembered from the exchange guidance (0 thường, 1 khẩn, 2 thượng
# khẩn, 3 hỏa tốc; 4 "hỏa tốc hẹn giờ", timed express, has no urgency of its own in Decree 30
# and is read back as hỏa tốc). DOMAIN.md lists these codes as uncertain.
DEFAULT_PRIORITY_CODES: Mapping[Urgency | None, str] = MappingProxyType(
    {None: "0", Urgency.KHAN: "1", Urgency.THUONG_KHAN: "2", Urgency.HOA_TOC: "3"}
)
DEFAULT_EXTRA_PRIORITY_READINGS: Mapping[str, Urgency | None] = MappingProxyType(
    {"4": Urgency.HOA_TOC}
)


@dataclass(frozen=True)
class EdxmlConfig:
    # check: SDK sample packages put <edXMLEnvelope> and <AttachmentEncoded> side by side
    # under a root <edXML>. False writes a bare <edXMLEnvelope> holding AttachmentEncoded.
    # Parsing accepts both layouts whatever this says.
    wrap_in_edxml_root: bool = True
    # check: the operator's SDK zips each attachment before base64; off until confirmed.
    # Parsing follows this flag rather than sniffing, since a .docx is itself a zip.
    zip_attachments: bool = False
    # check: the axis' size limit per attachment (decoded, after unzipping).
    max_attachment_bytes: int = 20 * 1024 * 1024
    # check: public SDK-based code carries the base64 text in <ContentTransferEncoded>.
    attachment_data_element: str = "ContentTransferEncoded"
    # Also write <ContentTransferEncoding>base64</ContentTransferEncoding>; parsing accepts
    # the element when absent and refuses any other encoding when present.
    emit_transfer_encoding: bool = True
    # check: SDK samples name the typist element <TyperNotation>; some texts say
    # <TypistNumber>. Parsing accepts both.
    typist_element: str = "TyperNotation"
    # check: TraceHeader and Status timestamps as written by SDK samples (local time, UTC+7).
    timestamp_format: str = "%Y/%m/%d %H:%M:%S"
    # check: numeric DocumentType/Type codes per document type key (document_types.py). Left
    # empty on purpose: the code list is uncertain (DOMAIN.md), so a deployment must supply
    # it. One public SDK-based builder sends 18 for công văn; that is the only sample we saw.
    document_type_codes: Mapping[str, str] = field(default_factory=dict)
    priority_codes: Mapping[Urgency | None, str] = field(
        default_factory=lambda: DEFAULT_PRIORITY_CODES
    )
    extra_priority_readings: Mapping[str, Urgency | None] = field(
        default_factory=lambda: DEFAULT_EXTRA_PRIORITY_READINGS
    )

    def __post_init__(self) -> None:
        if self.max_attachment_bytes < 1:
            raise ValueError("max_attachment_bytes must be positive")
        codes = list(self.priority_codes.values())
        if len(set(codes)) != len(codes):
            raise ValueError("two urgencies share one priority code")


DEFAULT_CONFIG = EdxmlConfig()


class UnmappedDocumentType(KeyError):
    def __init__(self, doc_type: DocumentType) -> None:
        self.doc_type = doc_type
        super().__init__(
            f"no edXML Type code configured for {doc_type.name_vi} ({doc_type.key}); set "
            "EdxmlConfig.document_type_codes"
        )


def edxml_type_code(doc_type: DocumentType, config: EdxmlConfig = DEFAULT_CONFIG) -> str:
    """The numeric Type code the exchange uses for this document type, from configuration."""
    try:
        return config.document_type_codes[doc_type.key]
    except KeyError:
        raise UnmappedDocumentType(doc_type) from None


def priority_code(urgency: Urgency | None, config: EdxmlConfig = DEFAULT_CONFIG) -> str:
    """The OtherInfo/Priority code for an urgency (None: an ordinary document)."""
    return config.priority_codes[urgency]


def urgency_of_priority(code: str, config: EdxmlConfig = DEFAULT_CONFIG) -> Urgency | None:
    """The urgency a received Priority code stands for; ValueError for an unknown code."""
    for urgency, known in config.priority_codes.items():
        if known == code:
            return urgency
    if code in config.extra_priority_readings:
        return config.extra_priority_readings[code]
    raise ValueError(f"unknown edXML priority code {code!r}")
