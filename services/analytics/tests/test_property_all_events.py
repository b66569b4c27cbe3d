"""Every kind of event analytics consumes, through the real consumers on a real PostgreSQL.

Hypothesis builds a history as the producers would publish it (organisation units created and
schools moved to another commune, enrolments, transfers, leavers, health measurements with
implausible values and corrections, swim assessments and their corrections, person merges and
unmerges, staff profiles), then delivers it in a random order with duplicates (the same
envelope redelivered, or the same data republished in a new envelope) and random batch splits.
Each batch goes to every consumer that reads its topics, the way the runner applies it: decode
the bytes against the consumer's contracts, then its `apply_in` in one transaction (the inbox
claim and the handler, or the handler alone for those that deduplicate by content). At the end
every maintained table must equal what the final state of the history says, computed here from
the events themselves, not from analytics' tables.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.analytics import health_store, results_store, store, teacher_store
from services.analytics.consumers import enrolment_consumer
from services.analytics.domain import results_fold, teacher_stats
from services.analytics.domain.health_fold import (
    UNKNOWN_SEX,
    Measurement,
    MergeLink,
    SwimAssessment,
    classify_nutrition,
    recount,
)
from services.analytics.forecast_consumers import staff_consumer
from services.analytics.health_consumers import health_consumer
from services.analytics.results_consumers import results_consumer, teacher_stats_consumer
from shared.consumer.runner import ConsumedRecord, EventConsumer, IncomingEvent
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.events.contracts.identity import OrgChanged, PersonMerged, PersonUnmerged
from shared.events.contracts.records import (
    HealthMeasured,
    LearnerTermResult,
    StaffUpdated,
    StudentEnrolled,
    StudentLeft,
    StudentTransferred,
    SwimAssessed,
    TermFinalized,
)
from shared.events.envelope import CloudEvent, EventData, decode_event
from shared.orgs.consumer import org_mirror_consumer

pytestmark = pytest.mark.integration

YEAR = "2025-2026"
T0 = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
DAY = date(2025, 10, 1)
PROVINCE = "P"
COMMUNES = ("C1", "C2")
FIRST_PARENT = {"S1": "C1", "S2": "C1", "S3": "C2"}
SCHOOLS = tuple(FIRST_PARENT)
LEARNERS = (
    "HS-31-2015-0000001-1",
    "HS-31-2015-0000002-2",
    "HS-31-2015-0000003-3",
    "HS-31-2015-0000004-4",
)
CAMPAIGNS = ("K1", "K2")
STAFF = ("NV-1", "NV-2", "NV-3")
BOY, TODDLER, ADULT = date(2015, 3, 1), date(2022, 3, 1), date(2005, 3, 1)
# (height, weight, birth, eyes): normal, obese, thin, stunted, implausible (WHO flags), missing
# height, under five, outside the WHO references.
VALUES: list[tuple[float | None, float | None, date, dict[str, Any]]] = [
    (140.0, 32.0, BOY, {"eyesight_left": 1.0, "eyesight_right": 1.0}),
    (140.0, 45.0, BOY, {"eyesight_left": 0.5, "eye_conditions": ["myopia"]}),
    (140.0, 26.0, BOY, {}),
    (122.0, 24.0, BOY, {"eye_conditions": ["astigmatism", "other"]}),
    (60.0, 30.0, BOY, {}),
    (None, 30.0, BOY, {"eyesight_right": 0.7}),
    (100.0, 12.5, TODDLER, {}),
    (170.0, 60.0, ADULT, {}),
    (249.0, 290.0, BOY, {}),
]


CONTRACTS: dict[tuple[str, int], type[EventData]] = {
    (c.EVENT_TYPE, c.VERSION): c
    for c in (
        OrgChanged,
        PersonMerged,
        PersonUnmerged,
        StudentEnrolled,
        StudentTransferred,
        StudentLeft,
        HealthMeasured,
        SwimAssessed,
        StaffUpdated,
        TermFinalized,
    )
}


def data_of(envelope: CloudEvent) -> EventData:
    return decode_event(envelope.to_bytes(), CONTRACTS)[1]


def noop(_: object) -> None:
    return None


def analytics_consumers() -> list[EventConsumer]:
    """The consumers services/analytics/app.py builds (build_consumers), and the gradebook
    results and teacher statistics consumers (services/analytics/results_consumers.py)."""
    return [
        org_mirror_consumer("analytics"),
        enrolment_consumer(noop),
        health_consumer(noop),
        staff_consumer(),
        results_consumer(noop),
        teacher_stats_consumer(noop),
    ]


# --------------------------------------------------------------------------- the history


@dataclass
class History:
    """Events as published (one envelope each), and what the generator knows about them."""

    published: list[CloudEvent] = field(default_factory=list)
    revisions: Counter[str] = field(default_factory=Counter)
    where: dict[str, str | None] = field(default_factory=dict)  # learner -> school now
    measurements: list[HealthMeasured] = field(default_factory=list)
    swims: list[SwimAssessed] = field(default_factory=list)
    merges: list[PersonMerged] = field(default_factory=list)
    minute: int = 0

    def publish(self, data: EventData, source: str, minute: int | None = None) -> None:
        self.minute += 1
        at = T0 + timedelta(minutes=self.minute if minute is None else minute)
        self.published.append(CloudEvent.wrap(data, source=source, time=at))

    def revision(self, key: str) -> int:
        self.revisions[key] += 1
        return self.revisions[key]


OPS = (
    "enrol",
    "transfer",
    "leave",
    "measure",
    "correct",
    "swim",
    "swim_correct",
    "merge",
    "unmerge",
    "reorg",
    "staff",
    "finalize",
)


def org(org_id: str, revision: int, kind: str, parent: str | None, change: str) -> OrgChanged:
    return OrgChanged(
        org_id=org_id,
        revision=revision,
        change=change,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        name=f"Đơn vị {org_id}",
        parent_id=parent,
        school_type="primary" if kind == "school" else None,
        valid_from=date(2025, 7, 1),
    )


def build_history(draw: Callable[[st.SearchStrategy[Any]], Any]) -> History:
    h = History()
    h.publish(org(PROVINCE, h.revision(PROVINCE), "province", None, "created"), "identity")
    for commune in COMMUNES:
        h.publish(org(commune, h.revision(commune), "commune", PROVINCE, "created"), "identity")
    for school, parent in FIRST_PARENT.items():
        h.publish(org(school, h.revision(school), "school", parent, "created"), "identity")
    for op in draw(st.lists(st.sampled_from(OPS), min_size=1, max_size=30)):
        learner = draw(st.sampled_from(LEARNERS))
        school = draw(st.sampled_from(SCHOOLS))
        if op in ("enrol", "transfer", "leave"):
            lifecycle(h, op, learner, school, draw(st.integers(1, 5)), draw)
        elif op in ("measure", "correct"):
            measure(h, op, learner, school, draw)
        elif op in ("swim", "swim_correct"):
            swim(h, op, learner, school, draw)
        elif op == "merge":
            retired = draw(st.sampled_from([x for x in LEARNERS if x != learner]))
            merge = PersonMerged(
                merge_id=uuid.uuid4(), survivor_id=learner, merged_id=retired, reason="trùng"
            )
            h.merges.append(merge)
            h.publish(merge, "identity")
        elif op == "unmerge" and h.merges:
            done = draw(st.sampled_from(h.merges))
            h.publish(
                PersonUnmerged(
                    merge_id=done.merge_id,
                    survivor_id=done.survivor_id,
                    merged_id=done.merged_id,
                    reason="hai người",
                ),
                "identity",
            )
        elif op == "reorg":
            commune = draw(st.sampled_from(COMMUNES))
            h.publish(org(school, h.revision(school), "school", commune, "moved"), "identity")
        elif op == "staff":
            staff_id = draw(st.sampled_from(STAFF))
            h.publish(
                StaffUpdated(
                    staff_id=staff_id,
                    school_id=school,
                    position=draw(st.sampled_from(["teacher", "teacher", "principal"])),
                    subjects=draw(st.sampled_from([[], ["toan"], ["van", "toan"]])),
                    birth_date=draw(st.sampled_from([date(1970, 5, 1), date(1990, 1, 2)])),
                    sex=draw(st.sampled_from(["male", "female"])),
                    employed_from=draw(st.sampled_from([date(2015, 9, 1), date(2025, 12, 1)])),
                    employed_until=draw(
                        st.sampled_from([None, date(2026, 6, 30), date(2025, 10, 2)])
                    ),
                    revision=h.revision(staff_id),
                ),
                "records",
            )
        elif op == "finalize":
            finalize(h, school, draw)
    return h


def finalize(h: History, school: str, draw: Any) -> None:
    """A class term finalised (again, after a correction, when the class term repeats)."""
    averages = st.sampled_from([None, 3.0, 5.5, 8.0, 9.5])
    results = [
        LearnerTermResult(
            learner_id=learner,
            subject_averages={"toan": draw(averages), "van": draw(averages)},
            comment_grades=draw(st.sampled_from([{}, {"the_duc": "dat"}, {"the_duc": None}])),
            learning_level=draw(st.sampled_from([None, "tot", "kha", "dat", "chua_dat"])),
        )
        for learner in draw(st.lists(st.sampled_from(LEARNERS), max_size=3, unique=True))
    ]
    h.publish(
        TermFinalized(
            school_id=school,
            class_id=draw(st.sampled_from(["5A", "5B"])),
            school_year=YEAR,
            semester=draw(st.sampled_from([1, 2])),
            grade=5,
            results=results,
        ),
        "records",
        minute=draw(st.integers(0, 3)),
    )


def lifecycle(h: History, op: str, learner: str, school: str, grade: int, draw: Any) -> None:
    previous = h.where.get(learner)
    revision = h.revision(learner)
    data: EventData
    if op == "transfer" and previous is not None:
        data = StudentTransferred(
            learner_id=learner,
            from_school_id=previous,
            to_school_id=school,
            school_year=YEAR,
            grade=grade,
            transferred_on=DAY,
            revision=revision,
        )
        h.where[learner] = school
    elif op == "leave" and previous is not None:
        data = StudentLeft(
            learner_id=learner,
            school_id=previous,
            school_year=YEAR,
            reason=draw(st.sampled_from(["dropped_out", "merged"])),
            left_on=DAY,
            revision=revision,
        )
        h.where[learner] = None
    else:
        data = StudentEnrolled(
            enrolment_id=uuid.uuid4(),
            learner_id=learner,
            school_id=school,
            school_year=YEAR,
            grade=grade,
            sex=draw(st.sampled_from([None, "male", "female"])),
            enrolled_on=DAY,
            revision=revision,
        )
        h.where[learner] = school
    h.publish(data, "records")


def measure(h: History, op: str, learner: str, school: str, draw: Any) -> None:
    campaign = draw(st.sampled_from(CAMPAIGNS))
    height, weight, birth, eyes = VALUES[draw(st.integers(0, len(VALUES) - 1))]
    earlier = [m.measurement_id for m in h.measurements if m.campaign_id == campaign]
    replaces = draw(st.sampled_from(earlier)) if op == "correct" and earlier else None
    data = HealthMeasured(
        measurement_id=uuid.uuid4(),
        learner_id=learner,
        school_id=school,
        class_id=draw(st.sampled_from([None, "5A"])),
        campaign_id=campaign,
        measured_on=DAY + timedelta(days=draw(st.integers(0, 2))),
        sex=draw(st.sampled_from(["male", "female"])),
        birth_date=birth,
        height_cm=height,
        weight_kg=weight,
        replaces=replaces,
        grade=draw(st.sampled_from([None, 5])),
        **eyes,
    )
    h.measurements.append(data)
    h.publish(data, "records", minute=draw(st.integers(0, 3)))  # equal event times happen


def swim(h: History, op: str, learner: str, school: str, draw: Any) -> None:
    campaign = draw(st.sampled_from(CAMPAIGNS))
    earlier = [s.assessment_id for s in h.swims if s.campaign_id == campaign]
    data = SwimAssessed(
        assessment_id=uuid.uuid4(),
        learner_id=learner,
        school_id=school,
        class_id=draw(st.sampled_from([None, "5A"])),
        campaign_id=campaign,
        assessed_on=DAY + timedelta(days=draw(st.integers(0, 2))),
        ability=draw(st.sampled_from(["cannot_swim", "swims_with_aid", "swims_25m_unaided"])),
        replaces=draw(st.sampled_from(earlier)) if op == "swim_correct" and earlier else None,
    )
    h.swims.append(data)
    h.publish(data, "records", minute=draw(st.integers(0, 3)))


def deliveries(h: History, draw: Any) -> list[list[CloudEvent]]:
    """Everything published, in a random order, with redeliveries (same envelope) and
    republications (same data, new envelope and time), cut into random batches."""
    copies = []
    for original in draw(st.lists(st.sampled_from(h.published), max_size=12)):
        if draw(st.booleans()):
            copies.append(original)
        else:
            later = original.time + timedelta(minutes=draw(st.integers(0, 30)))
            copies.append(original.model_copy(update={"id": uuid.uuid4(), "time": later}))
    order = draw(st.permutations(h.published + copies))
    sizes = draw(st.lists(st.integers(1, 8), min_size=1, max_size=6))
    batches, position, index = [], 0, 0
    while position < len(order):
        size = sizes[index % len(sizes)]
        batches.append(order[position : position + size])
        position, index = position + size, index + 1
    return batches


# --------------------------------------------------------------------------- delivering


async def deliver(
    pool: asyncpg.Pool, consumers: list[EventConsumer], batch: list[CloudEvent]
) -> None:
    """As EventConsumer.process and _apply do: decode, drop in-batch repeats, and apply in one
    transaction with the consumer's own `apply_in` (so its way of deduplicating is tested)."""
    for consumer in consumers:
        events: list[IncomingEvent] = []
        seen: set[uuid.UUID] = set()
        for offset, envelope in enumerate(batch):
            if envelope.topic not in consumer.topics:
                continue
            raw = envelope.to_bytes()
            record = ConsumedRecord(
                envelope.topic, 0, offset, (envelope.subject or "").encode(), raw
            )
            decoded, data = decode_event(raw, consumer.contracts)
            if decoded.id in seen:
                continue
            seen.add(decoded.id)
            events.append(IncomingEvent(decoded, data, record))
        if not events:
            continue
        async with pool.acquire() as conn, conn.transaction():
            await consumer.apply_in(conn, events)


# --------------------------------------------------------------------------- the final state


@dataclass
class Final:
    """What the history says once everything has arrived, from the events alone."""

    delivered: list[CloudEvent]  # in delivery order, every copy

    def first_copies(self) -> list[tuple[datetime, HealthMeasured | SwimAssessed]]:
        """Each health record once, with the time of its first copy delivered."""
        seen: set[uuid.UUID] = set()
        found: list[tuple[datetime, HealthMeasured | SwimAssessed]] = []
        for envelope in self.delivered:
            data = data_of(envelope)
            if isinstance(data, HealthMeasured | SwimAssessed):
                key = (
                    data.measurement_id if isinstance(data, HealthMeasured) else data.assessment_id
                )
                if key not in seen:
                    seen.add(key)
                    found.append((envelope.time, data))
        return found

    def newest(self, kind: type[Any], key: Callable[[Any], str]) -> dict[str, Any]:
        best: dict[str, Any] = {}
        for envelope in self.delivered:
            data = data_of(envelope)
            if isinstance(data, kind):
                k = key(data)
                if k not in best or best[k].revision < data.revision:
                    best[k] = data
        return best

    def parents(self) -> dict[str, str | None]:
        return {k: v.parent_id for k, v in self.newest(OrgChanged, lambda o: o.org_id).items()}

    def placements(self) -> dict[str, Any]:
        lifecycle = StudentEnrolled | StudentTransferred | StudentLeft
        return self.newest(lifecycle, lambda e: e.learner_id)  # type: ignore[arg-type]

    def links(self) -> list[MergeLink]:
        merged: dict[uuid.UUID, PersonMerged | PersonUnmerged] = {}
        flags: dict[uuid.UUID, set[str]] = defaultdict(set)
        for envelope in self.delivered:
            data = data_of(envelope)
            if isinstance(data, PersonMerged | PersonUnmerged):
                merged[data.merge_id] = data
                flags[data.merge_id].add(type(data).__name__)
        return [
            MergeLink(
                i,
                d.survivor_id,
                d.merged_id,
                "PersonMerged" in flags[i],
                "PersonUnmerged" in flags[i],
            )
            for i, d in merged.items()
        ]

    def results_memory(self) -> results_fold.ResultsMemory:
        memory = results_fold.ResultsMemory()
        for envelope in self.delivered:
            data = data_of(envelope)
            if isinstance(data, TermFinalized):
                final = results_fold.finalization_of(envelope.id, envelope.time, data)
                memory.finalizations.setdefault(envelope.id, final)
                for figures in results_fold.figures_of(envelope.id, data):
                    memory.figures.setdefault(figures.key, figures)
        for link in self.links():
            memory.merges[link.merge_id] = results_fold.Merge(
                link.merge_id, link.survivor_id, link.merged_id, undone=link.unmerged
            )
        return memory

    def person_of(self) -> dict[str, str]:
        """The rule written out again (breadth first over the active merges)."""
        active = [link for link in self.links() if link.merged and not link.unmerged]
        neighbours: dict[str, set[str]] = defaultdict(set)
        for link in active:
            neighbours[link.survivor_id].add(link.merged_id)
            neighbours[link.merged_id].add(link.survivor_id)
        retired = {link.merged_id for link in active}
        person: dict[str, str] = {}
        for start in sorted(neighbours):
            if start in person:
                continue
            group, todo = {start}, [start]
            while todo:
                for other in neighbours[todo.pop()] - group:
                    group.add(other)
                    todo.append(other)
            kept = sorted(group - retired) or sorted(group)
            person.update({member: kept[0] for member in group})
        return person


def expected_health(final: Final) -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    """Nutrition statuses and swim abilities per (campaign, school, class, sex), one person
    counted once per campaign: the last live record of all the person's learner IDs."""
    person = final.person_of()
    pools: dict[tuple[str, str, str], list[tuple[datetime, Any]]] = defaultdict(list)
    for time, data in final.first_copies():
        kind = "m" if isinstance(data, HealthMeasured) else "s"
        pools[(kind, person.get(data.learner_id, data.learner_id), data.campaign_id)].append(
            (time, data)
        )
    winners: dict[tuple[str, str, str], tuple[tuple[Any, ...], Any]] = {}
    for key, pool in pools.items():
        retracted = {d.replaces for _, d in pool}
        live = []
        for time, d in pool:
            rid = d.measurement_id if key[0] == "m" else d.assessment_id
            day = d.measured_on if key[0] == "m" else d.assessed_on
            if rid not in retracted:
                live.append(((day, time, rid), d))
        if live:
            winners[key] = max(live, key=lambda x: x[0])
    sex: dict[str, tuple[tuple[Any, ...], str]] = {}
    nutrition: Counter[tuple[Any, ...]] = Counter()
    for (kind, who, campaign), (order, d) in winners.items():
        if kind == "m":
            status = classify_nutrition(
                d.sex, d.birth_date, d.measured_on, d.height_cm, d.weight_kg
            )
            nutrition[(campaign, d.school_id, d.class_id or "", d.sex, status.status)] += 1
            if who not in sex or sex[who][0] < order:
                sex[who] = (order, d.sex)
    swimming: Counter[tuple[Any, ...]] = Counter()
    for (kind, who, campaign), (_, d) in winners.items():
        if kind == "s":
            learner_sex = sex[who][1] if who in sex else UNKNOWN_SEX
            swimming[(campaign, d.school_id, d.class_id or "", learner_sex, d.ability)] += 1
    return nutrition, swimming


# --------------------------------------------------------------------------- the checks


async def check(conn: Connection, final: Final) -> None:
    # The organisation mirror: the newest revision of every unit.
    parents = final.parents()
    units = await conn.fetch("SELECT org_id, parent_id FROM org_units")
    assert {r["org_id"]: r["parent_id"] for r in units} == parents

    # Enrolment: one per learner whose newest lifecycle event places them, per school.
    newest = final.placements()
    expected_enrolment: Counter[tuple[str, str]] = Counter()
    for event in newest.values():
        if isinstance(event, StudentEnrolled):
            expected_enrolment[(event.school_id, event.school_year)] += 1
        elif isinstance(event, StudentTransferred):
            expected_enrolment[(event.to_school_id, event.school_year)] += 1
    rows = await conn.fetch("SELECT school_id, school_year, enrolled FROM school_enrolment")
    assert +Counter({(r["school_id"], r["school_year"]): r["enrolled"] for r in rows}) == (
        expected_enrolment
    )
    # The open placement intervals (what the forecast reads) are the newest revisions'.
    placed = await conn.fetch(
        "SELECT learner_id, revision, school_id FROM enrolment_intervals WHERE valid_to IS NULL"
    )
    assert {r["learner_id"]: (r["revision"], r["school_id"]) for r in placed} == {
        learner: (e.revision, e.to_school_id if isinstance(e, StudentTransferred) else e.school_id)
        for learner, e in newest.items()
        if not isinstance(e, StudentLeft)
    }
    # Rolled up along the final tree: each commune's schools.
    for commune in COMMUNES:
        want = sum(n for (s, _), n in expected_enrolment.items() if parents.get(s) == commune)
        got = await store.enrolment_under(conn, commune)
        assert sum(r["enrolled"] for r in got) == want

    # Health: the cells, by the rules written out here...
    nutrition, swimming = expected_health(final)
    got_nutrition: Counter[tuple[Any, ...]] = Counter()
    for r in await conn.fetch("SELECT * FROM nutrition_cells"):
        for status in (
            "normal",
            "overweight",
            "obese",
            "thin",
            "severely_thin",
            "wasted",
            "severely_wasted",
            "flagged",
            "unknown",
        ):
            got_nutrition[(r["campaign_id"], r["school_id"], r["class_id"], r["sex"], status)] += r[
                status
            ]
    assert +got_nutrition == nutrition
    got_swimming: Counter[tuple[Any, ...]] = Counter()
    for r in await conn.fetch("SELECT * FROM swim_cells"):
        for ability in ("cannot_swim", "swims_with_aid", "swims_25m_unaided"):
            got_swimming[(r["campaign_id"], r["school_id"], r["class_id"], r["sex"], ability)] += r[
                ability
            ]
    assert +got_swimming == swimming
    # ... and every cell (eyes, stunting, grades, age groups too) as the domain's recount of the
    # distinct records gives it, with the shares under the persons' IDs.
    records = final.first_copies()
    shares, cells = recount(
        [Measurement.of(t, d) for t, d in records if isinstance(d, HealthMeasured)],
        [SwimAssessment.of(t, d) for t, d in records if isinstance(d, SwimAssessed)],
        final.links(),
    )
    assert await health_store.all_cells(conn) == cells
    counted = await conn.fetch(
        "SELECT learner_id, campaign_id FROM health_counted_measurements "
        "UNION SELECT learner_id, campaign_id FROM health_counted_swims"
    )
    assert {(r["learner_id"], r["campaign_id"]) for r in counted} == set(shares)
    for campaign in CAMPAIGNS:
        by_commune = await health_store.nutrition_under(
            conn, org_id=PROVINCE, campaign_id=campaign, by_class=False
        )
        got_measured: Counter[str] = Counter()
        for r in by_commune:
            got_measured[r["part"]] += r["measured"]
        want_measured: Counter[str] = Counter()
        for (c, school, *_), n in nutrition.items():
            if c == campaign:
                want_measured[parents[school] or ""] += n
        assert +got_measured == want_measured

    # Teachers for the forecast: the newest profile of each.
    staff = final.newest(StaffUpdated, lambda s: s.staff_id)
    teachers = await conn.fetch(
        "SELECT staff_id, revision, school_id, subjects FROM forecast_teachers"
    )
    assert {
        r["staff_id"]: (r["revision"], r["school_id"], list(r["subjects"])) for r in teachers
    } == {k: (s.revision, s.school_id, s.subjects) for k, s in staff.items()}

    # Teacher statistics: the cells of the newest profile of each.
    assert await teacher_store.all_cells(conn) == teacher_stats.recount(
        teacher_stats.record_of(s) for s in staff.values()
    )

    # Gradebook results: the cells the results rules give for the distinct finalisations and
    # merges delivered.
    memory = final.results_memory()
    assert await results_store.all_cells(conn) == results_fold.recount(memory)

    # The inbox: every distinct event id once per consumer that reads its topic through the
    # inbox; the consumers that deduplicate by content (enrolment, health) write none.
    claimed = Counter(
        r["consumer"] for r in await conn.fetch("SELECT consumer, event_id FROM inbox")
    )
    assert claimed == Counter(
        {
            c.group_id: len({e.id for e in final.delivered if e.topic in c.topics})
            for c in analytics_consumers()
            if not c.deduplicated_by_handler
        }
    )


# --------------------------------------------------------------------------- the property


async def reset(pool: asyncpg.Pool) -> None:
    """A fresh state for each example: empty every table but the migrations' record."""
    async with pool.acquire() as conn:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'schema_migrations'"
        )
        await conn.execute(f"TRUNCATE {', '.join(r['tablename'] for r in tables)}")


async def run_example(pool: asyncpg.Pool, batches: list[list[CloudEvent]]) -> None:
    await reset(pool)
    consumers = analytics_consumers()
    for batch in batches:
        await deliver(pool, consumers, batch)
    async with pool.acquire() as conn:
        await check(conn, Final([e for batch in batches for e in batch]))


def test_every_aggregate_equals_a_recount_of_the_final_state(fresh_db):
    with asyncio.Runner() as runner:

        async def start() -> asyncpg.Pool:
            pool = await create_pool(fresh_db, min_size=1, max_size=2)
            async with pool.acquire() as conn:
                await migrate(conn, "analytics", Path("services/analytics/migrations"))
            return pool

        pool = runner.run(start())
        examples = 0

        @settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(data=st.data())
        def property_holds(data: st.DataObject) -> None:
            nonlocal examples
            history = build_history(data.draw)
            runner.run(run_example(pool, deliveries(history, data.draw)))
            examples += 1

        try:
            property_holds()
        finally:
            runner.run(pool.close())
        assert examples >= 40
