"""Element names and the namespace of QCVN 102:2016 edXML, shared by building and parsing."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from services.documents.domain.edxml_config import QCVN_102_NAMESPACE

NS = QCVN_102_NAMESPACE
PREFIX = "edXML"
# Process-wide, but it only maps the namespace to the prefix the SDK samples use: some
# receivers look elements up by the literal "edXML:" prefix rather than by namespace.
ET.register_namespace(PREFIX, NS)

# The SDK spells it "Bussiness" (check); parsing also takes the dictionary spelling.
BUSINESS_ELEMENTS = ("Bussiness", "Business")
BUSINESS_TYPE_ELEMENTS = ("BussinessDocType", "BusinessDocType")
BUSINESS_REASON_ELEMENTS = ("BussinessDocReason", "BusinessDocReason")
TYPIST_ELEMENTS = ("TyperNotation", "TypistNumber")
TRANSFER_ENCODING = "base64"


def qualified(name: str) -> str:
    """The ElementTree tag of an element in the edXML namespace."""
    return f"{{{NS}}}{name}"


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]
