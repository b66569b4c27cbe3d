"""HTTP routes of the gradebook: validate, authorise, call a handler."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from services.records.gradebook import handlers, store, transcript
from services.records.gradebook.handlers import (
    ClassGradebook,
    ClassResults,
    FinalizeCommand,
    GradeCreate,
    GradeEntryPublic,
    SubjectPublic,
)
from shared.auth import require_role
from shared.events.contracts.records import SCHOOL_YEAR_PATTERN
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import answer_post
from shared.http.problems import Problem

router = APIRouter(prefix="/gradebook", tags=["gradebook"])

SchoolYearQuery = Annotated[str, Query(pattern=SCHOOL_YEAR_PATTERN, examples=["2025-2026"])]


@router.post(
    "/grades",
    status_code=201,
    response_model=GradeEntryPublic,
    summary="Record an assessment (publishes records.grade.recorded); in a finalised term only "
    "as a correction with a reason (audited)",
    responses={409: {"description": "The term is finalised and no reason was given"}},
)
async def record_grade(
    body: GradeCreate,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return await answer_post(
        request,
        pool,
        principal,
        idempotency_key,
        body.model_dump(mode="json"),
        lambda conn: handlers.record_grade(conn, principal, body, now=datetime.now(UTC)),
        status=201,
    )


@router.get(
    "/subjects",
    response_model=list[SubjectPublic],
    summary="Subjects of a grade: periods a year, how they are assessed (Program 2018; check)",
)
async def subjects(
    pool: PoolDep, principal: PrincipalDep, grade: Annotated[int, Query(ge=1, le=12)]
) -> list[SubjectPublic]:
    require_role(principal, handlers.READERS)
    async with pool.acquire() as conn:
        rows = await store.subjects_of_grade(conn, grade=grade)
    return [handlers.Subject.from_row(dict(row)).public() for row in rows]


@router.get(
    "/classes/{class_id}",
    response_model=ClassGradebook,
    summary="A class's gradebook for one semester, with corrections (audited)",
)
async def class_gradebook(
    class_id: str,
    pool: PoolDep,
    principal: PrincipalDep,
    school_id: str,
    school_year: SchoolYearQuery,
    semester: Annotated[int, Query(ge=1, le=2, description="1 or 2")],
) -> ClassGradebook:
    async with pool.acquire() as conn, conn.transaction():
        return await handlers.class_gradebook(
            conn,
            principal,
            class_id,
            school_id=school_id,
            school_year=school_year,
            semester=semester,
        )


@router.get(
    "/classes/{class_id}/results",
    response_model=ClassResults,
    summary="Averages, comment results and learning-result levels of a semester, or the year "
    "with semester=0 (audited)",
)
async def class_results(
    class_id: str,
    pool: PoolDep,
    principal: PrincipalDep,
    school_id: str,
    school_year: SchoolYearQuery,
    semester: Annotated[int, Query(ge=0, le=2, description="1, 2, or 0 for the year")],
) -> ClassResults:
    async with pool.acquire() as conn, conn.transaction():
        return await handlers.class_results(
            conn,
            principal,
            class_id,
            school_id=school_id,
            school_year=school_year,
            semester=semester,
        )


@router.post(
    "/classes/{class_id}/finalizations",
    status_code=201,
    response_model=ClassResults,
    summary="Finalise (lock) a class's semester or year; publishes records.term.finalized",
    responses={409: {"description": "Already finalised, or assessments missing (each named)"}},
)
async def finalize(
    class_id: str,
    body: FinalizeCommand,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return await answer_post(
        request,
        pool,
        principal,
        idempotency_key,
        body.model_dump(mode="json"),
        lambda conn: handlers.finalize_term(conn, principal, class_id, body, now=datetime.now(UTC)),
        status=201,
    )


@router.get(
    "/transcripts/{learner_id}/{school_year}.pdf",
    response_class=Response,
    summary="A learner's học bạ for a school year as PDF (audited)",
    responses={200: {"content": {"application/pdf": {}}, "description": "The transcript"}},
)
async def transcript_pdf(
    learner_id: str, school_year: str, pool: PoolDep, principal: PrincipalDep
) -> Response:
    async with pool.acquire() as conn, conn.transaction():
        data = await handlers.transcript_data(
            conn, principal, learner_id, school_year, now=datetime.now(UTC)
        )
    try:
        pdf = await run_in_threadpool(transcript.render_pdf, data)
    except transcript.TranscriptUnavailable as exc:
        raise Problem(503, "Transcript unavailable", str(exc)) from None
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="hoc-ba-{learner_id}-{school_year}.pdf"'
        },
    )
