"""Events published by the records service."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field

from shared.events.contracts.identity import OrgId
from shared.events.envelope import EventData

SchoolYear = str  # "2025-2026"; validated by pattern on each field that uses it
SCHOOL_YEAR_PATTERN = r"^\d{4}-\d{4}$"


class StudentEnrolled(EventData):
    """A learner was enrolled in a school for a school year.

    The subject is the learner, so all of one learner's enrolment events stay in order.
    `revision` is the learner's record revision in records: consumers keep the highest one.
    """

    EVENT_TYPE = "records.student.enrolled"
    VERSION = 1

    enrolment_id: uuid.UUID
    learner_id: str = Field(min_length=1, max_length=64)
    school_id: OrgId
    school_year: SchoolYear = Field(pattern=SCHOOL_YEAR_PATTERN)
    grade: int = Field(ge=0, le=12, description="0 = preschool, 1-12 = general education")
    class_id: str | None = Field(default=None, max_length=64)
    sex: Literal["male", "female"] | None = None
    birth_date: date | None = None
    enrolled_on: date
    revision: int = Field(ge=1)

    def subject(self) -> str:
        return self.learner_id
