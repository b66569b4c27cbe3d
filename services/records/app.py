"""Composition root of the records service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.records.api import router
from services.records.facilities.api import router as facilities_router
from services.records.gradebook.api import router as gradebook_router
from services.records.health.api import router as health_router
from services.records.imports.api import router as imports_router
from services.records.lifecycle_api import router as lifecycle_router
from services.records.merges import merge_consumer
from services.records.person_facts import person_facts_consumer
from services.records.staff.api import router as staff_router
from shared.events.contracts.records import (
    ClassCreated,
    FacilityUpdated,
    GradeRecorded,
    HealthMeasured,
    RecordAcknowledged,
    StaffAssigned,
    StaffUpdated,
    StudentEnrolled,
    StudentLeft,
    StudentTransferred,
    SwimAssessed,
    TermFinalized,
)
from shared.orgs.consumer import org_mirror_consumer
from shared.service import ServiceDefinition, create_service_app
from shared.settings import ServiceSettings

DEFINITION = ServiceDefinition(
    name="records",
    title="EduHub records",
    description="Enrolment and transfers, classes, staff, gradebooks, health checks, facilities.",
    migrations=Path(__file__).parent / "migrations",
    publishes=[
        StudentEnrolled,
        StudentTransferred,
        StudentLeft,
        ClassCreated,
        StaffUpdated,
        StaffAssigned,
        FacilityUpdated,
        GradeRecorded,
        TermFinalized,
        HealthMeasured,
        SwimAssessed,
        RecordAcknowledged,
    ],
    build_consumers=lambda: [
        org_mirror_consumer("records"),
        merge_consumer(),
        person_facts_consumer(),
    ],
    routers=[
        router,
        lifecycle_router,
        staff_router,
        facilities_router,
        gradebook_router,
        health_router,
        imports_router,
    ],
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)
