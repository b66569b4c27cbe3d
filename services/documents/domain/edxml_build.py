"""Write edXML packages (QCVN 102:2016/BTTTT): see edxml.py for the layout."""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET
import zipfile

from services.documents.domain.edxml_config import DEFAULT_CONFIG, EdxmlConfig
from services.documents.domain.edxml_model import (
    Attachment,
    EdxmlDocument,
    MessageHeader,
    Organization,
    OtherInfo,
    ResponseFor,
    StatusMessage,
    TraceHeaderList,
    format_edxml_date,
)
from services.documents.domain.edxml_names import (
    BUSINESS_ELEMENTS,
    BUSINESS_REASON_ELEMENTS,
    BUSINESS_TYPE_ELEMENTS,
    TRANSFER_ENCODING,
    local_name,
    qualified,
)


def _sub(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, qualified(name))
    element.text = text
    return element


def _optional(parent: ET.Element, name: str, text: str | None) -> None:
    # None leaves the element out; "" writes it empty. Parsing reads them back the same way.
    if text is not None:
        _sub(parent, name, text)


def _root_and_envelope(config: EdxmlConfig) -> tuple[ET.Element, ET.Element]:
    if config.wrap_in_edxml_root:
        root = ET.Element(qualified("edXML"))
        return root, _sub(root, "edXMLEnvelope")
    envelope = ET.Element(qualified("edXMLEnvelope"))
    return envelope, envelope


def _write_organization(parent: ET.Element, name: str, org: Organization) -> None:
    element = _sub(parent, name)
    _sub(element, "OrganId", org.organ_id)
    _optional(element, "OrganizationInCharge", org.organization_in_charge)
    _sub(element, "OrganName", org.organ_name)
    _optional(element, "OrganAdd", org.organ_add)
    _optional(element, "Email", org.email)
    _optional(element, "Telephone", org.telephone)
    _optional(element, "Fax", org.fax)
    _optional(element, "Website", org.website)


def _write_response_for(parent: ET.Element, response: ResponseFor) -> None:
    element = _sub(parent, "ResponseFor")
    _sub(element, "OrganId", response.organ_id)
    _sub(element, "Code", response.code)
    _sub(element, "PromulgationDate", format_edxml_date(response.promulgation_date))
    _sub(element, "DocumentId", str(response.document_id))


def _write_other_info(parent: ET.Element, info: OtherInfo, config: EdxmlConfig) -> None:
    element = _sub(parent, "OtherInfo")
    _optional(element, "Priority", info.priority)
    _optional(element, "SphereOfPromulgation", info.sphere_of_promulgation)
    _optional(element, config.typist_element, info.typist)
    for name, amount in (
        ("PromulgationAmount", info.promulgation_amount),
        ("PageAmount", info.page_amount),
    ):
        _optional(element, name, None if amount is None else str(amount))
    if info.appendixes:
        appendixes = _sub(element, "Appendixes")
        for appendix in info.appendixes:
            _sub(appendixes, "Appendix", appendix)


def _write_message_header(parent: ET.Element, header: MessageHeader, config: EdxmlConfig) -> None:
    # Element order of the SDK samples: an XSD sequence may depend on it.
    element = _sub(parent, "MessageHeader")
    _write_organization(element, "From", header.from_)
    for recipient in header.to:
        _write_organization(element, "To", recipient)
    code = _sub(element, "Code")
    _sub(code, "CodeNumber", header.code.number)
    _sub(code, "CodeNotation", header.code.notation)
    promulgation = _sub(element, "PromulgationInfo")
    _optional(promulgation, "Place", header.promulgation.place)
    _sub(promulgation, "PromulgationDate", format_edxml_date(header.promulgation.promulgation_date))
    document_type = _sub(element, "DocumentType")
    _sub(document_type, "Type", header.document_type.type_code)
    _optional(document_type, "TypeName", header.document_type.type_name)
    _sub(element, "Subject", header.subject)
    _optional(element, "Content", header.content)
    if header.signer is not None:
        signer = _sub(element, "SignerInfo")
        _optional(signer, "Competence", header.signer.competence)
        _optional(signer, "Position", header.signer.position)
        _sub(signer, "FullName", header.signer.full_name)
    if header.due_date is not None:
        _sub(element, "DueDate", format_edxml_date(header.due_date))
    if header.to_places:
        places = _sub(element, "ToPlaces")
        for place in header.to_places:
            _sub(places, "Place", place)
    if header.other_info is not None:
        _write_other_info(element, header.other_info, config)
    for response in header.response_for:
        _write_response_for(element, response)
    _optional(element, "SteeringType", header.steering_type)
    _sub(element, "DocumentId", str(header.document_id))


def _write_trace(parent: ET.Element, trace: TraceHeaderList, config: EdxmlConfig) -> None:
    element = _sub(parent, "TraceHeaderList")
    for hop in trace.trace_headers:
        trace_header = _sub(element, "TraceHeader")
        _sub(trace_header, "OrganId", hop.organ_id)
        _sub(trace_header, "Timestamp", hop.timestamp.strftime(config.timestamp_format))
    if trace.business is not None:
        business = _sub(element, BUSINESS_ELEMENTS[0])
        _sub(business, BUSINESS_TYPE_ELEMENTS[0], str(int(trace.business.business_type)))
        _optional(business, BUSINESS_REASON_ELEMENTS[0], trace.business.reason)


def _zip_entry_name(name: str) -> str:
    # A slash would make the entry a directory or a path; the receiver needs only the file.
    flat = name.replace("/", "_").replace("\\", "_")
    return flat or "attachment"


def _zip(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # A fixed timestamp keeps the package bytes reproducible.
        entry = zipfile.ZipInfo(_zip_entry_name(name), date_time=(1980, 1, 1, 0, 0, 0))
        entry.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(entry, data)
    return buffer.getvalue()


def _write_attachments(
    parent: ET.Element, attachments: tuple[Attachment, ...], config: EdxmlConfig
) -> None:
    encoded = _sub(parent, "AttachmentEncoded")
    for attachment in attachments:
        if len(attachment.data) > config.max_attachment_bytes:
            raise ValueError(
                f"attachment {attachment.name!r} has {len(attachment.data)} bytes, over the "
                f"{config.max_attachment_bytes}-byte limit"
            )
        payload = (
            _zip(attachment.name, attachment.data) if config.zip_attachments else (attachment.data)
        )
        element = _sub(encoded, "Attachment")
        _sub(element, "ContentId", attachment.content_id)
        _sub(element, "ContentType", attachment.content_type)
        if config.emit_transfer_encoding:
            _sub(element, "ContentTransferEncoding", TRANSFER_ENCODING)
        _optional(element, "Description", attachment.description)
        _sub(element, "AttachmentName", attachment.name)
        _sub(element, config.attachment_data_element, base64.b64encode(payload).decode("ascii"))


# XML 1.0 cannot carry these characters at all, not even as character references.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _check_texts(element: ET.Element, path: str) -> None:
    bad = _NOT_IN_XML.search(element.text or "")
    if bad is not None:
        raise ValueError(f"{path}: character U+{ord(bad.group()):04X} cannot be carried in XML")
    for child in element:
        _check_texts(child, f"{path}/{local_name(child.tag)}")


def _serialize(root: ET.Element) -> bytes:
    _check_texts(root, local_name(root.tag))
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    # ElementTree writes a carriage return in text as is, and every parser turns it into a
    # line feed. As a character reference it survives. Only text can hold a raw CR here (no
    # attributes are written), and byte 0x0D never occurs inside a UTF-8 multi-byte sequence.
    return data.replace(b"\r", b"&#13;")


def build_document(document: EdxmlDocument, config: EdxmlConfig = DEFAULT_CONFIG) -> bytes:
    """The package of a document with its attachments, as UTF-8 bytes.

    ValueError for content no package can carry: an attachment over the size limit, or a
    control character XML cannot hold (the message names the element).
    """
    root, envelope = _root_and_envelope(config)
    header = _sub(envelope, "edXMLHeader")
    _write_message_header(header, document.header, config)
    _write_trace(header, document.trace, config)
    manifest = _sub(_sub(envelope, "edXMLBody"), "edXMLManifest")
    for attachment in document.attachments:
        reference = _sub(manifest, "Reference")
        _sub(reference, "ContentId", attachment.content_id)
        _sub(reference, "ContentType", attachment.content_type)
        _optional(reference, "Description", attachment.description)
        _sub(reference, "AttachmentName", attachment.name)
    if document.attachments:
        _write_attachments(root, document.attachments, config)
    return _serialize(root)


def build_status(message: StatusMessage, config: EdxmlConfig = DEFAULT_CONFIG) -> bytes:
    """The package of a status report on a document (StatusCode 01 ... 16)."""
    root, envelope = _root_and_envelope(config)
    status = _sub(_sub(envelope, "edXMLHeader"), "Status")
    _write_response_for(status, message.response_for)
    _write_organization(status, "From", message.from_)
    _sub(status, "StatusCode", message.status.value)
    _optional(status, "Description", message.description)
    _sub(status, "Timestamp", message.timestamp.strftime(config.timestamp_format))
    if message.staff is not None:
        staff = _sub(status, "StaffInfo")
        _optional(staff, "Department", message.staff.department)
        _optional(staff, "Staff", message.staff.staff)
        _optional(staff, "Mobile", message.staff.mobile)
        _optional(staff, "Email", message.staff.email)
    _sub(envelope, "edXMLBody")
    return _serialize(root)
