"""edXML (QCVN 102:2016) packages: build -> parse round trips, and malformed packages refused
with the element named. Agency codes below are made up in the QCVN 102 format."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.documents.domain.classification import Urgency
from services.documents.domain.document_types import CONG_VAN, document_type
from services.documents.domain.edxml import (
    QCVN_102_NAMESPACE,
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
    build_document,
    build_status,
    code_from_notation,
    edxml_type_code,
    parse_document,
    parse_document_id,
    parse_edxml,
    parse_status,
    priority_code,
    urgency_of_priority,
)
from services.documents.domain.numbering import parse_notation
from services.documents.domain.status import BusinessType, ProcessingStatus

DEPARTMENT = Organization(
    organ_id="000.00.31.H37",
    organ_name="Sở Giáo dục và Đào tạo thành phố Hải Phòng",
    organ_add="Số 10 Lê Lai, Hải Phòng",
    email="vanthu@haiphong.edu.vn",
    telephone="0225 3000000",
)
MINISTRY = Organization("000.00.00.G22", "Bộ Giáo dục và Đào tạo")
SCHOOL = Organization("000.31.07.H37", "Trường THPT Ngô Quyền")
PROMULGATED = date(2025, 3, 5)

HEADER = MessageHeader(
    from_=DEPARTMENT,
    to=(MINISTRY, SCHOOL),
    document_id=DocumentId(DEPARTMENT.organ_id, PROMULGATED, "15/QĐ-SGDĐT"),
    code=DocumentCode("15", "QĐ-SGDĐT"),
    promulgation=PromulgationInfo(PROMULGATED, "Hải Phòng"),
    document_type=EdxmlDocumentType("2", "Quyết định"),
    subject="Về việc ban hành Kế hoạch tuyển sinh lớp 10 năm học 2025-2026",
    content="Ban hành kèm theo Quyết định này Kế hoạch tuyển sinh...",
    signer=SignerInfo("Nguyễn Văn An", "Phó Giám đốc", "KT. GIÁM ĐỐC"),
    due_date=date(2025, 3, 20),
    to_places=("Bộ GDĐT (để b/c)", "Các trường THPT"),
    other_info=OtherInfo(
        priority="1",
        sphere_of_promulgation="Toàn thành phố",
        typist="VP",
        promulgation_amount=30,
        page_amount=4,
        appendixes=("Phụ lục I: Chỉ tiêu tuyển sinh",),
    ),
    steering_type="0",
)
PDF = Attachment("att-1", "15-QD-SGDDT.pdf", "application/pdf", b"%PDF-1.7\n...", "Bản chính")
XLSX = Attachment(
    "att-2",
    "Phụ lục chỉ tiêu.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    bytes(range(256)) * 3,
)
DOCUMENT = EdxmlDocument(
    HEADER,
    TraceHeaderList(
        (TraceHeader(DEPARTMENT.organ_id, datetime(2025, 3, 5, 8, 30, 15)),),
        Business(BusinessType.NEW, "Văn bản mới"),
    ),
    (PDF, XLSX),
)
STATUS = StatusMessage(
    response_for=ResponseFor(DEPARTMENT.organ_id, "15/QĐ-SGDĐT", PROMULGATED, HEADER.document_id),
    from_=SCHOOL,
    status=ProcessingStatus.ACCEPTED,
    timestamp=datetime(2025, 3, 5, 9, 2, 7),
    description="Đã tiếp nhận, vào sổ số đến 412",
    staff=StaffInfo("Văn phòng", "Trần Thị Bình", "0900000000", None),
)

ENVELOPE = "edXML/edXMLEnvelope"
MESSAGE_HEADER = f"{ENVELOPE}/edXMLHeader/MessageHeader"
ATTACHMENTS = "edXML/AttachmentEncoded"


def malformed(data: bytes, config: EdxmlConfig | None = None) -> MalformedEdxml:
    with pytest.raises(MalformedEdxml) as raised:
        parse_document(data, config or EdxmlConfig())
    return raised.value


def replaced(data: bytes, pattern: str, replacement: str) -> bytes:
    text, count = re.subn(pattern, replacement, data.decode("utf-8"), count=1, flags=re.S)
    assert count == 1, f"{pattern!r} not found"
    return text.encode("utf-8")


# --- round trips ------------------------------------------------------------------------------


def test_document_round_trip() -> None:
    assert parse_document(build_document(DOCUMENT)) == DOCUMENT


def test_document_package_carries_the_standard_elements() -> None:
    text = build_document(DOCUMENT).decode("utf-8")
    assert f'xmlns:edXML="{QCVN_102_NAMESPACE}"' in text
    assert text.index("<edXML:edXML ") < text.index("<edXML:edXMLEnvelope>")
    assert "<edXML:DocumentId>000.00.31.H37,2025/03/05,15/QĐ-SGDĐT</edXML:DocumentId>" in text
    assert "<edXML:PromulgationDate>2025/03/05</edXML:PromulgationDate>" in text
    assert "<edXML:CodeNumber>15</edXML:CodeNumber>" in text
    assert "<edXML:BussinessDocType>0</edXML:BussinessDocType>" in text
    assert "<edXML:Timestamp>2025/03/05 08:30:15</edXML:Timestamp>" in text
    assert "<edXML:ContentTransferEncoding>base64</edXML:ContentTransferEncoding>" in text
    encoded = base64.b64encode(PDF.data).decode("ascii")
    assert f"<edXML:ContentTransferEncoded>{encoded}</edXML:ContentTransferEncoded>" in text
    # AttachmentEncoded sits beside the envelope, after it.
    assert text.index("</edXML:edXMLEnvelope>") < text.index("<edXML:AttachmentEncoded>")


def test_message_header_elements_come_in_sdk_order() -> None:
    text = build_document(DOCUMENT).decode("utf-8")
    order = [
        "From",
        "To",
        "Code",
        "PromulgationInfo",
        "DocumentType",
        "Subject",
        "Content",
        "SignerInfo",
        "DueDate",
        "ToPlaces",
        "OtherInfo",
        "SteeringType",
        "DocumentId",
    ]
    positions = [text.index(f"<edXML:{name}>") for name in order]
    assert positions == sorted(positions)


def test_odd_characters_are_escaped_and_come_back() -> None:
    subject = "Về việc \"A & B\" <khẩn> 'thử' ]]> a\r\nb\rc\td"
    document = EdxmlDocument(replace(HEADER, subject=subject), attachments=())
    data = build_document(document)
    assert b"&amp;" in data and b"&lt;" in data and b"&#13;" in data
    assert parse_document(data).header.subject == subject


def test_empty_and_absent_optional_elements_stay_distinct() -> None:
    header = replace(HEADER, content="", signer=None, other_info=OtherInfo())
    parsed = parse_document(build_document(EdxmlDocument(header)))
    assert parsed.header.content == ""
    assert parsed.header.signer is None
    assert parsed.header.other_info == OtherInfo()


@pytest.mark.parametrize(
    "config",
    [
        EdxmlConfig(zip_attachments=True),
        EdxmlConfig(wrap_in_edxml_root=False),
        EdxmlConfig(emit_transfer_encoding=False, typist_element="TypistNumber"),
        EdxmlConfig(attachment_data_element="Content"),
    ],
)
def test_round_trip_under_other_configurations(config: EdxmlConfig) -> None:
    assert parse_document(build_document(DOCUMENT, config), config) == DOCUMENT


def test_zipped_attachment_holds_one_file_named_after_the_attachment() -> None:
    config = EdxmlConfig(zip_attachments=True)
    text = build_document(DOCUMENT, config).decode("utf-8")
    encoded = re.findall(r"<edXML:ContentTransferEncoded>(.*?)<", text)
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(encoded[1]))) as archive:
        assert archive.namelist() == ["Phụ lục chỉ tiêu.xlsx"]
        assert archive.read("Phụ lục chỉ tiêu.xlsx") == XLSX.data


def test_bare_envelope_layout_is_read_whatever_the_configuration() -> None:
    data = build_document(DOCUMENT, EdxmlConfig(wrap_in_edxml_root=False))
    assert data.decode("utf-8").split("?>", 1)[1].lstrip().startswith("<edXML:edXMLEnvelope ")
    assert parse_document(data) == DOCUMENT


def test_status_round_trip() -> None:
    data = build_status(STATUS)
    assert "<edXML:StatusCode>03</edXML:StatusCode>" in data.decode("utf-8")
    assert parse_status(data) == STATUS


def test_parse_edxml_tells_documents_from_statuses() -> None:
    assert parse_edxml(build_document(DOCUMENT)) == DOCUMENT
    assert parse_edxml(build_status(STATUS)) == STATUS


# Vietnamese letters, XML's special characters and line ends, then anything XML can carry.
VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹ"
    "ềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵĐĂÂÊÔƠƯỐỮ"
)
ODD = "&<>\"' \t\n\r;,/-]]>"
CHARACTERS = st.one_of(
    st.sampled_from(VIETNAMESE + ODD),
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"),
)
TEXT = st.text(CHARACTERS, max_size=30)
NON_EMPTY = st.text(CHARACTERS, min_size=1, max_size=30)
OPTIONAL = st.none() | TEXT
AGENCY = st.from_regex(r"\A[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}\Z")
DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
TIMESTAMPS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0)
)

ORGANIZATIONS = st.builds(
    Organization,
    organ_id=AGENCY,
    organ_name=NON_EMPTY,
    organization_in_charge=OPTIONAL,
    organ_add=OPTIONAL,
    email=OPTIONAL,
    telephone=OPTIONAL,
    fax=OPTIONAL,
    website=OPTIONAL,
)
DOCUMENT_IDS = st.builds(
    DocumentId, organ_id=AGENCY, promulgation_date=DATES, number_notation=NON_EMPTY
)
RESPONSES = st.builds(
    ResponseFor,
    organ_id=AGENCY,
    code=NON_EMPTY,
    promulgation_date=DATES,
    document_id=DOCUMENT_IDS,
)
HEADERS = st.builds(
    MessageHeader,
    from_=ORGANIZATIONS,
    to=st.lists(ORGANIZATIONS, min_size=1, max_size=3).map(tuple),
    document_id=DOCUMENT_IDS,
    code=st.builds(DocumentCode, number=NON_EMPTY, notation=NON_EMPTY),
    promulgation=st.builds(PromulgationInfo, promulgation_date=DATES, place=OPTIONAL),
    document_type=st.builds(EdxmlDocumentType, type_code=NON_EMPTY, type_name=OPTIONAL),
    subject=NON_EMPTY,
    content=OPTIONAL,
    signer=st.none()
    | st.builds(SignerInfo, full_name=NON_EMPTY, position=OPTIONAL, competence=OPTIONAL),
    due_date=st.none() | DATES,
    to_places=st.lists(TEXT, max_size=3).map(tuple),
    other_info=st.none()
    | st.builds(
        OtherInfo,
        priority=OPTIONAL,
        sphere_of_promulgation=OPTIONAL,
        typist=OPTIONAL,
        promulgation_amount=st.none() | st.integers(0, 10_000),
        page_amount=st.none() | st.integers(0, 10_000),
        appendixes=st.lists(TEXT, max_size=2).map(tuple),
    ),
    response_for=st.lists(RESPONSES, max_size=2).map(tuple),
    steering_type=OPTIONAL,
)
TRACES = st.builds(
    TraceHeaderList,
    trace_headers=st.lists(
        st.builds(TraceHeader, organ_id=AGENCY, timestamp=TIMESTAMPS), max_size=3
    ).map(tuple),
    business=st.none()
    | st.builds(Business, business_type=st.sampled_from(BusinessType), reason=OPTIONAL),
)
ATTACHMENT_LISTS = st.lists(
    st.builds(
        Attachment,
        content_id=NON_EMPTY,
        name=NON_EMPTY,
        content_type=st.sampled_from(
            ["application/pdf", "application/msword", "image/png", "text/plain; charset=utf-8"]
        ),
        data=st.binary(max_size=600),
        description=OPTIONAL,
    ),
    max_size=4,
    unique_by=lambda attachment: attachment.content_id.removeprefix("cid:"),
).map(tuple)
CONFIGS = st.builds(
    EdxmlConfig,
    wrap_in_edxml_root=st.booleans(),
    zip_attachments=st.booleans(),
    emit_transfer_encoding=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(header=HEADERS, trace=TRACES, attachments=ATTACHMENT_LISTS, config=CONFIGS)
def test_any_document_survives_build_then_parse(
    header: MessageHeader,
    trace: TraceHeaderList,
    attachments: tuple[Attachment, ...],
    config: EdxmlConfig,
) -> None:
    document = EdxmlDocument(header, trace, attachments)
    assert parse_document(build_document(document, config), config) == document


@settings(max_examples=100, deadline=None)
@given(
    message=st.builds(
        StatusMessage,
        response_for=RESPONSES,
        from_=ORGANIZATIONS,
        status=st.sampled_from(ProcessingStatus),
        timestamp=TIMESTAMPS,
        description=OPTIONAL,
        staff=st.none()
        | st.builds(
            StaffInfo, department=OPTIONAL, staff=OPTIONAL, mobile=OPTIONAL, email=OPTIONAL
        ),
    ),
    config=CONFIGS,
)
def test_any_status_survives_build_then_parse(message: StatusMessage, config: EdxmlConfig) -> None:
    assert parse_status(build_status(message, config), config) == message


# --- malformed packages -----------------------------------------------------------------------


def test_missing_message_header_is_named() -> None:
    data = replaced(build_document(DOCUMENT), r"<edXML:MessageHeader>.*</edXML:MessageHeader>", "")
    error = malformed(data)
    assert error.path == MESSAGE_HEADER
    assert error.problem == "missing required element"
    assert str(error) == f"{MESSAGE_HEADER}: missing required element"


def test_a_package_with_neither_header_is_refused_by_parse_edxml() -> None:
    data = replaced(build_document(DOCUMENT), r"<edXML:MessageHeader>.*</edXML:MessageHeader>", "")
    with pytest.raises(MalformedEdxml, match="MessageHeader: missing required element"):
        parse_edxml(data)


@pytest.mark.parametrize("bad", ["2025-03-05", "05/03/2025", "2025/3/5", "2025/02/30", ""])
def test_bad_promulgation_date_is_named(bad: str) -> None:
    data = replaced(
        build_document(DOCUMENT),
        r"<edXML:PromulgationDate>2025/03/05<",
        f"<edXML:PromulgationDate>{bad}<",
    )
    error = malformed(data)
    assert error.path == f"{MESSAGE_HEADER}/PromulgationInfo/PromulgationDate"
    assert error.problem == f"bad date (expected yyyy/MM/dd): {bad!r}"


def test_bad_due_date_is_named() -> None:
    data = replaced(build_document(DOCUMENT), r"<edXML:DueDate>[^<]*<", "<edXML:DueDate>ngày 20<")
    assert malformed(data).path == f"{MESSAGE_HEADER}/DueDate"


def test_bad_document_id_is_named() -> None:
    data = replaced(
        build_document(DOCUMENT),
        r"<edXML:DocumentId>[^<]*<",
        "<edXML:DocumentId>000.00.31.H37;15/QĐ-SGDĐT<",
    )
    error = malformed(data)
    assert error.path == f"{MESSAGE_HEADER}/DocumentId"
    assert error.problem.startswith("bad DocumentId")


def test_bad_base64_is_named() -> None:
    encoded = base64.b64encode(XLSX.data).decode("ascii")
    data = build_document(DOCUMENT).replace(encoded.encode(), b"not*base64!", 1)
    error = malformed(data)
    assert error.path == f"{ATTACHMENTS}/Attachment[2]/ContentTransferEncoded"
    assert error.problem.startswith("bad base64 in attachment 'Phụ lục chỉ tiêu.xlsx'")


def test_base64_wrapped_over_lines_is_read() -> None:
    encoded = base64.b64encode(XLSX.data).decode("ascii")
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    data = build_document(DOCUMENT).replace(encoded.encode(), wrapped.encode(), 1)
    assert parse_document(data) == DOCUMENT


@pytest.mark.parametrize("limit", [len(XLSX.data) - 1, 100])
def test_oversize_attachment_is_named(limit: int) -> None:
    # Just over the limit is caught after decoding; far over it before decoding.
    data = build_document(DOCUMENT)
    error = malformed(data, EdxmlConfig(max_attachment_bytes=limit))
    assert error.path == f"{ATTACHMENTS}/Attachment[2]/ContentTransferEncoded"
    assert f"over the {limit}-byte limit" in error.problem


def test_zipped_attachment_is_measured_after_unzipping() -> None:
    bomb = Attachment("z", "zeros.bin", "application/octet-stream", bytes(200_000))
    data = build_document(
        EdxmlDocument(HEADER, attachments=(bomb,)), EdxmlConfig(zip_attachments=True)
    )
    assert len(data) < 5_000  # compresses to almost nothing
    error = malformed(data, EdxmlConfig(zip_attachments=True, max_attachment_bytes=10_000))
    assert error.path == f"{ATTACHMENTS}/Attachment[1]/ContentTransferEncoded"
    assert "over the 10000-byte limit" in error.problem


def test_attachment_that_is_not_a_zip_is_refused_when_zips_are_expected() -> None:
    error = malformed(build_document(DOCUMENT), EdxmlConfig(zip_attachments=True))
    assert error.path == f"{ATTACHMENTS}/Attachment[1]/ContentTransferEncoded"
    assert "not a readable zip" in error.problem


def test_builder_refuses_an_oversize_attachment() -> None:
    with pytest.raises(ValueError, match="over the 100-byte limit"):
        build_document(DOCUMENT, EdxmlConfig(max_attachment_bytes=100))


def test_builder_refuses_characters_xml_cannot_carry() -> None:
    header = replace(HEADER, subject="Về việc\x01")
    with pytest.raises(ValueError, match=f"{MESSAGE_HEADER}/Subject: character U\\+0001"):
        build_document(EdxmlDocument(header))


def test_missing_recipient_is_named() -> None:
    data = build_document(DOCUMENT)
    for _ in range(2):
        data = replaced(data, r"<edXML:To>.*?</edXML:To>", "")
    assert malformed(data).path == f"{MESSAGE_HEADER}/To"


def test_empty_agency_code_is_named() -> None:
    data = replaced(
        build_document(DOCUMENT), r"<edXML:To><edXML:OrganId>[^<]*<", "<edXML:To><edXML:OrganId><"
    )
    error = malformed(data)
    assert error.path == f"{MESSAGE_HEADER}/To[1]/OrganId"
    assert error.problem == "required element is empty"


def test_second_recipient_is_numbered_in_the_path() -> None:
    data = replaced(build_document(DOCUMENT), r"<edXML:OrganName>Trường THPT Ngô Quyền<.*?>", "")
    assert malformed(data).path == f"{MESSAGE_HEADER}/To[2]/OrganName"


def test_bad_page_amount_is_named() -> None:
    data = replaced(build_document(DOCUMENT), r"<edXML:PageAmount>4<", "<edXML:PageAmount>bốn<")
    error = malformed(data)
    assert error.path == f"{MESSAGE_HEADER}/OtherInfo/PageAmount"
    assert error.problem == "bad count (expected a whole number): 'bốn'"


def test_bad_timestamp_is_named() -> None:
    data = replaced(build_document(DOCUMENT), r"2025/03/05 08:30:15", "2025-03-05T08:30:15")
    error = malformed(data)
    assert error.path == f"{ENVELOPE}/edXMLHeader/TraceHeaderList/TraceHeader[1]/Timestamp"


def test_unknown_business_type_is_named() -> None:
    data = replaced(
        build_document(DOCUMENT), r"<edXML:BussinessDocType>0<", "<edXML:BussinessDocType>7<"
    )
    error = malformed(data)
    assert error.path == f"{ENVELOPE}/edXMLHeader/TraceHeaderList/Bussiness/BussinessDocType"


def test_manifest_entry_without_data_is_named() -> None:
    data = replaced(
        build_document(DOCUMENT),
        r"<edXML:Attachment><edXML:ContentId>att-2.*?</edXML:Attachment>",
        "",
    )
    error = malformed(data)
    assert error.path == f"{ENVELOPE}/edXMLBody/edXMLManifest/Reference[2]/ContentId"
    assert error.problem == "no Attachment carries ContentId 'att-2'"


def test_attachment_missing_from_manifest_is_named() -> None:
    data = replaced(
        build_document(DOCUMENT),
        r"<edXML:Reference><edXML:ContentId>att-1.*?</edXML:Reference>",
        "",
    )
    error = malformed(data)
    assert error.path == f"{ATTACHMENTS}/Attachment[1]/ContentId"
    assert "not in edXMLManifest" in error.problem


def test_duplicate_content_id_is_named() -> None:
    data = build_document(DOCUMENT).replace(b">att-2<", b">att-1<")
    error = malformed(data)
    assert error.path == f"{ENVELOPE}/edXMLBody/edXMLManifest/Reference[2]/ContentId"
    assert error.problem == "duplicate ContentId 'att-1'"


def test_unsupported_transfer_encoding_is_named() -> None:
    data = replaced(build_document(DOCUMENT), r">base64<", ">quoted-printable<")
    error = malformed(data)
    assert error.path == f"{ATTACHMENTS}/Attachment[1]/ContentTransferEncoding"


def test_bad_status_code_is_named() -> None:
    data = replaced(build_status(STATUS), r"<edXML:StatusCode>03<", "<edXML:StatusCode>07<")
    with pytest.raises(MalformedEdxml) as raised:
        parse_status(data)
    assert raised.value.path == f"{ENVELOPE}/edXMLHeader/Status/StatusCode"
    assert raised.value.problem == "bad status code: '07'"


def test_status_without_response_for_is_named() -> None:
    data = replaced(build_status(STATUS), r"<edXML:ResponseFor>.*</edXML:ResponseFor>", "")
    with pytest.raises(MalformedEdxml, match="Status/ResponseFor: missing required element"):
        parse_status(data)


@pytest.mark.parametrize(
    ("data", "path", "problem"),
    [
        (b"not xml at all", "(document)", "not well-formed XML"),
        (b"<edXML:edXML xmlns:edXML='urn:x'/>", "edXML", "not in the namespace"),
        (f"<Envelope xmlns='{QCVN_102_NAMESPACE}'/>".encode(), "Envelope", "must be edXML"),
        (f"<edXML xmlns='{QCVN_102_NAMESPACE}'/>".encode(), "edXML/edXMLEnvelope", "missing"),
        (
            b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x "xxxxxxxx">]><edXML>&x;</edXML>',
            "(document)",
            "DOCTYPE",
        ),
    ],
)
def test_packages_that_are_not_edxml(data: bytes, path: str, problem: str) -> None:
    error = malformed(data)
    assert error.path == path
    assert problem in error.problem


# --- what other implementations write ---------------------------------------------------------


def test_variants_written_by_other_implementations_are_read() -> None:
    text = build_document(DOCUMENT).decode("utf-8")
    # Un-namespaced AttachmentEncoded, "cid:" in the manifest, the other typist and business
    # spellings, elements in another order.
    text = text.replace("edXML:AttachmentEncoded", "AttachmentEncoded")
    text = text.replace(
        "<edXML:ContentId>att-1</edXML:ContentId><edXML:ContentType>application/pdf",
        "<edXML:ContentId>cid:att-1</edXML:ContentId><edXML:ContentType>application/pdf",
        1,
    )
    text = text.replace("TyperNotation", "TypistNumber").replace("Bussiness", "Business")
    text = re.sub(
        r"(<edXML:Subject>.*?</edXML:Subject>)(<edXML:Content>.*?</edXML:Content>)",
        r"\2\1",
        text,
    )
    assert parse_document(text.encode("utf-8")) == DOCUMENT


def test_attachment_fields_missing_from_encoded_part_come_from_the_manifest() -> None:
    data = replaced(
        build_document(DOCUMENT),
        r"(<edXML:Attachment><edXML:ContentId>att-1</edXML:ContentId>)"
        r"<edXML:ContentType>[^<]*</edXML:ContentType>",
        r"\1",
    )
    assert parse_document(data) == DOCUMENT


# --- codes kept in configuration --------------------------------------------------------------


def test_priority_codes_come_from_configuration() -> None:
    assert priority_code(None) == "0"
    assert priority_code(Urgency.HOA_TOC) == "3"
    assert urgency_of_priority("2") is Urgency.THUONG_KHAN
    assert urgency_of_priority("4") is Urgency.HOA_TOC  # timed express reads as hỏa tốc
    with pytest.raises(ValueError, match="unknown edXML priority code '9'"):
        urgency_of_priority("9")
    custom = EdxmlConfig(priority_codes={None: "N", Urgency.KHAN: "K"})
    assert priority_code(Urgency.KHAN, custom) == "K"


def test_document_type_codes_must_be_configured() -> None:
    decision = document_type("quyet_dinh")
    with pytest.raises(UnmappedDocumentType, match="Quyết định"):
        edxml_type_code(decision)
    configured = EdxmlConfig(document_type_codes={"quyet_dinh": "2", "cong_van": "18"})
    assert edxml_type_code(decision, configured) == "2"
    assert edxml_type_code(CONG_VAN, configured) == "18"


def test_document_code_and_id_from_a_notation() -> None:
    code = code_from_notation(parse_notation("5/SGDĐT-VP"))
    assert code == DocumentCode("05", "SGDĐT-VP")
    document_id = DocumentId("000.00.31.H37", date(2025, 1, 2), code.number_notation)
    assert str(document_id) == "000.00.31.H37,2025/01/02,05/SGDĐT-VP"
    assert parse_document_id(str(document_id)) == document_id
