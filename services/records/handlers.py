"""Use cases of the records service."""

from __future__ import annotations

import uuid
from typing import Any

from services.records import store
from services.records.domain.enrolment import school_year_problem
from services.records.schemas import EnrolmentCreate, EnrolmentPublic
from shared.auth import Principal, ensure_in_scope, require_role
from shared.db.pool import Connection
from shared.events.contracts.records import StudentEnrolled
from shared.http.problems import Problem, invalid
from shared.orgs.mirror import ancestors, get_unit
from shared.outbox.writer import add_event

SOURCE = "/eduhub/records"
WRITERS = ["department", "commune", "school", "service"]


async def ensure_can_read_school(
    conn: Connection, principal: Principal, school_id: str, *, field: str
) -> None:
    """Reading a school's records: it must be known and in scope; closed schools keep their
    read-only history."""
    unit = await get_unit(conn, school_id)
    if unit is None:
        raise invalid(field, f"unknown school {school_id} (not in the organisation registry)")
    ensure_in_scope(principal, school_id, await ancestors(conn, school_id) or [])


async def require_active_school(conn: Connection, school_id: str, *, field: str) -> None:
    unit = await get_unit(conn, school_id)
    if unit is None or unit["kind"] not in ("school", "daycare_group"):
        raise invalid(field, f"unknown school {school_id} (not in the organisation registry)")
    if unit["valid_to"] is not None or unit["merged_into"] is not None:
        raise invalid(field, f"school {school_id} is closed or merged")


async def ensure_school_in_scope(
    conn: Connection, principal: Principal, school_id: str, *, field: str
) -> None:
    """Writing a school's records: it must be open and in the caller's scope."""
    await require_active_school(conn, school_id, field=field)
    ensure_in_scope(principal, school_id, await ancestors(conn, school_id) or [])


async def enrol_student(
    conn: Connection, principal: Principal, command: EnrolmentCreate
) -> dict[str, Any]:
    require_role(principal, WRITERS)
    await ensure_school_in_scope(conn, principal, command.school_id, field="body.school_id")
    if problem := school_year_problem(command.school_year, command.enrolled_on):
        raise invalid("body.enrolled_on", problem)
    # Imported here: lifecycle builds on this module's scope checks.
    from services.records.lifecycle import check_class, grades_taught

    if command.grade not in await grades_taught(conn, command.school_id):
        raise invalid(
            "body.grade", f"school {command.school_id} does not teach grade {command.grade}"
        )
    if command.class_id is not None:
        await check_class(
            conn,
            command.class_id,
            school_id=command.school_id,
            school_year=command.school_year,
            grade=command.grade,
            field="body.class_id",
        )
    revision = await store.bump_learner(
        conn, learner_id=command.learner_id, sex=command.sex, birth_date=command.birth_date
    )
    current = await store.active_enrolment(conn, command.learner_id)
    if current is not None:
        raise Problem(
            409,
            "Already enrolled",
            f"learner {command.learner_id} is enrolled at {current['school_id']} "
            f"({current['school_year']}); transfer them instead of enrolling again",
        )
    row = await store.insert_enrolment(
        conn,
        enrolment_id=uuid.uuid4(),
        learner_id=command.learner_id,
        school_id=command.school_id,
        school_year=command.school_year,
        grade=command.grade,
        class_id=command.class_id,
        enrolled_on=command.enrolled_on,
    )
    await add_event(
        conn,
        StudentEnrolled(
            enrolment_id=row["enrolment_id"],
            learner_id=command.learner_id,
            school_id=command.school_id,
            school_year=command.school_year,
            grade=command.grade,
            class_id=command.class_id,
            sex=command.sex,
            birth_date=command.birth_date,
            enrolled_on=command.enrolled_on,
            revision=revision,
        ),
        source=SOURCE,
    )
    return EnrolmentPublic.model_validate(dict(row)).model_dump(mode="json")
