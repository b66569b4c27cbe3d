"""Composition root of the documents service (the e-office).

It keeps its copy of the organisation tree (routing to schools and communes reads it), and
serves outgoing documents with Decree 30 numbering, routing to inboxes, the incoming and
outgoing registers, processing statuses and distribution lists; signs outgoing PDFs and checks
the signatures of incoming ones (signing/, via signing_hooks), and exchanges documents with
other agencies as edXML (exchange/).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from fastapi import FastAPI

from services.documents import signing_hooks
from services.documents.analytics_reports import analytics_report_consumer
from services.documents.analytics_reports_api import router as analytics_reports_router
from services.documents.api import router as documents_router
from services.documents.exchange.api import router as edxml_router
from services.documents.exchange.runtime import start_exchange, stop_exchange
from services.documents.inbox_page import router as inbox_page_router
from services.documents.reminders import start_reminders, stop_reminders
from services.documents.report_requests_api import router as report_requests_router
from services.documents.schedules_api import router as schedules_router
from services.documents.signing.config import SigningSettings, load_signing_kit_async
from shared.events.contracts.documents import (
    DocumentIssued,
    DocumentReceived,
    DocumentReminded,
    DocumentStatusChanged,
    ReportRequested,
    ReportSubmitted,
)
from shared.orgs.consumer import org_mirror_consumer
from shared.service import ServiceContext, ServiceDefinition, create_service_app
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)
SIGNING_KIT_KEY = "signing_kit"
REMINDERS_KEY = "reminders_task"


def _state_dir(environment: str) -> Path | None:
    """Where the local test PKI lives: the stack's home (EDUHUB_STATE_DIR), so documents signed
    before a restart still validate. Tests without one get a fresh temporary directory."""
    state = os.environ.get("EDUHUB_STATE_DIR")
    if state:
        return Path(state)
    if environment == "test":
        return Path(tempfile.mkdtemp(prefix="eduhub-documents-"))
    return None


async def _start(context: ServiceContext) -> None:
    """Load the signing keys and trust roots (production refuses to start without them), then
    start the edXML exchange (its migrations, and the poller when an adapter is configured)."""
    environment = context.settings.eduhub_env
    kit = await load_signing_kit_async(
        SigningSettings(), environment=environment, state_dir=_state_dir(environment)
    )
    context.extras[SIGNING_KIT_KEY] = kit
    signing_hooks.install(kit)
    log.info("signing kit loaded", extra={"source": kit.source, "roots": len(kit.trust_roots)})
    await start_exchange(context)
    context.extras[REMINDERS_KEY] = start_reminders(context)


async def _stop(context: ServiceContext) -> None:
    await stop_reminders(context.extras.pop(REMINDERS_KEY, None))
    await stop_exchange(context)
    signing_hooks.install(None)


DEFINITION = ServiceDefinition(
    name="documents",
    title="EduHub documents",
    description="The e-office: registers, numbering, routing, signatures, edXML exchange.",
    migrations=Path(__file__).parent / "migrations",
    publishes=[
        DocumentIssued,
        DocumentReceived,
        DocumentStatusChanged,
        DocumentReminded,
        ReportRequested,
        ReportSubmitted,
    ],
    build_consumers=lambda: [org_mirror_consumer("documents"), analytics_report_consumer()],
    routers=[
        documents_router,
        edxml_router,
        inbox_page_router,
        report_requests_router,
        analytics_reports_router,
        schedules_router,
    ],
    on_started=_start,
    on_stopping=_stop,
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)
