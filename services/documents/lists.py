"""Saved distribution lists (danh sách nơi nhận) of a unit: named sets of recipient selectors,
checked against the tree when saved and expanded again whenever a draft uses them."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from services.documents import recipients as recipient_rules
from services.documents.access import ensure_acts_for, ensure_reads_org
from services.documents.recipients import ListMember
from shared.auth import Principal
from shared.db.pool import Connection
from shared.http.problems import Problem
from shared.vietnam_time import now_in_vietnam


class ListInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    members: list[ListMember] = Field(min_length=1, max_length=2000)


def _json(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "owner_id": row["owner_id"],
        "name": row["name"],
        "members": row["members"],
        "updated_at": row["updated_at"].isoformat(),
    }


async def _checked(conn: Connection, owner_id: str, body: ListInput) -> list[Any]:
    await recipient_rules.resolve(
        conn, owner_id, list(body.members), today=now_in_vietnam().date(), field_prefix="members"
    )
    return [m.model_dump(mode="json") for m in body.members]


async def create(conn: Connection, principal: Principal, body: ListInput) -> dict[str, Any]:
    ensure_acts_for(principal, principal.org_id)
    members = await _checked(conn, principal.org_id, body)
    try:
        row = await conn.fetchrow(
            "INSERT INTO distribution_lists (id, owner_id, name, members, created_by) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING *",
            uuid.uuid4(),
            principal.org_id,
            body.name,
            members,
            principal.key,
        )
    except asyncpg.UniqueViolationError:
        raise Problem(409, "Name taken", f"a list named {body.name!r} exists already") from None
    return _json(row)


async def _own(conn: Connection, principal: Principal, list_id: uuid.UUID) -> Any:
    row = await conn.fetchrow("SELECT * FROM distribution_lists WHERE id = $1", list_id)
    if row is None:
        raise Problem(404, "Unknown list", f"distribution list {list_id} does not exist")
    await ensure_reads_org(conn, principal, row["owner_id"])
    return row


async def get(conn: Connection, principal: Principal, list_id: uuid.UUID) -> dict[str, Any]:
    return _json(await _own(conn, principal, list_id))


async def list_all(conn: Connection, principal: Principal, owner_id: str) -> list[dict[str, Any]]:
    await ensure_reads_org(conn, principal, owner_id)
    rows = await conn.fetch(
        "SELECT * FROM distribution_lists WHERE owner_id = $1 ORDER BY name", owner_id
    )
    return [_json(r) for r in rows]


async def replace(
    conn: Connection, principal: Principal, list_id: uuid.UUID, body: ListInput
) -> dict[str, Any]:
    row = await _own(conn, principal, list_id)
    ensure_acts_for(principal, row["owner_id"])
    members = await _checked(conn, row["owner_id"], body)
    updated = await conn.fetchrow(
        "UPDATE distribution_lists SET name = $2, members = $3, updated_at = now() "
        "WHERE id = $1 RETURNING *",
        list_id,
        body.name,
        members,
    )
    return _json(updated)


async def delete(conn: Connection, principal: Principal, list_id: uuid.UUID) -> None:
    row = await _own(conn, principal, list_id)
    ensure_acts_for(principal, row["owner_id"])
    await conn.execute("DELETE FROM distribution_lists WHERE id = $1", list_id)
