"""Composition root of the documents service (the e-office).

So far it keeps its copy of the organisation tree, which routing to schools and communes will
use; registers, numbering, routing, signatures and edXML come with the documents issue.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from shared.orgs.consumer import org_mirror_consumer
from shared.service import ServiceDefinition, create_service_app
from shared.settings import ServiceSettings

DEFINITION = ServiceDefinition(
    name="documents",
    title="EduHub documents",
    description="The e-office: registers, numbering, routing, signatures, edXML exchange.",
    migrations=Path(__file__).parent / "migrations",
    publishes=[],
    build_consumers=lambda: [org_mirror_consumer("documents")],
    routers=[],
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)
