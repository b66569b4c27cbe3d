"""Build and parse edXML packages (QCVN 102:2016/BTTTT) with xml.etree.ElementTree only.

A document package:

    edXML                                   (root wrapper; see EdxmlConfig.wrap_in_edxml_root)
      edXMLEnvelope
        edXMLHeader
          MessageHeader   From, To+, Code, PromulgationInfo, DocumentType, Subject, Content,
                          SignerInfo, DueDate, ToPlaces, OtherInfo, ResponseFor*, SteeringType,
                          DocumentId
          TraceHeaderList TraceHeader* (OrganId, Timestamp), Bussiness (type, reason)
        edXMLBody
          edXMLManifest   Reference* (ContentId, ContentType, Description, AttachmentName)
      AttachmentEncoded   Attachment* (ContentId, ContentType, ContentTransferEncoding,
                          Description, AttachmentName, base64 data)

A status package has `Status` (ResponseFor, From, StatusCode, Description, Timestamp,
StaffInfo) in place of MessageHeader and TraceHeaderList.

Every element is written in the QCVN 102 namespace with the `edXML` prefix the SDK samples use.
Reading is lenient where implementations differ (un-namespaced elements, element order, a
"cid:" prefix on manifest ids, the Business/Bussiness spelling, TyperNotation/TypistNumber) and
strict where a wrong value would misfile a document (dates, codes, base64, sizes, manifest
entries without data). Every refusal is a MalformedEdxml naming the element path.
"""

from __future__ import annotations

from services.documents.domain.edxml_build import build_document, build_status
from services.documents.domain.edxml_config import (
    DEFAULT_CONFIG,
    QCVN_102_NAMESPACE,
    EdxmlConfig,
    UnmappedDocumentType,
    edxml_type_code,
    priority_code,
    urgency_of_priority,
)
from services.documents.domain.edxml_model import (
    Attachment,
    Business,
    DocumentCode,
    DocumentId,
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
    code_from_notation,
    parse_document_id,
)
from services.documents.domain.edxml_parse import parse_document, parse_edxml, parse_status

__all__ = [
    "DEFAULT_CONFIG",
    "QCVN_102_NAMESPACE",
    "Attachment",
    "Business",
    "DocumentCode",
    "DocumentId",
    "EdxmlConfig",
    "EdxmlDocument",
    "EdxmlDocumentType",
    "MalformedEdxml",
    "MessageHeader",
    "Organization",
    "OtherInfo",
    "PromulgationInfo",
    "ResponseFor",
    "SignerInfo",
    "StaffInfo",
    "StatusMessage",
    "TraceHeader",
    "TraceHeaderList",
    "UnmappedDocumentType",
    "build_document",
    "build_status",
    "code_from_notation",
    "edxml_type_code",
    "parse_document",
    "parse_document_id",
    "parse_edxml",
    "parse_status",
    "priority_code",
    "urgency_of_priority",
]
