"""Use cases of reorganisations: rename, move, merge, close; the history and dated lookups."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.identity import store
from services.identity.domain.reorganisation import (
    ChangeRequest,
    OrgState,
    ReorganisationError,
    apply_change,
    version_as_of,
)
from services.identity.handlers import SOURCE, org_event
from shared.auth import Principal, ensure_in_scope, require_role
from shared.db.pool import Connection
from shared.http.problems import Problem, invalid
from shared.outbox.writer import add_event


def _state(row: Any) -> OrgState:
    return OrgState(
        org_id=row["org_id"],
        revision=row["revision"],
        kind=row["kind"],
        name=row["name"],
        parent_id=row["parent_id"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        merged_into=row["merged_into"],
    )


async def _record(
    conn: Connection, principal: Principal, after: OrgState, change: str, effective_from: date
) -> dict[str, Any]:
    await store.update_org(conn, after=after)
    row = dict(await store.get_org(conn, after.org_id) or {})
    event = org_event(row, change)
    await store.insert_history(
        conn,
        org_id=after.org_id,
        revision=after.revision,
        change=change,
        snapshot=event.model_dump(mode="json"),
        changed_by=principal.key,
        effective_from=effective_from,
    )
    await add_event(conn, event, source=SOURCE)
    return event.model_dump(mode="json")


async def change_org(
    conn: Connection, principal: Principal, org_id: str, request: ChangeRequest
) -> dict[str, Any]:
    """Apply one reorganisation. Merging a commune moves its schools to the target commune,
    each as a change of its own, so every consumer sees where every school went."""
    require_role(principal, ["department", "service"])
    current = await store.lock_org(conn, org_id)
    if current is None:
        raise Problem(404, "Not Found", f"no organisation {org_id}")
    ensure_in_scope(principal, org_id, await store.ancestors(conn, org_id))
    new_parent = merge_target = None
    if request.parent_id:
        found = await store.get_org(conn, request.parent_id)
        new_parent = _state(found) if found else None
    if request.merged_into:
        found = await store.get_org(conn, request.merged_into)
        merge_target = _state(found) if found else None
    try:
        after = apply_change(
            _state(current), request, new_parent=new_parent, merge_target=merge_target
        )
    except ReorganisationError as exc:
        raise invalid(f"body.{exc.field}", str(exc)) from None
    result = await _record(conn, principal, after, request.change, request.effective_from)
    moved = []
    if request.change == "merged" and merge_target is not None:
        for child in await store.active_children(conn, org_id):
            child_after = apply_change(
                _state(child),
                ChangeRequest("moved", request.effective_from, parent_id=merge_target.org_id),
                new_parent=merge_target,
            )
            await _record(conn, principal, child_after, "moved", request.effective_from)
            moved.append(child["org_id"])
    return {**result, "children_moved": moved}


async def org_as_of(conn: Connection, org_id: str, as_of: date) -> dict[str, Any]:
    history = await store.history(conn, org_id)
    if not history:
        raise Problem(404, "Not Found", f"no organisation {org_id}")
    revision = version_as_of([(h["effective_from"], h["revision"]) for h in history], as_of)
    if revision is None:
        raise Problem(404, "Not Found", f"organisation {org_id} did not exist on {as_of}")
    snapshot = next(h["snapshot"] for h in history if h["revision"] == revision)
    return dict(snapshot)


async def org_history(conn: Connection, org_id: str) -> list[dict[str, Any]]:
    history = await store.history(conn, org_id)
    if not history:
        raise Problem(404, "Not Found", f"no organisation {org_id}")
    return [
        {
            "revision": h["revision"],
            "change": h["change"],
            "effective_from": h["effective_from"].isoformat(),
            "changed_at": h["changed_at"].isoformat(),
            "changed_by": h["changed_by"],
            "state": h["snapshot"],
        }
        for h in history
    ]
