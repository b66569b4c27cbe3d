"""Versioned event contracts, one module per producing service.

ALL_CONTRACTS is the catalogue: the schema export, the compatibility test and the AsyncAPI
documents are built from it. Adding a contract means adding it here and committing its schema
(`eduhub contracts export`).
"""

from shared.events.contracts.identity import (
    OrgChanged,
    PersonMerged,
    PersonRegistered,
    PersonUnmerged,
    PersonUpdated,
    PersonVerified,
)
from shared.events.contracts.records import StudentEnrolled
from shared.events.envelope import EventData

ALL_CONTRACTS: tuple[type[EventData], ...] = (
    OrgChanged,
    PersonRegistered,
    PersonUpdated,
    PersonVerified,
    PersonMerged,
    PersonUnmerged,
    StudentEnrolled,
)

__all__ = [
    "ALL_CONTRACTS",
    "OrgChanged",
    "PersonMerged",
    "PersonRegistered",
    "PersonUnmerged",
    "PersonUpdated",
    "PersonVerified",
    "StudentEnrolled",
]
