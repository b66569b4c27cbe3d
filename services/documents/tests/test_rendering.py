"""The official document PDF in Decree 30's layout, read back with pypdf."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader

from services.documents.rendering.official_document import (
    POINTS_PER_MM,
    OfficialDocumentContent,
    date_line,
    render_official_document,
)

DECISION = OfficialDocumentContent(
    issuer="Sở Giáo dục và Đào tạo",
    issuer_superior="UBND thành phố Hải Phòng",
    number_notation="15/QĐ-SGDĐT",
    issued_on=date(2025, 3, 5),
    type_name="Quyết định",
    summary="Về việc tổ chức Hội khỏe Phù Đổng cấp thành phố",
    body=(
        "Căn cứ Luật Giáo dục ngày 14 tháng 6 năm 2019;",
        "Theo đề nghị của Trưởng phòng Giáo dục Trung học.",
    ),
    recipients=("Như Điều 3;", "Lưu: VT, GDTrH."),
    signer_authority="KT. Giám đốc",
    signer_position="Phó Giám đốc",
    signer_name="Trần Thị Bình",
    urgency="Hỏa tốc",
)


def _pages_text(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    # Extraction splits lines where the layout does; compare on single spaces, NFC.
    return [
        re.sub(r"\s+", " ", unicodedata.normalize("NFC", page.extract_text() or ""))
        for page in reader.pages
    ]


def test_decision_carries_every_part_of_the_decree_30_layout() -> None:
    rendered = render_official_document(DECISION)
    (text,) = _pages_text(rendered.pdf)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "UBND THÀNH PHỐ HẢI PHÒNG",
        "SỞ GIÁO DỤC VÀ ĐÀO TẠO",
        "Số: 15/QĐ-SGDĐT",
        "Hải Phòng, ngày 05 tháng 3 năm 2025",
        "HỎA TỐC",
        "QUYẾT ĐỊNH",
        "Về việc tổ chức Hội khỏe Phù Đổng cấp thành phố",
        "Căn cứ Luật Giáo dục ngày 14 tháng 6 năm 2019;",
        "Nơi nhận:",
        "- Như Điều 3;",
        "- Lưu: VT, GDTrH.",
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        "Trần Thị Bình",
    ):
        assert expected in text, expected
    # Reading order: the national name before the type name, the type name before the body.
    assert text.index("CỘNG HÒA") < text.index("QUYẾT ĐỊNH") < text.index("Căn cứ Luật")
    assert rendered.page_count == 1 and rendered.signature_page == 0
    metadata = PdfReader(io.BytesIO(rendered.pdf)).metadata
    assert metadata is not None and metadata.title == "Quyết định 15/QĐ-SGDĐT"


def test_signature_box_lies_between_position_and_name_on_the_page() -> None:
    rendered = render_official_document(DECISION)
    x1, y1, x2, y2 = rendered.signature_box
    page_width, page_height = 210 * POINTS_PER_MM, 297 * POINTS_PER_MM
    assert 0 < x1 < x2 <= page_width and 0 < y1 < y2 < page_height
    assert x1 > page_width / 2  # the signer's column is on the right
    assert y2 - y1 == pytest.approx(30 * POINTS_PER_MM)
    assert x2 - x1 == pytest.approx(70 * POINTS_PER_MM)


def test_cong_van_has_its_summary_under_the_number_and_an_addressee_block() -> None:
    letter = replace(
        DECISION,
        type_name=None,
        summary="V/v báo cáo số học sinh không biết bơi",
        addressees=("Các trường trung học cơ sở",),
        number_notation="05/SGDĐT-VP",
        urgency=None,
        secrecy="Mật",
    )
    (text,) = _pages_text(render_official_document(letter).pdf)
    assert "Số: 05/SGDĐT-VP" in text
    assert "V/v báo cáo số học sinh không biết bơi" in text
    assert "Kính gửi: Các trường trung học cơ sở" in text
    assert "MẬT" in text
    assert "QUYẾT ĐỊNH" not in text
    assert text.index("Số: 05/SGDĐT-VP") < text.index("V/v báo cáo")


def test_draft_without_number_or_date_prints_blanks() -> None:
    draft = replace(DECISION, number_notation=None, issued_on=None)
    (text,) = _pages_text(render_official_document(draft).pdf)
    assert "Số: …" in text
    assert "Hải Phòng, ngày … tháng … năm …" in text


def test_long_body_flows_to_numbered_pages_and_the_signature_follows() -> None:
    paragraph = "Các đơn vị tổ chức thực hiện nghiêm túc nội dung hướng dẫn này. " * 12
    long = replace(DECISION, body=tuple(f"{n}. {paragraph}" for n in range(1, 16)))
    rendered = render_official_document(long)
    pages = _pages_text(rendered.pdf)
    assert rendered.page_count == len(pages) >= 3
    assert rendered.signature_page == rendered.page_count - 1
    assert "Trần Thị Bình" in pages[-1] and "Trần Thị Bình" not in pages[0]
    # Decree 30: page numbers from the second page on.
    assert pages[1].lstrip().startswith("2 ") and not pages[0].lstrip().startswith("1 ")


def test_decomposed_input_is_printed_in_composed_form() -> None:
    decomposed = unicodedata.normalize("NFD", "Về việc tuyển sinh lớp 10")
    (text,) = _pages_text(render_official_document(replace(DECISION, summary=decomposed)).pdf)
    assert "Về việc tuyển sinh lớp 10" in text


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 1, 5), "Hải Phòng, ngày 05 tháng 01 năm 2025"),
        (date(2025, 2, 28), "Hải Phòng, ngày 28 tháng 02 năm 2025"),
        (date(2025, 3, 9), "Hải Phòng, ngày 09 tháng 3 năm 2025"),
        (date(2025, 12, 31), "Hải Phòng, ngày 31 tháng 12 năm 2025"),
    ],
)
def test_date_line_pads_days_below_10_and_months_1_and_2(day: date, expected: str) -> None:
    assert date_line("Hải Phòng", day) == expected
