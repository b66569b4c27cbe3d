"""HTTP request and response models of the identity service."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.contracts.identity import OrgId, OrgKind, SchoolType


class OrgCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: OrgId = Field(description="Stable identifier of the unit, e.g. 'HP' or 'HP-THPT-001'")
    kind: OrgKind
    name: str = Field(min_length=1, max_length=300)
    parent_id: OrgId | None = None
    agency_code: str | None = Field(
        default=None,
        pattern=r"^[A-Z0-9.]{1,35}$",
        description="Agency code for document exchange (QCVN 102 form 000.00.00.G22)",
    )
    commune_type: Literal["phuong", "xa", "dac_khu"] | None = None
    school_type: SchoolType | None = None
    ownership: Literal["public", "private"] | None = None
    valid_from: date
    valid_to: date | None = None


class OrgPublic(BaseModel):
    org_id: str
    revision: int
    kind: str
    name: str
    parent_id: str | None
    agency_code: str | None
    commune_type: str | None
    school_type: str | None
    ownership: str | None
    valid_from: date
    valid_to: date | None
    merged_into: str | None


class OrgPage(BaseModel):
    items: list[OrgPublic]
    next_cursor: str | None
