"""edXML exchange mapping: issued document -> package -> registration, status both ways, and
the refusals of bad packages. Pure: no database, no files."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import date, datetime

import pytest

from services.documents.domain.classification import Secrecy, Urgency
from services.documents.domain.edxml import (
    DocumentId,
    EdxmlConfig,
    build_document,
    build_status,
    parse_document,
    parse_status,
)
from services.documents.domain.status import BusinessType, ProcessingStatus
from services.documents.exchange.mapping import (
    ExportRefused,
    FileContent,
    IssuedDocumentView,
    PackageRejected,
    Party,
    ReceivedDocumentRef,
    RejectionCode,
    parse_package,
    recipient_update_from_status,
    registration_from_edxml,
    status_message,
    to_edxml,
)

HP = Party("000.00.31.H26", "Sở Giáo dục và Đào tạo Hải Phòng", "UBND thành phố Hải Phòng")
QN = Party("000.00.31.H47", "Sở Giáo dục và Đào tạo Quảng Ninh")
HN = Party("000.00.31.H01", "Sở Giáo dục và Đào tạo Hà Nội")
PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
CONFIG = EdxmlConfig(zip_attachments=True, document_type_codes={"chi_thi": "3", "cong_van": "18"})
SENT_AT = datetime(2025, 9, 8, 9, 15, 0)

VIEW = IssuedDocumentView(
    document_id="6a1f0000-0000-4000-8000-000000000001",
    sender=HP,
    recipients=(QN, HN),
    number=7,
    code="CT-SGDĐT",
    issued_on=date(2025, 9, 8),
    doc_type_key="chi_thi",
    subject="Về nhiệm vụ trọng tâm năm học 2025-2026",
    main_file=FileContent("07-CT-SGDDT.pdf", "application/pdf", PDF_BYTES),
    attachments=(FileContent("phu-luc.xlsx", "application/vnd.ms-excel", b"PK\x03\x04 xlsx"),),
    place="Hải Phòng",
    signer_name="Nguyễn Văn An",
    signer_position="Giám đốc",
    signer_competence="GIÁM ĐỐC",
    due_date=date(2025, 9, 30),
    urgency=Urgency.THUONG_KHAN,
    to_places=("Như trên", "Lưu: VT"),
)


def package_of(view: IssuedDocumentView = VIEW, config: EdxmlConfig = CONFIG) -> bytes:
    return build_document(to_edxml(view, config, sent_at=SENT_AT), config)


def test_issued_document_maps_to_header_fields_of_domain() -> None:
    document = to_edxml(VIEW, CONFIG, sent_at=SENT_AT)
    header = document.header
    assert header.from_.organ_id == "000.00.31.H26"
    assert header.from_.organization_in_charge == "UBND thành phố Hải Phòng"
    assert [org.organ_id for org in header.to] == ["000.00.31.H47", "000.00.31.H01"]
    assert str(header.document_id) == "000.00.31.H26,2025/09/08,07/CT-SGDĐT"
    assert (header.code.number, header.code.notation) == ("07", "CT-SGDĐT")
    assert header.promulgation.place == "Hải Phòng"
    assert header.promulgation.promulgation_date == date(2025, 9, 8)
    assert (header.document_type.type_code, header.document_type.type_name) == ("3", "Chỉ thị")
    assert header.signer is not None and header.signer.full_name == "Nguyễn Văn An"
    assert header.signer.competence == "GIÁM ĐỐC"
    assert header.due_date == date(2025, 9, 30)
    assert header.other_info is not None and header.other_info.priority == "2"  # thượng khẩn
    assert document.trace.trace_headers[0].timestamp == SENT_AT
    assert document.trace.business is not None
    assert document.trace.business.business_type is BusinessType.NEW
    assert [a.content_id for a in document.attachments] == ["main", "att-1"]
    assert document.attachments[0].content_type == "application/pdf"


def test_attachments_travel_zipped_and_base64() -> None:
    data = package_of()
    # The PDF is not in the package as plain base64: it is inside a zip.
    assert base64.b64encode(PDF_BYTES) not in data
    parsed = parse_document(data, CONFIG)
    assert parsed.attachments[0].data == PDF_BYTES
    assert parsed.attachments[1].data == b"PK\x03\x04 xlsx"


def test_round_trip_to_registration() -> None:
    parsed = parse_package(package_of(), CONFIG)
    assert not isinstance(parsed, type(None))
    registration = registration_from_edxml(parsed, CONFIG, {QN.agency_code})  # type: ignore[arg-type]
    assert registration.edxml_document_id == "000.00.31.H26,2025/09/08,07/CT-SGDĐT"
    assert registration.addressed_to == ("000.00.31.H47",)
    assert registration.sender == HP
    assert registration.number_notation == "07/CT-SGDĐT"
    assert registration.promulgated_on == date(2025, 9, 8)
    assert registration.doc_type_key == "chi_thi"
    assert registration.subject == VIEW.subject
    assert registration.urgency is Urgency.THUONG_KHAN
    assert registration.due_date == date(2025, 9, 30)
    assert registration.signer_name == "Nguyễn Văn An"
    assert registration.main_file.data == PDF_BYTES
    assert [f.name for f in registration.attachments] == ["phu-luc.xlsx"]
    assert registration.sent_at == SENT_AT


def test_type_is_read_from_the_notation_when_the_code_is_unknown() -> None:
    receiver_config = EdxmlConfig(zip_attachments=True)  # no Type code list at the receiver
    parsed = parse_document(package_of(), receiver_config)
    registration = registration_from_edxml(parsed, receiver_config, {QN.agency_code})
    assert registration.doc_type_key == "chi_thi"


def test_cong_van_without_type_abbreviation() -> None:
    view = replace(VIEW, doc_type_key="cong_van", code="SGDĐT-VP", number=125, urgency=None)
    registration = registration_from_edxml(
        parse_document(package_of(view), CONFIG), CONFIG, {QN.agency_code}
    )
    assert registration.number_notation == "125/SGDĐT-VP"
    assert registration.doc_type_key == "cong_van"
    assert registration.urgency is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"secrecy": Secrecy.MAT}, "secrecy"),
        ({"main_file": None}, "main_file"),
        ({"main_file": FileContent("x.pdf", "application/pdf", b"not a pdf")}, "main_file"),
        ({"recipients": ()}, "recipients"),
        ({"doc_type_key": "quyet_dinh"}, "doc_type"),
    ],
)
def test_export_refusals_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ExportRefused) as raised:
        to_edxml(replace(VIEW, **change), CONFIG, sent_at=SENT_AT)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_export_to_a_chosen_recipient_only() -> None:
    document = to_edxml(VIEW, CONFIG, sent_at=SENT_AT, recipients={HN.agency_code})
    assert [org.organ_id for org in document.header.to] == [HN.agency_code]


def test_export_refuses_an_attachment_over_the_limit() -> None:
    small = EdxmlConfig(zip_attachments=True, max_attachment_bytes=20,
                        document_type_codes=CONFIG.document_type_codes)  # fmt: skip
    with pytest.raises(ExportRefused) as raised:
        to_edxml(VIEW, small, sent_at=SENT_AT)
    assert raised.value.field == "attachments"
    assert "20-byte limit" in raised.value.reason


def rejected(
    data: bytes, config: EdxmlConfig = CONFIG, ours: str = QN.agency_code
) -> PackageRejected:
    with pytest.raises(PackageRejected) as raised:
        parsed = parse_package(data, config)
        registration_from_edxml(parsed, config, {ours})  # type: ignore[arg-type]
    return raised.value


def test_malformed_package_is_rejected_naming_the_element() -> None:
    error = rejected(
        package_of().replace(
            b"2025/09/08</edXML:PromulgationDate>", b"08/09/2025</edXML:PromulgationDate>"
        )
    )
    assert error.code is RejectionCode.MALFORMED
    assert error.field.endswith("PromulgationInfo/PromulgationDate")
    assert rejected(b"<not xml").code is RejectionCode.MALFORMED


def test_main_attachment_that_is_not_a_pdf_is_rejected() -> None:
    # Built by hand: our own export refuses such a document before it becomes a package.
    document = to_edxml(VIEW, CONFIG, sent_at=SENT_AT)
    main = replace(document.attachments[0], data=b"GIF89a not a pdf", name="scan.pdf")
    data = build_document(replace(document, attachments=(main, *document.attachments[1:])), CONFIG)
    error = rejected(data)
    assert error.code is RejectionCode.NOT_PDF
    assert "scan.pdf" in error.reason


def test_attachment_over_the_receivers_limit_is_rejected() -> None:
    strict = EdxmlConfig(zip_attachments=True, max_attachment_bytes=30)
    error = rejected(package_of(), strict)
    assert error.code is RejectionCode.ATTACHMENT_TOO_LARGE
    assert "30-byte limit" in error.reason


def test_package_for_another_agency_is_rejected() -> None:
    error = rejected(package_of(), ours="000.00.31.H99")
    assert error.code is RejectionCode.UNKNOWN_RECIPIENT
    assert "000.00.31.H47, 000.00.31.H01" in error.reason


def test_package_without_attachments_is_rejected() -> None:
    document = to_edxml(VIEW, CONFIG, sent_at=SENT_AT)
    error = rejected(build_document(replace(document, attachments=()), CONFIG))
    assert error.code is RejectionCode.NO_MAIN_DOCUMENT


def test_document_id_of_another_agency_is_rejected() -> None:
    document = to_edxml(VIEW, CONFIG, sent_at=SENT_AT)
    forged = replace(
        document,
        header=replace(
            document.header,
            document_id=DocumentId("000.00.31.H01", date(2025, 9, 8), "07/CT-SGDĐT"),
        ),
    )
    error = rejected(build_document(forged, CONFIG))
    assert error.code is RejectionCode.MALFORMED
    assert error.field == "MessageHeader/DocumentId"


def test_status_message_round_trip_to_the_senders_view() -> None:
    received = ReceivedDocumentRef(
        HP.agency_code, "000.00.31.H26,2025/09/08,07/CT-SGDĐT", "07/CT-SGDĐT", date(2025, 9, 8)
    )
    message = status_message(received, QN, ProcessingStatus.ASSIGNED, at=datetime(2025, 9, 9, 8, 0))
    parsed = parse_status(build_status(message, CONFIG), CONFIG)
    assert parsed.response_for.organ_id == HP.agency_code
    update = recipient_update_from_status(parsed, {HP.agency_code})
    assert update.edxml_document_id == "000.00.31.H26,2025/09/08,07/CT-SGDĐT"
    assert update.recipient_agency == QN.agency_code
    assert update.status is ProcessingStatus.ASSIGNED
    assert update.description == "Phân công xử lý"
    assert update.at == datetime(2025, 9, 9, 8, 0)


def test_status_about_someone_elses_document_is_rejected() -> None:
    received = ReceivedDocumentRef(
        HN.agency_code, "000.00.31.H01,2025/09/08,07/CT-SGDĐT", "07/CT-SGDĐT", date(2025, 9, 8)
    )
    message = status_message(received, QN, ProcessingStatus.DONE, at=datetime(2025, 9, 9, 8, 0))
    with pytest.raises(PackageRejected) as raised:
        recipient_update_from_status(message, {HP.agency_code})
    assert raised.value.code is RejectionCode.UNKNOWN_DOCUMENT


def test_recall_request_from_a_recipient_is_not_expected() -> None:
    received = ReceivedDocumentRef(
        HP.agency_code, "000.00.31.H26,2025/09/08,07/CT-SGDĐT", "07/CT-SGDĐT", date(2025, 9, 8)
    )
    message = status_message(
        received, QN, ProcessingStatus.RECALL_REQUESTED, at=datetime(2025, 9, 9, 8, 0)
    )
    with pytest.raises(PackageRejected) as raised:
        recipient_update_from_status(message, {HP.agency_code})
    assert raised.value.code is RejectionCode.NOT_EXPECTED
