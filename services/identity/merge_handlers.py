"""Use cases of duplicate detection and merging.

A merge keeps the survivor, retires the other record (its ID still resolves to the survivor)
and publishes identity.person.merged so that records and analytics move what they hold to the
survivor. An unmerge reverses exactly one merge and publishes identity.person.unmerged. Both
are audited on both persons.
"""

from __future__ import annotations

import uuid
from typing import Any

from services.identity import merge_store, person_store, store
from services.identity.domain.matching import PersonRecord, find_duplicates
from services.identity.domain.sex import Sex
from shared.audit import record_access
from shared.auth import Principal, ensure_in_scope, require_role
from shared.db.pool import Connection
from shared.events.contracts.identity import PersonMerged, PersonUnmerged
from shared.http.problems import Problem, invalid
from shared.outbox.writer import add_event

SOURCE = "/eduhub/identity"
DECIDERS = ["department", "commune", "school", "service"]


async def _ensure_person_in_scope(conn: Connection, principal: Principal, row: Any) -> None:
    ensure_in_scope(principal, row["org_id"], await store.ancestors(conn, row["org_id"]))


async def merge_persons(
    conn: Connection, principal: Principal, *, survivor_id: str, merged_id: str, reason: str
) -> dict[str, Any]:
    require_role(principal, DECIDERS)
    if survivor_id == merged_id:
        raise invalid("body.merged_id", "a person cannot be merged into themselves")
    rows = await person_store.lock_persons(conn, [survivor_id, merged_id])
    for field, sector_id in (("body.survivor_id", survivor_id), ("body.merged_id", merged_id)):
        if sector_id not in rows:
            raise invalid(field, f"no person {sector_id}")
        if rows[sector_id]["merged_into"] is not None:
            raise Problem(
                409,
                "Already merged",
                f"{sector_id} was merged into {rows[sector_id]['merged_into']}",
            )
        await _ensure_person_in_scope(conn, principal, rows[sector_id])
    survivor, merged = rows[survivor_id], rows[merged_id]
    if survivor["kind"] != merged["kind"]:
        raise invalid(
            "body.merged_id",
            f"{merged_id} is a {merged['kind']}, {survivor_id} a {survivor['kind']}",
        )
    numbers = {survivor["personal_number"], merged["personal_number"]} - {None}
    if len(numbers) > 1:
        raise Problem(
            409,
            "Different personal numbers",
            "the two records carry different personal numbers: they are two people",
        )
    merge_id = uuid.uuid4()
    await merge_store.mark_merged(conn, merged_id=merged_id, survivor_id=survivor_id)
    await merge_store.insert_merge(
        conn,
        merge_id=merge_id,
        survivor_id=survivor_id,
        merged_id=merged_id,
        reason=reason,
        decided_by=principal.key,
    )
    await merge_store.resolve_candidate(
        conn, person_a=survivor_id, person_b=merged_id, status="merged", by=principal.key
    )
    await record_access(
        conn,
        principal,
        action="merge",
        entity_kind="person",
        entity_ids=[survivor_id, merged_id],
        detail={"merge_id": str(merge_id), "reason": reason},
    )
    await add_event(
        conn,
        PersonMerged(
            merge_id=merge_id, survivor_id=survivor_id, merged_id=merged_id, reason=reason
        ),
        source=SOURCE,
    )
    return {"merge_id": str(merge_id), "survivor_id": survivor_id, "merged_id": merged_id}


async def unmerge(
    conn: Connection, principal: Principal, *, merge_id: uuid.UUID, reason: str
) -> dict[str, Any]:
    require_role(principal, ["department", "service"])
    merge = await merge_store.get_merge(conn, merge_id)
    if merge is None:
        raise Problem(404, "Not Found", f"no merge {merge_id}")
    if merge["unmerged_at"] is not None:
        raise Problem(
            409,
            "Already undone",
            f"merge {merge_id} was undone at {merge['unmerged_at'].isoformat()}",
        )
    rows = await person_store.lock_persons(conn, [merge["survivor_id"], merge["merged_id"]])
    merged = rows[merge["merged_id"]]
    if merged["personal_number"] and await person_store.by_personal_number(
        conn, merged["personal_number"]
    ):
        raise Problem(
            409,
            "Personal number in use",
            f"{merged['personal_number']} now belongs to an active record",
        )
    await merge_store.clear_merged(conn, merged_id=merge["merged_id"])
    await merge_store.close_merge(conn, merge_id=merge_id, by=principal.key, reason=reason)
    await record_access(
        conn,
        principal,
        action="unmerge",
        entity_kind="person",
        entity_ids=[merge["survivor_id"], merge["merged_id"]],
        detail={"merge_id": str(merge_id), "reason": reason},
    )
    await add_event(
        conn,
        PersonUnmerged(
            merge_id=merge_id,
            survivor_id=merge["survivor_id"],
            merged_id=merge["merged_id"],
            reason=reason,
        ),
        source=SOURCE,
    )
    return {
        "merge_id": str(merge_id),
        "survivor_id": merge["survivor_id"],
        "merged_id": merge["merged_id"],
        "undone": True,
    }


def person_record(row: Any) -> PersonRecord:
    return PersonRecord(
        record_id=row["sector_id"],
        full_name=row["full_name"],
        birth_date=row["birth_date"],
        sex=Sex(row["sex"]),
        personal_number=row["personal_number"],
        birthplace=row["birthplace"],
        guardian_name=row["guardian_name"],
        verified=row["verification_status"] == "verified",
        created_at=row["created_at"],
    )


async def scan_for_duplicates(
    conn: Connection, principal: Principal, *, org_id: str | None
) -> dict[str, Any]:
    """Score candidate pairs among active persons in scope and queue them for review."""
    require_role(principal, ["department", "commune", "service"])
    within = org_id or (None if principal.role == "service" else principal.org_id)
    if within is not None:
        if await store.get_org(conn, within) is None:
            raise invalid("body.org_id", f"unknown organisation {within}")
        ensure_in_scope(principal, within, await store.ancestors(conn, within))
    rows = await merge_store.active_persons_under(conn, within)
    result = find_duplicates(person_record(r) for r in rows)
    stored = await merge_store.upsert_candidates(
        conn,
        [
            {
                "a": c.a,
                "b": c.b,
                "score": c.score,
                "decision": c.decision.value,
                "reasons": c.reasons,
            }
            for c in result.candidates
        ],
    )
    return {
        "persons_scanned": len(rows),
        "pairs_compared": result.stats.compared_pairs,
        "candidates": len(result.candidates),
        "auto_merge": sum(1 for c in result.candidates if c.decision.value == "auto_merge"),
        "review": sum(1 for c in result.candidates if c.decision.value == "review"),
        "queued": stored,
    }
