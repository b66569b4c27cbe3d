"""HTTP routes of the edXML exchange: validate, authorise, call a handler."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.documents.access import ensure_acts_for
from services.documents.exchange import handlers, store
from services.documents.exchange.adapter import check_agency_code
from services.documents.exchange.handlers import Exchange
from services.documents.exchange.mapping import Party
from services.documents.exchange.runtime import CONTEXT_KEY
from shared.http.deps import IdempotencyKeyHeader, PoolDep, PrincipalDep
from shared.http.idempotency import answer_post
from shared.http.problems import Problem, invalid

router = APIRouter(tags=["edXML exchange"])

EDXML_MEDIA_TYPE = "application/xml"
PACKAGE_TYPES = ("application/xml", "text/xml", "application/octet-stream", "application/edxml")
AgencyCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._]{0,63}$")]


def exchange_of(request: Request) -> Exchange:
    exchange = request.app.state.context.extras.get(CONTEXT_KEY)
    if exchange is None:
        raise Problem(503, "edXML exchange not started", "the exchange has not started yet")
    assert isinstance(exchange, Exchange)
    return exchange


class SendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: list[AgencyCode] = Field(
        min_length=1, max_length=500, description="Agency codes (OrganId) to send it to"
    )


class AgencyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency_code: AgencyCode
    name: str = Field(min_length=1, max_length=300)
    organization_in_charge: str | None = Field(default=None, max_length=300)


def _file_name(notation: str) -> str:
    """An ASCII file name from a notation: "01/CT-SGDĐT" -> "01-CT-SGDDT"."""
    plain = unicodedata.normalize("NFKD", notation.replace("Đ", "D").replace("đ", "d"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9._-]+", "-", plain).strip("-") or "document"


@router.get(
    "/documents/{document_id}/edxml",
    summary="The issued document as an edXML package (QCVN 102:2016), attachments zipped",
    response_class=Response,
    responses={200: {"content": {EDXML_MEDIA_TYPE: {}}}},
)
async def download_package(
    document_id: uuid.UUID,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    to: Annotated[
        list[str] | None,
        Query(description="Recipient agency codes (default: those it was sent to)"),
    ] = None,
) -> Response:
    exchange = exchange_of(request)
    async with pool.acquire() as conn, conn.transaction():
        package, view = await handlers.export_package(
            conn, principal, exchange, document_id, list(to or [])
        )
    name = _file_name(view.number_notation)
    return Response(
        package,
        media_type=EDXML_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.edxml"'},
    )


@router.post(
    "/documents/{document_id}/edxml/send",
    status_code=202,
    summary="Queue the package for agencies over the configured adapter (file drop, axis)",
)
async def send_package(
    document_id: uuid.UUID,
    body: SendRequest,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    exchange = exchange_of(request)
    return await answer_post(
        request, pool, principal, idempotency_key, body,
        lambda conn: handlers.send_document(conn, principal, exchange, document_id, body.to),
        status=202,
    )  # fmt: skip


@router.get(
    "/documents/{document_id}/edxml/recipients",
    summary="Per external agency: when the package went, and the statuses it reported back",
)
async def external_recipients(
    document_id: uuid.UUID, request: Request, pool: PoolDep, principal: PrincipalDep
) -> dict[str, Any]:
    exchange = exchange_of(request)
    async with pool.acquire() as conn, conn.transaction():
        # Only the issuer side follows its recipients; issued_view checks the caller.
        await handlers.issued_view(conn, principal, exchange, document_id, ())
        return {"items": await store.sent_recipients(conn, document_id)}


@router.post(
    "/edxml/import",
    summary="Import an edXML package (the XML as the body): a document is registered in the "
    "receiving unit's incoming register once; a status message updates our sent document",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {EDXML_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def import_package(
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    exchange = exchange_of(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type not in PACKAGE_TYPES:
        raise Problem(415, "Unsupported Media Type",
                      f"send the package itself as the body, as {EDXML_MEDIA_TYPE}")  # fmt: skip
    limit = exchange.settings.max_package_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "Content Too Large", f"a package may have at most {limit} bytes")
    data = await request.body()
    if len(data) > limit:
        raise Problem(413, "Content Too Large", f"a package may have at most {limit} bytes")
    if not data:
        raise invalid("body", "the body is empty: send the edXML package")
    return await answer_post(
        request, pool, principal, idempotency_key, {"sha256": hashlib.sha256(data).hexdigest()},
        lambda conn: handlers.import_as(conn, principal, exchange, data, source="api"),
    )  # fmt: skip


@router.get("/edxml/agencies", summary="Agencies known to the exchange")
async def list_agencies(request: Request, pool: PoolDep, principal: PrincipalDep) -> dict[str, Any]:
    exchange = exchange_of(request)
    ensure_acts_for(principal, exchange.org_id)
    async with pool.acquire() as conn:
        return {"items": await store.list_agencies(conn)}


@router.post("/edxml/agencies", summary="Add or rename an agency we send packages to")
async def put_agency(
    body: AgencyIn,
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    exchange = exchange_of(request)
    ensure_acts_for(principal, exchange.org_id)
    check_agency_code(body.agency_code)

    async def run(conn: Any) -> dict[str, Any]:
        await store.upsert_agency(
            conn, Party(body.agency_code, body.name, body.organization_in_charge)
        )
        return body.model_dump()

    return await answer_post(request, pool, principal, idempotency_key, body, run)


@router.post("/edxml/poll", summary="Poll the adapter now (otherwise every EDXML_POLL_SECONDS)")
async def poll_now(
    request: Request,
    pool: PoolDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    exchange = exchange_of(request)
    ensure_acts_for(principal, exchange.org_id)
    if exchange.adapter is None:
        raise Problem(409, "No exchange adapter", "EDXML_ADAPTER is 'none'")
    return await answer_post(
        request, pool, principal, idempotency_key, {},
        lambda conn: handlers.poll_once(pool, exchange),
    )  # fmt: skip
