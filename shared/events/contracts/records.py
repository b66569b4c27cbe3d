"""Events published by the records service."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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
    reason: Literal["new", "promoted", "repeated", "returned"] = Field(
        default="new", description="Why: a new learner, or a placement for the next school year"
    )

    def subject(self) -> str:
        return self.learner_id


PlacementStatus = Literal[
    "enrolled", "transferred_out", "promoted", "repeated", "graduated", "left"
]


class StudentTransferred(EventData):
    """A learner moved to another school (possibly in another commune). The record follows the
    learner; the old school keeps read-only history. Carries the placement after the move."""

    EVENT_TYPE = "records.student.transferred"
    VERSION = 1

    learner_id: str = Field(min_length=1, max_length=64)
    from_school_id: OrgId
    to_school_id: OrgId
    school_year: SchoolYear = Field(pattern=SCHOOL_YEAR_PATTERN)
    grade: int = Field(ge=0, le=12)
    class_id: str | None = Field(default=None, max_length=64)
    transferred_on: date
    revision: int = Field(ge=1)

    def subject(self) -> str:
        return self.learner_id


class StudentLeft(EventData):
    """A learner left a school without moving to another one in the sector: graduated,
    dropped out, moved abroad, ... They no longer count as enrolled anywhere."""

    EVENT_TYPE = "records.student.left"
    VERSION = 1

    learner_id: str = Field(min_length=1, max_length=64)
    school_id: OrgId
    school_year: SchoolYear = Field(pattern=SCHOOL_YEAR_PATTERN)
    reason: Literal[
        "graduated",
        "completed_level",  # finished primary or lower secondary; enrols at the next level
        "dropped_out",
        "moved_abroad",
        "deceased",
        "merged",  # the record was a duplicate of another learner's (identity merged them)
        "other",
    ]
    left_on: date
    revision: int = Field(ge=1)

    def subject(self) -> str:
        return self.learner_id


class ClassCreated(EventData):
    """A class (lớp) of a school for a school year."""

    EVENT_TYPE = "records.class.created"
    VERSION = 1

    class_id: str = Field(min_length=1, max_length=64)
    school_id: OrgId
    school_year: SchoolYear = Field(pattern=SCHOOL_YEAR_PATTERN)
    grade: int = Field(ge=0, le=12)
    name: str = Field(min_length=1, max_length=50)
    homeroom_teacher_id: str | None = Field(default=None, max_length=64)
    sessions_per_day: Literal[1, 2] = 1

    def subject(self) -> str:
        return self.class_id


class StaffUpdated(EventData):
    """A teacher's or staff member's profile as the forecast needs it: where they work, what
    they teach, age and sex (retirement), qualification and IT skills."""

    EVENT_TYPE = "records.staff.updated"
    VERSION = 1

    staff_id: str = Field(min_length=1, max_length=64)
    school_id: OrgId
    position: Literal["teacher", "principal", "vice_principal", "staff"]
    subjects: list[str] = Field(default_factory=list, description="Subject codes they can teach")
    birth_date: date
    sex: Literal["male", "female"]
    employed_from: date
    employed_until: date | None = None
    qualification: str | None = Field(default=None, max_length=100)
    it_skill_level: Literal["basic", "intermediate", "advanced"] | None = None
    revision: int = Field(ge=1)

    def subject(self) -> str:
        return self.staff_id


class StaffAssigned(EventData):
    """A teacher was assigned to teach a subject in a class for a school year (or as the
    homeroom teacher)."""

    EVENT_TYPE = "records.staff.assigned"
    VERSION = 1

    assignment_id: uuid.UUID
    staff_id: str = Field(min_length=1, max_length=64)
    school_id: OrgId
    school_year: SchoolYear = Field(pattern=SCHOOL_YEAR_PATTERN)
    class_id: str = Field(min_length=1, max_length=64)
    subject_code: str | None = Field(default=None, max_length=40)
    role: Literal["subject_teacher", "homeroom"]
    periods_per_week: float | None = Field(default=None, ge=0, le=40)
    active: bool = True

    def subject(self) -> str:
        return self.staff_id


class GradeRecorded(EventData):
    """One assessment in the electronic gradebook (Circular 22/2021 for secondary, 27/2020 for
    primary). A correction after finalisation carries `corrects` and a `reason`."""

    EVENT_TYPE = "records.grade.recorded"
    VERSION = 1

    entry_id: uuid.UUID
    learner_id: str = Field(min_length=1, max_length=64)
    school_id: OrgId
    class_id: str = Field(min_length=1, max_length=64)
    school_year: SchoolYear = Field(pattern=SCHOOL_YEAR_PATTERN)
    semester: Literal[1, 2]
    subject_code: str = Field(min_length=1, max_length=40)
    assessment: Literal["regular", "mid_term", "end_term", "comment", "level", "periodic_test"]
    sequence: int = Field(default=1, ge=1, le=10)
    score: float | None = Field(default=None, ge=0, le=10)
    comment_grade: Literal["dat", "chua_dat"] | None = None
    level: Literal["hoan_thanh_tot", "hoan_thanh", "chua_hoan_thanh"] | None = None
    corrects: uuid.UUID | None = None
    reason: str | None = Field(default=None, max_length=500)

    def subject(self) -> str:
        return self.learner_id


class LearnerTermResult(BaseModel):
    """One learner's results in a finalised term (an item of TermFinalized)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    learner_id: str = Field(min_length=1, max_length=64)
    subject_averages: dict[str, float | None]
    comment_grades: dict[str, Literal["dat", "chua_dat"] | None] = Field(default_factory=dict)
    learning_level: Literal["tot", "kha", "dat", "chua_dat"] | None = None


class TermFinalized(EventData):
    """A class's semester (or year, semester 0) was finalised and locked, with every learner's
    averages and learning-result level."""

    EVENT_TYPE = "records.term.finalized"
    VERSION = 1

    school_id: OrgId
    class_id: str = Field(min_length=1, max_length=64)
    school_year: SchoolYear = Field(pattern=SCHOOL_YEAR_PATTERN)
    semester: Literal[0, 1, 2] = Field(description="1, 2, or 0 for the whole year")
    grade: int = Field(ge=1, le=12)
    results: list[LearnerTermResult]

    def subject(self) -> str:
        return self.class_id


EyeCondition = Literal["myopia", "hyperopia", "astigmatism", "strabismus", "other"]


class HealthMeasured(EventData):
    """Height, weight and eyesight of a learner in a measurement campaign. A correction
    replaces the earlier value for that campaign and names it in `replaces`. Sex and birth date
    travel with it because WHO's indicators need them."""

    EVENT_TYPE = "records.health.measured"
    VERSION = 1

    measurement_id: uuid.UUID
    learner_id: str = Field(min_length=1, max_length=64)
    school_id: OrgId
    class_id: str | None = Field(default=None, max_length=64)
    campaign_id: str = Field(min_length=1, max_length=64)
    measured_on: date
    sex: Literal["male", "female"]
    birth_date: date
    height_cm: float | None = Field(default=None, gt=0, lt=250)
    weight_kg: float | None = Field(default=None, gt=0, lt=300)
    eyesight_left: float | None = Field(default=None, ge=0, le=2.0)
    eyesight_right: float | None = Field(default=None, ge=0, le=2.0)
    eye_conditions: list[EyeCondition] = Field(default_factory=list)
    replaces: uuid.UUID | None = None
    grade: int | None = Field(default=None, ge=0, le=12, description="The learner's grade")

    def subject(self) -> str:
        return self.learner_id


class SwimAssessed(EventData):
    """Whether a learner can swim (the Department tracks it per class against drowning).
    `cannot_swim` and `swims_with_aid` both count as not able to swim safely."""

    EVENT_TYPE = "records.swim.assessed"
    VERSION = 1

    assessment_id: uuid.UUID
    learner_id: str = Field(min_length=1, max_length=64)
    school_id: OrgId
    class_id: str | None = Field(default=None, max_length=64)
    campaign_id: str = Field(min_length=1, max_length=64)
    assessed_on: date
    ability: Literal["cannot_swim", "swims_with_aid", "swims_25m_unaided"]
    replaces: uuid.UUID | None = None
    grade: int | None = Field(default=None, ge=0, le=12, description="The learner's grade")
    sex: Literal["male", "female"] | None = None

    def subject(self) -> str:
        return self.learner_id


class FacilityUpdated(EventData):
    """A school's facilities and connectivity."""

    EVENT_TYPE = "records.facility.updated"
    VERSION = 1

    school_id: OrgId
    revision: int = Field(ge=1)
    classrooms: int = Field(ge=0)
    labs: int = Field(ge=0)
    libraries: int = Field(ge=0)
    computers_for_learning: int = Field(ge=0)
    internet_bandwidth_mbps: float | None = Field(default=None, ge=0)
    connected: bool
    updated_on: date

    def subject(self) -> str:
        return self.school_id


class RecordAcknowledged(EventData):
    """The outcome of one record of a bulk import, for the vendor system that sent it."""

    EVENT_TYPE = "records.record.acknowledged"
    VERSION = 1

    import_id: uuid.UUID
    submitted_by: str = Field(min_length=1, max_length=100)
    row_number: int = Field(ge=1)
    record_kind: Literal["class", "enrolment", "score", "health", "swim"]
    outcome: Literal["accepted", "rejected", "unchanged"]
    record_id: str | None = Field(default=None, max_length=100)
    errors: list[str] = Field(default_factory=list)

    def subject(self) -> str:
        return str(self.import_id)
