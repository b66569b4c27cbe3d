"""The học bạ (a learner's transcript for one school year) as a PDF.

Vietnamese needs a font with its precomposed letters (ệ, ữ, ặ, ...): the PDF core fonts are
Latin-1 only. DejaVu Sans has them and is free to embed; fpdf2 subsets it into the file. It is
taken from the matplotlib wheel (mpl-data) or from Debian's fonts-dejavu-core, whichever is
installed, so nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from shared.vietnam_time import VIETNAM_TIME

# Vietnam keeps UTC+7 all year; a fixed offset avoids depending on a tz database.
FONT_FAMILY = "DejaVuSans"
REGULAR_FONT, BOLD_FONT = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
DEBIAN_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class TranscriptRow:
    subject: str  # the subject's Vietnamese name
    first: str  # semester 1, as printed ("8,3", "Đạt", "Hoàn thành tốt (9)"; "" if none)
    second: str
    year: str


@dataclass(frozen=True)
class TranscriptData:
    learner_id: str
    school_year: str
    grade: int
    class_name: str | None
    school_name: str
    parent_names: tuple[str, ...]  # the school's commune, then the province
    primary: bool
    rows: tuple[TranscriptRow, ...]
    levels: tuple[str, str, str]  # learning-result level of semester 1, 2, the year
    finalized: tuple[bool, bool, bool]  # semester 1, 2, the year
    printed_at: datetime


class TranscriptUnavailable(RuntimeError):
    """The PDF library or a font with Vietnamese glyphs is not installed."""


def _font_dirs() -> Iterator[Path]:
    # find_spec locates matplotlib without importing it (importing it is slow and writes a
    # config directory); only its bundled font files are used.
    spec = importlib.util.find_spec("matplotlib")
    for location in (spec.submodule_search_locations or []) if spec else []:
        yield Path(location) / "mpl-data" / "fonts" / "ttf"
    yield DEBIAN_FONT_DIR


@cache
def font_files() -> tuple[Path, Path]:
    """(regular, bold) DejaVu Sans files, or TranscriptUnavailable saying what to install."""
    for folder in _font_dirs():
        regular, bold = folder / REGULAR_FONT, folder / BOLD_FONT
        if regular.is_file() and bold.is_file():
            return regular, bold
    raise TranscriptUnavailable(
        "no DejaVu Sans font found: install the matplotlib wheel or Debian's fonts-dejavu-core"
    )


def _nfc(text: str) -> str:
    # Text from school software may be decomposed (NFD); the font's precomposed glyphs are NFC.
    return unicodedata.normalize("NFC", text)


def _status(finalized: bool) -> str:
    return "đã khoá sổ" if finalized else "chưa khoá sổ (số liệu có thể thay đổi)"


def _header_lines(data: TranscriptData) -> list[tuple[str, str]]:
    province = data.parent_names[-1] if data.parent_names else ""
    commune = data.parent_names[0] if len(data.parent_names) > 1 else ""
    class_text = f"{data.class_name or '-'} (khối {data.grade})"
    return [
        ("Mã định danh học sinh", data.learner_id),
        ("Trường", data.school_name),
        ("Xã, phường", commune),
        ("Tỉnh, thành phố", province),
        ("Lớp", class_text),
    ]


def _table_rows(data: TranscriptData) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]]
    if data.primary:
        # Primary has no averages: the end-of-semester and end-of-year judgements (Circular 27).
        rows = [("Môn học", "Cuối học kì I", "Cuối năm học")]
        rows += [(r.subject, r.first, r.year) for r in data.rows]
        return rows
    rows = [("Môn học", "Học kì I", "Học kì II", "Cả năm")]
    rows += [(r.subject, r.first, r.second, r.year) for r in data.rows]
    rows.append(("Kết quả học tập", *data.levels))
    return rows


def render_pdf(data: TranscriptData) -> bytes:
    """The transcript as PDF bytes (CPU-bound: call it from a worker thread)."""
    try:
        from fpdf import FPDF
        from fpdf.enums import XPos, YPos
        from fpdf.fonts import FontFace
    except ImportError:
        raise TranscriptUnavailable("the fpdf2 package is not installed") from None
    regular, bold = font_files()
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(_nfc(f"Học bạ {data.learner_id} {data.school_year}"))
    pdf.set_creator("EduHub records")
    pdf.add_font(FONT_FAMILY, "", str(regular))
    pdf.add_font(FONT_FAMILY, "B", str(bold))
    pdf.add_page()
    pdf.set_margins(18, 15, 18)

    def line(text: str, *, size: float = 10, style: str = "", align: str = "L") -> None:
        pdf.set_font(FONT_FAMILY, style, size)
        pdf.cell(0, 6, _nfc(text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line("CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM", style="B", align="C")
    line("Độc lập - Tự do - Hạnh phúc", align="C")
    pdf.ln(4)
    line("HỌC BẠ", size=16, style="B", align="C")
    line(f"Năm học {data.school_year}", size=11, align="C")
    pdf.ln(3)
    for label, value in _header_lines(data):
        line(f"{label}: {value}")
    pdf.ln(3)
    pdf.set_font(FONT_FAMILY, "", 10)
    rows = _table_rows(data)
    widths = (76, 34, 34, 30) if len(rows[0]) == 4 else (84, 45, 45)
    aligns = ("LEFT", *["CENTER"] * (len(widths) - 1))
    # The header row is bold by default; the learning-result row is bold too.
    bold_last = None if data.primary else FontFace(emphasis="BOLD")
    with pdf.table(col_widths=widths, text_align=aligns, line_height=7) as table:
        for number, cells in enumerate(rows, start=1):
            row = table.row(style=bold_last if number == len(rows) else None)
            for text in cells:
                row.cell(_nfc(text))
    pdf.ln(4)
    first, second, year = data.finalized
    line(f"Học kì I: {_status(first)}. Học kì II: {_status(second)}.", size=9)
    line(f"Cả năm: {_status(year)}.", size=9)
    printed = data.printed_at.astimezone(VIETNAM_TIME).strftime("%H:%M ngày %d/%m/%Y")
    line(f"In từ sổ điểm điện tử lúc {printed}.", size=9)
    return bytes(pdf.output())
