"""Roster export in OneRoster 1.1 CSV, from which online-learning accounts are issued.

The province is the `district`, schools and daycare groups are `school`s (commune-level units
have no OneRoster counterpart and are skipped); learners and teachers held at or below the
chosen unit are users (username = the compact sector ID; never the personal number); a class
(lớp) known from records' enrolment events is a homeroom class of its school year.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from services.identity import roster_store, store
from services.identity.domain.oneroster import (
    AcademicSession,
    RosterClass,
    RosterEnrollment,
    RosterOrg,
    RosterUser,
    grade_code,
    split_vietnamese_name,
    write_oneroster_zip,
)
from shared.audit import record_access
from shared.auth import Principal, ensure_in_scope, require_role
from shared.db.pool import Connection
from shared.http.problems import Problem


def _session(school_year: str) -> AcademicSession:
    start, end = (int(y) for y in school_year.split("-"))
    return AcademicSession(
        sourced_id=f"SY-{school_year}",
        title=f"Năm học {school_year}",
        type="schoolYear",
        start_date=date(start, 8, 1),
        end_date=date(end, 7, 31),
        school_year=end,
    )


def _grades(grade: int | None) -> tuple[str, ...]:
    return (grade_code(grade),) if grade is not None and 1 <= grade <= 12 else ()


def build_roster(units: list[Any], persons: list[Any]) -> dict[str, Any]:
    """The OneRoster records for a subtree (pure: rows in, dataclasses out)."""
    orgs = []
    org_ids = set()
    district = next((u for u in units if u["kind"] == "province"), None)
    if district is not None:
        orgs.append(
            RosterOrg(
                district["org_id"], district["name"], "district", identifier=district["org_id"]
            )
        )
        org_ids.add(district["org_id"])
    for unit in units:
        if unit["kind"] in ("school", "daycare_group"):
            parent = district["org_id"] if district is not None else None
            orgs.append(
                RosterOrg(
                    unit["org_id"],
                    unit["name"],
                    "school",
                    identifier=unit["org_id"],
                    parent_sourced_id=parent,
                )
            )
            org_ids.add(unit["org_id"])
    sessions: dict[str, AcademicSession] = {}
    classes: dict[str, RosterClass] = {}
    users, enrollments = [], []
    for person in persons:
        school = person["enrolled_at"] or person["org_id"]
        if school not in org_ids:
            continue
        role = "student" if person["kind"] == "learner" else "teacher"
        users.append(
            RosterUser(
                sourced_id=person["sector_id"],
                role=role,
                username=person["sector_id"].replace("-", "").lower(),
                name=split_vietnamese_name(person["full_name"]),
                org_sourced_ids=(school,),
                grades=_grades(person["grade"]),
                identifier=person["sector_id"],
            )
        )
        if role != "student" or not person["class_id"]:
            continue
        session = sessions.setdefault(person["school_year"], _session(person["school_year"]))
        class_id = f"{school}:{person['school_year']}:{person['class_id']}"
        classes.setdefault(
            class_id,
            RosterClass(
                sourced_id=class_id,
                title=f"Lớp {person['class_id']} ({person['school_year']})",
                school_sourced_id=school,
                term_sourced_ids=(session.sourced_id,),
                class_code=person["class_id"],
                grades=_grades(person["grade"]),
            ),
        )
        enrollments.append(
            RosterEnrollment(
                sourced_id=f"{class_id}:{person['sector_id']}",
                class_sourced_id=class_id,
                school_sourced_id=school,
                user_sourced_id=person["sector_id"],
                role="student",
            )
        )
    return {
        "orgs": orgs,
        "users": users,
        "classes": list(classes.values()),
        "enrollments": enrollments,
        "sessions": list(sessions.values()),
    }


async def export_roster(conn: Connection, principal: Principal, org_id: str) -> bytes:
    require_role(principal, ["department", "commune", "school", "service"])
    if await store.get_org(conn, org_id) is None:
        raise Problem(404, "Not Found", f"no organisation {org_id}")
    ensure_in_scope(principal, org_id, await store.ancestors(conn, org_id))
    units: list[Any] = list(await roster_store.units_under(conn, org_id))
    if not any(u["kind"] == "province" for u in units):
        # Schools always need their district: add the province above the chosen unit.
        chain = await store.ancestors(conn, org_id)
        if chain:
            province = await store.get_org(conn, chain[-1])
            if province is not None and province["kind"] == "province":
                units = [dict(province), *units]
    persons = await roster_store.persons_under(conn, org_id)
    roster = build_roster(units, persons)
    await record_access(
        conn,
        principal,
        action="export",
        entity_kind="person",
        entity_ids=[u.sourced_id for u in roster["users"]],
        detail={"format": "OneRoster 1.1", "org_id": org_id},
    )
    buffer = io.BytesIO()
    write_oneroster_zip(buffer, **roster)
    return buffer.getvalue()
