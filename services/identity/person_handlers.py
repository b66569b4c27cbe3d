"""Use cases of the person registry."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import asyncpg

from services.identity import person_store, store
from services.identity.domain.issues import ValidationIssue
from services.identity.domain.names import clean_name, normalise_name
from services.identity.domain.personal_number import clean_personal_number, validate_personal_number
from services.identity.domain.sector_id import SectorIdKind, format_sector_id
from services.identity.domain.sex import Sex
from services.identity.person_schemas import PersonCorrection, PersonCreate, PersonPublic
from shared.audit import record_access
from shared.auth import Principal, ensure_in_scope, in_scope, require_role
from shared.db.pool import Connection
from shared.events.contracts.identity import PersonRegistered, PersonUpdated
from shared.http.problems import Problem, field_error, invalid
from shared.outbox.writer import add_event

SOURCE = "/eduhub/identity"
REGISTRARS = ["department", "commune", "school", "service"]
READERS = ["department", "commune", "school", "teacher", "auditor", "service"]
KIND_PREFIX = {
    "learner": SectorIdKind.LEARNER,
    "teacher": SectorIdKind.TEACHER,
    "staff": SectorIdKind.STAFF,
}


def _issue_error(issue: ValidationIssue) -> dict[str, str]:
    """A problem+json error entry for one broken rule, with the Vietnamese text for staff."""
    return {
        **field_error(f"body.{issue.field}", issue.message, issue.rule),
        "message_vi": issue.message_vi,
    }


async def _ensure_org_in_scope(
    conn: Connection, principal: Principal, org_id: str, *, field: str
) -> None:
    if await store.get_org(conn, org_id) is None:
        raise invalid(field, f"unknown organisation {org_id}")
    ensure_in_scope(principal, org_id, await store.ancestors(conn, org_id))


async def register_person(
    conn: Connection,
    principal: Principal,
    command: PersonCreate,
    *,
    issuing_province: int,
    today: date,
) -> dict[str, Any]:
    """Give a person their lifelong sector ID; the event commits with the row."""
    require_role(principal, REGISTRARS)
    await _ensure_org_in_scope(conn, principal, command.org_id, field="body.org_id")
    if command.birth_date > today:
        raise invalid("body.birth_date", f"birth date {command.birth_date} is in the future")
    number = clean_personal_number(command.personal_number) if command.personal_number else None
    if number is not None:
        issues = validate_personal_number(
            number, birth_date=command.birth_date, sex=Sex(command.sex), today=today
        )
        if issues:
            raise Problem(
                422,
                "Invalid personal number",
                "; ".join(i.message for i in issues),
                errors=[
                    {
                        **field_error(f"body.{i.field}", i.message, i.rule),
                        "message_vi": i.message_vi,
                    }
                    for i in issues
                ],
            )
        existing = await person_store.by_personal_number(conn, number)
        if existing is not None:
            raise Problem(
                409,
                "Person already registered",
                f"personal number {number} belongs to {existing['sector_id']}",
            )
    prefix = KIND_PREFIX[command.kind]
    sequence = await person_store.next_sequence(
        conn, kind=prefix.value, province_code=issuing_province, year=today.year
    )
    full_name = clean_name(command.full_name)
    try:
        row = await person_store.insert_person(
            conn,
            {
                "sector_id": format_sector_id(prefix, issuing_province, today.year, sequence),
                "kind": command.kind,
                "full_name": full_name,
                "name_normalised": normalise_name(full_name),
                "birth_date": command.birth_date,
                "sex": command.sex,
                "personal_number": number,
                "birthplace": command.birthplace,
                "guardian_name": command.guardian_name,
                "org_id": command.org_id,
            },
        )
    except asyncpg.UniqueViolationError:
        # Registered concurrently under the same personal number.
        raise Problem(
            409, "Person already registered", f"personal number {number} exists"
        ) from None
    await record_access(
        conn, principal, action="create", entity_kind="person", entity_ids=[row["sector_id"]]
    )
    await add_event(
        conn,
        PersonRegistered(
            sector_id=row["sector_id"],
            revision=row["revision"],
            kind=row["kind"],
            org_id=row["org_id"],
            birth_date=row["birth_date"],
            sex=row["sex"],
            has_personal_number=number is not None,
            verification_status=row["verification_status"],
        ),
        source=SOURCE,
    )
    return PersonPublic.model_validate(dict(row)).model_dump(mode="json")


async def read_person(conn: Connection, principal: Principal, identifier: str) -> PersonPublic:
    """A person by sector ID, alias or personal number; out of scope looks like not found."""
    require_role(principal, READERS)
    row = await person_store.resolve(conn, identifier.strip().upper().replace(" ", ""))
    if row is None and identifier.strip().isdigit():
        row = await person_store.resolve(conn, identifier.strip())
    if row is None or not in_scope(
        principal, row["org_id"], await store.ancestors(conn, row["org_id"])
    ):
        raise Problem(404, "Not Found", f"no person {identifier} in your scope")
    person = PersonPublic.model_validate(dict(row))
    if person.resolved_from == person.sector_id:
        person.resolved_from = None
    await record_access(
        conn,
        principal,
        action="read",
        entity_kind="person",
        entity_ids=[row["sector_id"]],
        detail={"looked_up_as": identifier},
    )
    return person


_NOT_SEARCHABLE = re.compile(r"[^a-z0-9 ]")


async def search_persons(
    conn: Connection,
    principal: Principal,
    *,
    name: str,
    org_id: str | None,
    after: str | None,
    limit: int,
) -> list[PersonPublic]:
    """Diacritic-insensitive name search within the caller's scope (or a unit inside it)."""
    require_role(principal, READERS)
    prefix = _NOT_SEARCHABLE.sub("", normalise_name(name)).strip()
    if len(prefix) < 2:
        raise invalid("query.name", "give at least two letters of the name")
    within = org_id or (None if principal.role == "service" else principal.org_id)
    if within is not None:
        await _ensure_org_in_scope(conn, principal, within, field="query.org_id")
    rows = await person_store.search_by_name(
        conn, name_prefix=prefix, within_org=within, after=after, limit=limit
    )
    people = [PersonPublic.model_validate(dict(r)) for r in rows]
    await record_access(
        conn,
        principal,
        action="search",
        entity_kind="person",
        entity_ids=[p.sector_id for p in people],
        detail={"query": name},
    )
    return people


CORRECTABLE = (
    "full_name",
    "birth_date",
    "sex",
    "personal_number",
    "birthplace",
    "guardian_name",
    "org_id",
)


async def correct_person(
    conn: Connection,
    principal: Principal,
    identifier: str,
    correction: PersonCorrection,
    *,
    today: date,
) -> dict[str, Any]:
    """Fix a record by hand (the usual name and birth-date mismatches). The personal number is
    checked against the corrected birth date and sex; a moved person must land in scope."""
    require_role(principal, REGISTRARS)
    found = await person_store.resolve(conn, identifier.strip().upper())
    if found is None:
        raise Problem(404, "Not Found", f"no person {identifier} in your scope")
    rows = await person_store.lock_persons(conn, [found["sector_id"]])
    current = rows[found["sector_id"]]
    if not in_scope(principal, current["org_id"], await store.ancestors(conn, current["org_id"])):
        raise Problem(404, "Not Found", f"no person {identifier} in your scope")
    wanted = correction.model_dump(include=set(CORRECTABLE), exclude_unset=True)
    if "full_name" in wanted:
        wanted["full_name"] = clean_name(wanted["full_name"])
    if wanted.get("personal_number"):
        wanted["personal_number"] = clean_personal_number(wanted["personal_number"])
    changes = {k: v for k, v in wanted.items() if v != current[k]}
    if not changes:
        raise invalid("body", "nothing to change: every given field already has that value")
    if "org_id" in changes:
        await _ensure_org_in_scope(conn, principal, changes["org_id"], field="body.org_id")
    birth_date = changes.get("birth_date", current["birth_date"])
    if birth_date > today:
        raise invalid("body.birth_date", f"birth date {birth_date} is in the future")
    number = changes.get("personal_number", current["personal_number"])
    if number:
        issues = validate_personal_number(
            number,
            birth_date=birth_date,
            sex=Sex(changes.get("sex", current["sex"])),
            today=today,
        )
        if issues:
            raise Problem(
                422,
                "Invalid personal number",
                "; ".join(i.message for i in issues),
                errors=[_issue_error(i) for i in issues],
            )
        holder = await person_store.by_personal_number(conn, number)
        if holder is not None and holder["sector_id"] != current["sector_id"]:
            raise Problem(
                409,
                "Personal number in use",
                f"personal number {number} belongs to {holder['sector_id']}",
            )
    if "full_name" in changes:
        changes["name_normalised"] = normalise_name(changes["full_name"])
    row = await person_store.update_person(conn, current["sector_id"], changes)
    changed = sorted(k for k in changes if k != "name_normalised")
    await record_access(
        conn,
        principal,
        action="correct",
        entity_kind="person",
        entity_ids=[row["sector_id"]],
        detail={"fields": changed, "reason": correction.reason},
    )
    await add_event(
        conn,
        PersonUpdated(
            sector_id=row["sector_id"],
            revision=row["revision"],
            changed_fields=changed,
            org_id=row["org_id"],
            birth_date=row["birth_date"],
            sex=row["sex"],
            verification_status=row["verification_status"],
        ),
        source=SOURCE,
    )
    return PersonPublic.model_validate(dict(row)).model_dump(mode="json")
