"""Importing the organisation tree from a spreadsheet (CSV or .xlsx).

Columns: org_id, kind, name, parent_id, agency_code, commune_type, school_type, ownership,
valid_from (only org_id, kind, name, valid_from are required). Rows are applied parents first,
each in its own savepoint: a bad row is reported with its line, field and rule, and the rest
still goes in. A unit that already exists is left as it is ("exists"), so an import can be
run again without creating anything twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from services.identity import handlers, store
from services.identity.schemas import OrgCreate
from shared.auth import Principal
from shared.db.pool import Connection
from shared.http.problems import Problem
from shared.tabular import TableRow, require_columns

REQUIRED = ["org_id", "kind", "name", "valid_from"]
OPTIONAL = ["parent_id", "agency_code", "commune_type", "school_type", "ownership"]


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": len(self.created),
            "existing": len(self.existing),
            "rejected": len(self.rejected),
            "errors": self.rejected,
        }


def parents_first(rows: list[tuple[TableRow, OrgCreate]]) -> list[tuple[TableRow, OrgCreate]]:
    """Order rows so that a parent defined in the same file comes before its children."""
    by_id = {org.org_id: (row, org) for row, org in rows}
    ordered: list[tuple[TableRow, OrgCreate]] = []
    placed: set[str] = set()

    def place(org_id: str, trail: tuple[str, ...]) -> None:
        if org_id in placed or org_id in trail:
            return  # placed already, or a cycle (its rows fail on the unknown parent)
        row, org = by_id[org_id]
        if org.parent_id in by_id:
            place(org.parent_id, (*trail, org_id))
        placed.add(org_id)
        ordered.append((row, org))

    for org_id in by_id:
        place(org_id, ())
    return ordered


async def import_orgs(
    conn: Connection, principal: Principal, header: list[str], rows: list[TableRow]
) -> ImportReport:
    require_columns(header, REQUIRED)
    report = ImportReport()
    valid: list[tuple[TableRow, OrgCreate]] = []
    seen: set[str] = set()
    for row in rows:
        values = {k: v for k, v in row.values.items() if k in REQUIRED + OPTIONAL and v != ""}
        try:
            org = OrgCreate.model_validate(values)
        except ValidationError as exc:
            for err in exc.errors():
                report.rejected.append(
                    {
                        "line": row.line,
                        "field": ".".join(map(str, err["loc"])),
                        "rule": err["type"],
                        "message": err["msg"],
                    }
                )
            continue
        if org.org_id in seen:
            report.rejected.append(
                {
                    "line": row.line,
                    "field": "org_id",
                    "rule": "duplicate",
                    "message": f"{org.org_id} appears twice in the file",
                }
            )
            continue
        seen.add(org.org_id)
        valid.append((row, org))
    for row, org in parents_first(valid):
        if await store.get_org(conn, org.org_id) is not None:
            report.existing.append(org.org_id)
            continue
        try:
            async with conn.transaction():  # a savepoint: one bad row rolls back alone
                await handlers.register_org(conn, principal, org)
        except Problem as problem:
            details: list[dict[str, Any]] = problem.errors or [
                {"field": "", "type": "conflict", "message": problem.detail or problem.title}
            ]
            for detail in details:
                report.rejected.append(
                    {
                        "line": row.line,
                        "field": str(detail["field"]).removeprefix("body."),
                        "rule": detail["type"],
                        "message": detail["message"],
                    }
                )
            continue
        report.created.append(org.org_id)
    return report
