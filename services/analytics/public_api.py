"""Published statistics: open to anyone, no authentication.

Enrolment per commune and swimming per commune, for the province, as count tables run through
the statistical disclosure control of `domain/suppression.py` (DOMAIN.md "Privacy": cells under
10 are hidden, and complementary cells so that no hidden cell can be recovered from the
totals). A hidden cell is published as `null` with the rule that hid it (`primary`: the count
is small; `secondary`: hidden to protect another cell). The suppression module's explanations
are not published: the one of a primary cell names the hidden count.

Before answering, the published table is audited as an intruder would (`audit_table`); a table
in which a hidden cell could still be recovered is refused (500), never published.

Schools directly under the Department (not under a commune) form one more line, so that the
lines add up to the province total.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from services.analytics.domain.suppression import (
    DEFAULT_THRESHOLD,
    CountList,
    CountTable,
    Reason,
    SuppressedList,
    SuppressedTable,
    audit_list,
    audit_table,
    suppress_list,
    suppress_table,
)
from shared.db.pool import Connection
from shared.http.deps import PoolDep
from shared.http.problems import Problem

router = APIRouter(tags=["published statistics"])

RATE_DECIMALS = 4
DEPARTMENT_LINE = "Trường trực thuộc Sở GD&ĐT"  # schools not under a commune
RULE = (
    f"Ô có số đếm từ 1 đến {DEFAULT_THRESHOLD - 1} được ẩn; một số ô khác cũng được ẩn (ẩn bổ "
    "sung) để không thể suy ra ô đã ẩn từ các tổng (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15)."
)
RULE_EN = (
    f"Counts from 1 to {DEFAULT_THRESHOLD - 1} are hidden, and further cells are hidden "
    "(complementary suppression) so that no hidden cell can be recovered from the totals."
)

SchoolYearQuery = Annotated[
    str, Query(pattern=r"^\d{4}-\d{4}$", description="School year, e.g. 2025-2026")
]
CampaignQuery = Annotated[
    str, Query(min_length=1, max_length=64, description="The measurement campaign")
]

_SUBTREE_TOTALS = """WITH RECURSIVE subtree(org_id, branch, depth) AS (
        SELECT org_id, NULL::text, 0 FROM org_units WHERE org_id = $1
        UNION ALL
        SELECT o.org_id, coalesce(s.branch, o.org_id), s.depth + 1 FROM org_units o
        JOIN subtree s ON o.parent_id = s.org_id WHERE s.depth < 16)"""


# --------------------------------------------------------------------------- response models


class PublishedCount(BaseModel):
    value: int | None = Field(description="The count; null when hidden")
    suppressed: Literal["primary", "secondary"] | None = Field(
        default=None,
        description="Why it is hidden: primary (a count under the threshold) or secondary "
        "(hidden so that another hidden cell cannot be recovered from the totals)",
    )


class Privacy(BaseModel):
    threshold: int = DEFAULT_THRESHOLD
    rule: str = RULE
    rule_en: str = RULE_EN


class EnrolmentLine(BaseModel):
    org_id: str | None = Field(description="The commune; null for schools under the Department")
    kind: Literal["commune", "department"]
    name: str
    enrolled: PublishedCount


class PublicEnrolment(BaseModel):
    school_year: str
    province_id: str
    province_name: str
    total: PublishedCount
    communes: list[EnrolmentLine]
    privacy: Privacy = Field(default_factory=Privacy)


class SwimLine(BaseModel):
    org_id: str | None
    kind: Literal["province", "commune", "department"]
    name: str
    assessed: PublishedCount
    not_able_to_swim_safely: PublishedCount = Field(description="cannot swim or swims with aid")
    able_to_swim_safely: PublishedCount = Field(description="swims 25 m unaided")
    share_not_able: float | None = Field(description="Only when both counts are published")


class PublicSwimming(BaseModel):
    campaign_id: str
    province_id: str
    province_name: str
    total: SwimLine
    communes: list[SwimLine]
    privacy: Privacy = Field(default_factory=Privacy)


# --------------------------------------------------------------------------- building blocks


@dataclass(frozen=True)
class Line:
    org_id: str | None
    kind: Literal["commune", "department"]
    name: str


async def province(conn: Connection) -> tuple[str, str]:
    """The province the statistics are published for: the root unit of the mirror."""
    rows = await conn.fetch(
        "SELECT org_id, name FROM org_units WHERE kind = 'province' AND parent_id IS NULL "
        "ORDER BY org_id"
    )
    if not rows:
        raise Problem(404, "Not Found", "no province is known to analytics yet")
    if len(rows) > 1:
        raise Problem(500, "Ambiguous province", "analytics knows more than one province")
    return rows[0]["org_id"], rows[0]["name"]


async def _lines(
    conn: Connection, province_id: str, parts: Sequence[str]
) -> tuple[list[Line], dict[str, int]]:
    """The lines of a published table: every current commune of the province (zeros included),
    any other commune that has counts, and one line for schools under the Department when
    they have counts. Returns the lines and, per part id, the index of its line."""
    rows = await conn.fetch(
        """SELECT org_id, kind, name FROM org_units
           WHERE (parent_id = $1 AND kind = 'commune'
                  AND (valid_to IS NULL OR valid_to >= current_date))
              OR org_id = ANY($2::text[])""",
        province_id,
        list(parts),
    )
    units = {r["org_id"]: r for r in rows}
    communes = sorted(
        (r for r in rows if r["kind"] == "commune"), key=lambda r: (r["name"], r["org_id"])
    )
    lines = [Line(r["org_id"], "commune", r["name"]) for r in communes]
    index = {line.org_id: i for i, line in enumerate(lines) if line.org_id is not None}
    others = [p for p in parts if p not in index]
    if others:
        lines.append(Line(None, "department", DEPARTMENT_LINE))
        for part in others:
            unit = units.get(part)
            assert unit is None or unit["kind"] != "commune"
            index[part] = len(lines) - 1
    return lines, index


def _published(value: int | None, reason: Reason | None) -> PublishedCount:
    return PublishedCount(value=value, suppressed=None if reason is None else reason.value)


def _ensure_protected_list(published: SuppressedList) -> None:
    if recoverable := audit_list(published).recoverable():
        raise Problem(500, "Disclosure check failed", f"cells {recoverable} are recoverable")


def _ensure_protected_table(published: SuppressedTable) -> None:
    if recoverable := audit_table(published).recoverable():
        raise Problem(500, "Disclosure check failed", f"cells {recoverable} are recoverable")


def _rate(numerator: int | None, denominator: int | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, RATE_DECIMALS)


# --------------------------------------------------------------------------- enrolment


def enrolment_list(lines: Sequence[Line], counts: Sequence[int]) -> SuppressedList:
    return suppress_list(CountList(tuple(line.name for line in lines), tuple(counts)))


async def public_enrolment(conn: Connection, *, school_year: str) -> PublicEnrolment:
    province_id, province_name = await province(conn)
    rows = await conn.fetch(
        f"""{_SUBTREE_TOTALS}
            SELECT coalesce(s.branch, s.org_id) AS part, sum(e.enrolled)::bigint AS enrolled
            FROM school_enrolment e JOIN subtree s ON s.org_id = e.school_id
            WHERE e.school_year = $2
            GROUP BY 1 HAVING sum(e.enrolled) > 0""",
        province_id,
        school_year,
    )
    lines, index = await _lines(conn, province_id, [r["part"] for r in rows])
    counts = [0] * len(lines)
    for r in rows:
        counts[index[r["part"]]] += r["enrolled"]
    if not lines:
        return PublicEnrolment(
            school_year=school_year,
            province_id=province_id,
            province_name=province_name,
            total=PublishedCount(value=0),
            communes=[],
        )
    published = enrolment_list(lines, counts)
    _ensure_protected_list(published)
    n = len(lines)

    def reason(i: int) -> Reason | None:
        found = published.reasons.get(i)
        return None if found is None else found.reason

    return PublicEnrolment(
        school_year=school_year,
        province_id=province_id,
        province_name=province_name,
        total=_published(published.total, reason(n)),
        communes=[
            EnrolmentLine(
                org_id=line.org_id,
                kind=line.kind,
                name=line.name,
                enrolled=_published(published.values[i], reason(i)),
            )
            for i, line in enumerate(lines)
        ],
    )


# --------------------------------------------------------------------------- swimming

SWIM_COLUMNS = ("not_able_to_swim_safely", "able_to_swim_safely")  # the row total: assessed


def swimming_table(lines: Sequence[Line], counts: Sequence[Sequence[int]]) -> SuppressedTable:
    """Rows: the lines; columns: not able / able to swim safely; row totals: assessed."""
    table = CountTable(
        tuple(line.name for line in lines), SWIM_COLUMNS, tuple(tuple(c) for c in counts)
    )
    return suppress_table(table)


async def public_swimming(conn: Connection, *, campaign_id: str) -> PublicSwimming:
    province_id, province_name = await province(conn)
    rows = await conn.fetch(
        f"""{_SUBTREE_TOTALS}
            SELECT coalesce(s.branch, s.org_id) AS part,
                   sum(c.cannot_swim + c.swims_with_aid)::bigint AS not_able,
                   sum(c.swims_25m_unaided)::bigint AS able
            FROM swim_cells c JOIN subtree s ON s.org_id = c.school_id
            WHERE c.campaign_id = $2
            GROUP BY 1 HAVING sum(c.assessed) > 0""",
        province_id,
        campaign_id,
    )
    lines, index = await _lines(conn, province_id, [r["part"] for r in rows])
    counts = [[0, 0] for _ in lines]
    for r in rows:
        counts[index[r["part"]]][0] += r["not_able"]
        counts[index[r["part"]]][1] += r["able"]
    province_line = Line(province_id, "commune", province_name)
    if not lines:
        zero = PublishedCount(value=0)
        return PublicSwimming(
            campaign_id=campaign_id,
            province_id=province_id,
            province_name=province_name,
            total=SwimLine(
                org_id=province_id,
                kind="province",
                name=province_name,
                assessed=zero,
                not_able_to_swim_safely=zero,
                able_to_swim_safely=zero,
                share_not_able=None,
            ),
            communes=[],
        )
    published = swimming_table(lines, counts)
    _ensure_protected_table(published)

    def line_of(r: int, line: Line, kind: Literal["province", "commune", "department"]) -> SwimLine:
        def cell(k: int) -> PublishedCount:
            found = published.reasons.get((r, k))
            return _published(published.grid[r][k], None if found is None else found.reason)

        not_able, assessed = cell(0), cell(2)
        return SwimLine(
            org_id=line.org_id,
            kind=kind,
            name=line.name,
            assessed=assessed,
            not_able_to_swim_safely=not_able,
            able_to_swim_safely=cell(1),
            share_not_able=_rate(not_able.value, assessed.value),
        )

    return PublicSwimming(
        campaign_id=campaign_id,
        province_id=province_id,
        province_name=province_name,
        total=line_of(len(lines), province_line, "province"),
        communes=[line_of(r, line, line.kind) for r, line in enumerate(lines)],
    )


# --------------------------------------------------------------------------- defaults


async def latest_school_year(conn: Connection) -> str | None:
    value = await conn.fetchval("SELECT max(school_year) FROM school_enrolment WHERE enrolled > 0")
    return None if value is None else str(value)


async def latest_campaign(conn: Connection) -> str | None:
    """The campaign of the most recent swim assessment."""
    value = await conn.fetchval(
        "SELECT campaign_id FROM swim_assessments ORDER BY assessed_on DESC, event_time DESC "
        "LIMIT 1"
    )
    return None if value is None else str(value)


# --------------------------------------------------------------------------- HTML

_CSS = """
body { font-family: system-ui, "Segoe UI", Roboto, Arial, sans-serif; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; color: #1d2733; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid #c9d1da; padding: .35rem .6rem; }
th { background: #eef2f6; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.hidden { color: #6b7785; background: #f7f7f2; }
tr.total td { font-weight: bold; background: #f3f6f9; }
.note { background: #fffbe6; border: 1px solid #e8d98a; padding: .6rem .9rem; }
.muted { color: #6b7785; font-size: .9rem; }
"""


def _count_cell(count: PublishedCount) -> str:
    if count.value is not None:
        number = f"{count.value:,}".replace(",", ".")  # Vietnamese thousands separator
        return f'<td class="n">{number}</td>'
    if count.suppressed == "primary":
        return '<td class="n hidden" title="Số đếm nhỏ hơn 10">&lt;10</td>'
    return '<td class="n hidden" title="Ẩn bổ sung để bảo vệ ô khác">·</td>'


def _share_cell(share: float | None) -> str:
    if share is None:
        return '<td class="n hidden">·</td>'
    number = f"{share * 100:.1f}".replace(".", ",")  # Vietnamese decimal comma
    return f'<td class="n">{number}%</td>'


def render_page(
    enrolment: PublicEnrolment | None, swimming: PublicSwimming | None, province_name: str
) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="vi"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Số liệu thống kê giáo dục công khai — {esc(province_name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Số liệu thống kê giáo dục công khai</h1>",
        f'<p class="muted">Sở Giáo dục và Đào tạo — {esc(province_name)}</p>',
        '<p class="note"><strong>Bảo vệ dữ liệu cá nhân.</strong> '
        f"{esc(RULE)} Ô ghi <strong>&lt;10</strong> là số đếm nhỏ hơn 10; ô ghi "
        "<strong>·</strong> được ẩn bổ sung.</p>",
        "<h2>Số học sinh theo xã, phường</h2>",
    ]
    if enrolment is None:
        parts.append("<p>Chưa có số liệu.</p>")
    else:
        parts += [
            f"<p>Năm học {esc(enrolment.school_year)}</p>",
            "<table><thead><tr><th>Xã, phường</th><th>Số học sinh</th></tr></thead><tbody>",
        ]
        for line in enrolment.communes:
            parts.append(f"<tr><td>{esc(line.name)}</td>{_count_cell(line.enrolled)}</tr>")
        parts.append(
            f'<tr class="total"><td>Toàn tỉnh/thành phố</td>{_count_cell(enrolment.total)}</tr>'
        )
        parts.append("</tbody></table>")
    parts.append("<h2>Kỹ năng bơi an toàn theo xã, phường</h2>")
    if swimming is None:
        parts.append("<p>Chưa có số liệu.</p>")
    else:
        parts += [
            f"<p>Đợt đánh giá {esc(swimming.campaign_id)}</p>",
            "<table><thead><tr><th>Xã, phường</th><th>Số học sinh được đánh giá</th>"
            "<th>Chưa biết bơi an toàn</th><th>Tỉ lệ chưa biết bơi an toàn</th></tr></thead>"
            "<tbody>",
        ]
        for row, css in [*((c, "") for c in swimming.communes), (swimming.total, "total")]:
            name = "Toàn tỉnh/thành phố" if css else row.name
            parts.append(
                f'<tr class="{css}"><td>{esc(name)}</td>{_count_cell(row.assessed)}'
                f"{_count_cell(row.not_able_to_swim_safely)}{_share_cell(row.share_not_able)}</tr>"
            )
        parts.append("</tbody></table>")
        parts.append(
            '<p class="muted">Chưa biết bơi an toàn: không biết bơi hoặc chỉ bơi được khi có '
            "phao, dụng cụ hỗ trợ.</p>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- routes


@router.get(
    "/public/enrolment",
    response_model=PublicEnrolment,
    summary="Published enrolment per commune and for the province (small cells suppressed)",
)
async def enrolment(school_year: SchoolYearQuery, pool: PoolDep) -> PublicEnrolment:
    async with pool.acquire() as conn:
        return await public_enrolment(conn, school_year=school_year)


@router.get(
    "/public/swimming",
    response_model=PublicSwimming,
    summary="Published swimming per commune: assessed and not able to swim safely (suppressed)",
)
async def swimming(campaign_id: CampaignQuery, pool: PoolDep) -> PublicSwimming:
    async with pool.acquire() as conn:
        return await public_swimming(conn, campaign_id=campaign_id)


@router.get(
    "/public",
    response_class=HTMLResponse,
    summary="Published statistics as a web page (Vietnamese)",
)
async def page(
    pool: PoolDep,
    school_year: Annotated[str | None, Query(pattern=r"^\d{4}-\d{4}$")] = None,
    campaign_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> HTMLResponse:
    async with pool.acquire() as conn:
        _, province_name = await province(conn)
        year = school_year or await latest_school_year(conn)
        campaign = campaign_id or await latest_campaign(conn)
        enrolment_table = None if year is None else await public_enrolment(conn, school_year=year)
        swim_table = None if campaign is None else await public_swimming(conn, campaign_id=campaign)
    return HTMLResponse(render_page(enrolment_table, swim_table, province_name))
