"""HTTP routes of the health aggregates: nutrition (WHO), swimming, eyes.

For a province, commune-level unit or school, and one campaign: totals and rates, and the
breakdown one level down (the communes of a province, the schools of a commune, the classes of a
school). Figures are sums of the maintained cells of every school at or below the unit in the
organisation mirror as it is now. No small-cell suppression here: these answers are for
authorised staff in scope (the public statistics endpoint suppresses). Every answer is written
to the audit log, since class figures can describe few children.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Protocol, TypeVar

import asyncpg
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.analytics import health_store
from services.analytics.domain.health_fold import (
    AGE_GROUPS,
    EYE_CONDITIONS,
    EYE_COUNTERS,
    NO_CLASS,
    NOT_ABLE_TO_SWIM_SAFELY,
    NUTRITION_COUNTERS,
    REDUCED_ACUITY_BELOW,
    SWIM_COUNTERS,
)
from shared.audit import record_access
from shared.auth import Principal, ensure_in_scope
from shared.db.pool import Connection
from shared.http.deps import PoolDep, PrincipalDep
from shared.http.problems import Problem
from shared.orgs.mirror import ancestors, get_unit

router = APIRouter(tags=["health statistics"])

LEAF_KINDS = frozenset({"school", "daycare_group"})  # broken down by class
RATE_DECIMALS = 4
FiguresT = TypeVar("FiguresT")

CampaignQuery = Annotated[
    str, Query(min_length=1, max_length=64, description="The measurement campaign")
]


def rate(numerator: int, denominator: int) -> float | None:
    """A share rounded to 4 decimals (0.1234 = 12.34 %); None when nobody is in the base."""
    return round(numerator / denominator, RATE_DECIMALS) if denominator else None


# --------------------------------------------------------------------------- answer shapes
# Every indicator answers with the same head (the unit asked about and the campaign) and the same
# part identity; the three answers differ only in their figures. The bases keep those fields in
# one place; subclasses add theirs after them, so the JSON keeps its field order.


class UnitStats(BaseModel):
    org_id: str
    kind: str
    name: str
    campaign_id: str


class UnitPart(BaseModel):
    unit_id: str | None
    kind: str
    name: str | None


# --------------------------------------------------------------------------- nutrition


class NutritionRates(BaseModel):
    """Shares of the assessed learners (flagged and unknown measurements are left out), each
    classified by the WHO reference of their age. Thinness is a share of the assessed 5-19 year
    olds, wasting of the assessed under-fives: None where nobody is in that base."""

    normal: float | None
    overweight: float | None = Field(description="Overweight, not obese")
    obese: float | None
    overweight_or_obese: float | None
    thinness: float | None = Field(description="5-19 years: BMI-for-age < -2 SD (severe included)")
    severe_thinness: float | None
    wasting: float | None = Field(description="Under 5: weight-for-height < -2 SD (severe incl.)")
    severe_wasting: float | None
    stunting: float | None = Field(description="Height-for-age < -2 SD")


class NutritionFigures(BaseModel):
    """Counts of learners whose counted measurement has each status (statuses exclusive,
    `stunted` apart), and rates."""

    measured: int = Field(description="Learners with a counted measurement")
    assessed: int = Field(description="measured - flagged - unknown: the base of the rates")
    flagged: int = Field(description="Implausible by WHO's flags: excluded from the rates")
    unknown: int = Field(description="No height or weight, or age outside the WHO references")
    normal: int
    overweight: int
    obese: int
    thin: int
    severely_thin: int
    wasted: int
    severely_wasted: int
    stunted: int
    rates: NutritionRates

    @classmethod
    def of(cls, c: Mapping[str, int], *, age_5_19: int, under_5: int) -> NutritionFigures:
        """`age_5_19` and `under_5`: how many of the assessed are in each WHO age group."""
        assessed = _assessed(c)
        return cls(
            assessed=assessed,
            **{name: c[name] for name in NUTRITION_COUNTERS},
            rates=NutritionRates(
                normal=rate(c["normal"], assessed),
                overweight=rate(c["overweight"], assessed),
                obese=rate(c["obese"], assessed),
                overweight_or_obese=rate(c["overweight"] + c["obese"], assessed),
                thinness=rate(c["thin"] + c["severely_thin"], age_5_19),
                severe_thinness=rate(c["severely_thin"], age_5_19),
                wasting=rate(c["wasted"] + c["severely_wasted"], under_5),
                severe_wasting=rate(c["severely_wasted"], under_5),
                stunting=rate(c["stunted"], assessed),
            ),
        )


class NutritionPart(UnitPart):
    unit_id: str | None = Field(description="Child unit's org_id, or the class_id (None: no class)")
    kind: str = Field(description="commune, school, daycare_group, ... or class")
    total: NutritionFigures
    by_age_group: dict[str, NutritionFigures] = Field(
        description="under_5 (WHO 2006 standards), 5_19 (WHO 2007 reference), outside_who; "
        "only groups with measurements"
    )


class NutritionStats(UnitStats):
    total: NutritionFigures
    by_age_group: dict[str, NutritionFigures]
    breakdown: list[NutritionPart]


def _assessed(c: Mapping[str, int]) -> int:
    return c["measured"] - c["flagged"] - c["unknown"]


def _nutrition_figures(
    rows: Sequence[Mapping[str, Any] | asyncpg.Record],
) -> tuple[NutritionFigures, dict[str, NutritionFigures]]:
    groups: dict[str, Counter[str]] = {}
    for row in rows:
        group = groups.setdefault(row["age_group"], Counter({c: 0 for c in NUTRITION_COUNTERS}))
        for c in NUTRITION_COUNTERS:
            group[c] += row[c]
    total: Counter[str] = Counter({c: 0 for c in NUTRITION_COUNTERS})
    for group in groups.values():
        total.update(group)
    by_group: dict[str, NutritionFigures] = {}
    for name in AGE_GROUPS:
        if name in groups and groups[name]["measured"]:
            assessed = _assessed(groups[name])
            by_group[name] = NutritionFigures.of(
                groups[name],
                age_5_19=assessed if name == "5_19" else 0,
                under_5=assessed if name == "under_5" else 0,
            )
    return (
        NutritionFigures.of(
            total,
            age_5_19=_assessed(groups["5_19"]) if "5_19" in groups else 0,
            under_5=_assessed(groups["under_5"]) if "under_5" in groups else 0,
        ),
        by_group,
    )


# --------------------------------------------------------------------------- swimming


class SwimFigures(BaseModel):
    assessed: int
    cannot_swim: int
    swims_with_aid: int
    swims_25m_unaided: int
    not_able_to_swim_safely: int = Field(description="cannot_swim + swims_with_aid")
    share_not_able: float | None = Field(description="not_able_to_swim_safely / assessed")

    @classmethod
    def of(cls, c: Mapping[str, int]) -> SwimFigures:
        not_able = sum(c[a] for a in NOT_ABLE_TO_SWIM_SAFELY)
        return cls(
            **{name: c[name] for name in SWIM_COUNTERS},
            not_able_to_swim_safely=not_able,
            share_not_able=rate(not_able, c["assessed"]),
        )


class SwimPart(UnitPart):
    total: SwimFigures


class SwimStats(UnitStats):
    total: SwimFigures
    breakdown: list[SwimPart]


# --------------------------------------------------------------------------- eyes


class EyeRates(BaseModel):
    """Conditions as shares of `examined`; reduced acuity as a share of `acuity_measured`."""

    any_condition: float | None
    myopia: float | None
    hyperopia: float | None
    astigmatism: float | None
    strabismus: float | None
    other: float | None
    reduced_acuity: float | None


class EyeFigures(BaseModel):
    examined: int = Field(description="Learners whose counted measurement has eye data")
    any_condition: int = Field(description="Learners with at least one condition")
    myopia: int
    hyperopia: int
    astigmatism: int
    strabismus: int
    other: int
    acuity_measured: int = Field(description="Learners with acuity of at least one eye")
    reduced_acuity: int = Field(description="Acuity below the threshold in either eye")
    rates: EyeRates

    @classmethod
    def of(cls, c: Mapping[str, int]) -> EyeFigures:
        examined = c["examined"]
        return cls(
            **{name: c[name] for name in EYE_COUNTERS},
            rates=EyeRates(
                any_condition=rate(c["any_condition"], examined),
                **{name: rate(c[name], examined) for name in EYE_CONDITIONS},
                reduced_acuity=rate(c["reduced_acuity"], c["acuity_measured"]),
            ),
        )


class EyePart(UnitPart):
    total: EyeFigures


class EyeStats(UnitStats):
    reduced_acuity_below: float = Field(description="Decimal acuity threshold (parameter)")
    total: EyeFigures
    breakdown: list[EyePart]


# --------------------------------------------------------------------------- shared steps


async def _authorised_unit(
    conn: Connection, principal: Principal, org_id: str, indicator: str, campaign_id: str
) -> asyncpg.Record:
    unit = await get_unit(conn, org_id)
    if unit is None:
        raise Problem(404, "Not Found", f"organisation {org_id} is not known to analytics")
    ensure_in_scope(principal, org_id, await ancestors(conn, org_id) or [])
    await record_access(
        conn,
        principal,
        action="read_health_statistics",
        entity_kind="org_unit",
        entity_ids=[org_id],
        detail={"indicator": indicator, "campaign_id": campaign_id},
    )
    return unit


async def _parts(
    conn: Connection, rows: Sequence[asyncpg.Record], by_class: bool
) -> list[tuple[str | None, str, str | None, list[asyncpg.Record]]]:
    """Rows grouped by part, with the part's id, kind and name."""
    grouped: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for row in rows:
        grouped[row["part"]].append(row)
    if by_class:
        return [
            (None if part == NO_CLASS else part, "class", None, part_rows)
            for part, part_rows in grouped.items()
        ]
    named = await health_store.units(conn, list(grouped))
    return [
        (
            part,
            named[part]["kind"] if part in named else "unknown",
            named[part]["name"] if part in named else None,
            part_rows,
        )
        for part, part_rows in grouped.items()
    ]


def _sum(
    rows: Sequence[Mapping[str, Any] | asyncpg.Record], counters: Sequence[str]
) -> Counter[str]:
    total: Counter[str] = Counter({c: 0 for c in counters})
    for row in rows:
        for c in counters:
            total[c] += row[c]
    return total


# --------------------------------------------------------------------------- query functions


class RowsUnder(Protocol):
    """A health_store query: the indicator's cells at or below a unit, grouped by part."""

    async def __call__(
        self, conn: Connection, *, org_id: str, campaign_id: str, by_class: bool
    ) -> list[asyncpg.Record]: ...


@dataclass(frozen=True)
class Indicator(Generic[FiguresT]):
    """What sets one indicator apart: its name in the audit log, the cells it reads and how it
    sums rows into figures."""

    name: str
    rows_under: RowsUnder
    figures: Callable[[Sequence[asyncpg.Record]], FiguresT]


@dataclass(frozen=True)
class Rollup(Generic[FiguresT]):
    """One indicator's figures for a unit and for each part one level down."""

    head: dict[str, Any]  # the UnitStats fields
    total: FiguresT
    parts: list[tuple[dict[str, Any], FiguresT]]  # the UnitPart fields of a part, its figures


async def _rollup(
    conn: Connection,
    principal: Principal,
    indicator: Indicator[FiguresT],
    *,
    org_id: str,
    campaign_id: str,
) -> Rollup[FiguresT]:
    """The steps all three indicators share, in one place so that scope, audit and the
    breakdown level cannot drift apart between them: check scope and audit the read, fetch the
    cells (by class below a school or daycare group, else by child unit), and sum them for the
    unit and for each part."""
    unit = await _authorised_unit(conn, principal, org_id, indicator.name, campaign_id)
    by_class = unit["kind"] in LEAF_KINDS
    rows = await indicator.rows_under(
        conn, org_id=org_id, campaign_id=campaign_id, by_class=by_class
    )
    return Rollup(
        head={
            "org_id": org_id,
            "kind": unit["kind"],
            "name": unit["name"],
            "campaign_id": campaign_id,
        },
        total=indicator.figures(rows),
        parts=[
            ({"unit_id": unit_id, "kind": kind, "name": name}, indicator.figures(part_rows))
            for unit_id, kind, name, part_rows in await _parts(conn, rows, by_class)
        ],
    )


NUTRITION = Indicator("nutrition", health_store.nutrition_under, _nutrition_figures)
SWIMMING = Indicator(
    "swimming", health_store.swimming_under, lambda rows: SwimFigures.of(_sum(rows, SWIM_COUNTERS))
)
EYES = Indicator(
    "eyes", health_store.eyes_under, lambda rows: EyeFigures.of(_sum(rows, EYE_COUNTERS))
)


async def nutrition_stats(
    conn: Connection, principal: Principal, *, org_id: str, campaign_id: str
) -> NutritionStats:
    rollup = await _rollup(conn, principal, NUTRITION, org_id=org_id, campaign_id=campaign_id)
    total, by_group = rollup.total
    return NutritionStats(
        **rollup.head,
        total=total,
        by_age_group=by_group,
        breakdown=[
            NutritionPart(**part, total=part_total, by_age_group=part_groups)
            for part, (part_total, part_groups) in rollup.parts
        ],
    )


async def swimming_stats(
    conn: Connection, principal: Principal, *, org_id: str, campaign_id: str
) -> SwimStats:
    rollup = await _rollup(conn, principal, SWIMMING, org_id=org_id, campaign_id=campaign_id)
    return SwimStats(
        **rollup.head,
        total=rollup.total,
        breakdown=[SwimPart(**part, total=figures) for part, figures in rollup.parts],
    )


async def eye_stats(
    conn: Connection, principal: Principal, *, org_id: str, campaign_id: str
) -> EyeStats:
    rollup = await _rollup(conn, principal, EYES, org_id=org_id, campaign_id=campaign_id)
    return EyeStats(
        **rollup.head,
        reduced_acuity_below=REDUCED_ACUITY_BELOW,
        total=rollup.total,
        breakdown=[EyePart(**part, total=figures) for part, figures in rollup.parts],
    )


# --------------------------------------------------------------------------- routes


@router.get(
    "/stats/nutrition/{org_id}",
    response_model=NutritionStats,
    summary="Nutrition status by WHO references for a campaign, at or below a unit",
)
async def nutrition_statistics(
    org_id: str, campaign_id: CampaignQuery, pool: PoolDep, principal: PrincipalDep
) -> NutritionStats:
    async with pool.acquire() as conn, conn.transaction():
        return await nutrition_stats(conn, principal, org_id=org_id, campaign_id=campaign_id)


@router.get(
    "/stats/swimming/{org_id}",
    response_model=SwimStats,
    summary="Share of learners not able to swim safely for a campaign, at or below a unit",
)
async def swimming_statistics(
    org_id: str, campaign_id: CampaignQuery, pool: PoolDep, principal: PrincipalDep
) -> SwimStats:
    async with pool.acquire() as conn, conn.transaction():
        return await swimming_stats(conn, principal, org_id=org_id, campaign_id=campaign_id)


@router.get(
    "/stats/eyes/{org_id}",
    response_model=EyeStats,
    summary="Eye conditions and reduced visual acuity for a campaign, at or below a unit",
)
async def eye_statistics(
    org_id: str, campaign_id: CampaignQuery, pool: PoolDep, principal: PrincipalDep
) -> EyeStats:
    async with pool.acquire() as conn, conn.transaction():
        return await eye_stats(conn, principal, org_id=org_id, campaign_id=campaign_id)
