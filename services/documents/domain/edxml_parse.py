"""Read edXML packages (QCVN 102:2016/BTTTT): see edxml.py for the layout and the policy.

Lenient where implementations differ, strict where a wrong value would misfile a document;
every refusal is a MalformedEdxml naming the element path.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from services.documents.domain.edxml_config import DEFAULT_CONFIG, EdxmlConfig
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
    parse_document_id,
    parse_edxml_date,
)
from services.documents.domain.edxml_names import (
    BUSINESS_ELEMENTS,
    BUSINESS_REASON_ELEMENTS,
    BUSINESS_TYPE_ELEMENTS,
    NS,
    TRANSFER_ENCODING,
    TYPIST_ELEMENTS,
    local_name,
    qualified,
)
from services.documents.domain.status import BusinessType, ProcessingStatus

T = TypeVar("T")


class _DoctypeRefused(Exception):
    pass


class _NoDoctype(ET.TreeBuilder):
    # A package has no business declaring entities; refusing any DOCTYPE shuts out entity
    # expansion attacks whatever the expat version does about them.
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _DoctypeRefused


class _Node:
    """An element with its path from the root, for error messages."""

    def __init__(self, element: ET.Element, path: str) -> None:
        self.element = element
        self.path = path

    @staticmethod
    def _is(element: ET.Element, names: tuple[str, ...]) -> bool:
        # The QCVN namespace or none at all: some SDKs write AttachmentEncoded un-namespaced.
        tag = element.tag
        return any(tag == qualified(name) or tag == name for name in names)

    def find(self, *names: str) -> _Node | None:
        for child in self.element:
            if self._is(child, names):
                return _Node(child, f"{self.path}/{local_name(child.tag)}")
        return None

    def find_all(self, name: str) -> list[_Node]:
        matches = [child for child in self.element if self._is(child, (name,))]
        return [_Node(child, f"{self.path}/{name}[{n}]") for n, child in enumerate(matches, 1)]

    def require(self, *names: str) -> _Node:
        node = self.find(*names)
        if node is None:
            raise MalformedEdxml(f"{self.path}/{names[0]}", "missing required element")
        return node

    @property
    def text(self) -> str:
        return self.element.text or ""

    def optional_text(self, *names: str) -> str | None:
        node = self.find(*names)
        return None if node is None else node.text

    def required_text(self, *names: str) -> str:
        node = self.require(*names)
        if not node.text:
            raise MalformedEdxml(node.path, "required element is empty")
        return node.text


def _convert(node: _Node, convert: Callable[[str], T], expected: str) -> T:
    try:
        return convert(node.text)
    except ValueError:
        raise MalformedEdxml(node.path, f"bad {expected}: {node.text!r}") from None


def _date(node: _Node) -> date:
    return _convert(node, parse_edxml_date, "date (expected yyyy/MM/dd)")


def _optional_date(parent: _Node, name: str) -> date | None:
    node = parent.find(name)
    return None if node is None else _date(node)


def _timestamp(node: _Node, config: EdxmlConfig) -> datetime:
    def parse(text: str) -> datetime:
        value = datetime.strptime(text, config.timestamp_format)
        # strptime accepts unpadded fields; the exchange writes them padded.
        if value.strftime(config.timestamp_format) != text:
            raise ValueError(text)
        return value

    return _convert(node, parse, f"timestamp (expected {config.timestamp_format})")


def _amount(parent: _Node, name: str) -> int | None:
    node = parent.find(name)
    if node is None:
        return None

    def whole(text: str) -> int:
        if not re.fullmatch(r"[0-9]+", text):
            raise ValueError(text)
        return int(text)

    return _convert(node, whole, "count (expected a whole number)")


def _make(path: str, factory: Callable[..., T], *args: object, **kwargs: object) -> T:
    # The model re-checks what it requires (non-empty ids, ...); report it at the element.
    try:
        return factory(*args, **kwargs)
    except ValueError as error:
        raise MalformedEdxml(path, str(error)) from None


def _open(data: bytes) -> tuple[_Node, _Node]:
    """The root and the edXMLEnvelope of a package."""
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(data)
        root_element = parser.close()
    except _DoctypeRefused:
        raise MalformedEdxml("(document)", "DOCTYPE declarations are not accepted") from None
    except ET.ParseError as error:
        raise MalformedEdxml("(document)", f"not well-formed XML: {error}") from None
    name = local_name(root_element.tag)
    root = _Node(root_element, name)
    if root_element.tag not in (qualified(name), name):
        raise MalformedEdxml(name, f"root element is not in the namespace {NS}")
    if name == "edXMLEnvelope":
        return root, root
    if name == "edXML":
        return root, root.require("edXMLEnvelope")
    raise MalformedEdxml(name, "root element must be edXML or edXMLEnvelope")


def _organization(node: _Node) -> Organization:
    return _make(
        node.path,
        Organization,
        organ_id=node.required_text("OrganId"),
        organ_name=node.required_text("OrganName"),
        organization_in_charge=node.optional_text("OrganizationInCharge"),
        organ_add=node.optional_text("OrganAdd"),
        email=node.optional_text("Email"),
        telephone=node.optional_text("Telephone"),
        fax=node.optional_text("Fax"),
        website=node.optional_text("Website"),
    )


def _document_id(node: _Node) -> DocumentId:
    return _convert(
        node, parse_document_id, "DocumentId (expected OrganId,yyyy/MM/dd,Number/Notation)"
    )


def _response_for(node: _Node) -> ResponseFor:
    return _make(
        node.path,
        ResponseFor,
        organ_id=node.required_text("OrganId"),
        code=node.required_text("Code"),
        promulgation_date=_date(node.require("PromulgationDate")),
        document_id=_document_id(node.require("DocumentId")),
    )


def _other_info(node: _Node, config: EdxmlConfig) -> OtherInfo:
    typist_names = (config.typist_element, *TYPIST_ELEMENTS)
    appendixes = node.find("Appendixes")
    return _make(
        node.path,
        OtherInfo,
        priority=node.optional_text("Priority"),
        sphere_of_promulgation=node.optional_text("SphereOfPromulgation"),
        typist=node.optional_text(*typist_names),
        promulgation_amount=_amount(node, "PromulgationAmount"),
        page_amount=_amount(node, "PageAmount"),
        appendixes=tuple(a.text for a in appendixes.find_all("Appendix"))
        if appendixes is not None
        else (),
    )


def _message_header(node: _Node, config: EdxmlConfig) -> MessageHeader:
    recipients = node.find_all("To")
    if not recipients:
        raise MalformedEdxml(f"{node.path}/To", "missing required element")
    code = node.require("Code")
    promulgation = node.require("PromulgationInfo")
    document_type = node.require("DocumentType")
    signer = node.find("SignerInfo")
    places = node.find("ToPlaces")
    other = node.find("OtherInfo")
    return _make(
        node.path,
        MessageHeader,
        from_=_organization(node.require("From")),
        to=tuple(_organization(recipient) for recipient in recipients),
        document_id=_document_id(node.require("DocumentId")),
        code=_make(
            code.path,
            DocumentCode,
            code.required_text("CodeNumber"),
            code.required_text("CodeNotation"),
        ),
        promulgation=PromulgationInfo(
            _date(promulgation.require("PromulgationDate")), promulgation.optional_text("Place")
        ),
        document_type=EdxmlDocumentType(
            document_type.required_text("Type"), document_type.optional_text("TypeName")
        ),
        subject=node.required_text("Subject"),
        content=node.optional_text("Content"),
        signer=None
        if signer is None
        else SignerInfo(
            signer.required_text("FullName"),
            signer.optional_text("Position"),
            signer.optional_text("Competence"),
        ),
        due_date=_optional_date(node, "DueDate"),
        to_places=tuple(place.text for place in places.find_all("Place"))
        if places is not None
        else (),
        other_info=None if other is None else _other_info(other, config),
        response_for=tuple(_response_for(r) for r in node.find_all("ResponseFor")),
        steering_type=node.optional_text("SteeringType"),
    )


def _trace(node: _Node | None, config: EdxmlConfig) -> TraceHeaderList:
    if node is None:
        return TraceHeaderList()
    hops = tuple(
        _make(
            hop.path,
            TraceHeader,
            hop.required_text("OrganId"),
            _timestamp(hop.require("Timestamp"), config),
        )
        for hop in node.find_all("TraceHeader")
    )
    business_node = node.find(*BUSINESS_ELEMENTS)
    business = None
    if business_node is not None:
        type_node = business_node.require(*BUSINESS_TYPE_ELEMENTS)
        business_type = _convert(
            type_node,
            lambda text: BusinessType(int(text)),
            "business type (expected 0 new, 1 recall, 2 update, 3 replacement)",
        )
        business = Business(business_type, business_node.optional_text(*BUSINESS_REASON_ELEMENTS))
    return TraceHeaderList(hops, business)


def _content_key(content_id: str) -> str:
    # Manifests written by some SDKs say "cid:<id>" where the attachment says "<id>".
    return content_id.removeprefix("cid:")


def _decode(node: _Node, name: str, config: EdxmlConfig) -> bytes:
    """The attachment's bytes: base64-decoded, unzipped if configured, within the limit."""
    limit = config.max_attachment_bytes
    compact = "".join(node.text.split())  # base64 is often wrapped at 76 columns
    # Refuse before decoding what cannot fit: a zip may be a little larger than its content.
    slack = limit // 100 + 65536 if config.zip_attachments else 0
    if len(compact) > 4 * ((limit + slack + 2) // 3):
        raise MalformedEdxml(node.path, f"attachment {name!r} is over the {limit}-byte limit")
    try:
        payload = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as error:
        raise MalformedEdxml(node.path, f"bad base64 in attachment {name!r}: {error}") from None
    data = _unzip(node, name, payload, limit) if config.zip_attachments else payload
    if len(data) > limit:
        raise MalformedEdxml(
            node.path, f"attachment {name!r} has {len(data)} bytes, over the {limit}-byte limit"
        )
    return data


def _unzip(node: _Node, name: str, payload: bytes, limit: int) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            entries = [entry for entry in archive.infolist() if not entry.is_dir()]
            if len(entries) != 1:
                raise MalformedEdxml(
                    node.path, f"zipped attachment {name!r} holds {len(entries)} files, not 1"
                )
            # Read at most one byte past the limit: a zip bomb stops there.
            with archive.open(entries[0]) as stream:
                return stream.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        raise MalformedEdxml(
            node.path, f"attachment {name!r} is not a readable zip: {error}"
        ) from None


def _attachments(root: _Node, envelope: _Node, config: EdxmlConfig) -> tuple[Attachment, ...]:
    body = envelope.find("edXMLBody")
    manifest = body.find("edXMLManifest") if body is not None else None
    references: dict[str, _Node] = {}
    for reference in manifest.find_all("Reference") if manifest is not None else []:
        key = _content_key(reference.required_text("ContentId"))
        if key in references:
            raise MalformedEdxml(f"{reference.path}/ContentId", f"duplicate ContentId {key!r}")
        references[key] = reference

    # Beside the envelope under the edXML root (SDK layout) or inside a bare envelope.
    encoded = root.find("AttachmentEncoded") if root is not envelope else None
    if encoded is None:
        encoded = envelope.find("AttachmentEncoded")
    attachments: list[Attachment] = []
    seen: set[str] = set()
    for node in encoded.find_all("Attachment") if encoded is not None else []:
        content_id = node.required_text("ContentId")
        key = _content_key(content_id)
        listed = references.get(key)
        if listed is None:
            raise MalformedEdxml(f"{node.path}/ContentId", f"{key!r} is not in edXMLManifest")
        if key in seen:
            raise MalformedEdxml(f"{node.path}/ContentId", f"duplicate ContentId {key!r}")
        seen.add(key)
        attachments.append(_attachment(node, content_id, listed, config))
    for key, reference in references.items():
        if key not in seen:
            raise MalformedEdxml(
                f"{reference.path}/ContentId", f"no Attachment carries ContentId {key!r}"
            )
    return tuple(attachments)


def _attachment(node: _Node, content_id: str, reference: _Node, config: EdxmlConfig) -> Attachment:
    def field(name: str) -> str | None:
        # The attachment's own element first; the manifest Reference fills gaps.
        own = node.optional_text(name)
        return own if own is not None else reference.optional_text(name)

    name = field("AttachmentName")
    if not name:
        raise MalformedEdxml(f"{node.path}/AttachmentName", "missing required element")
    content_type = field("ContentType")
    if not content_type:
        raise MalformedEdxml(f"{node.path}/ContentType", "missing required element")
    encoding = node.find("ContentTransferEncoding")
    if encoding is not None and encoding.text.strip().lower() != TRANSFER_ENCODING:
        raise MalformedEdxml(encoding.path, f"unsupported transfer encoding {encoding.text!r}")
    data = _decode(node.require(config.attachment_data_element), name, config)
    return Attachment(content_id, name, content_type, data, field("Description"))


def _header(envelope: _Node) -> _Node:
    return envelope.require("edXMLHeader")


def _document(root: _Node, envelope: _Node, config: EdxmlConfig) -> EdxmlDocument:
    header = _header(envelope)
    message = _message_header(header.require("MessageHeader"), config)
    trace = _trace(header.find("TraceHeaderList"), config)
    return EdxmlDocument(message, trace, _attachments(root, envelope, config))


def _status(envelope: _Node, config: EdxmlConfig) -> StatusMessage:
    node = _header(envelope).require("Status")
    code = node.require("StatusCode")
    staff = node.find("StaffInfo")
    return StatusMessage(
        response_for=_response_for(node.require("ResponseFor")),
        from_=_organization(node.require("From")),
        status=_convert(code, ProcessingStatus, "status code"),
        timestamp=_timestamp(node.require("Timestamp"), config),
        description=node.optional_text("Description"),
        staff=None
        if staff is None
        else StaffInfo(
            staff.optional_text("Department"),
            staff.optional_text("Staff"),
            staff.optional_text("Mobile"),
            staff.optional_text("Email"),
        ),
    )


def parse_document(data: bytes, config: EdxmlConfig = DEFAULT_CONFIG) -> EdxmlDocument:
    """Read a document package; MalformedEdxml names the element and the problem."""
    root, envelope = _open(data)
    return _document(root, envelope, config)


def parse_status(data: bytes, config: EdxmlConfig = DEFAULT_CONFIG) -> StatusMessage:
    """Read a status package; MalformedEdxml names the element and the problem."""
    _, envelope = _open(data)
    return _status(envelope, config)


def parse_edxml(data: bytes, config: EdxmlConfig = DEFAULT_CONFIG) -> EdxmlDocument | StatusMessage:
    """Read either kind of package, telling them apart by their header."""
    root, envelope = _open(data)
    header = _header(envelope)
    if header.find("MessageHeader") is not None:
        return _document(root, envelope, config)
    if header.find("Status") is not None:
        return _status(envelope, config)
    raise MalformedEdxml(f"{header.path}/MessageHeader", "missing required element (or Status)")
