"""Use cases of health checks: campaigns, measurements, swimming assessments, and their reads.

A submission is checked in the same steps whether it comes alone over HTTP or as a row of a
bulk import (services/records/imports), because both call `measure_batch` / `swim_batch`:

1. the school is known, open and in the caller's scope (records.handlers);
2. the campaign exists, covers the school, and its dates contain the measurement date, which
   is not in the future;
3. the learner is enrolled at that school; sex and birth date come from the learner's record,
   or from the submission when the record has none (they must agree when both exist);
4. the values are plausible for the learner's age and sex (domain/health.py).

Then, under the learner's row lock, against the current record of that learner and campaign:
the same values again change nothing and publish nothing (`unchanged`); anything else becomes
the current record, the earlier one is kept as superseded, and the event names it in
`replaces` (domain `decide_replacement`). A batch decides its rows in order, so a file that
names a learner twice ends as if its rows had been submitted one by one.
"""

from __future__ import annotations

import functools
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import asyncpg
from asyncpg.pgproto.pgproto import UUID as PgUUID

from services.records.domain.health import (
    EyeCondition,
    HealthMeasurement,
    InvalidAcuity,
    Issue,
    Sex,
    SwimmingAbility,
    decide_replacement,
    parse_visual_acuity,
    validate_measurement,
)
from services.records.handlers import (
    SOURCE,
    WRITERS,
    ensure_can_read_school,
    ensure_school_in_scope,
)
from services.records.health import store
from services.records.health.store import MEASUREMENTS, SWIMS, VersionedTable
from shared.audit import record_access
from shared.auth import AuthorisationError, Principal, in_scope, require_role
from shared.db.pool import Connection
from shared.events.contracts.records import HealthMeasured, SwimAssessed
from shared.events.envelope import EventData
from shared.http.problems import Problem, field_error, invalid
from shared.orgs.mirror import ancestors, get_unit
from shared.outbox.writer import add_events
from shared.vietnam_time import today_in_vietnam

READERS = ["department", "commune", "school", "teacher", "auditor", "service"]
CAMPAIGN_ORG_KINDS = ("province", "commune", "school", "daycare_group")
ONE_MICROSECOND = timedelta(microseconds=1)
Outcome = Literal["accepted", "unchanged"]


def local_today() -> date:
    """Today in Vietnam: a measurement "in the future" is judged by the schools' calendar."""
    return today_in_vietnam()


def new_ids(count: int) -> list[uuid.UUID]:
    """Time-ordered UUIDs (version 7 layout): a batch's rows land side by side in the primary
    key index instead of at random pages. asyncpg's own UUID type: ten times cheaper to make
    and to print than the standard library's, and still a uuid.UUID."""
    prefix = (time.time_ns() // 1_000_000).to_bytes(6, "big")
    noise = bytearray(os.urandom(10 * count))
    noise[0::10] = bytes((b & 0x0F) | 0x70 for b in noise[0::10])  # version 7
    noise[2::10] = bytes((b & 0x3F) | 0x80 for b in noise[2::10])  # RFC 4122 variant
    return [PgUUID(prefix + noise[10 * i : 10 * i + 10]) for i in range(count)]


# --- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeasurementInput:
    learner_id: str
    school_id: str
    campaign_id: str
    measured_on: date
    class_id: str | None = None
    height_cm: float | None = None
    weight_kg: float | None = None
    eyesight_left: float | None = None
    eyesight_right: float | None = None
    eye_conditions: tuple[str, ...] = ()
    sex: str | None = None
    birth_date: date | None = None


@dataclass(frozen=True, slots=True)
class SwimInput:
    learner_id: str
    school_id: str
    campaign_id: str
    assessed_on: date
    ability: str
    class_id: str | None = None


# Vietnamese names schools write, with and without diacritics.
EYE_CONDITION_NAMES: dict[str, str] = {
    **{c.value: c.value for c in EyeCondition},
    "cận thị": "myopia",
    "can thi": "myopia",
    "viễn thị": "hyperopia",
    "vien thi": "hyperopia",
    "loạn thị": "astigmatism",
    "loan thi": "astigmatism",
    "lác": "strabismus",
    "lác mắt": "strabismus",
    "lé": "strabismus",
    "lac": "strabismus",
    "le": "strabismus",
    "khác": "other",
    "khac": "other",
}
SWIM_NAMES: dict[str, str] = {
    **{a.value: a.value for a in SwimmingAbility},
    "không biết bơi": "cannot_swim",
    "khong biet boi": "cannot_swim",
    "bơi có phao": "swims_with_aid",
    "boi co phao": "swims_with_aid",
    "bơi được 25m": "swims_25m_unaided",
    "boi duoc 25m": "swims_25m_unaided",
}
_LIST_SEPARATORS = re.compile(r"\s*[;,|]\s*")


def parse_eye_conditions(values: Iterable[str]) -> tuple[tuple[str, ...], Issue | None]:
    """Canonical, sorted and unique; an unknown name is an issue naming the allowed ones."""
    found: set[str] = set()
    for value in values:
        name = value.strip().lower()
        if not name:
            continue
        canonical = EYE_CONDITION_NAMES.get(name)
        if canonical is None:
            allowed = ", ".join(c.value for c in EyeCondition)
            return (), Issue(
                "eye_conditions",
                value,
                "allowed_values",
                f"eye condition {value!r} is not one of {allowed} (or cận thị, viễn thị, "
                "loạn thị, lác, khác)",
            )
        found.add(canonical)
    return tuple(sorted(found)), None


def split_list(text: str) -> list[str]:
    return [part for part in _LIST_SEPARATORS.split(text.strip()) if part]


def parse_swim_ability(value: str) -> tuple[str | None, Issue | None]:
    canonical = SWIM_NAMES.get(value.strip().lower())
    if canonical is None:
        allowed = ", ".join(a.value for a in SwimmingAbility)
        return None, Issue(
            "ability", value, "allowed_values", f"ability {value!r} is not one of {allowed}"
        )
    return canonical, None


@functools.lru_cache(maxsize=4096)
def _acuity(text: str) -> float | str:
    """Parsed acuity, or the reason it cannot be parsed (cached: a chart has few lines)."""
    try:
        return parse_visual_acuity(text)
    except InvalidAcuity as exc:
        return str(exc)


def parse_acuity(name: str, value: str | float | None) -> tuple[float | None, Issue | None]:
    """Eyesight as schools write it: "10/10", "8/10", Snellen "20/40", or a decimal."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    parsed = _acuity(str(value).strip())
    if isinstance(parsed, str):
        return None, Issue(name, value, "visual_acuity", parsed)
    return parsed, None


# --- facts looked up once per request or import ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchoolAccess:
    school_id: str
    ancestors: tuple[str, ...]
    issue: Issue | None  # why the caller may not write for this school


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign_id: str
    org_id: str
    name: str
    school_year: str
    term: int
    starts_on: date
    ends_on: date


@dataclass(frozen=True, slots=True)
class LearnerFacts:
    learner_id: str
    sex: str | None
    birth_date: date | None
    school_id: str | None  # of the active enrolment
    class_id: str | None
    grade: int | None


@dataclass
class CheckContext:
    """Who writes, the day it is, and the schools and campaigns already looked up (a file of a
    million rows names a few hundred schools and one campaign)."""

    principal: Principal
    today: date
    schools: dict[str, SchoolAccess] = field(default_factory=dict)
    campaigns: dict[str, Campaign | None] = field(default_factory=dict)


async def _resolve(
    conn: Connection, ctx: CheckContext, school_ids: set[str], ids: set[str]
) -> None:
    for school_id in school_ids - ctx.schools.keys():
        issue = None
        try:
            await ensure_school_in_scope(conn, ctx.principal, school_id, field="school_id")
        except AuthorisationError as exc:
            issue = Issue("school_id", school_id, "scope", str(exc))
        except Problem as exc:
            issue = Issue("school_id", school_id, "known_open_school", exc.detail or exc.title)
        chain = tuple(await ancestors(conn, school_id) or ()) if issue is None else ()
        ctx.schools[school_id] = SchoolAccess(school_id, chain, issue)
    missing = ids - ctx.campaigns.keys()
    if missing:
        found = {r["campaign_id"]: r for r in await store.get_campaigns(conn, sorted(missing))}
        for campaign_id in missing:
            row = found.get(campaign_id)
            ctx.campaigns[campaign_id] = (
                Campaign(
                    campaign_id=row["campaign_id"],
                    org_id=row["org_id"],
                    name=row["name"],
                    school_year=row["school_year"],
                    term=row["term"],
                    starts_on=row["starts_on"],
                    ends_on=row["ends_on"],
                )
                if row
                else None
            )


def _learner_facts(rows: Sequence[asyncpg.Record]) -> dict[str, LearnerFacts]:
    return {
        r["learner_id"]: LearnerFacts(
            r["learner_id"], r["sex"], r["birth_date"], r["school_id"], r["class_id"], r["grade"]
        )
        for r in rows
    }


# --- checks (no IO) -------------------------------------------------------------------------------


def _placement_issues(
    ctx: CheckContext,
    *,
    school_id: str,
    campaign_id: str,
    learner_id: str,
    on: date,
    on_field: str,
    learner: LearnerFacts | None,
) -> list[Issue]:
    """School, campaign, date and enrolment. A school outside the caller's scope is the only
    issue reported for the row: nothing else about that learner is the caller's business."""
    school = ctx.schools[school_id]
    if school.issue is not None:
        return [school.issue]
    issues = []
    campaign = ctx.campaigns.get(campaign_id)
    if campaign is None:
        issues.append(
            Issue(
                "campaign_id",
                campaign_id,
                "known_campaign",
                f"campaign {campaign_id} does not exist: create it first",
            )
        )
    else:
        if campaign.org_id != school_id and campaign.org_id not in school.ancestors:
            issues.append(
                Issue(
                    "campaign_id",
                    campaign_id,
                    "campaign_covers_school",
                    f"campaign {campaign_id} of {campaign.org_id} does not cover school "
                    f"{school_id}",
                )
            )
        if not campaign.starts_on <= on <= campaign.ends_on:
            issues.append(
                Issue(
                    on_field,
                    on,
                    "within_campaign",
                    f"{on_field} {on.isoformat()} is outside campaign {campaign_id} "
                    f"({campaign.starts_on.isoformat()} to {campaign.ends_on.isoformat()})",
                )
            )
    if on > ctx.today:
        issues.append(
            Issue(on_field, on, "not_in_future", f"{on_field} {on.isoformat()} is in the future")
        )
    if learner is None:
        issues.append(
            Issue(
                "learner_id",
                learner_id,
                "known_learner",
                f"learner {learner_id} is not known to records: enrol them first",
            )
        )
    elif learner.school_id != school_id:
        issues.append(
            Issue(
                "learner_id",
                learner_id,
                "enrolled_at_school",
                f"learner {learner_id} is not enrolled at school {school_id}",
            )
        )
    return issues


def _learner_fact(
    name: str, given: Any, on_record: Any, learner: LearnerFacts
) -> tuple[Any, Issue | None]:
    """Sex or birth date: the learner's record, else the submission; both must agree."""
    shown = given.isoformat() if isinstance(given, date) else given
    if on_record is not None:
        if given is not None and given != on_record:
            recorded = on_record.isoformat() if isinstance(on_record, date) else on_record
            return None, Issue(
                name,
                given,
                "matches_learner_record",
                f"{name} {shown} differs from the learner's record ({recorded}); correct the "
                "enrolment record first",
            )
        return on_record, None
    if given is None:
        return None, Issue(
            name,
            None,
            "required",
            f"learner {learner.learner_id} has no {name.replace('_', ' ')} on record: the "
            f"submission must give {name}",
        )
    return given, None


_DOMAIN_FIELDS = {"visual_acuity_left": "eyesight_left", "visual_acuity_right": "eyesight_right"}
_SEX = {s.value: s for s in Sex}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A checked submission: what would be stored, before comparing with the current one."""

    learner_id: str
    campaign_id: str
    on: date
    content: tuple[Any, ...]  # the table's content_columns, in order


def check_measurement(
    m: MeasurementInput, ctx: CheckContext, learner: LearnerFacts | None
) -> tuple[list[Issue], Candidate | None]:
    issues = _placement_issues(
        ctx,
        school_id=m.school_id,
        campaign_id=m.campaign_id,
        learner_id=m.learner_id,
        on=m.measured_on,
        on_field="measured_on",
        learner=learner,
    )
    if issues and issues[0].rule == "scope":
        return issues, None
    sex = birth = None
    if learner is not None and learner.school_id == m.school_id:
        # Only an enrolled learner's record is worth comparing with.
        sex, sex_issue = _learner_fact("sex", m.sex, learner.sex, learner)
        birth, birth_issue = _learner_fact("birth_date", m.birth_date, learner.birth_date, learner)
        issues += [i for i in (sex_issue, birth_issue) if i is not None]
    values = (m.height_cm, m.weight_kg, m.eyesight_left, m.eyesight_right)
    if all(v is None for v in values) and not m.eye_conditions:
        issues.append(
            Issue(
                "height_cm",
                None,
                "at_least_one_value",
                "nothing was measured: give height_cm, weight_kg, eyesight or eye_conditions",
            )
        )
    if sex is not None and birth is not None:
        domain = HealthMeasurement(
            measurement_id="",
            learner_id=m.learner_id,
            campaign_id=m.campaign_id,
            measured_on=m.measured_on,
            recorded_at=datetime.min,
            height_cm=m.height_cm,
            weight_kg=m.weight_kg,
            visual_acuity_left=m.eyesight_left,
            visual_acuity_right=m.eyesight_right,
        )
        for issue in validate_measurement(domain, birth, _SEX[sex]):
            name = _DOMAIN_FIELDS.get(issue.field, issue.field)
            issues.append(Issue(name, issue.value, issue.rule, issue.message))
    if issues:
        return issues, None
    class_id = m.class_id if m.class_id is not None else learner.class_id if learner else None
    content = (
        m.school_id,
        class_id,
        m.measured_on,
        sex,
        birth,
        m.height_cm,
        m.weight_kg,
        m.eyesight_left,
        m.eyesight_right,
        m.eye_conditions,
        learner.grade if learner else None,
    )
    return [], Candidate(m.learner_id, m.campaign_id, m.measured_on, content)


def check_swim(
    s: SwimInput, ctx: CheckContext, learner: LearnerFacts | None
) -> tuple[list[Issue], Candidate | None]:
    issues = _placement_issues(
        ctx,
        school_id=s.school_id,
        campaign_id=s.campaign_id,
        learner_id=s.learner_id,
        on=s.assessed_on,
        on_field="assessed_on",
        learner=learner,
    )
    if issues:
        return issues, None
    assert learner is not None  # no placement issue: enrolled at the school
    class_id = s.class_id if s.class_id is not None else learner.class_id
    content = (s.school_id, class_id, s.assessed_on, s.ability, learner.grade, learner.sex)
    return [], Candidate(s.learner_id, s.campaign_id, s.assessed_on, content)


# --- storing: replace or unchanged ----------------------------------------------------------------


@dataclass(slots=True)
class _Current:
    record_id: uuid.UUID
    content: tuple[Any, ...]
    recorded_at: datetime
    on: date
    pending: list[Any] | None  # the row about to be inserted, if it is not in the table yet

    def domain(self, learner_id: str, campaign_id: str) -> HealthMeasurement:
        return HealthMeasurement(
            measurement_id=str(self.record_id),
            learner_id=learner_id,
            campaign_id=campaign_id,
            measured_on=self.on,
            recorded_at=self.recorded_at,
        )


def _content(row: asyncpg.Record, table: VersionedTable) -> tuple[Any, ...]:
    return tuple(
        tuple(v) if isinstance(v, list) else v for v in (row[c] for c in table.content_columns)
    )


@dataclass(frozen=True, slots=True)
class Result:
    """What became of one submission: issues (nothing stored), or an outcome and, when it was
    accepted, the event to publish (contract and data in field order; the caller writes it)."""

    issues: list[Issue]
    outcome: Outcome | None = None
    record_id: uuid.UUID | None = None
    replaces: uuid.UUID | None = None
    event: tuple[type[EventData], dict[str, Any]] | None = None


def measured_event(
    c: Candidate, record_id: uuid.UUID, replaces: uuid.UUID | None
) -> dict[str, Any]:
    """The data of records.health.measured, in the contract's field order."""
    school_id, class_id, measured_on, sex, birth, height, weight, left, right, eyes, grade = (
        c.content
    )
    return {
        "measurement_id": record_id,
        "learner_id": c.learner_id,
        "school_id": school_id,
        "class_id": class_id,
        "campaign_id": c.campaign_id,
        "measured_on": measured_on,
        "sex": sex,
        "birth_date": birth,
        "height_cm": height,
        "weight_kg": weight,
        "eyesight_left": left,
        "eyesight_right": right,
        "eye_conditions": list(eyes),
        "replaces": replaces,
        "grade": grade,
    }


def swim_event(c: Candidate, record_id: uuid.UUID, replaces: uuid.UUID | None) -> dict[str, Any]:
    """The data of records.swim.assessed, in the contract's field order."""
    school_id, class_id, assessed_on, ability, grade, sex = c.content
    return {
        "assessment_id": record_id,
        "learner_id": c.learner_id,
        "school_id": school_id,
        "class_id": class_id,
        "campaign_id": c.campaign_id,
        "assessed_on": assessed_on,
        "ability": ability,
        "replaces": replaces,
        "grade": grade,
        "sex": sex,
    }


@dataclass(frozen=True)
class RecordKind:
    """Measurements or swim assessments: where they go, how they are checked and announced."""

    table: VersionedTable
    check: Callable[[Any, CheckContext, LearnerFacts | None], tuple[list[Issue], Candidate | None]]
    contract: type[EventData]
    event: Callable[[Candidate, uuid.UUID, uuid.UUID | None], dict[str, Any]]


class Batch:
    """Submissions of one kind, checked and stored together, in three steps: `load` (reads and
    the learners' row locks), `decide` (Python only, no IO: a bulk import runs it in a worker
    thread while the previous chunk is being written) and `write` (set-wise). One HTTP
    submission is a batch of one; a chunk of a file, a batch of thousands."""

    def __init__(
        self,
        kind: RecordKind,
        ctx: CheckContext,
        inputs: Sequence[MeasurementInput] | Sequence[SwimInput],
        *,
        import_id: uuid.UUID | None = None,
    ) -> None:
        self.kind = kind
        self.ctx = ctx
        self.inputs = inputs
        self.import_id = import_id
        self._learner_rows: Sequence[asyncpg.Record] = ()
        self._current_rows: Sequence[asyncpg.Record] = ()
        self.learners: dict[str, LearnerFacts] = {}
        self.currents: dict[tuple[str, str], _Current] = {}
        self.inserts: list[list[Any]] = []
        self.replaced: list[uuid.UUID] = []
        self.replaced_by: list[uuid.UUID] = []
        self.now = datetime.now(UTC)

    async def load(self, conn: Connection) -> None:
        """Schools and campaigns (cached per context), the learners (row-locked) and the
        current records. Rows are kept as they come: `decide` makes objects of them, off the
        event loop when the caller runs it in a thread."""
        ctx, inputs, table = self.ctx, self.inputs, self.kind.table
        await _resolve(conn, ctx, {i.school_id for i in inputs}, {i.campaign_id for i in inputs})
        allowed = [i for i in inputs if ctx.schools[i.school_id].issue is None]
        learner_ids = sorted({i.learner_id for i in allowed})
        if learner_ids:
            self._learner_rows = await store.lock_learners(conn, learner_ids)
        keys = list(dict.fromkeys((i.learner_id, i.campaign_id) for i in allowed))
        if keys:
            self._current_rows = await store.current_records(conn, table, keys)

    def _facts(self) -> None:
        table = self.kind.table
        self.learners = _learner_facts(self._learner_rows)
        self.currents = {
            (r["learner_id"], r["campaign_id"]): _Current(
                r[table.id_column], _content(r, table), r["recorded_at"], r[table.date_column], None
            )
            for r in self._current_rows
        }

    def decide(self) -> list[Result]:
        """Check every submission, then, in order, compare it with the current record: the
        same values are unchanged; anything else becomes current and replaces it."""
        self._facts()
        kind, ctx, learners, currents = self.kind, self.ctx, self.learners, self.currents
        checked = [kind.check(i, ctx, learners.get(i.learner_id)) for i in self.inputs]
        ids = iter(new_ids(sum(1 for _, c in checked if c is not None)))
        now, recorded_by, import_id = self.now, ctx.principal.subject, self.import_id
        results = []
        for issues, c in checked:
            if c is None:
                results.append(Result(issues))
                continue
            key = (c.learner_id, c.campaign_id)
            current = currents.get(key)
            if current is not None and current.content == c.content:
                results.append(Result([], "unchanged", current.record_id))
                continue
            record_id = next(ids)
            # A new submission is newer than what is stored, whatever the clocks of the
            # replicas that stored it said.
            recorded_at = now
            replaces = None
            if current is not None:
                if current.recorded_at >= now:
                    recorded_at = current.recorded_at + ONE_MICROSECOND
                incoming = HealthMeasurement(
                    measurement_id=str(record_id),
                    learner_id=c.learner_id,
                    campaign_id=c.campaign_id,
                    measured_on=c.on,
                    recorded_at=recorded_at,
                )
                if not decide_replacement(current.domain(*key), incoming).applies:
                    raise RuntimeError(f"{record_id} would not replace {current.record_id}")
                replaces = current.record_id
                if current.pending is None:
                    self.replaced.append(current.record_id)
                    self.replaced_by.append(record_id)
                else:  # replaced within this batch: it goes in already superseded
                    current.pending[-2] = record_id
                    current.pending[-1] = now
            row = [
                record_id,
                c.learner_id,
                c.campaign_id,
                *c.content,
                recorded_at,
                recorded_by,
                import_id,
                replaces,
                None,
                None,
            ]
            self.inserts.append(row)
            currents[key] = _Current(record_id, c.content, recorded_at, c.on, row)
            event = (kind.contract, kind.event(c, record_id, replaces))
            results.append(Result([], "accepted", record_id, replaces, event))
        return results

    async def write(self, conn: Connection) -> None:
        table = self.kind.table
        await store.supersede(
            conn, table, replaced=self.replaced, replaced_by=self.replaced_by, at=self.now
        )
        await store.insert_records(conn, table, self.inserts)


MEASUREMENT_KIND = RecordKind(MEASUREMENTS, check_measurement, HealthMeasured, measured_event)
SWIM_KIND = RecordKind(SWIMS, check_swim, SwimAssessed, swim_event)


async def run_batch(conn: Connection, batch: Batch) -> list[Result]:
    await batch.load(conn)
    results = batch.decide()
    await batch.write(conn)
    return results


async def measure_batch(
    conn: Connection,
    ctx: CheckContext,
    inputs: Sequence[MeasurementInput],
    *,
    import_id: uuid.UUID | None = None,
) -> list[Result]:
    return await run_batch(conn, Batch(MEASUREMENT_KIND, ctx, inputs, import_id=import_id))


async def swim_batch(
    conn: Connection,
    ctx: CheckContext,
    inputs: Sequence[SwimInput],
    *,
    import_id: uuid.UUID | None = None,
) -> list[Result]:
    return await run_batch(conn, Batch(SWIM_KIND, ctx, inputs, import_id=import_id))


# --- use cases over HTTP --------------------------------------------------------------------------


def unprocessable(issues: Sequence[Issue], *, title: str, prefix: str = "body.") -> Problem:
    """A 422 naming every field, rule and value."""
    return Problem(
        422,
        title,
        "; ".join(i.message for i in issues),
        errors=[field_error(f"{prefix}{i.field}", i.message, i.rule) for i in issues],
    )


async def create_campaign(
    conn: Connection,
    principal: Principal,
    *,
    campaign_id: str,
    org_id: str,
    name: str,
    school_year: str,
    term: int,
    starts_on: date,
    ends_on: date,
) -> dict[str, Any]:
    require_role(principal, WRITERS)
    unit = await get_unit(conn, org_id)
    if unit is None or unit["kind"] not in CAMPAIGN_ORG_KINDS:
        raise invalid("body.org_id", f"unknown organisation {org_id} (not in the registry)")
    if unit["valid_to"] is not None or unit["merged_into"] is not None:
        raise invalid("body.org_id", f"organisation {org_id} is closed or merged")
    if not in_scope(principal, org_id, await ancestors(conn, org_id) or []):
        raise AuthorisationError(
            f"organisation {org_id} is outside the scope of {principal.role} {principal.org_id}"
        )
    first, second = (int(y) for y in school_year.split("-"))
    if second != first + 1:
        raise invalid(
            "body.school_year", f"school year {school_year} must be two consecutive years"
        )
    if ends_on < starts_on:
        raise invalid("body.ends_on", f"ends_on {ends_on} is before starts_on {starts_on}")
    if not date(first, 8, 1) <= starts_on <= ends_on <= date(second, 7, 31):
        raise invalid(
            "body.starts_on",
            f"campaign dates {starts_on} to {ends_on} are outside school year {school_year} "
            f"(1 August {first} to 31 July {second})",
        )
    row = await store.insert_campaign(
        conn,
        campaign_id=campaign_id,
        org_id=org_id,
        name=name,
        school_year=school_year,
        term=term,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=principal.subject,
    )
    if row is None:
        raise Problem(409, "Campaign exists", f"campaign {campaign_id} already exists")
    return _campaign_json(row)


def _campaign_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        **dict(row),
        "starts_on": row["starts_on"].isoformat(),
        "ends_on": row["ends_on"].isoformat(),
        "created_at": row["created_at"].isoformat(),
    }


async def get_campaign(conn: Connection, principal: Principal, campaign_id: str) -> dict[str, Any]:
    require_role(principal, READERS)
    rows = await store.get_campaigns(conn, [campaign_id])
    if not rows:
        raise Problem(404, "Not Found", f"no campaign {campaign_id}")
    return _campaign_json(rows[0])


async def _record_one(
    conn: Connection,
    principal: Principal,
    school_id: str,
    batch: Any,
    item: Any,
    *,
    today: date,
    title: str,
) -> dict[str, Any]:
    require_role(principal, WRITERS)
    # Scope first, as a 403 (in a file it is a row's rejection instead).
    await ensure_school_in_scope(conn, principal, school_id, field="body.school_id")
    ctx = CheckContext(principal, today)
    (result,) = await batch(conn, ctx, [item])
    if result.issues:
        raise unprocessable(result.issues, title=title)
    if result.event is not None:
        contract, data = result.event
        await add_events(conn, [contract.model_validate(data)], source=SOURCE)
    return {
        "outcome": result.outcome,
        "record_id": str(result.record_id),
        "replaces": str(result.replaces) if result.replaces else None,
    }


async def record_measurement(
    conn: Connection, principal: Principal, m: MeasurementInput, *, today: date
) -> dict[str, Any]:
    """Store one measurement (or find it unchanged); publishes records.health.measured."""
    return await _record_one(
        conn, principal, m.school_id, measure_batch, m, today=today, title="Invalid measurement"
    )


async def record_swim(
    conn: Connection, principal: Principal, s: SwimInput, *, today: date
) -> dict[str, Any]:
    """Store one swimming assessment (or find it unchanged); publishes records.swim.assessed."""
    return await _record_one(
        conn, principal, s.school_id, swim_batch, s, today=today, title="Invalid swim assessment"
    )


# --- reads (audited: health data of children is sensitive, Law 91/2025/QH15) ----------------------


def _public(row: asyncpg.Record, table: VersionedTable) -> dict[str, Any]:
    out = dict(row)
    out["record_id"] = out.pop(table.id_column)
    if "eye_conditions" in out:
        out["eye_conditions"] = list(out["eye_conditions"])
    return out


async def _school_readable(
    conn: Connection, principal: Principal, school_id: str, cache: dict[str, bool]
) -> bool:
    if school_id not in cache:
        cache[school_id] = in_scope(principal, school_id, await ancestors(conn, school_id) or [])
    return cache[school_id]


async def learner_health(
    conn: Connection,
    principal: Principal,
    learner_id: str,
    *,
    include_superseded: bool,
) -> dict[str, list[dict[str, Any]]]:
    """A learner's measurements and swim assessments. The school the learner is enrolled at
    (and the units above it) sees the whole history, which follows the learner; an earlier
    school sees what it recorded itself. Nothing visible is a 404: existence is private."""
    require_role(principal, READERS)
    cache: dict[str, bool] = {}
    active = await store.active_school_of(conn, learner_id)
    follows = active is not None and await _school_readable(conn, principal, active, cache)
    out: dict[str, list[dict[str, Any]]] = {}
    for name, table in (("measurements", MEASUREMENTS), ("swim_assessments", SWIMS)):
        rows = await store.learner_records(
            conn, table, learner_id, include_superseded=include_superseded
        )
        out[name] = [
            _public(r, table)
            for r in rows
            if follows or await _school_readable(conn, principal, r["school_id"], cache)
        ]
    if not follows and not any(out.values()):
        raise Problem(404, "Not Found", f"no learner {learner_id} in your scope")
    await record_access(
        conn,
        principal,
        action="read",
        entity_kind="learner",
        entity_ids=[learner_id],
        detail={"health": {k: len(v) for k, v in out.items()}},
    )
    return out


async def list_school(
    conn: Connection,
    principal: Principal,
    *,
    kind: Literal["measurements", "swim_assessments"],
    campaign_id: str,
    school_id: str,
    class_id: str | None,
    after: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], bool]:
    """Current records of a school (or one of its classes) in a campaign, audited per learner;
    and whether there are more."""
    require_role(principal, READERS)
    await ensure_can_read_school(conn, principal, school_id, field="path.school_id")
    if not await store.get_campaigns(conn, [campaign_id]):
        raise Problem(404, "Not Found", f"no campaign {campaign_id}")
    table = MEASUREMENTS if kind == "measurements" else SWIMS
    rows = await store.list_current(
        conn,
        table,
        campaign_id=campaign_id,
        school_id=school_id,
        class_id=class_id,
        after=after,
        limit=limit + 1,
    )
    page = rows[:limit]
    await record_access(
        conn,
        principal,
        action="read",
        entity_kind="learner",
        entity_ids=[r["learner_id"] for r in page],
        detail={"health": kind, "campaign_id": campaign_id, "school_id": school_id},
    )
    return [_public(r, table) for r in page], len(rows) > limit
