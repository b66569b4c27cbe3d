"""HTTP models of the person registry."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.contracts.identity import OrgId


class PersonCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["learner", "teacher", "staff"]
    full_name: str = Field(min_length=2, max_length=200, examples=["Nguyễn Thị Ánh"])
    birth_date: date
    sex: Literal["male", "female"]
    personal_number: str | None = Field(
        default=None, description="12-digit personal identification number (CCCD), if known"
    )
    birthplace: str | None = Field(default=None, max_length=200)
    guardian_name: str | None = Field(default=None, max_length=200)
    org_id: OrgId = Field(description="The school or unit registering the person")


class PersonPublic(BaseModel):
    sector_id: str
    kind: str
    full_name: str
    birth_date: date
    sex: str
    personal_number: str | None
    birthplace: str | None
    guardian_name: str | None
    org_id: str
    verification_status: str
    revision: int
    merged_into: str | None
    resolved_from: str | None = Field(
        default=None, description="The record the identifier pointed at, when it was merged"
    )


class PersonPage(BaseModel):
    items: list[PersonPublic]
    next_cursor: str | None


class AuditEntry(BaseModel):
    at: str
    actor: str
    actor_role: str
    actor_org: str
    action: str


class PersonCorrection(BaseModel):
    """Fields to correct; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(default=None, min_length=2, max_length=200)
    birth_date: date | None = None
    sex: Literal["male", "female"] | None = None
    personal_number: str | None = None
    birthplace: str | None = Field(default=None, max_length=200)
    guardian_name: str | None = Field(default=None, max_length=200)
    org_id: OrgId | None = Field(default=None, description="Move the person to another unit")
    reason: str = Field(min_length=3, max_length=500)
