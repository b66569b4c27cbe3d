"""Versioned event contracts, one module per producing service.

ALL_CONTRACTS is the catalogue: the schema export, the compatibility test and the AsyncAPI
documents are built from it. Adding a contract means adding it here and committing its schema
(`eduhub contracts export`).
"""

from shared.events.contracts.analytics import ReportReady
from shared.events.contracts.documents import (
    DocumentIssued,
    DocumentReceived,
    DocumentReminded,
    DocumentStatusChanged,
    ReportRequested,
    ReportSubmitted,
)
from shared.events.contracts.identity import (
    OrgChanged,
    PersonMerged,
    PersonRegistered,
    PersonUnmerged,
    PersonUpdated,
    PersonVerified,
)
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
from shared.events.envelope import EventData

ALL_CONTRACTS: tuple[type[EventData], ...] = (
    OrgChanged,
    PersonRegistered,
    PersonUpdated,
    PersonVerified,
    PersonMerged,
    PersonUnmerged,
    StudentEnrolled,
    StudentTransferred,
    StudentLeft,
    ClassCreated,
    StaffUpdated,
    StaffAssigned,
    GradeRecorded,
    TermFinalized,
    HealthMeasured,
    SwimAssessed,
    FacilityUpdated,
    RecordAcknowledged,
    ReportReady,
    DocumentIssued,
    DocumentReceived,
    DocumentStatusChanged,
    DocumentReminded,
    ReportRequested,
    ReportSubmitted,
)

__all__ = [
    "ALL_CONTRACTS",
    "ClassCreated",
    "DocumentIssued",
    "DocumentReceived",
    "DocumentReminded",
    "DocumentStatusChanged",
    "FacilityUpdated",
    "GradeRecorded",
    "HealthMeasured",
    "OrgChanged",
    "PersonMerged",
    "PersonRegistered",
    "PersonUnmerged",
    "PersonUpdated",
    "PersonVerified",
    "RecordAcknowledged",
    "ReportReady",
    "ReportRequested",
    "ReportSubmitted",
    "StaffAssigned",
    "StaffUpdated",
    "StudentEnrolled",
    "StudentLeft",
    "StudentTransferred",
    "SwimAssessed",
    "TermFinalized",
]
