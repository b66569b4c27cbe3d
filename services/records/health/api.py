"""HTTP routes of health checks (/health): validate, authorise, call a handler."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.records.domain.health import Issue
from services.records.health import handlers
from services.records.health.handlers import MeasurementInput, SwimInput
from shared.db.pool import Connection
from shared.events.contracts.identity import OrgId
from shared.events.contracts.records import SCHOOL_YEAR_PATTERN
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import idempotent_response, run_idempotent
from shared.http.pagination import decode_cursor, encode_cursor

router = APIRouter(prefix="/health", tags=["health checks"])

CAMPAIGN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ACUITY_DESCRIPTION = 'Visual acuity: "10/10", "8/10", Snellen "20/40", or a decimal (0.8)'


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: str = Field(pattern=CAMPAIGN_ID_PATTERN, examples=["HP-2025-2026-HK1"])
    org_id: OrgId = Field(description="The school, commune or province the campaign covers")
    name: str = Field(min_length=1, max_length=200, examples=["Khám sức khỏe đầu năm"])
    school_year: str = Field(pattern=SCHOOL_YEAR_PATTERN, examples=["2025-2026"])
    term: Literal[1, 2] = Field(description="Semester (học kỳ)")
    starts_on: date
    ends_on: date


class Campaign(CampaignCreate):
    model_config = ConfigDict(extra="ignore")

    created_by: str
    created_at: datetime


class LearnerRecordCreate(BaseModel):
    """Whom and which campaign a measurement or a swim assessment is about; the subclasses add
    what was found (their fields follow these, so the schemas keep their field order)."""

    model_config = ConfigDict(extra="forbid")

    learner_id: str = Field(min_length=1, max_length=64)
    school_id: OrgId
    campaign_id: str = Field(min_length=1, max_length=64)
    class_id: str | None = Field(default=None, max_length=64, description="Default: enrolment's")


class MeasurementCreate(LearnerRecordCreate):
    measured_on: date
    height_cm: float | None = Field(default=None, examples=[142.5])
    weight_kg: float | None = Field(default=None, examples=[36.2])
    eyesight_left: str | float | None = Field(default=None, description=ACUITY_DESCRIPTION)
    eyesight_right: str | float | None = Field(default=None, description=ACUITY_DESCRIPTION)
    eye_conditions: list[str] = Field(
        default_factory=list,
        description="myopia, hyperopia, astigmatism, strabismus, other (or cận thị, viễn thị, "
        "loạn thị, lác, khác)",
    )
    sex: Literal["male", "female"] | None = Field(
        default=None, description="Only needed when the learner's record has none"
    )
    birth_date: date | None = Field(
        default=None, description="Only needed when the learner's record has none"
    )


class SwimCreate(LearnerRecordCreate):
    assessed_on: date
    ability: Literal["cannot_swim", "swims_with_aid", "swims_25m_unaided"]


class RecordOutcome(BaseModel):
    outcome: Literal["accepted", "unchanged"] = Field(
        description="accepted: stored and published; unchanged: the current record already "
        "holds these values (nothing stored, nothing published)"
    )
    record_id: uuid.UUID = Field(description="The current record")
    replaces: uuid.UUID | None = Field(description="The record this one superseded")


class LearnerRecord(BaseModel):
    """The head of a stored measurement or swim assessment, as LearnerRecordCreate."""

    record_id: uuid.UUID
    learner_id: str
    campaign_id: str
    school_id: str
    class_id: str | None


class Measurement(LearnerRecord):
    measured_on: date
    sex: str
    birth_date: date
    height_cm: float | None
    weight_kg: float | None
    eyesight_left: float | None
    eyesight_right: float | None
    eye_conditions: list[str]
    grade: int | None
    recorded_at: datetime
    replaces: uuid.UUID | None
    replaced_by: uuid.UUID | None
    superseded_at: datetime | None


class SwimAssessment(LearnerRecord):
    assessed_on: date
    ability: str
    grade: int | None
    sex: str | None
    recorded_at: datetime
    replaces: uuid.UUID | None
    replaced_by: uuid.UUID | None
    superseded_at: datetime | None


class LearnerHealth(BaseModel):
    measurements: list[Measurement]
    swim_assessments: list[SwimAssessment]


class MeasurementPage(BaseModel):
    items: list[Measurement]
    next_cursor: str | None


class SwimPage(BaseModel):
    items: list[SwimAssessment]
    next_cursor: str | None


def measurement_input(body: MeasurementCreate) -> MeasurementInput:
    issues: list[Issue] = []
    left, issue_left = handlers.parse_acuity("eyesight_left", body.eyesight_left)
    right, issue_right = handlers.parse_acuity("eyesight_right", body.eyesight_right)
    conditions, issue_conditions = handlers.parse_eye_conditions(body.eye_conditions)
    issues = [i for i in (issue_left, issue_right, issue_conditions) if i is not None]
    if issues:
        raise handlers.unprocessable(issues, title="Invalid measurement")
    return MeasurementInput(
        learner_id=body.learner_id,
        school_id=body.school_id,
        campaign_id=body.campaign_id,
        class_id=body.class_id,
        measured_on=body.measured_on,
        height_cm=body.height_cm,
        weight_kg=body.weight_kg,
        eyesight_left=left,
        eyesight_right=right,
        eye_conditions=conditions,
        sex=body.sex,
        birth_date=body.birth_date,
    )


async def _post(
    request: Request, pool: Any, principal: Any, key: str | None, body: BaseModel, act: Any
) -> JSONResponse:
    async def action(conn: Connection) -> tuple[int, Any]:
        return await act(conn)

    status, response, replayed = await run_idempotent(
        pool,
        principal=principal.key,
        key=key,
        method="POST",
        path=request.url.path,
        body=body.model_dump(mode="json"),
        action=action,
    )
    return idempotent_response(status, response, replayed=replayed)


def _recorded(result: dict[str, Any]) -> tuple[int, Any]:
    """201 when a record was stored; 200 when the current one already held these values, so a
    school re-sending its whole file sees that nothing new was created."""
    return (201 if result["outcome"] == "accepted" else 200), result


@router.post(
    "/campaigns",
    status_code=201,
    response_model=Campaign,
    summary="Open a health-check campaign for a school, a commune or the province",
)
async def create_campaign(
    body: CampaignCreate,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def act(conn: Connection) -> tuple[int, Any]:
        created = await handlers.create_campaign(conn, principal, **body.model_dump())
        return 201, Campaign.model_validate(created).model_dump(mode="json")

    return await _post(request, pool, principal, idempotency_key, body, act)


@router.get("/campaigns/{campaign_id}", response_model=Campaign)
async def get_campaign(campaign_id: str, pool: PoolDep, principal: PrincipalDep) -> Any:
    async with pool.acquire() as conn:
        return await handlers.get_campaign(conn, principal, campaign_id)


@router.post(
    "/measurements",
    response_model=RecordOutcome,
    responses={201: {"description": "Stored (a correction names the record it replaces)"}},
    summary="Record a learner's height, weight and eyesight in a campaign "
    "(publishes records.health.measured unless unchanged)",
)
async def record_measurement(
    body: MeasurementCreate,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def act(conn: Connection) -> tuple[int, Any]:
        result = await handlers.record_measurement(
            conn, principal, measurement_input(body), today=handlers.local_today()
        )
        return _recorded(result)

    return await _post(request, pool, principal, idempotency_key, body, act)


@router.post(
    "/swim-assessments",
    response_model=RecordOutcome,
    responses={201: {"description": "Stored (a correction names the record it replaces)"}},
    summary="Record whether a learner can swim (publishes records.swim.assessed unless unchanged)",
)
async def record_swim(
    body: SwimCreate,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    async def act(conn: Connection) -> tuple[int, Any]:
        swim = SwimInput(**body.model_dump())
        result = await handlers.record_swim(conn, principal, swim, today=handlers.local_today())
        return _recorded(result)

    return await _post(request, pool, principal, idempotency_key, body, act)


@router.get(
    "/learners/{learner_id}",
    response_model=LearnerHealth,
    summary="A learner's measurements and swim assessments, newest first (audited)",
)
async def learner_health(
    learner_id: str,
    pool: PoolDep,
    principal: PrincipalDep,
    include_superseded: bool = False,
) -> Any:
    async with pool.acquire() as conn, conn.transaction():
        return await handlers.learner_health(
            conn, principal, learner_id, include_superseded=include_superseded
        )


Limit = Annotated[int, Query(ge=1, le=1000)]


async def _page(
    pool: Any,
    principal: Any,
    kind: Literal["measurements", "swim_assessments"],
    campaign_id: str,
    school_id: str,
    class_id: str | None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        items, more = await handlers.list_school(
            conn,
            principal,
            kind=kind,
            campaign_id=campaign_id,
            school_id=school_id,
            class_id=class_id,
            after=decode_cursor(cursor),
            limit=limit,
        )
    return {
        "items": items,
        "next_cursor": encode_cursor(items[-1]["learner_id"]) if more else None,
    }


def _listings(
    kind: Literal["measurements", "swim_assessments"],
    *,
    segment: str,
    page: type[BaseModel],
    name: str,
) -> tuple[Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]]:
    """Register the two listings of one kind of record: of a school, and of one class of it.
    All four listings differ only in what they list and whether a class narrows them, so they
    are made here: their parameters, paging and audit cannot drift apart."""
    what = kind.replace("_", " ")
    school_path = f"/campaigns/{{campaign_id}}/schools/{{school_id}}/{segment}"
    class_path = f"/campaigns/{{campaign_id}}/schools/{{school_id}}/classes/{{class_id}}/{segment}"

    async def of_school(
        campaign_id: str,
        school_id: str,
        pool: PoolDep,
        principal: PrincipalDep,
        cursor: str | None = None,
        limit: Limit = 200,
    ) -> Any:
        return await _page(pool, principal, kind, campaign_id, school_id, None, cursor, limit)

    async def of_class(
        campaign_id: str,
        school_id: str,
        class_id: str,
        pool: PoolDep,
        principal: PrincipalDep,
        cursor: str | None = None,
        limit: Limit = 200,
    ) -> Any:
        return await _page(pool, principal, kind, campaign_id, school_id, class_id, cursor, limit)

    for path, endpoint, unit, prefix in (
        (school_path, of_school, "a school", "school"),
        (class_path, of_class, "a class", "class"),
    ):
        router.add_api_route(
            path,
            endpoint,
            methods=["GET"],
            response_model=page,
            summary=f"Current {what} of {unit} in a campaign, by learner (audited)",
            name=f"{prefix}_{name}",  # the name of the function it was before: same operationId
        )
    return of_school, of_class


school_measurements, class_measurements = _listings(
    "measurements", segment="measurements", page=MeasurementPage, name="measurements"
)
school_swims, class_swims = _listings(
    "swim_assessments", segment="swim-assessments", page=SwimPage, name="swims"
)
