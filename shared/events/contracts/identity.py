"""Events published by the identity service."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.events.envelope import EventData

OrgId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")]
OrgKind = Literal["province", "commune", "school", "daycare_group"]
SchoolType = Literal[
    "nursery",  # nhà trẻ
    "kindergarten",  # mẫu giáo
    "preschool",  # mầm non
    "primary",  # tiểu học, grades 1-5
    "lower_secondary",  # THCS, grades 6-9
    "upper_secondary",  # THPT, grades 10-12
    "multi_level",  # liên cấp
    "continuing_education",  # GDNN-GDTX centre
    "family_daycare",  # nhóm trẻ độc lập
]


class OrgChanged(EventData):
    """An organisation unit was created or changed (renamed, moved, merged, closed).

    `revision` grows by one with every change of the unit, so a consumer keeps the newest
    state whatever order deliveries arrive in. History stays in identity; consumers usually
    keep only the current state, or the validity interval when they need dated lookups.
    """

    EVENT_TYPE = "identity.org.changed"
    VERSION = 1

    org_id: OrgId
    revision: int = Field(ge=1)
    change: Literal["created", "updated", "renamed", "moved", "merged", "closed"]
    kind: OrgKind
    name: str = Field(min_length=1, max_length=300)
    parent_id: OrgId | None = None
    agency_code: str | None = Field(default=None, pattern=r"^[A-Z0-9.]{1,35}$")
    commune_type: Literal["phuong", "xa", "dac_khu"] | None = None
    school_type: SchoolType | None = None
    ownership: Literal["public", "private"] | None = None
    valid_from: date
    valid_to: date | None = None
    merged_into: OrgId | None = None

    def subject(self) -> str:
        return self.org_id


PersonKind = Literal["learner", "teacher", "staff"]
SectorIdText = Annotated[str, StringConstraints(pattern=r"^(HS|GV|NV)-\d{2}-\d{4}-\d{7}-\d$")]
VerificationStatus = Literal["unverified", "verified", "mismatch", "not_found"]


class PersonRegistered(EventData):
    """A learner, teacher or staff member entered the sector and got a lifelong sector ID.

    Names, personal numbers and guardians stay in identity (data minimisation, Law 91/2025):
    consumers get what statistics need and ask identity's API, audited, for the rest.
    """

    EVENT_TYPE = "identity.person.registered"
    VERSION = 1

    sector_id: SectorIdText
    revision: int = Field(ge=1)
    kind: PersonKind
    org_id: OrgId
    birth_date: date
    sex: Literal["male", "female"]
    has_personal_number: bool
    verification_status: VerificationStatus

    def subject(self) -> str:
        return self.sector_id


class PersonUpdated(EventData):
    """Fields of a person's record changed (a correction, a move to another school)."""

    EVENT_TYPE = "identity.person.updated"
    VERSION = 1

    sector_id: SectorIdText
    revision: int = Field(ge=1)
    changed_fields: list[str] = Field(min_length=1)
    org_id: OrgId
    birth_date: date
    sex: Literal["male", "female"]
    verification_status: VerificationStatus

    def subject(self) -> str:
        return self.sector_id


class PersonVerified(EventData):
    """The national population register answered for this person (a verification campaign)."""

    EVENT_TYPE = "identity.person.verified"
    VERSION = 1

    sector_id: SectorIdText
    revision: int = Field(ge=1)
    verification_status: Literal["verified", "mismatch", "not_found"]
    batch_id: str = Field(min_length=1, max_length=64)
    mismatched_fields: list[str] = Field(default_factory=list)

    def subject(self) -> str:
        return self.sector_id


class PersonMerged(EventData):
    """Two records were the same person: `merged_id` is retired (it still resolves, as an
    alias) and everything held under it belongs to `survivor_id` from now on. The subject is
    the retired ID, so this event stays in order with that person's earlier events."""

    EVENT_TYPE = "identity.person.merged"
    VERSION = 1

    merge_id: uuid.UUID
    survivor_id: SectorIdText
    merged_id: SectorIdText
    reason: str = Field(max_length=500)

    def subject(self) -> str:
        return self.merged_id


class PersonUnmerged(EventData):
    """A merge was undone: `merged_id` is a person of its own again."""

    EVENT_TYPE = "identity.person.unmerged"
    VERSION = 1

    merge_id: uuid.UUID
    survivor_id: SectorIdText
    merged_id: SectorIdText
    reason: str = Field(max_length=500)

    def subject(self) -> str:
        return self.merged_id
