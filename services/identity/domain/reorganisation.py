"""Rules of reorganisations (no IO): rename, move, merge and close a unit of the tree.

A change takes effect on a date. The unit keeps its ID; its revision grows by one, and the
previous revision stays in the history so that anything dated before the change resolves to
the unit as it was then.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from services.identity.domain.organisations import parent_problem

ChangeKind = Literal["renamed", "moved", "merged", "closed"]


@dataclass(frozen=True)
class OrgState:
    org_id: str
    revision: int
    kind: str
    name: str
    parent_id: str | None
    valid_from: date
    valid_to: date | None
    merged_into: str | None


@dataclass(frozen=True)
class ChangeRequest:
    change: ChangeKind
    effective_from: date
    name: str | None = None
    parent_id: str | None = None
    merged_into: str | None = None


class ReorganisationError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def apply_change(
    current: OrgState,
    request: ChangeRequest,
    *,
    new_parent: OrgState | None = None,
    merge_target: OrgState | None = None,
) -> OrgState:
    """The unit after the change, or ReorganisationError naming the field at fault."""
    if current.valid_to is not None or current.merged_into is not None:
        raise ReorganisationError("org_id", f"{current.org_id} is already closed or merged")
    if request.effective_from < current.valid_from:
        raise ReorganisationError(
            "effective_from",
            f"the change cannot take effect before the unit existed ({current.valid_from})",
        )
    if request.change == "renamed":
        if not request.name or request.name.strip() == current.name:
            raise ReorganisationError("name", "a rename needs a new name")
        return replace(current, revision=current.revision + 1, name=request.name.strip())
    if request.change == "moved":
        if new_parent is None:
            raise ReorganisationError("parent_id", "a move needs an existing new parent")
        if new_parent.org_id == current.parent_id:
            raise ReorganisationError("parent_id", f"{current.org_id} is already there")
        if new_parent.valid_to is not None or new_parent.merged_into is not None:
            raise ReorganisationError("parent_id", f"{new_parent.org_id} is closed or merged")
        if problem := parent_problem(current.kind, new_parent.kind):
            raise ReorganisationError("parent_id", problem)
        return replace(current, revision=current.revision + 1, parent_id=new_parent.org_id)
    closing_day = request.effective_from - timedelta(days=1)
    if request.change == "merged":
        if merge_target is None:
            raise ReorganisationError("merged_into", "a merge needs an existing target unit")
        if merge_target.org_id == current.org_id:
            raise ReorganisationError("merged_into", "a unit cannot merge into itself")
        if merge_target.kind != current.kind:
            raise ReorganisationError(
                "merged_into",
                f"a {current.kind} can only merge into a {current.kind}, not a {merge_target.kind}",
            )
        if merge_target.valid_to is not None or merge_target.merged_into is not None:
            raise ReorganisationError("merged_into", f"{merge_target.org_id} is closed or merged")
        return replace(
            current,
            revision=current.revision + 1,
            valid_to=closing_day,
            merged_into=merge_target.org_id,
        )
    return replace(current, revision=current.revision + 1, valid_to=closing_day)


def version_as_of(history: list[tuple[date, int]], as_of: date) -> int | None:
    """The revision in force on `as_of`, from (effective_from, revision) pairs; None before
    the unit existed."""
    in_force = [revision for effective, revision in history if effective <= as_of]
    return max(in_force) if in_force else None
