"""Use cases of school facilities, and their HTTP models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from services.records.facilities import store
from services.records.handlers import (
    SOURCE,
    WRITERS,
    ensure_can_read_school,
    ensure_school_in_scope,
)
from shared.auth import Principal, require_role
from shared.db.pool import Connection
from shared.events.contracts.records import FacilityUpdated
from shared.http.problems import Problem, field_error
from shared.outbox.writer import add_event

# Facilities are not personal data: anyone in scope may read them, without an audit entry.
READERS = ["department", "commune", "school", "teacher", "auditor", "service"]
# The figures a report consists of; `updated_on` only dates them.
FIGURES = (
    "classrooms",
    "labs",
    "libraries",
    "computers_for_learning",
    "internet_bandwidth_mbps",
    "connected",
)


class FacilitiesReport(BaseModel):
    """A school's facilities as of a day. The upper bounds only catch typing errors."""

    model_config = ConfigDict(extra="forbid")

    classrooms: int = Field(ge=0, le=2000)
    labs: int = Field(ge=0, le=500, description="Subject rooms and laboratories")
    libraries: int = Field(ge=0, le=100)
    computers_for_learning: int = Field(ge=0, le=100_000)
    internet_bandwidth_mbps: float | None = Field(default=None, ge=0, le=100_000)
    connected: bool = Field(description="Connected to the internet")
    updated_on: date | None = Field(
        default=None, description="The day the figures are true of; defaults to today"
    )


class FacilitiesPublic(BaseModel):
    school_id: str
    revision: int
    classrooms: int
    labs: int
    libraries: int
    computers_for_learning: int
    internet_bandwidth_mbps: float | None
    connected: bool
    updated_on: date
    recorded_at: datetime
    recorded_by: str


class FacilitiesSaved(FacilitiesPublic):
    changed: bool = Field(description="False when the figures were those already recorded")


class FacilitiesHistory(BaseModel):
    school_id: str
    items: list[FacilitiesPublic] = Field(description="Revisions, newest first")
    next_before: int | None = Field(description="Pass as `before` for older revisions")


def report_errors(report: FacilitiesReport, *, school_id: str, today: date) -> list[dict[str, str]]:
    """Every rule the report breaks, each naming its field."""
    errors = []
    bandwidth = report.internet_bandwidth_mbps
    if not report.connected and bandwidth:
        errors.append(
            field_error(
                "body.internet_bandwidth_mbps",
                f"school {school_id}: {bandwidth} Mbps of bandwidth but not connected",
                "inconsistent",
            )
        )
    if report.updated_on is not None and report.updated_on > today:
        errors.append(
            field_error(
                "body.updated_on", f"school {school_id}: updated_on {report.updated_on} is future"
            )
        )
    return errors


def _saved(row: asyncpg.Record, *, changed: bool) -> dict[str, Any]:
    return FacilitiesSaved(**dict(row), changed=changed).model_dump(mode="json")


async def report_facilities(
    conn: Connection,
    principal: Principal,
    school_id: str,
    report: FacilitiesReport,
    *,
    today: date,
) -> tuple[int, dict[str, Any]]:
    """Record a school's facilities: (201, ...) for its first report, (200, ...) after.

    New figures make the next revision and publish records.facility.updated; the figures
    already recorded change and publish nothing (whatever the date). A report dated before the
    current one is refused, so a late retry cannot overwrite newer figures.
    """
    require_role(principal, WRITERS)
    await ensure_school_in_scope(conn, principal, school_id, field="path.school_id")
    errors = report_errors(report, school_id=school_id, today=today)
    if errors:
        raise Problem(
            422,
            "Invalid facilities report",
            "; ".join(e["message"] for e in errors),
            errors=errors,
        )
    updated_on = report.updated_on or today
    figures = report.model_dump(include=set(FIGURES))
    await store.lock_school(conn, school_id)
    current = await store.current(conn, school_id)
    if current is not None:
        if {k: current[k] for k in FIGURES} == figures:
            return 200, _saved(current, changed=False)
        if updated_on < current["updated_on"]:
            raise Problem(
                409,
                "Stale facilities report",
                f"school {school_id}: the report of {updated_on} is older than revision "
                f"{current['revision']} of {current['updated_on']} already recorded",
                errors=[
                    field_error(
                        "body.updated_on",
                        f"older than the recorded {current['updated_on']}",
                        "stale",
                    )
                ],
            )
    row = await store.insert(
        conn,
        school_id=school_id,
        revision=(current["revision"] if current else 0) + 1,
        updated_on=updated_on,
        recorded_by=principal.key,
        **figures,
    )
    await add_event(
        conn,
        FacilityUpdated(**{k: row[k] for k in (*FIGURES, "school_id", "revision", "updated_on")}),
        source=SOURCE,
    )
    return (201 if current is None else 200), _saved(row, changed=True)


async def current_facilities(
    conn: Connection, principal: Principal, school_id: str
) -> FacilitiesPublic:
    require_role(principal, READERS)
    await ensure_can_read_school(conn, principal, school_id, field="path.school_id")
    row = await store.current(conn, school_id)
    if row is None:
        raise Problem(404, "Not Found", f"no facilities recorded for school {school_id}")
    return FacilitiesPublic.model_validate(dict(row))


async def facilities_history(
    conn: Connection, principal: Principal, school_id: str, *, before: int | None, limit: int
) -> FacilitiesHistory:
    require_role(principal, READERS)
    await ensure_can_read_school(conn, principal, school_id, field="path.school_id")
    rows = await store.history(conn, school_id=school_id, before=before, limit=limit + 1)
    items = [FacilitiesPublic.model_validate(dict(r)) for r in rows[:limit]]
    next_before = items[-1].revision if len(rows) > limit else None
    return FacilitiesHistory(school_id=school_id, items=items, next_before=next_before)
