"""Recipients from the organisation tree: selectors, their validation and the routing query.

A draft names its recipients with selectors (a unit; all schools, or all schools of a type or
level, optionally within a commune or the province; all schools of a commune; all communes; a
saved distribution list). They are checked against this service's copy of the tree when
drafted and again when issued; issuing resolves them inside one INSERT ... SELECT, so routing
to every school of the city is one statement, not one round trip per school.

"Schools" are units of kind school (and daycare groups for the family_daycare type). A level
matches the school_type exactly: a multi-level school is reached with its own selector.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from shared.db.pool import Connection
from shared.events.contracts.identity import OrgId, SchoolType
from shared.http.problems import Problem, field_error

SCHOOL_TYPE_LABELS: dict[str, str] = {
    "nursery": "nhà trẻ",
    "kindergarten": "mẫu giáo",
    "preschool": "mầm non",
    "primary": "tiểu học",
    "lower_secondary": "trung học cơ sở",
    "upper_secondary": "trung học phổ thông",
    "multi_level": "liên cấp",
    "continuing_education": "GDNN-GDTX",
    "family_daycare": "nhóm trẻ độc lập",
}


class _Selector(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnitSelector(_Selector):
    kind: Literal["unit"]
    org_id: OrgId


class SchoolsOfTypeSelector(_Selector):
    kind: Literal["schools_of_type"]
    school_type: SchoolType
    within: OrgId | None = Field(
        default=None, description="A commune or the province; none means the whole tree"
    )


class AllSchoolsSelector(_Selector):
    """Every school of every type (and family daycare groups): a directive to the whole sector."""

    kind: Literal["all_schools"]
    within: OrgId | None = Field(
        default=None, description="A commune or the province; none means the whole tree"
    )


class SchoolsOfCommuneSelector(_Selector):
    kind: Literal["schools_of_commune"]
    commune_id: OrgId


class AllCommunesSelector(_Selector):
    kind: Literal["all_communes"]


class ListSelector(_Selector):
    kind: Literal["list"]
    list_id: uuid.UUID


Selector = Annotated[
    UnitSelector
    | SchoolsOfTypeSelector
    | AllSchoolsSelector
    | SchoolsOfCommuneSelector
    | AllCommunesSelector
    | ListSelector,
    Field(discriminator="kind"),
]
# What a distribution list may hold: anything but another list (no cycles, one expansion).
ListMember = Annotated[
    UnitSelector
    | SchoolsOfTypeSelector
    | AllSchoolsSelector
    | SchoolsOfCommuneSelector
    | AllCommunesSelector,
    Field(discriminator="kind"),
]
SELECTORS: TypeAdapter[list[Selector]] = TypeAdapter(list[Selector])
LIST_MEMBERS: TypeAdapter[list[ListMember]] = TypeAdapter(list[ListMember])


@dataclass
class Resolved:
    """Selectors reduced to the four arrays the routing query takes, with register labels."""

    unit_ids: list[str] = field(default_factory=list)
    commune_ids: list[str] = field(default_factory=list)
    type_names: list[str] = field(default_factory=list)
    type_within: list[str | None] = field(default_factory=list)
    all_communes: bool = False
    labels: list[str] = field(default_factory=list)


def _active(alias: str) -> str:
    return (
        f"{alias}.merged_into IS NULL AND ({alias}.valid_to IS NULL OR {alias}.valid_to >= $today)"
    )


async def _units(conn: Connection, ids: list[str], today: date) -> dict[str, Any]:
    rows = await conn.fetch(
        "SELECT org_id, kind, name FROM org_units o WHERE org_id = ANY($1::text[]) AND "
        + _active("o").replace("$today", "$2"),
        ids,
        today,
    )
    return {r["org_id"]: r for r in rows}


async def resolve(
    conn: Connection,
    owner_id: str,
    selectors: list[Any],
    *,
    today: date,
    field_prefix: str = "recipients",
) -> Resolved:
    """Check every selector against the tree; a 422 names each unknown unit, commune or list."""
    expanded: list[tuple[str, Any]] = []
    errors: list[dict[str, str]] = []
    for index, selector in enumerate(selectors):
        where = f"{field_prefix}[{index}]"
        if isinstance(selector, ListSelector):
            row = await conn.fetchrow(
                "SELECT name, members FROM distribution_lists WHERE id = $1 AND owner_id = $2",
                selector.list_id,
                owner_id,
            )
            if row is None:
                errors.append(
                    field_error(
                        f"{where}.list_id",
                        f"unknown distribution list {selector.list_id} of {owner_id}",
                        "unknown_recipient",
                    )
                )
                continue
            for member in LIST_MEMBERS.validate_python(row["members"]):
                expanded.append((f"{where} (list {row['name']!r})", member))
        else:
            expanded.append((where, selector))

    wanted = set()
    for _, selector in expanded:
        if isinstance(selector, UnitSelector):
            wanted.add(selector.org_id)
        elif isinstance(selector, SchoolsOfCommuneSelector):
            wanted.add(selector.commune_id)
        elif isinstance(selector, SchoolsOfTypeSelector | AllSchoolsSelector) and selector.within:
            wanted.add(selector.within)
    known = await _units(conn, sorted(wanted), today)

    resolved = Resolved()
    for where, selector in expanded:
        if isinstance(selector, UnitSelector):
            unit = known.get(selector.org_id)
            if unit is None:
                errors.append(
                    field_error(
                        f"{where}.org_id",
                        f"unknown or closed unit {selector.org_id}",
                        "unknown_recipient",
                    )
                )
            elif selector.org_id == owner_id:
                errors.append(field_error(f"{where}.org_id", "a unit cannot send to itself"))
            else:
                resolved.unit_ids.append(selector.org_id)
                resolved.labels.append(unit["name"])
        elif isinstance(selector, SchoolsOfCommuneSelector):
            unit = known.get(selector.commune_id)
            if unit is None or unit["kind"] != "commune":
                errors.append(
                    field_error(
                        f"{where}.commune_id",
                        f"unknown commune {selector.commune_id}",
                        "unknown_recipient",
                    )
                )
            else:
                resolved.commune_ids.append(selector.commune_id)
                resolved.labels.append(f"Các trường thuộc {unit['name']}")
        elif isinstance(selector, SchoolsOfTypeSelector | AllSchoolsSelector):
            if isinstance(selector, AllSchoolsSelector):
                # Every type: the routing query then matches schools of any level.
                types = list(SCHOOL_TYPE_LABELS)
                label = "Các cơ sở giáo dục"
            else:
                types = [selector.school_type]
                label = f"Các trường {SCHOOL_TYPE_LABELS[selector.school_type]}"
            if selector.within:
                unit = known.get(selector.within)
                if unit is None or unit["kind"] not in ("commune", "province"):
                    errors.append(
                        field_error(
                            f"{where}.within",
                            f"unknown commune or province {selector.within}",
                            "unknown_recipient",
                        )
                    )
                    continue
                label += f" thuộc {unit['name']}"
            resolved.type_names.extend(types)
            resolved.type_within.extend([selector.within] * len(types))
            resolved.labels.append(label)
        elif isinstance(selector, AllCommunesSelector):
            resolved.all_communes = True
            resolved.labels.append("UBND các xã, phường, đặc khu")
    if not selectors:
        errors.append(field_error(field_prefix, "at least one recipient is required", "missing"))
    if errors:
        names = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise Problem(422, "Invalid recipients", names, errors=errors)
    return resolved


# Every active unit any selector reaches, minus the issuer. The placeholders are filled with
# parameter numbers, so the routing insert and the dry-run count share one definition.
_REACHED = """
FROM org_units o LEFT JOIN org_units p ON p.org_id = o.parent_id
WHERE o.merged_into IS NULL AND (o.valid_to IS NULL OR o.valid_to >= {today})
  AND o.org_id <> {issuer}
  AND (o.org_id = ANY({units}::text[])
       OR (o.kind = 'school' AND o.parent_id = ANY({communes}::text[]))
       OR ({all_communes} AND o.kind = 'commune')
       OR (o.kind IN ('school', 'daycare_group') AND EXISTS (
             SELECT 1 FROM unnest({types}::text[], {within}::text[]) AS t(school_type, within)
             WHERE o.school_type = t.school_type
               AND (t.within IS NULL OR o.parent_id = t.within OR p.parent_id = t.within))))
"""


def reached_clause(first: int) -> str:
    """`FROM ... WHERE ...` of every unit the selectors reach, yielding `o.org_id`; its seven
    parameters start at `$first`: issuer, today, then `selector_args(resolved)`."""
    names = ("issuer", "today", "units", "communes", "all_communes", "types", "within")
    return _REACHED.format(**{name: f"${first + i}" for i, name in enumerate(names)})


def selector_args(resolved: Resolved) -> tuple[Any, ...]:
    return (
        resolved.unit_ids,
        resolved.commune_ids,
        resolved.all_communes,
        resolved.type_names,
        resolved.type_within,
    )


# Routing: one INSERT ... SELECT puts the document in every inbox with status 01.
_ROUTE = (
    "INSERT INTO deliveries (document_id, recipient_id, status, arrived_at, updated_at) "
    "SELECT $1, o.org_id, '01', $2, $2 " + reached_clause(3) + " ON CONFLICT DO NOTHING"
)
_COUNT = "SELECT count(*) " + reached_clause(1)


async def route(
    conn: Connection,
    document_id: uuid.UUID,
    issuer_id: str,
    resolved: Resolved,
    *,
    today: date,
    now: datetime,
) -> int:
    """Put the document in every recipient's inbox; the number of inboxes reached."""
    result = await conn.execute(
        _ROUTE, document_id, now, issuer_id, today, *selector_args(resolved)
    )
    return int(result.split()[-1])


async def count_reached(
    conn: Connection, issuer_id: str, resolved: Resolved, *, today: date
) -> int:
    """How many inboxes the selectors reach now (the routing query without the insert)."""
    return int(await conn.fetchval(_COUNT, issuer_id, today, *selector_args(resolved)))
