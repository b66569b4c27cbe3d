"""Events published by the analytics service."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from shared.events.contracts.identity import OrgId
from shared.events.envelope import EventData


class ReportReady(EventData):
    """A report was built and stored; the unit it is addressed to can download it.

    Carries a reference to the report (`download_path`), never its content: reports can be
    large and describe individual classes. The subject is the report."""

    EVENT_TYPE = "analytics.report.ready"
    VERSION = 1

    report_id: uuid.UUID
    kind: str = Field(
        min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$", description="e.g. non_swimmers"
    )
    title: str = Field(min_length=1, max_length=500)
    org_id: OrgId = Field(description="The unit the report is addressed to (e.g. a commune)")
    campaign_id: str | None = Field(default=None, min_length=1, max_length=64)
    download_path: str = Field(
        min_length=1, max_length=500, description="API path of the file on the analytics service"
    )
    created_at: datetime

    def subject(self) -> str:
        return str(self.report_id)
