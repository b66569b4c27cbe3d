"""FastAPI dependencies every service uses: the service context, the caller, the key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import asyncpg
from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth import AuthenticationError, Principal

if TYPE_CHECKING:
    from shared.service import ServiceContext

_bearer = HTTPBearer(auto_error=False, description="JWT from the OIDC provider or `eduhub token`")


def get_context(request: Request) -> ServiceContext:
    return request.app.state.context


def get_pool(request: Request) -> asyncpg.Pool:
    return get_context(request).pool


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("an Authorization: Bearer <token> header is required")
    return get_context(request).verifier.verify(credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Any unique string per logical request; a retry with the same key and body "
        "returns the first answer instead of acting twice.",
    ),
]
