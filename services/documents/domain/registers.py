"""Rows of the outgoing and incoming document registers (sổ đăng ký văn bản đi / đến).

Columns follow the register forms of Decree 30/2020/NĐ-CP, Appendix IV, in the forms' order
(written from secondary sources: check the wording against the gazetted forms). After them come
the columns the electronic register adds from the document's metadata (Decree 30 lists urgency,
secrecy and the handling deadline among the data of a registered document): deadline (incoming
only), urgency and secrecy. Secret documents are kept in their own register; the secrecy column
lets one export format serve both.

The service exports these rows to Excel and PDF: `register_columns` gives the ordered columns
with Vietnamese and English headers, `row_values` the typed values in the same order (dates
stay dates so a spreadsheet can sort them), and `display_value` the text a printed register
shows (dates as dd/mm/yyyy, the Vietnamese convention).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Generic, Literal, TypeVar

from services.documents.domain.classification import Secrecy, Urgency

CellValue = str | int | date | None
Language = Literal["vi", "en"]

RECIPIENT_SEPARATOR = "; "


@dataclass(frozen=True)
class OutgoingRegisterRow:
    notation: str  # số, ký hiệu: "15/QĐ-SGDĐT"
    document_date: date
    type_name: str  # tên loại: "Quyết định"
    summary: str  # trích yếu nội dung
    signer: str
    recipients: tuple[str, ...]
    archive_holder: str  # đơn vị, người nhận bản lưu
    copies: int  # số lượng bản (paper copies; 0 for an electronic-only document)
    delivered_on: date | None = None  # ngày chuyển
    receipt_signature: str | None = None  # ký nhận: who acknowledged the delivery
    notes: str = ""
    urgency: Urgency | None = None
    secrecy: Secrecy | None = None

    def __post_init__(self) -> None:
        if self.copies < 0:
            raise ValueError(f"{self.notation}: number of copies {self.copies} is negative")
        if self.delivered_on is not None and self.delivered_on < self.document_date:
            raise ValueError(f"{self.notation}: delivered before the document's date")


@dataclass(frozen=True)
class IncomingRegisterRow:
    arrival_date: date  # ngày đến
    arrival_number: int  # số đến
    sender: str  # tác giả: the issuing body
    notation: str  # số, ký hiệu as printed on the document
    document_date: date  # ngày tháng of the document
    type_name: str
    summary: str
    handled_by: str  # đơn vị hoặc người nhận: the unit or person handling it
    deadline: date | None = None  # thời hạn giải quyết
    receipt_signature: str | None = None  # ký nhận
    notes: str = ""
    urgency: Urgency | None = None
    secrecy: Secrecy | None = None

    def __post_init__(self) -> None:
        if self.arrival_number < 1:
            raise ValueError(f"arrival number {self.arrival_number} is not positive")


RowT = TypeVar("RowT", OutgoingRegisterRow, IncomingRegisterRow)


@dataclass(frozen=True)
class RegisterColumn(Generic[RowT]):
    key: str
    header_vi: str
    header_en: str
    value: Callable[[RowT], CellValue]

    def header(self, language: Language) -> str:
        return self.header_vi if language == "vi" else self.header_en


class RegisterKind(StrEnum):
    OUTGOING = "outgoing"
    INCOMING = "incoming"


def _type_and_summary(row: OutgoingRegisterRow | IncomingRegisterRow) -> str:
    return f"{row.type_name}: {row.summary}"


def _urgency(row: OutgoingRegisterRow | IncomingRegisterRow) -> str | None:
    return row.urgency.label_vi if row.urgency else None


def _secrecy(row: OutgoingRegisterRow | IncomingRegisterRow) -> str | None:
    return row.secrecy.label_vi if row.secrecy else None


OUTGOING_COLUMNS: tuple[RegisterColumn[OutgoingRegisterRow], ...] = (
    RegisterColumn("notation", "Số, ký hiệu văn bản", "Number and notation", lambda r: r.notation),
    RegisterColumn("document_date", "Ngày tháng văn bản", "Date", lambda r: r.document_date),
    RegisterColumn(
        "type_and_summary",
        "Tên loại và trích yếu nội dung văn bản",
        "Type and summary",
        _type_and_summary,
    ),
    RegisterColumn("signer", "Người ký", "Signer", lambda r: r.signer),
    RegisterColumn(
        "recipients",
        "Nơi nhận văn bản",
        "Recipients",
        lambda r: RECIPIENT_SEPARATOR.join(r.recipients),
    ),
    RegisterColumn(
        "archive_holder",
        "Đơn vị, người nhận bản lưu",
        "Unit or person keeping the file copy",
        lambda r: r.archive_holder,
    ),
    RegisterColumn("copies", "Số lượng bản", "Number of copies", lambda r: r.copies),
    RegisterColumn("delivered_on", "Ngày chuyển", "Date sent", lambda r: r.delivered_on),
    RegisterColumn("receipt_signature", "Ký nhận", "Received by", lambda r: r.receipt_signature),
    RegisterColumn("notes", "Ghi chú", "Notes", lambda r: r.notes),
    RegisterColumn("urgency", "Mức độ khẩn", "Urgency", _urgency),
    RegisterColumn("secrecy", "Độ mật", "Secrecy", _secrecy),
)

INCOMING_COLUMNS: tuple[RegisterColumn[IncomingRegisterRow], ...] = (
    RegisterColumn("arrival_date", "Ngày đến", "Arrival date", lambda r: r.arrival_date),
    RegisterColumn("arrival_number", "Số đến", "Arrival number", lambda r: r.arrival_number),
    RegisterColumn("sender", "Tác giả", "Issuing body", lambda r: r.sender),
    RegisterColumn("notation", "Số, ký hiệu", "Number and notation", lambda r: r.notation),
    RegisterColumn("document_date", "Ngày tháng", "Date of document", lambda r: r.document_date),
    RegisterColumn(
        "type_and_summary", "Tên loại và trích yếu nội dung", "Type and summary", _type_and_summary
    ),
    RegisterColumn(
        "handled_by", "Đơn vị hoặc người nhận", "Handling unit or person", lambda r: r.handled_by
    ),
    RegisterColumn("receipt_signature", "Ký nhận", "Received by", lambda r: r.receipt_signature),
    RegisterColumn("notes", "Ghi chú", "Notes", lambda r: r.notes),
    RegisterColumn("deadline", "Thời hạn giải quyết", "Deadline", lambda r: r.deadline),
    RegisterColumn("urgency", "Mức độ khẩn", "Urgency", _urgency),
    RegisterColumn("secrecy", "Độ mật", "Secrecy", _secrecy),
)


def register_headers(kind: RegisterKind, language: Language = "vi") -> tuple[str, ...]:
    """The ordered column headers of a register, in Vietnamese or English."""
    if kind is RegisterKind.OUTGOING:
        return tuple(column.header(language) for column in OUTGOING_COLUMNS)
    return tuple(column.header(language) for column in INCOMING_COLUMNS)


def row_values(row: OutgoingRegisterRow | IncomingRegisterRow) -> tuple[CellValue, ...]:
    """The row's values in column order, typed (dates stay dates, counts stay ints)."""
    if isinstance(row, OutgoingRegisterRow):
        return tuple(column.value(row) for column in OUTGOING_COLUMNS)
    return tuple(column.value(row) for column in INCOMING_COLUMNS)


def display_value(value: CellValue) -> str:
    """A value as a printed register shows it: dd/mm/yyyy dates, blank for nothing."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)
