"""The outgoing and incoming registers of a unit for a year, as rows (domain/registers.py) and
as JSON, Excel or PDF with Decree 30's columns."""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Iterator, Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from services.documents.domain.classification import Secrecy, Urgency
from services.documents.domain.document_types import document_type
from services.documents.domain.registers import (
    IncomingRegisterRow,
    OutgoingRegisterRow,
    RegisterKind,
    display_value,
    register_headers,
    row_values,
)
from shared.db.pool import Connection

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_REGULAR_FONT, _BOLD_FONT = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"


def _urgency(value: str | None) -> Urgency | None:
    return Urgency(value) if value else None


def _secrecy(value: str | None) -> Secrecy | None:
    return Secrecy(value) if value else None


def _outgoing_notes(row: Any) -> str:
    notes = []
    if row["replaces_notation"]:
        verb = "Thay thế" if row["business_type"] == 3 else "Cập nhật"
        notes.append(f"{verb} văn bản {row['replaces_notation']}")
    if row["state"] == "replaced":
        notes.append("Đã bị thay thế")
    if row["recall_requested_at"]:
        notes.append("Đã yêu cầu thu hồi")
    return "; ".join(notes)


async def outgoing_rows(
    conn: Connection, org_id: str, year: int, series_class: str
) -> list[OutgoingRegisterRow]:
    rows = await conn.fetch(
        """SELECT d.*, r.notation AS replaces_notation FROM documents d
           LEFT JOIN documents r ON r.id = d.replaces
           WHERE d.issuer_id = $1 AND d.issue_year = $2 AND d.series_class = $3
             AND d.state IN ('issued', 'replaced')
           ORDER BY d.number""",
        org_id,
        year,
        series_class,
    )
    return [
        OutgoingRegisterRow(
            notation=r["notation"],
            document_date=r["issued_on"],
            type_name=document_type(r["doc_type"]).name_vi,
            summary=r["summary"],
            signer=" ".join(x for x in (r["signer_competence"], r["signer_name"]) if x),
            recipients=tuple(r["recipient_labels"]),
            archive_holder=r["drafting_unit"] or "Văn thư",
            copies=0,  # electronic documents: no paper copies
            delivered_on=r["issued_on"],
            notes=_outgoing_notes(r),
            urgency=_urgency(r["urgency"]),
            secrecy=_secrecy(r["secrecy"]),
        )
        for r in rows
    ]


async def incoming_rows(
    conn: Connection, org_id: str, year: int, series_class: str
) -> list[IncomingRegisterRow]:
    rows = await conn.fetch(
        """SELECT d.*, doc.notation, doc.issued_on, doc.doc_type, doc.summary, doc.urgency,
                  doc.secrecy, doc.due_date, doc.issuer_id, o.name AS issuer_name
           FROM deliveries d JOIN documents doc ON doc.id = d.document_id
           LEFT JOIN org_units o ON o.org_id = doc.issuer_id
           WHERE d.recipient_id = $1 AND d.arrival_year = $2 AND d.arrival_series = $3
           ORDER BY d.arrival_number""",
        org_id,
        year,
        series_class,
    )
    return [
        IncomingRegisterRow(
            arrival_date=r["registered_at"].date(),
            arrival_number=r["arrival_number"],
            sender=r["issuer_name"] or r["issuer_id"],
            notation=r["notation"],
            document_date=r["issued_on"],
            type_name=document_type(r["doc_type"]).name_vi,
            summary=r["summary"],
            handled_by=" / ".join(x for x in (r["assigned_department"], r["assigned_person"]) if x),
            deadline=r["deadline"] or r["due_date"],
            notes="Đã thu hồi" if r["status"] == "15" else "",
            urgency=_urgency(r["urgency"]),
            secrecy=_secrecy(r["secrecy"]),
        )
        for r in rows
    ]


def as_json(
    kind: RegisterKind, rows: Sequence[OutgoingRegisterRow | IncomingRegisterRow]
) -> dict[str, Any]:
    from services.documents.domain.registers import INCOMING_COLUMNS, OUTGOING_COLUMNS

    columns = OUTGOING_COLUMNS if kind is RegisterKind.OUTGOING else INCOMING_COLUMNS
    keys = [c.key for c in columns]
    return {
        "columns": [
            {"key": c.key, "header_vi": c.header_vi, "header_en": c.header_en} for c in columns
        ],
        "rows": [
            {
                key: value.isoformat() if isinstance(value, date) else value
                for key, value in zip(keys, row_values(row), strict=True)
            }
            for row in rows
        ],
    }


def as_xlsx(
    kind: RegisterKind,
    title: str,
    rows: Sequence[OutgoingRegisterRow | IncomingRegisterRow],
) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Sổ đi" if kind is RegisterKind.OUTGOING else "Sổ đến"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True)
    sheet.append(list(register_headers(kind, "vi")))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row_values(row)))  # dates stay dates: the clerk can sort them
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, date):
                cell.number_format = "DD/MM/YYYY"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _font_dirs() -> Iterator[Path]:
    spec = importlib.util.find_spec("matplotlib")
    for location in (spec.submodule_search_locations or []) if spec else []:
        yield Path(location) / "mpl-data" / "fonts" / "ttf"
    yield Path("/usr/share/fonts/truetype/dejavu")


@cache
def _fonts() -> tuple[Path, Path]:
    # Vietnamese needs a Unicode font; DejaVu Sans comes with the matplotlib wheel.
    for folder in _font_dirs():
        if (folder / _REGULAR_FONT).is_file() and (folder / _BOLD_FONT).is_file():
            return folder / _REGULAR_FONT, folder / _BOLD_FONT
    raise RuntimeError("no DejaVu Sans font: install matplotlib or fonts-dejavu-core")


def as_pdf(
    kind: RegisterKind,
    title: str,
    rows: Sequence[OutgoingRegisterRow | IncomingRegisterRow],
) -> bytes:
    """A landscape A4 register, one line per document (CPU-bound: run it in a thread)."""
    from fpdf import FPDF

    pdf = FPDF(orientation="L", format="A4")
    regular, bold = _fonts()
    pdf.add_font("DejaVuSans", "", str(regular))
    pdf.add_font("DejaVuSans", "B", str(bold))
    pdf.set_font("DejaVuSans", size=7)
    pdf.set_auto_page_break(auto=True, margin=10)
    pdf.add_page()
    pdf.set_font_size(11)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(6.5)
    headers = register_headers(kind, "vi")
    data = [[display_value(v) for v in row_values(row)] for row in rows]
    with pdf.table(text_align="LEFT", line_height=3.5, first_row_as_headings=True) as table:
        table.row(list(headers))
        for values in data:
            table.row(values)
    return bytes(pdf.output())
