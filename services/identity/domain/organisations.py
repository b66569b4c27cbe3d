"""Rules of the organisation tree (no IO)."""

from __future__ import annotations

# Which kind of unit may sit directly under which. Schools hang under a commune-level unit;
# upper-secondary schools, run by the Department, may also hang directly under the province.
ALLOWED_PARENT_KINDS: dict[str, set[str | None]] = {
    "province": {None},
    "commune": {"province"},
    "school": {"commune", "province"},
    "daycare_group": {"commune"},
}


def parent_problem(kind: str, parent_kind: str | None) -> str | None:
    """Why a unit of `kind` cannot sit under a parent of `parent_kind` (None when it can)."""
    allowed = ALLOWED_PARENT_KINDS[kind]
    if parent_kind in allowed:
        return None
    if parent_kind is None:
        return f"a {kind} needs a parent ({' or '.join(sorted(k for k in allowed if k))})"
    if allowed == {None}:
        return f"a {kind} is the root of the tree and has no parent"
    return f"a {kind} cannot sit under a {parent_kind}"
