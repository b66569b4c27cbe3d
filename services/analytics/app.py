"""Composition root of the analytics service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.analytics.api import router
from services.analytics.census_api import router as census_router
from services.analytics.consumers import enrolment_consumer
from services.analytics.dashboard import router as dashboard_router
from services.analytics.forecast_api import router as forecast_router
from services.analytics.forecast_consumers import staff_consumer
from services.analytics.gauges import GaugeRefresher
from services.analytics.health_api import router as health_router
from services.analytics.health_consumers import health_consumer
from services.analytics.public_api import router as public_router
from services.analytics.reports_api import router as reports_router
from services.analytics.results_api import router as results_router
from services.analytics.results_consumers import results_consumer, teacher_stats_consumer
from shared.events.contracts.analytics import ReportReady
from shared.orgs.consumer import org_mirror_consumer
from shared.service import ServiceContext, ServiceDefinition, create_service_app
from shared.settings import ServiceSettings


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    refresher: list[GaugeRefresher] = []  # built once the pool exists

    def mark_dirty(*_: object) -> None:
        if refresher:
            refresher[0].mark_dirty()

    async def on_started(context: ServiceContext) -> None:
        refresher.append(GaugeRefresher(context.pool))
        refresher[0].start()

    async def on_stopping(context: ServiceContext) -> None:
        if refresher:
            await refresher[0].stop()

    definition = ServiceDefinition(
        name="analytics",
        title="EduHub analytics",
        description="Live sector statistics kept from events: enrolment, nutrition, swimming, "
        "eye health, results; teacher-shortage forecast; published statistics.",
        migrations=Path(__file__).parent / "migrations",
        publishes=[ReportReady],
        build_consumers=lambda: [
            org_mirror_consumer("analytics", on_committed=mark_dirty, quiet=True),
            enrolment_consumer(mark_dirty),
            health_consumer(mark_dirty),
            staff_consumer(),
            results_consumer(),
            teacher_stats_consumer(),
        ],
        routers=[
            router,
            health_router,
            forecast_router,
            public_router,
            reports_router,
            dashboard_router,
            results_router,
            census_router,
        ],
        on_started=on_started,
        on_stopping=on_stopping,
    )
    return create_service_app(definition, settings)
