"""Composition root of the identity service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from pydantic import Field

from services.identity.api import router
from services.identity.consumers import roster_consumer
from services.identity.merge_api import router as merge_router
from services.identity.person_api import router as person_router
from services.identity.verification.api import router as verification_router
from shared.events.contracts.identity import (
    OrgChanged,
    PersonMerged,
    PersonRegistered,
    PersonUnmerged,
    PersonUpdated,
    PersonVerified,
)
from shared.service import ServiceContext, ServiceDefinition, create_service_app
from shared.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    identity_province_code: int = Field(
        default=31,
        ge=1,
        le=99,
        description="Province code written into the sector IDs this registry issues "
        "(31 = Hải Phòng, as in its personal-number code 031)",
    )


DEFINITION = ServiceDefinition(
    name="identity",
    title="EduHub identity",
    description="Organisation tree, lifelong IDs of learners, teachers and schools.",
    migrations=Path(__file__).parent / "migrations",
    publishes=[
        OrgChanged,
        PersonRegistered,
        PersonUpdated,
        PersonVerified,
        PersonMerged,
        PersonUnmerged,
    ],
    build_consumers=lambda: [roster_consumer()],
    routers=[router, person_router, merge_router, verification_router],
)


def create_app(settings: IdentitySettings | None = None) -> FastAPI:
    settings = settings or IdentitySettings()  # type: ignore[call-arg]
    app = create_service_app(DEFINITION, settings)
    context: ServiceContext = app.state.context
    context.extras["issuing_province"] = settings.identity_province_code
    return app
