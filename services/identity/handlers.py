"""Use cases of the identity service: plain async functions taking their ports as parameters."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.identity import store
from services.identity.domain.organisations import parent_problem
from services.identity.schemas import OrgCreate
from shared.auth import Principal, ensure_in_scope, require_role
from shared.db.pool import Connection
from shared.events.contracts.identity import OrgChanged
from shared.http.problems import Problem, invalid
from shared.outbox.writer import add_event

SOURCE = "/eduhub/identity"


def org_event(row: dict[str, Any], change: str) -> OrgChanged:
    return OrgChanged(
        org_id=row["org_id"],
        revision=row["revision"],
        change=change,  # type: ignore[arg-type]
        kind=row["kind"],
        name=row["name"],
        parent_id=row["parent_id"],
        agency_code=row["agency_code"],
        commune_type=row["commune_type"],
        school_type=row["school_type"],
        ownership=row["ownership"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        merged_into=row["merged_into"],
    )


async def register_org(
    conn: Connection, principal: Principal, command: OrgCreate
) -> dict[str, Any]:
    """Create a unit of the tree; the change event commits with it."""
    require_role(principal, ["department", "service"])
    if await store.get_org(conn, command.org_id) is not None:
        raise Problem(409, "Organisation exists", f"organisation {command.org_id} already exists")
    parent_kind = None
    if command.parent_id is not None:
        parent = await store.get_org(conn, command.parent_id)
        if parent is None:
            raise invalid("body.parent_id", f"unknown parent organisation {command.parent_id}")
        parent_kind = parent["kind"]
        ensure_in_scope(
            principal, command.parent_id, await store.ancestors(conn, command.parent_id)
        )
    elif principal.role != "service" and command.kind != "province":
        raise invalid("body.parent_id", "only a province may be created without a parent")
    if problem := parent_problem(command.kind, parent_kind):
        raise invalid("body.parent_id", problem)
    org = command.model_dump()
    try:
        await store.insert_org(conn, org=org)
    except asyncpg.UniqueViolationError:
        raise invalid("body.agency_code", f"agency code {command.agency_code} is in use") from None
    row = dict(await store.get_org(conn, command.org_id) or {})
    event = org_event(row, "created")
    await store.insert_history(
        conn,
        org_id=command.org_id,
        revision=1,
        change="created",
        snapshot=event.model_dump(mode="json"),
        changed_by=principal.key,
        effective_from=command.valid_from,
    )
    await add_event(conn, event, source=SOURCE)
    return event.model_dump(mode="json")
