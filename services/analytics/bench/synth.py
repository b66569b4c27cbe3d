"""A synthetic province and the events of its semester, as Kafka messages.

Learners are numbered school by school, so one school's learners (and its classes) come out
together: the events are generated in chunks of whole schools and never held all at once.
Every message is a CloudEvents envelope built as the contracts define it (the analytics
consumers validate each one, and the benchmark's checks fail if any is dead-lettered).
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from shared.events.contracts.identity import OrgChanged
from shared.events.contracts.records import (
    GradeRecorded,
    HealthMeasured,
    StudentEnrolled,
    TermFinalized,
)
from shared.events.envelope import EventData

SCHOOL_YEAR = "2025-2026"
CAMPAIGN = "BENCH-2025-HK1"
CLASS_SIZE = 35  # learners per class (the limit is 35 in primary, 45 in secondary)
# Share of learners per grade 0-12 (preschool, primary, lower and upper secondary), after the
# national 2024-25 figures in DOMAIN.md: 4.8 M, 8.85 M, 6.51 M and 2.99 M.
GRADE_WEIGHTS = (4.8,) + (8.85 / 5,) * 5 + (6.51 / 4,) * 4 + (2.99 / 3,) * 3
SECONDARY_FROM_GRADE = 6
EYESIGHT = (1.0,) * 12 + (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)
CONDITIONS: tuple[tuple[str, ...], ...] = (
    ((),) * 14
    + (("myopia",),) * 4
    + (
        ("myopia", "astigmatism"),
        ("hyperopia",),
        ("strabismus",),
    )
)
LEVELS = ("tot", "kha", "kha", "dat", "dat", "chua_dat")


class Message(NamedTuple):
    topic: str
    key: bytes
    value: bytes
    event_id: uuid.UUID


@dataclass(frozen=True)
class Province:
    """The shape of the benchmark's province: LEARNERS over SCHOOLS under COMMUNES."""

    learners: int
    schools: int
    communes: int = 114
    seed: int = 2025
    province_id: str = "BENCH"
    grades: bool = True  # also the gradebook events of secondary learners
    topic_prefix: str = ""  # to keep a run's topics apart on a shared broker

    def school_id(self, index: int) -> str:
        return f"BS{index:05d}"

    def commune_id(self, index: int) -> str:
        return f"BX{index:03d}"

    def learner_id(self, number: int) -> str:
        return f"BL{number:08d}"

    def school_learners(self, index: int) -> range:
        return range(
            index * self.learners // self.schools, (index + 1) * self.learners // self.schools
        )

    def topic(self, contract: type[EventData]) -> str:
        return f"{self.topic_prefix}{contract.topic()}"

    def topics(self) -> list[str]:
        contracts: list[type[EventData]] = [OrgChanged, StudentEnrolled, HealthMeasured]
        if self.grades:
            contracts += [GradeRecorded, TermFinalized]
        return [self.topic(c) for c in contracts]


@dataclass
class Produced:
    """What was generated, per topic (the expected totals of the checks)."""

    by_topic: Counter[str] = field(default_factory=Counter)
    learners: int = 0
    secondary: int = 0

    @property
    def events(self) -> int:
        return sum(self.by_topic.values())


def envelope(
    contract: type[EventData], subject: str, data: dict[str, Any], time: str
) -> tuple[uuid.UUID, bytes]:
    event_id = uuid.uuid4()
    body = {
        "specversion": "1.0",
        "id": str(event_id),
        "source": "eduhub/bench",
        "type": contract.EVENT_TYPE,
        "time": time,
        "subject": subject,
        "datacontenttype": "application/json",
        "dataschema": contract.dataschema(),
        "data": data,
    }
    return event_id, json.dumps(body, separators=(",", ":")).encode()


def _message(
    province: Province, contract: type[EventData], subject: str, data: dict[str, Any], time: str
) -> Message:
    event_id, value = envelope(contract, subject, data, time)
    return Message(province.topic(contract), subject.encode(), value, event_id)


def org_messages(province: Province) -> list[Message]:
    """The province, its communes and schools, as identity announces them."""
    now = datetime.now(UTC).isoformat()
    base = {"revision": 1, "change": "created", "valid_from": "2025-07-01"}
    units = [{"org_id": province.province_id, "kind": "province", "name": "Tỉnh Bench"}]
    units += [
        {
            "org_id": province.commune_id(c),
            "kind": "commune",
            "name": f"Xã {c}",
            "parent_id": province.province_id,
            "commune_type": "xa",
        }
        for c in range(province.communes)
    ]
    units += [
        {
            "org_id": province.school_id(s),
            "kind": "school",
            "name": f"Trường {s}",
            "parent_id": province.commune_id(s % province.communes),
            "school_type": "multi_level",
            "ownership": "public",
        }
        for s in range(province.schools)
    ]
    return [_message(province, OrgChanged, u["org_id"], {**base, **u}, now) for u in units]


@dataclass(frozen=True, slots=True)
class Learner:
    learner_id: str
    school_id: str
    grade: int
    class_id: str
    sex: str
    birth_date: date


def _learner(
    province: Province, rng: random.Random, number: int, school: int, grade: int, section: str
) -> Learner:
    school_id = province.school_id(school)
    if grade == 0:  # preschool: 3 to 5 years old in September
        born = date(2020, 1, 1) + timedelta(days=rng.randint(0, 3 * 365 - 1))
    else:
        born = date(2019 - (grade - 1), 1, 1) + timedelta(days=rng.randint(0, 364))
    return Learner(
        province.learner_id(number),
        school_id,
        grade,
        f"{school_id}-{grade}{section}",
        "male" if rng.random() < 0.51 else "female",
        born,
    )


def _enrolled(province: Province, rng: random.Random, learner: Learner, time: str) -> Message:
    data = {
        "enrolment_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "learner_id": learner.learner_id,
        "school_id": learner.school_id,
        "school_year": SCHOOL_YEAR,
        "grade": learner.grade,
        "class_id": learner.class_id,
        "sex": learner.sex,
        "birth_date": learner.birth_date.isoformat(),
        "enrolled_on": "2025-09-05",
        "revision": 1,
    }
    return _message(province, StudentEnrolled, learner.learner_id, data, time)


def _measured(province: Province, rng: random.Random, learner: Learner, time: str) -> Message:
    on = date(2025, 9, 15) + timedelta(days=rng.randint(0, 40))
    age = (on - learner.birth_date).days / 365.25
    top = 175.0 if learner.sex == "male" else 160.0
    height = min(top, 80 + 6 * age) + rng.gauss(0, 5)
    bmi = 14.5 + 0.45 * max(age - 5, 0) + rng.gauss(0, 1.5)
    data = {
        "measurement_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "learner_id": learner.learner_id,
        "school_id": learner.school_id,
        "class_id": learner.class_id,
        "campaign_id": CAMPAIGN,
        "measured_on": on.isoformat(),
        "sex": learner.sex,
        "birth_date": learner.birth_date.isoformat(),
        "height_cm": round(height, 1),
        "weight_kg": round(bmi * (height / 100) ** 2, 1),
        "eyesight_left": rng.choice(EYESIGHT),
        "eyesight_right": rng.choice(EYESIGHT),
        "eye_conditions": list(rng.choice(CONDITIONS)),
        "grade": learner.grade,
    }
    return _message(province, HealthMeasured, learner.learner_id, data, time)


def _grade(
    province: Province, rng: random.Random, learner: Learner, score: float, time: str
) -> Message:
    data = {
        "entry_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "learner_id": learner.learner_id,
        "school_id": learner.school_id,
        "class_id": learner.class_id,
        "school_year": SCHOOL_YEAR,
        "semester": 1,
        "subject_code": "toan",
        "assessment": "end_term",
        "score": score,
    }
    return _message(province, GradeRecorded, learner.learner_id, data, time)


def _term(
    province: Province, rng: random.Random, members: list[tuple[Learner, float]], time: str
) -> Message:
    first = members[0][0]
    data = {
        "school_id": first.school_id,
        "class_id": first.class_id,
        "school_year": SCHOOL_YEAR,
        "semester": 1,
        "grade": first.grade,
        "results": [
            {
                "learner_id": learner.learner_id,
                "subject_averages": {"toan": score},
                "learning_level": rng.choice(LEVELS),
            }
            for learner, score in members
        ],
    }
    return _message(province, TermFinalized, first.class_id, data, time)


def school_messages(province: Province, school: int, produced: Produced) -> list[Message]:
    """Every event of one school's semester: enrolments, measurements, and for secondary
    classes each learner's end-of-term score and the class's finalised term."""
    rng = random.Random(province.seed * 1_000_003 + school)
    numbers = province.school_learners(school)
    grades = sorted(rng.choices(range(13), weights=GRADE_WEIGHTS, k=len(numbers)))
    time = datetime.now(UTC).isoformat()
    messages: list[Message] = []
    classes: dict[str, list[tuple[Learner, float]]] = {}
    in_grade: Counter[int] = Counter()
    for number, grade in zip(numbers, grades, strict=True):
        section = chr(ord("A") + in_grade[grade] // CLASS_SIZE)
        in_grade[grade] += 1
        learner = _learner(province, rng, number, school, grade, section)
        messages.append(_enrolled(province, rng, learner, time))
        messages.append(_measured(province, rng, learner, time))
        if province.grades and grade >= SECONDARY_FROM_GRADE:
            score = round(rng.uniform(3.0, 10.0), 1)
            messages.append(_grade(province, rng, learner, score, time))
            classes.setdefault(learner.class_id, []).append((learner, score))
            produced.secondary += 1
    messages += [_term(province, rng, members, time) for members in classes.values()]
    produced.learners += len(numbers)
    produced.by_topic.update(m.topic for m in messages)
    return messages


def semester(
    province: Province, produced: Produced, *, chunk_learners: int = 5_000
) -> Iterator[list[Message]]:
    """The organisation tree first, then whole schools, about CHUNK_LEARNERS learners a chunk."""
    orgs = org_messages(province)
    produced.by_topic.update(m.topic for m in orgs)
    yield orgs
    chunk: list[Message] = []
    learners = 0
    for school in range(province.schools):
        chunk += school_messages(province, school, produced)
        learners += len(province.school_learners(school))
        if learners >= chunk_learners:
            yield chunk
            chunk, learners = [], 0
    if chunk:
        yield chunk


def newcomer(province: Province, rng: random.Random, number: int) -> list[Message]:
    """A learner arriving during the steady phase: enrolled, then measured (two events)."""
    school = number % province.schools
    grade = rng.choices(range(13), weights=GRADE_WEIGHTS)[0]
    learner = _learner(province, rng, number, school, grade, "N")
    time = datetime.now(UTC).isoformat()
    return [_enrolled(province, rng, learner, time), _measured(province, rng, learner, time)]
