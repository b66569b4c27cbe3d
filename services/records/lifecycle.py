"""Use cases of the learner lifecycle: classes, transfers, leavers and the year rollover.

Every change bumps the learner's revision and publishes the placement that results from it,
so consumers keep the newest state whatever order deliveries arrive in. A learner holds at
most one active enrolment (a unique index guarantees it even under concurrent requests).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from services.records import lifecycle_store, store
from services.records.domain.enrolment import school_year_problem
from services.records.domain.lifecycle import LAST_GRADE, next_school_year
from services.records.handlers import (
    SOURCE,
    WRITERS,
    ensure_can_read_school,
    ensure_school_in_scope,
    require_active_school,
)
from services.records.schemas import EnrolmentPublic
from shared.auth import AuthorisationError, Principal, in_scope, require_role
from shared.db.pool import Connection
from shared.events.contracts.records import (
    ClassCreated,
    StudentEnrolled,
    StudentLeft,
    StudentTransferred,
)
from shared.http.problems import Problem, invalid
from shared.orgs.mirror import ancestors, get_unit
from shared.outbox.writer import add_event

# Grades each kind of school teaches (a multi-level school may teach any).
SCHOOL_GRADES: dict[str, range] = {
    "preschool": range(0, 1),
    "nursery": range(0, 1),
    "kindergarten": range(0, 1),
    "family_daycare": range(0, 1),
    "primary": range(1, 6),
    "lower_secondary": range(6, 10),
    "upper_secondary": range(10, 13),
    "multi_level": range(0, 13),
    "continuing_education": range(6, 13),
}


async def grades_taught(conn: Connection, school_id: str) -> range:
    unit = await get_unit(conn, school_id)
    return SCHOOL_GRADES.get((unit["school_type"] if unit else None) or "", range(0, 13))


async def create_class(
    conn: Connection,
    principal: Principal,
    *,
    school_id: str,
    school_year: str,
    grade: int,
    name: str,
    homeroom_teacher_id: str | None,
    sessions_per_day: int,
) -> dict[str, Any]:
    require_role(principal, WRITERS)
    await ensure_school_in_scope(conn, principal, school_id, field="body.school_id")
    if grade not in await grades_taught(conn, school_id):
        raise invalid("body.grade", f"school {school_id} does not teach grade {grade}")
    if await lifecycle_store.class_by_name(
        conn, school_id=school_id, school_year=school_year, name=name
    ):
        raise Problem(409, "Class exists", f"{school_id} already has class {name} in {school_year}")
    row = await lifecycle_store.insert_class(
        conn,
        {
            "class_id": f"{school_id}:{school_year}:{name}",
            "school_id": school_id,
            "school_year": school_year,
            "grade": grade,
            "name": name,
            "homeroom_teacher_id": homeroom_teacher_id,
            "sessions_per_day": sessions_per_day,
        },
    )
    await add_event(conn, ClassCreated(**dict(row)), source=SOURCE)
    return dict(row)


async def check_class(
    conn: Connection, class_id: str, *, school_id: str, school_year: str, grade: int, field: str
) -> None:
    """A learner's class must be of the school, school year and grade of the enrolment."""
    klass = await lifecycle_store.get_class(conn, class_id)
    if klass is None:
        raise invalid(field, f"unknown class {class_id}")
    expected = (school_id, school_year, grade)
    found = (klass["school_id"], klass["school_year"], klass["grade"])
    if found != expected:
        raise invalid(
            field,
            f"class {class_id} is {found[0]} {found[1]} grade {found[2]}, not "
            f"{expected[0]} {expected[1]} grade {expected[2]}",
        )


async def _active(conn: Connection, learner_id: str, *, field: str) -> Any:
    learner = await lifecycle_store.lock_learner(conn, learner_id)
    enrolment = await store.active_enrolment(conn, learner_id) if learner else None
    if learner is None or enrolment is None:
        raise invalid(field, f"learner {learner_id} is not enrolled anywhere")
    return enrolment


async def transfer(
    conn: Connection,
    principal: Principal,
    *,
    learner_id: str,
    to_school_id: str,
    class_id: str | None,
    grade: int | None,
    transferred_on: date,
) -> dict[str, Any]:
    """Move a learner to another school of the sector; the record follows them and the old
    school keeps its (now ended) enrolment as read-only history. Either school may ask."""
    require_role(principal, WRITERS)
    current = await _active(conn, learner_id, field="body.learner_id")
    await require_active_school(conn, to_school_id, field="body.to_school_id")
    origin, destination = current["school_id"], to_school_id
    if not (
        in_scope(principal, origin, await ancestors(conn, origin) or [])
        or in_scope(principal, destination, await ancestors(conn, destination) or [])
    ):
        raise AuthorisationError(
            f"neither {origin} nor {destination} is in the scope of {principal.role} "
            f"{principal.org_id}"
        )
    if origin == destination:
        raise invalid("body.to_school_id", f"learner {learner_id} is already at {to_school_id}")
    new_grade = current["grade"] if grade is None else grade
    if new_grade not in await grades_taught(conn, to_school_id):
        raise invalid("body.grade", f"school {to_school_id} does not teach grade {new_grade}")
    if problem := school_year_problem(current["school_year"], transferred_on):
        raise invalid("body.transferred_on", problem)
    if class_id is not None:
        await check_class(
            conn,
            class_id,
            school_id=to_school_id,
            school_year=current["school_year"],
            grade=new_grade,
            field="body.class_id",
        )
    await lifecycle_store.end_enrolment(
        conn, current["enrolment_id"], ended_on=transferred_on, reason="transferred"
    )
    revision = await lifecycle_store.set_learner_state(conn, learner_id, "enrolled")
    row = await store.insert_enrolment(
        conn,
        enrolment_id=uuid.uuid4(),
        learner_id=learner_id,
        school_id=to_school_id,
        school_year=current["school_year"],
        grade=new_grade,
        class_id=class_id,
        enrolled_on=transferred_on,
    )
    await add_event(
        conn,
        StudentTransferred(
            learner_id=learner_id,
            from_school_id=current["school_id"],
            to_school_id=to_school_id,
            school_year=current["school_year"],
            grade=new_grade,
            class_id=class_id,
            transferred_on=transferred_on,
            revision=revision,
        ),
        source=SOURCE,
    )
    return EnrolmentPublic.model_validate(dict(row)).model_dump(mode="json")


LeaveReason = Literal["graduated", "dropped_out", "moved_abroad", "deceased", "other"]


async def leave(
    conn: Connection, principal: Principal, *, learner_id: str, reason: LeaveReason, left_on: date
) -> dict[str, Any]:
    require_role(principal, WRITERS)
    current = await _active(conn, learner_id, field="body.learner_id")
    await ensure_can_read_school(conn, principal, current["school_id"], field="body.learner_id")
    if reason == "graduated" and current["grade"] != LAST_GRADE:
        raise invalid(
            "body.reason", f"only grade 12 graduates; {learner_id} is in grade {current['grade']}"
        )
    await lifecycle_store.end_enrolment(
        conn, current["enrolment_id"], ended_on=left_on, reason=reason
    )
    revision = await lifecycle_store.set_learner_state(
        conn, learner_id, "graduated" if reason == "graduated" else "left"
    )
    await add_event(
        conn,
        StudentLeft(
            learner_id=learner_id,
            school_id=current["school_id"],
            school_year=current["school_year"],
            reason=reason,
            left_on=left_on,
            revision=revision,
        ),
        source=SOURCE,
    )
    return {
        "learner_id": learner_id,
        "state": "graduated" if reason == "graduated" else "left",
        "revision": revision,
    }


Decision = Literal["promote", "repeat", "leave"]


async def rollover(
    conn: Connection,
    principal: Principal,
    *,
    school_id: str,
    closing_school_year: str,
    decisions: dict[str, Decision],
    effective_on: date,
) -> dict[str, Any]:
    """Close a school year: every learner enrolled there is promoted (the default), repeats,
    or leaves. Promoted and repeating learners get an enrolment for the next year at the same
    school if it teaches their grade; otherwise (grade 5 → 6, 9 → 10) they finished the level
    and await enrolment elsewhere; grade 12 promoted graduates."""
    require_role(principal, WRITERS)
    await ensure_school_in_scope(conn, principal, school_id, field="body.school_id")
    enrolments = await lifecycle_store.active_enrolments_of_year(
        conn, school_id=school_id, school_year=closing_school_year
    )
    unknown = sorted(set(decisions) - {e["learner_id"] for e in enrolments})
    if unknown:
        raise invalid(
            "body.decisions",
            f"not enrolled at {school_id} in {closing_school_year}: {', '.join(unknown[:10])}",
        )
    next_year = next_school_year(closing_school_year)
    taught = await grades_taught(conn, school_id)
    outcome = {"promoted": 0, "repeated": 0, "completed_level": 0, "graduated": 0, "left": 0}
    for current in enrolments:
        learner_id = current["learner_id"]
        await lifecycle_store.lock_learner(conn, learner_id)
        decision = decisions.get(learner_id, "promote")
        grade = current["grade"] + (1 if decision == "promote" else 0)
        end_reason = {"promote": "promoted", "repeat": "repeated", "leave": "left"}[decision]
        await lifecycle_store.end_enrolment(
            conn, current["enrolment_id"], ended_on=effective_on, reason=end_reason
        )
        if decision == "leave" or grade > LAST_GRADE or grade not in taught:
            reason: Any = (
                "other"
                if decision == "leave"
                else "graduated"
                if grade > LAST_GRADE
                else "completed_level"
            )
            state = {"other": "left", "graduated": "graduated"}.get(reason, "promoted")
            revision = await lifecycle_store.set_learner_state(conn, learner_id, state)
            await add_event(
                conn,
                StudentLeft(
                    learner_id=learner_id,
                    school_id=school_id,
                    school_year=closing_school_year,
                    reason=reason,
                    left_on=effective_on,
                    revision=revision,
                ),
                source=SOURCE,
            )
            outcome["left" if reason == "other" else reason] += 1
            continue
        revision = await lifecycle_store.set_learner_state(conn, learner_id, "enrolled")
        row = await store.insert_enrolment(
            conn,
            enrolment_id=uuid.uuid4(),
            learner_id=learner_id,
            school_id=school_id,
            school_year=next_year,
            grade=grade,
            class_id=None,
            enrolled_on=effective_on,
        )
        await add_event(
            conn,
            StudentEnrolled(
                enrolment_id=row["enrolment_id"],
                learner_id=learner_id,
                school_id=school_id,
                school_year=next_year,
                grade=grade,
                enrolled_on=effective_on,
                revision=revision,
                reason="promoted" if decision == "promote" else "repeated",
            ),
            source=SOURCE,
        )
        outcome["promoted" if decision == "promote" else "repeated"] += 1
    return {
        "school_id": school_id,
        "closing_school_year": closing_school_year,
        "next_school_year": next_year,
        **outcome,
    }
