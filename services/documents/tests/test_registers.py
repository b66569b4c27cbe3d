"""Outgoing and incoming register rows and their export columns (Decree 30, Appendix IV)."""

from __future__ import annotations

from datetime import date

import pytest

from services.documents.domain.classification import Secrecy, Urgency
from services.documents.domain.registers import (
    INCOMING_COLUMNS,
    OUTGOING_COLUMNS,
    IncomingRegisterRow,
    OutgoingRegisterRow,
    RegisterKind,
    display_value,
    register_headers,
    row_values,
)

OUTGOING = OutgoingRegisterRow(
    notation="15/QĐ-SGDĐT",
    document_date=date(2025, 3, 5),
    type_name="Quyết định",
    summary="Về việc ban hành Kế hoạch tuyển sinh lớp 10 năm học 2025-2026",
    signer="Nguyễn Văn An",
    recipients=("Các trường THPT", "UBND các xã, phường", "Lưu: VT, QLT"),
    archive_holder="Phòng Quản lý thi",
    copies=3,
    delivered_on=date(2025, 3, 6),
    receipt_signature="Trần Thị Bình",
    notes="Gửi qua trục liên thông",
    urgency=Urgency.KHAN,
)

INCOMING = IncomingRegisterRow(
    arrival_date=date(2025, 3, 7),
    arrival_number=412,
    sender="Bộ Giáo dục và Đào tạo",
    notation="1234/BGDĐT-GDTrH",
    document_date=date(2025, 3, 4),
    type_name="Công văn",
    summary="V/v hướng dẫn tổ chức thi tốt nghiệp THPT năm 2025",
    handled_by="Phòng Giáo dục Trung học",
    deadline=date(2025, 3, 20),
    secrecy=Secrecy.MAT,
    urgency=Urgency.THUONG_KHAN,
)


def test_outgoing_headers_in_vietnamese_follow_the_register_form() -> None:
    assert register_headers(RegisterKind.OUTGOING, "vi") == (
        "Số, ký hiệu văn bản",
        "Ngày tháng văn bản",
        "Tên loại và trích yếu nội dung văn bản",
        "Người ký",
        "Nơi nhận văn bản",
        "Đơn vị, người nhận bản lưu",
        "Số lượng bản",
        "Ngày chuyển",
        "Ký nhận",
        "Ghi chú",
        "Mức độ khẩn",
        "Độ mật",
    )


def test_outgoing_headers_in_english() -> None:
    assert register_headers(RegisterKind.OUTGOING, "en") == (
        "Number and notation",
        "Date",
        "Type and summary",
        "Signer",
        "Recipients",
        "Unit or person keeping the file copy",
        "Number of copies",
        "Date sent",
        "Received by",
        "Notes",
        "Urgency",
        "Secrecy",
    )


def test_incoming_headers_in_vietnamese_follow_the_register_form() -> None:
    assert register_headers(RegisterKind.INCOMING) == (
        "Ngày đến",
        "Số đến",
        "Tác giả",
        "Số, ký hiệu",
        "Ngày tháng",
        "Tên loại và trích yếu nội dung",
        "Đơn vị hoặc người nhận",
        "Ký nhận",
        "Ghi chú",
        "Thời hạn giải quyết",
        "Mức độ khẩn",
        "Độ mật",
    )


def test_incoming_headers_in_english() -> None:
    assert register_headers(RegisterKind.INCOMING, "en") == (
        "Arrival date",
        "Arrival number",
        "Issuing body",
        "Number and notation",
        "Date of document",
        "Type and summary",
        "Handling unit or person",
        "Received by",
        "Notes",
        "Deadline",
        "Urgency",
        "Secrecy",
    )


def test_column_keys_are_unique() -> None:
    for columns in (OUTGOING_COLUMNS, INCOMING_COLUMNS):
        keys = [column.key for column in columns]
        assert len(keys) == len(set(keys))


def test_outgoing_row_values_in_column_order() -> None:
    assert row_values(OUTGOING) == (
        "15/QĐ-SGDĐT",
        date(2025, 3, 5),
        "Quyết định: Về việc ban hành Kế hoạch tuyển sinh lớp 10 năm học 2025-2026",
        "Nguyễn Văn An",
        "Các trường THPT; UBND các xã, phường; Lưu: VT, QLT",
        "Phòng Quản lý thi",
        3,
        date(2025, 3, 6),
        "Trần Thị Bình",
        "Gửi qua trục liên thông",
        "Khẩn",
        None,
    )


def test_incoming_row_values_in_column_order() -> None:
    assert row_values(INCOMING) == (
        date(2025, 3, 7),
        412,
        "Bộ Giáo dục và Đào tạo",
        "1234/BGDĐT-GDTrH",
        date(2025, 3, 4),
        "Công văn: V/v hướng dẫn tổ chức thi tốt nghiệp THPT năm 2025",
        "Phòng Giáo dục Trung học",
        None,
        "",
        date(2025, 3, 20),
        "Thượng khẩn",
        "Mật",
    )


def test_every_row_has_a_value_per_header() -> None:
    assert len(row_values(OUTGOING)) == len(register_headers(RegisterKind.OUTGOING))
    assert len(row_values(INCOMING)) == len(register_headers(RegisterKind.INCOMING))


def test_printed_values() -> None:
    printed = [display_value(value) for value in row_values(INCOMING)]
    assert printed[:2] == ["07/03/2025", "412"]
    assert printed[7] == ""  # not yet signed for
    assert printed[9] == "20/03/2025"


def test_negative_copies_are_refused() -> None:
    with pytest.raises(ValueError, match="copies"):
        OutgoingRegisterRow(
            "16/QĐ-SGDĐT", date(2025, 3, 5), "Quyết định", "x", "A", (), "VP", copies=-1
        )


def test_delivery_before_the_document_date_is_refused() -> None:
    with pytest.raises(ValueError, match="delivered before"):
        OutgoingRegisterRow(
            "16/QĐ-SGDĐT",
            date(2025, 3, 5),
            "Quyết định",
            "x",
            "A",
            (),
            "VP",
            copies=1,
            delivered_on=date(2025, 3, 4),
        )


def test_arrival_number_must_be_positive() -> None:
    with pytest.raises(ValueError, match="arrival number 0"):
        IncomingRegisterRow(
            date(2025, 3, 7), 0, "Bộ GDĐT", "1/BGDĐT-VP", date(2025, 3, 1), "Công văn", "x", "VP"
        )
