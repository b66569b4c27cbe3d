"""Composition root of the identity service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.identity.api import router
from shared.events.contracts.identity import OrgChanged
from shared.service import ServiceDefinition, create_service_app
from shared.settings import ServiceSettings

DEFINITION = ServiceDefinition(
    name="identity",
    title="EduHub identity",
    description="Organisation tree, lifelong IDs of learners, teachers and schools.",
    migrations=Path(__file__).parent / "migrations",
    publishes=[OrgChanged],
    build_consumers=list,
    routers=[router],
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)
