"""Reports the Department sends to communes, built as Excel workbooks.

`build_non_swimmers_report`: for one campaign and one commune, per school and class of the
commune, the learners assessed and the number and share not able to swim safely (cannot swim,
or swims only with aid), with a subtotal per school and the commune total. The report is for
authorised staff of the commune: counts are exact, not suppressed (the published statistics are
in `public_api.py`). The workbook is stored in `reports` and, in the same transaction,
`analytics.report.ready` is written to the outbox.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from services.analytics.domain.health_fold import NO_CLASS
from shared.audit import record_access
from shared.auth import Principal, ensure_in_scope, require_role
from shared.db.pool import Connection
from shared.events.contracts.analytics import ReportReady
from shared.http.problems import Problem
from shared.orgs.mirror import ancestors, get_unit
from shared.outbox.writer import add_event

SOURCE = "analytics"
NON_SWIMMERS = "non_swimmers"
REPORT_ROLES = ("department", "commune")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Layout of the non-swimmers sheet (1-based rows and columns, as in openpyxl).
TITLE_ROW = 1
SUBTITLE_ROW = 2
HEADER_ROW = 4
FIRST_DATA_ROW = HEADER_ROW + 1
HEADERS = (
    "STT",
    "Trường",
    "Lớp",
    "Số học sinh được đánh giá",
    "Số học sinh chưa biết bơi an toàn",
    "Tỉ lệ chưa biết bơi an toàn",
)
NO_CLASS_LABEL = "(không ghi lớp)"


def download_path(report_id: uuid.UUID) -> str:
    return f"/reports/{report_id}.xlsx"


@dataclass(frozen=True)
class ClassLine:
    school_id: str
    school_name: str
    class_id: str
    assessed: int
    not_able: int


async def swim_by_class(conn: Connection, *, commune_id: str, campaign_id: str) -> list[ClassLine]:
    """Swim counts per school and class at or below the commune, schools by name."""
    rows = await conn.fetch(
        """WITH RECURSIVE subtree(org_id, depth) AS (
               SELECT org_id, 0 FROM org_units WHERE org_id = $1
               UNION ALL
               SELECT o.org_id, s.depth + 1 FROM org_units o
               JOIN subtree s ON o.parent_id = s.org_id WHERE s.depth < 16)
           SELECT c.school_id, coalesce(u.name, c.school_id) AS school_name, c.class_id,
                  sum(c.assessed)::bigint AS assessed,
                  sum(c.cannot_swim + c.swims_with_aid)::bigint AS not_able
           FROM swim_cells c
           JOIN subtree s ON s.org_id = c.school_id
           LEFT JOIN org_units u ON u.org_id = c.school_id
           WHERE c.campaign_id = $2
           GROUP BY c.school_id, u.name, c.class_id
           HAVING sum(c.assessed) > 0""",
        commune_id,
        campaign_id,
    )
    lines = [
        ClassLine(r["school_id"], r["school_name"], r["class_id"], r["assessed"], r["not_able"])
        for r in rows
    ]
    # Python sorts: the same order whatever the database collation ("" = no class goes last).
    return sorted(
        lines, key=lambda c: (c.school_name, c.school_id, c.class_id == NO_CLASS, c.class_id)
    )


def _share(not_able: int, assessed: int) -> float | None:
    return not_able / assessed if assessed else None


def non_swimmers_workbook(
    lines: list[ClassLine], *, title: str, subtitle: str, commune_name: str
) -> bytes:
    """The sheet: title, subtitle, headers, one row per class, a subtotal per school, the
    commune total. Shares are numbers formatted as percentages (empty when nobody assessed)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Chưa biết bơi"
    bold = Font(bold=True)
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_fill = PatternFill("solid", fgColor="DDE6F0")
    total_fill = PatternFill("solid", fgColor="F2F2F2")

    sheet.cell(TITLE_ROW, 1, title).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=6)
    sheet.cell(SUBTITLE_ROW, 1, subtitle).font = Font(italic=True)
    sheet.merge_cells(start_row=SUBTITLE_ROW, start_column=1, end_row=SUBTITLE_ROW, end_column=6)
    for column, header in enumerate(HEADERS, start=1):
        cell = sheet.cell(HEADER_ROW, column, header)
        cell.font = bold
        cell.fill = header_fill
        cell.border = border
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")

    row = FIRST_DATA_ROW

    def write(values: list[Any], *, total: bool = False) -> None:
        nonlocal row
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row, column, value)
            cell.border = border
            if total:
                cell.font = bold
                cell.fill = total_fill
        sheet.cell(row, 6).number_format = "0.0%"
        row += 1

    number = 0
    schools: dict[str, list[ClassLine]] = {}
    for line in lines:
        schools.setdefault(line.school_id, []).append(line)
    for school_lines in schools.values():
        for line in school_lines:
            number += 1
            write(
                [
                    number,
                    line.school_name,
                    NO_CLASS_LABEL if line.class_id == NO_CLASS else line.class_id,
                    line.assessed,
                    line.not_able,
                    _share(line.not_able, line.assessed),
                ]
            )
        assessed = sum(c.assessed for c in school_lines)
        not_able = sum(c.not_able for c in school_lines)
        write(
            [
                None,
                f"Cộng {school_lines[0].school_name}",
                None,
                assessed,
                not_able,
                _share(not_able, assessed),
            ],
            total=True,
        )
    assessed = sum(c.assessed for c in lines)
    not_able = sum(c.not_able for c in lines)
    write(
        [None, f"Tổng cộng {commune_name}", None, assessed, not_able, _share(not_able, assessed)],
        total=True,
    )
    for letter, width in zip("ABCDEF", (6, 40, 12, 18, 20, 18), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = sheet.cell(FIRST_DATA_ROW, 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def _authorised_commune(
    conn: Connection, principal: Principal, commune_id: str
) -> asyncpg.Record:
    require_role(principal, REPORT_ROLES)
    unit = await get_unit(conn, commune_id)
    if unit is None:
        raise Problem(404, "Not Found", f"organisation {commune_id} is not known to analytics")
    ensure_in_scope(principal, commune_id, await ancestors(conn, commune_id) or [])
    if unit["kind"] != "commune":
        raise Problem(422, "Not a commune", f"{commune_id} is a {unit['kind']}, not a commune")
    return unit


async def build_non_swimmers_report(
    conn: Connection, principal: Principal, *, campaign_id: str, commune_id: str
) -> ReportReady:
    """Build, store and announce the report (call inside a transaction)."""
    commune = await _authorised_commune(conn, principal, commune_id)
    await record_access(
        conn,
        principal,
        action="build_report",
        entity_kind="org_unit",
        entity_ids=[commune_id],
        detail={"kind": NON_SWIMMERS, "campaign_id": campaign_id},
    )
    lines = await swim_by_class(conn, commune_id=commune_id, campaign_id=campaign_id)
    created_at = datetime.now(UTC)
    title = f"Học sinh chưa biết bơi an toàn — {commune['name']} — đợt {campaign_id}"
    subtitle = (
        f"Sở Giáo dục và Đào tạo lập ngày {created_at:%d/%m/%Y}. Chưa biết bơi an toàn: không "
        "biết bơi hoặc chỉ bơi được khi có phao, dụng cụ hỗ trợ. Số liệu cá nhân nhạy cảm "
        "(Luật 91/2025/QH15): chỉ dùng cho công tác phòng, chống đuối nước."
    )
    content = non_swimmers_workbook(
        lines, title=title, subtitle=subtitle, commune_name=commune["name"]
    )
    report_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO reports (report_id, kind, org_id, params, content, created_at, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        report_id,
        NON_SWIMMERS,
        commune_id,
        {"campaign_id": campaign_id, "commune_id": commune_id},
        content,
        created_at,
        principal.key,
    )
    ready = ReportReady(
        report_id=report_id,
        kind=NON_SWIMMERS,
        title=title,
        org_id=commune_id,
        campaign_id=campaign_id,
        download_path=download_path(report_id),
        created_at=created_at,
    )
    await add_event(conn, ready, source=SOURCE)
    return ready


@dataclass(frozen=True)
class ReportFile:
    report_id: uuid.UUID
    kind: str
    content: bytes

    @property
    def filename(self) -> str:
        return f"{self.kind}-{self.report_id}.xlsx"


async def load_report(conn: Connection, principal: Principal, report_id: uuid.UUID) -> ReportFile:
    """The stored file, for a caller in the scope of the unit it is addressed to (audited)."""
    require_role(principal, REPORT_ROLES)
    row = await conn.fetchrow(
        "SELECT report_id, kind, org_id, content FROM reports WHERE report_id = $1", report_id
    )
    if row is None:
        raise Problem(404, "Not Found", f"report {report_id} does not exist")
    ensure_in_scope(principal, row["org_id"], await ancestors(conn, row["org_id"]) or [])
    await record_access(
        conn,
        principal,
        action="download_report",
        entity_kind="report",
        entity_ids=[str(report_id)],
        detail={"kind": row["kind"], "org_id": row["org_id"]},
    )
    return ReportFile(row["report_id"], row["kind"], bytes(row["content"]))
