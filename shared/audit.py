"""The audit log of personal data (Law 91/2025/QH15): who read or changed whose record, when.

Written in the same transaction as the read or change it records, so a reply that reached
the caller always has its audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.auth import Principal
from shared.db.pool import Connection


async def record_access(
    conn: Connection,
    principal: Principal,
    *,
    action: str,
    entity_kind: str,
    entity_ids: Sequence[str],
    detail: dict[str, Any] | None = None,
) -> None:
    if not entity_ids:
        return
    await conn.execute(
        """INSERT INTO audit_log (actor, actor_role, actor_org, action, entity_kind, entity_id,
                                  detail)
           SELECT $1, $2, $3, $4, $5, e, $7 FROM unnest($6::text[]) AS e""",
        principal.subject,
        principal.role,
        principal.org_id,
        action,
        entity_kind,
        list(entity_ids),
        detail or {},
    )


async def entries_for(
    conn: Connection, *, entity_kind: str, entity_id: str, limit: int = 500
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT at, actor, actor_role, actor_org, action, detail FROM audit_log "
        "WHERE entity_kind = $1 AND entity_id = $2 ORDER BY at DESC, id DESC LIMIT $3",
        entity_kind,
        entity_id,
        limit,
    )
    return [dict(r) for r in rows]
