"""`Idempotency-Key` for POST requests (required): a retried request gets the first answer,
not a second effect. The answer is stored in the same transaction as the effect, so either
both exist or neither does; concurrent requests with one key are serialised by an advisory
lock."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from shared.auth import Principal
from shared.db.pool import Connection
from shared.http.problems import Problem

Action = Callable[[Connection], Awaitable[tuple[int, Any]]]


def request_fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()


REPLAYED_HEADER = "Idempotency-Replayed"


async def answer_post(
    request: Request,
    pool: asyncpg.Pool,
    principal: Principal,
    key: str | None,
    body: Any,
    run: Callable[[Connection], Awaitable[Any]],
    status: int = 200,
) -> JSONResponse:
    """A route's whole POST: `body` is the request (a pydantic model or JSON-ready data),
    `run` the use case on a connection inside the transaction."""
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return await idempotent_post(
        pool,
        principal=principal.key,
        key=key,
        path=request.url.path,
        body=data,
        run=run,
        status=status,
    )


async def idempotent_post(
    pool: asyncpg.Pool,
    *,
    principal: str,
    key: str | None,
    path: str,
    body: Any,
    run: Callable[[Connection], Awaitable[Any]],
    status: int = 200,
) -> JSONResponse:
    """The usual POST: run the use case once per Idempotency-Key and answer with its result
    (`body` is the request, as JSON-ready data, to recognise a key reused for another one)."""

    async def action(conn: Connection) -> tuple[int, Any]:
        return status, await run(conn)

    code, response, replayed = await run_idempotent(
        pool, principal=principal, key=key, method="POST", path=path, body=body, action=action
    )
    return idempotent_response(code, response, replayed=replayed)


def idempotent_response(status: int, body: Any, *, replayed: bool) -> JSONResponse:
    """The stored or fresh answer; a replay says so in a header, so a client can tell "done
    now" from "done before" without comparing bodies."""
    return JSONResponse(body, status_code=status, headers={REPLAYED_HEADER: str(replayed).lower()})


async def prune(conn: Connection, *, retention_days: int) -> int:
    """Forget stored answers older than the retention period (retries come within minutes)."""
    result = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(days => $1)",
        retention_days,
    )
    return int(result.split()[-1])


async def run_idempotent(
    pool: asyncpg.Pool,
    *,
    principal: str,
    key: str | None,
    method: str,
    path: str,
    body: Any,
    action: Action,
) -> tuple[int, Any, bool]:
    """Run `action` in a transaction once per (principal, key). Returns (status, body, replayed)."""
    if key is None:
        # Required, not optional: a school's software that retries a POST without a key would
        # register a second person or enrol twice.
        raise Problem(
            400,
            "Idempotency-Key required",
            "send an Idempotency-Key header on every POST: a unique value per logical request, "
            "the same value when you retry it",
            errors=[{"field": "header.Idempotency-Key", "message": "required", "type": "missing"}],
        )
    async with pool.acquire() as conn, conn.transaction():
        if not 1 <= len(key) <= 200:
            raise Problem(400, "Bad Idempotency-Key", "the key must be 1 to 200 characters")
        fingerprint = request_fingerprint(method, path, body)
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{principal}|{key}"
        )
        stored = await conn.fetchrow(
            "SELECT request_hash, status_code, response_body FROM idempotency_keys "
            "WHERE principal = $1 AND key = $2",
            principal,
            key,
        )
        if stored is not None:
            if stored["request_hash"] != fingerprint:
                raise Problem(
                    422,
                    "Idempotency-Key reused",
                    "this Idempotency-Key was already used for a different request",
                )
            return stored["status_code"], stored["response_body"], True
        status, response = await action(conn)
        await conn.execute(
            "INSERT INTO idempotency_keys "
            "(principal, key, method, path, request_hash, status_code, response_body) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            principal,
            key,
            method,
            path,
            fingerprint,
            status,
            response,
        )
        return status, response, False
