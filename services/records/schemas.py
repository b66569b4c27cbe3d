"""HTTP request and response models of the records service."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.contracts.identity import OrgId
from shared.events.contracts.records import SCHOOL_YEAR_PATTERN


class EnrolmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    learner_id: str = Field(min_length=1, max_length=64, description="Sector ID of the learner")
    school_id: OrgId
    school_year: str = Field(pattern=SCHOOL_YEAR_PATTERN, examples=["2025-2026"])
    grade: int = Field(ge=0, le=12, description="0 = preschool, 1-12 = general education")
    class_id: str | None = Field(default=None, max_length=64)
    sex: Literal["male", "female"] | None = None
    birth_date: date | None = None
    enrolled_on: date


class EnrolmentPublic(BaseModel):
    enrolment_id: uuid.UUID
    learner_id: str
    school_id: str
    school_year: str
    grade: int
    class_id: str | None
    enrolled_on: date
    status: str


class EnrolmentPage(BaseModel):
    items: list[EnrolmentPublic]
    next_cursor: str | None
