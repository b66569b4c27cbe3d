"""An official document as PDF, in the layout of Decree 30/2020/NĐ-CP (Appendix I).

A4 portrait, margins 20 mm top and bottom, 30 mm left, 15 mm right. At the top left the
issuing body (its superior's name above, its own in bold, a short rule under it) and the
number and notation; at the top right the national name (Quốc hiệu) and motto (tiêu ngữ,
underlined), with the place and date under them. Then the type name and summary centred in
bold (a công văn has no type name: its summary "V/v ..." sits under its number, and a
"Kính gửi:" block follows), the body justified with an indented first line, and at the bottom
"Nơi nhận:" on the left and the signer's authority, position and name on the right. Pages
after the first are numbered at the top centre.

DejaVu Serif stands in for Times New Roman (not free to ship); it is wider, so the header lines
shrink to fit their column when needed. The renderer also says where the signatures go: the
box between the signer's position and name, in PDF points, for the signing package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from services.documents.rendering.fonts import dejavu, nfc

FAMILY = "DejaVuSerif"
PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0
LEFT, RIGHT, TOP, BOTTOM = 30.0, 15.0, 20.0, 20.0
LEFT_COLUMN = 70.0  # width of the issuer's column; the national name takes the rest
COLUMN_GAP = 3.0
SIGNATURE_SPACE = 30.0  # mm between the signer's position and name
POINTS_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class OfficialDocumentContent:
    """What the page shows; the documents core maps its document onto this."""

    issuer: str  # "Sở Giáo dục và Đào tạo" (printed in capitals)
    summary: str  # trích yếu: "Về việc ..." or, for a công văn, "V/v ..."
    body: tuple[str, ...]  # paragraphs
    signer_position: str  # "Giám đốc", "Phó Giám đốc"
    signer_name: str
    place: str = "Hải Phòng"
    issuer_superior: str | None = None  # "UBND thành phố Hải Phòng"
    number_notation: str | None = None  # "15/QĐ-SGDĐT"; None before issue prints "Số: …"
    issued_on: date | None = None  # None before issue prints "ngày … tháng … năm …"
    type_name: str | None = None  # "Quyết định"; None for a công văn
    addressees: tuple[str, ...] = ()  # "Kính gửi:" lines (công văn)
    recipients: tuple[str, ...] = ()  # "Nơi nhận:" lines: "Như trên;", "Lưu: VT, VP."
    signer_authority: str | None = None  # "KT. Giám đốc", "TL. Giám đốc", "TM. Ủy ban nhân dân"
    urgency: str | None = None  # "Hỏa tốc", "Thượng khẩn", "Khẩn"
    secrecy: str | None = None  # "Mật", "Tối mật", "Tuyệt mật"


@dataclass(frozen=True)
class RenderedDocument:
    pdf: bytes
    page_count: int
    # Where the competent person's signature goes: the page (0-based) and the box
    # (x1, y1, x2, y2) in PDF points from the bottom left, between position and name.
    signature_page: int
    signature_box: tuple[float, float, float, float]


def date_line(place: str, day: date | None) -> str:
    """'Hải Phòng, ngày 05 tháng 3 năm 2025': days below 10 and months 1 and 2 get a 0."""
    if day is None:
        return f"{place}, ngày … tháng … năm …"
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


class _Page(FPDF):
    def header(self) -> None:
        # Decree 30: the page number from the second page on, centred in the top margin.
        if self.page_no() > 1:
            self.set_font(FAMILY, "", 11)
            self.set_y(10)
            self.cell(0, 5, str(self.page_no()), align=Align.C)
            self.set_y(TOP)


def _fit(pdf: FPDF, text: str, width: float, style: str, size: float) -> None:
    """Set the font, shrinking it by half points until `text` fits in `width` mm."""
    while size > 8 and pdf.get_string_width(text) > width:
        size -= 0.5
        pdf.set_font(FAMILY, style, size)
    pdf.set_font(FAMILY, style, size)


def _centred(
    pdf: FPDF,
    x: float,
    width: float,
    text: str,
    *,
    style: str = "",
    size: float = 13,
    height: float = 6,
) -> None:
    pdf.set_font(FAMILY, style, size)
    _fit(pdf, text, width, style, size)
    pdf.set_x(x)
    pdf.cell(width, height, text, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _rule_under(pdf: FPDF, x: float, width: float, length: float) -> None:
    y = pdf.get_y() + 1.2
    pdf.line(x + (width - length) / 2, y, x + (width + length) / 2, y)


def _header(pdf: FPDF, doc: OfficialDocumentContent) -> None:
    left_x, right_x = LEFT - 5, LEFT - 5 + LEFT_COLUMN + COLUMN_GAP
    right_w = PAGE_WIDTH - RIGHT - right_x
    top = pdf.get_y()
    # Right: Quốc hiệu and tiêu ngữ, the motto underlined as long as itself.
    _centred(pdf, right_x, right_w, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", style="B", size=12)
    motto = "Độc lập - Tự do - Hạnh phúc"
    _centred(pdf, right_x, right_w, motto, style="B", size=13)
    _rule_under(pdf, right_x, right_w, pdf.get_string_width(motto))
    right_bottom = pdf.get_y()
    # Left: the superior body, the issuer in bold, a short rule.
    pdf.set_y(top)
    if doc.issuer_superior:
        _centred(pdf, left_x, LEFT_COLUMN, nfc(doc.issuer_superior).upper(), size=12)
    _centred(pdf, left_x, LEFT_COLUMN, nfc(doc.issuer).upper(), style="B", size=12)
    _rule_under(pdf, left_x, LEFT_COLUMN, LEFT_COLUMN / 3)
    pdf.set_y(max(pdf.get_y(), right_bottom) + 4)
    line_y = pdf.get_y()
    number = f"Số: {doc.number_notation}" if doc.number_notation else "Số: …"
    _centred(pdf, left_x, LEFT_COLUMN, number, size=13, height=7)
    if doc.type_name is None:  # công văn: the summary goes under the number
        pdf.set_font(FAMILY, "", 12)
        pdf.set_x(left_x)
        pdf.multi_cell(
            LEFT_COLUMN, 5.5, nfc(doc.summary), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    for mark in (doc.secrecy, doc.urgency):
        if mark:
            _centred(pdf, left_x, LEFT_COLUMN, nfc(mark).upper(), style="B", size=13, height=7)
    left_bottom = pdf.get_y()
    pdf.set_y(line_y)
    _centred(
        pdf,
        right_x,
        right_w,
        date_line(nfc(doc.place), doc.issued_on),
        style="I",
        size=13,
        height=7,
    )
    pdf.set_y(max(pdf.get_y(), left_bottom) + 6)


def _title(pdf: FPDF, doc: OfficialDocumentContent) -> None:
    width = PAGE_WIDTH - LEFT - RIGHT
    if doc.type_name is not None:
        _centred(pdf, LEFT, width, nfc(doc.type_name).upper(), style="B", size=14, height=7)
        pdf.set_font(FAMILY, "B", 14)
        pdf.set_x(LEFT)
        pdf.multi_cell(
            width, 7, nfc(doc.summary), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        _rule_under(pdf, LEFT, width, width / 4)
        pdf.ln(7)
    if doc.addressees:
        pdf.set_font(FAMILY, "", 14)
        lines = [nfc(a) for a in doc.addressees]
        label = "Kính gửi:"
        label_w = pdf.get_string_width(label + " ")
        text_w = max(pdf.get_string_width(f"- {line}") for line in lines)
        x = LEFT + max((width - label_w - text_w) / 2, 0)
        for number, line in enumerate(lines):
            pdf.set_x(x)
            pdf.cell(label_w, 7, label if number == 0 else "")
            shown = line if len(lines) == 1 else f"- {line}"
            pdf.multi_cell(
                width - (x - LEFT) - label_w, 7, shown, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        pdf.ln(4)


def _body(pdf: FPDF, doc: OfficialDocumentContent) -> None:
    pdf.set_font(FAMILY, "", 13)
    with pdf.text_columns(
        text_align=Align.J, line_height=1.35, l_margin=LEFT, r_margin=RIGHT
    ) as columns:
        for paragraph in doc.body:
            with columns.paragraph(first_line_indent=10, bottom_margin=2.5) as para:
                para.write(nfc(paragraph))


def _signature_block(pdf: FPDF, doc: OfficialDocumentContent) -> tuple[int, float, float]:
    """'Nơi nhận:' on the left, the signer on the right; (page, top, bottom) of the sign space."""
    right_x = PAGE_WIDTH - RIGHT - 90
    right_w = 90.0
    heading_lines = 2 if doc.signer_authority else 1
    needed = max(6 + 5 * len(doc.recipients), 7 * heading_lines + SIGNATURE_SPACE + 8) + 6
    if pdf.will_page_break(needed):
        pdf.add_page()
    pdf.ln(5)
    top = pdf.get_y()
    # Right column first: authority, position, the space for the signature, the name.
    if doc.signer_authority:
        _centred(
            pdf, right_x, right_w, nfc(doc.signer_authority).upper(), style="B", size=13, height=7
        )
    _centred(pdf, right_x, right_w, nfc(doc.signer_position).upper(), style="B", size=13, height=7)
    space_top = pdf.get_y()
    pdf.set_y(space_top + SIGNATURE_SPACE)
    _centred(pdf, right_x, right_w, nfc(doc.signer_name), style="B", size=13, height=7)
    # Left column: Nơi nhận.
    pdf.set_y(top)
    pdf.set_x(LEFT - 5)
    pdf.set_font(FAMILY, "BI", 12)
    pdf.cell(60, 6, "Nơi nhận:", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 11)
    for line in doc.recipients:
        pdf.set_x(LEFT - 5)
        pdf.multi_cell(right_x - LEFT, 5, f"- {nfc(line)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return pdf.page_no() - 1, space_top, space_top + SIGNATURE_SPACE


def render_official_document(doc: OfficialDocumentContent) -> RenderedDocument:
    """The document as PDF bytes and the signature box (CPU-bound: call from a worker thread)."""
    fonts = dejavu("serif")
    pdf = _Page(orientation="P", unit="mm", format="A4")
    for style, path in (
        ("", fonts.regular),
        ("B", fonts.bold),
        ("I", fonts.italic),
        ("BI", fonts.bold_italic),
    ):
        pdf.add_font(FAMILY, style, str(path))
    title = doc.number_notation or nfc(doc.summary)
    pdf.set_title(nfc(f"{doc.type_name or 'Công văn'} {title}"))
    pdf.set_author(nfc(doc.issuer))
    pdf.set_creator("EduHub documents")
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_auto_page_break(True, margin=BOTTOM)
    pdf.add_page()
    _header(pdf, doc)
    _title(pdf, doc)
    _body(pdf, doc)
    page, space_top, space_bottom = _signature_block(pdf, doc)
    # The signature box: 70 mm wide, centred in the signer's column, the full signing space.
    centre = PAGE_WIDTH - RIGHT - 45
    x1, x2 = centre - 35, centre + 35
    box = (
        x1 * POINTS_PER_MM,
        (PAGE_HEIGHT - space_bottom) * POINTS_PER_MM,
        x2 * POINTS_PER_MM,
        (PAGE_HEIGHT - space_top) * POINTS_PER_MM,
    )
    return RenderedDocument(
        pdf=bytes(pdf.output()), page_count=pdf.page_no(), signature_page=page, signature_box=box
    )
