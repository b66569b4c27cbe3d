"""Import kinds `health` (height, weight, eyesight) and `swim`.

A row's text is parsed here (numbers with a decimal point or comma, dates as 2025-10-01 or
01/10/2025, eyesight as 10/10, 8/10, 20/40 or 0.8, Vietnamese names of eye conditions and sexes);
everything after that is the health handlers' `Batch`, the code an HTTP submission runs too.
The savepoint path hands it one row at a time, the bulk path a chunk: same checks, same
decisions, in row order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from services.records.domain.health import Issue
from services.records.health.handlers import (
    MEASUREMENT_KIND,
    SWIM_KIND,
    Batch,
    CheckContext,
    MeasurementInput,
    RecordKind,
    Result,
    SwimInput,
    parse_acuity,
    parse_eye_conditions,
    parse_swim_ability,
    split_list,
)
from services.records.imports.framework import (
    ChunkWork,
    Event,
    ImportRow,
    Outcome,
    RowError,
    RowKind,
    RowOutcome,
    register_kind,
    row_by_row,
)
from shared.db.pool import Connection

MAX_ID_LENGTH = 64
SEXES = {"male": "male", "female": "female", "nam": "male", "nữ": "female", "nu": "female"}
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


# --- cells --------------------------------------------------------------------------------------


def _text(
    values: Mapping[str, str], name: str, issues: list[Issue], *, required: bool
) -> str | None:
    text = values.get(name, "")
    if not text:
        if required:
            issues.append(Issue(name, None, "required", f"{name} is required"))
        return None
    if len(text) > MAX_ID_LENGTH:
        issues.append(
            Issue(name, text, "max_length", f"{name} is longer than {MAX_ID_LENGTH} characters")
        )
        return None
    return text


def _number(values: Mapping[str, str], name: str, issues: list[Issue]) -> float | None:
    text = values.get(name, "")
    if not text:
        return None
    try:
        return float(text.replace(",", "."))
    except ValueError:
        issues.append(Issue(name, text, "number", f"{name} {text!r} is not a number"))
        return None


def parse_date(text: str) -> date | None:
    """2025-10-01, or 01/10/2025 (day first, as Vietnamese forms write it)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    match = _DAY_MONTH_YEAR.match(text)
    if match:
        try:
            return date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            return None
    return None


def _date(
    values: Mapping[str, str], name: str, issues: list[Issue], *, required: bool
) -> date | None:
    text = values.get(name, "")
    if not text:
        if required:
            issues.append(Issue(name, None, "required", f"{name} is required"))
        return None
    parsed = parse_date(text)
    if parsed is None:
        issues.append(
            Issue(name, text, "date", f"{name} {text!r} is not a date (2025-10-01 or 01/10/2025)")
        )
    return parsed


def _sex(values: Mapping[str, str], issues: list[Issue]) -> str | None:
    text = values.get("sex", "")
    if not text:
        return None
    sex = SEXES.get(text.lower())
    if sex is None:
        issues.append(Issue("sex", text, "allowed_values", f"sex {text!r} is not male or female"))
    return sex


# --- rows ---------------------------------------------------------------------------------------

HEALTH_COLUMNS = (
    "learner_id",
    "school_id",
    "campaign_id",
    "measured_on",
    "height_cm",
    "weight_kg",
    "eyesight_left",
    "eyesight_right",
    "eye_conditions",
)
HEALTH_OPTIONAL = ("sex", "birth_date", "class_id")
SWIM_COLUMNS = ("learner_id", "school_id", "campaign_id", "assessed_on", "ability")
SWIM_OPTIONAL = ("class_id",)


def parse_health(values: Mapping[str, str]) -> MeasurementInput | list[Issue]:
    issues: list[Issue] = []
    learner_id = _text(values, "learner_id", issues, required=True)
    school_id = _text(values, "school_id", issues, required=True)
    campaign_id = _text(values, "campaign_id", issues, required=True)
    class_id = _text(values, "class_id", issues, required=False)
    measured_on = _date(values, "measured_on", issues, required=True)
    height = _number(values, "height_cm", issues)
    weight = _number(values, "weight_kg", issues)
    left, issue = parse_acuity("eyesight_left", values.get("eyesight_left"))
    issues += [issue] if issue else []
    right, issue = parse_acuity("eyesight_right", values.get("eyesight_right"))
    issues += [issue] if issue else []
    conditions: tuple[str, ...] = ()
    text = values.get("eye_conditions", "")
    if text:
        conditions, issue = parse_eye_conditions(split_list(text))
        issues += [issue] if issue else []
    sex = _sex(values, issues)
    birth_date = _date(values, "birth_date", issues, required=False)
    if issues:
        return issues
    assert learner_id and school_id and campaign_id and measured_on
    return MeasurementInput(
        learner_id=learner_id,
        school_id=school_id,
        campaign_id=campaign_id,
        measured_on=measured_on,
        class_id=class_id,
        height_cm=height,
        weight_kg=weight,
        eyesight_left=left,
        eyesight_right=right,
        eye_conditions=conditions,
        sex=sex,
        birth_date=birth_date,
    )


def parse_swim(values: Mapping[str, str]) -> SwimInput | list[Issue]:
    issues: list[Issue] = []
    learner_id = _text(values, "learner_id", issues, required=True)
    school_id = _text(values, "school_id", issues, required=True)
    campaign_id = _text(values, "campaign_id", issues, required=True)
    class_id = _text(values, "class_id", issues, required=False)
    assessed_on = _date(values, "assessed_on", issues, required=True)
    ability: str | None = None
    text = values.get("ability", "")
    if not text:
        issues.append(Issue("ability", None, "required", "ability is required"))
    else:
        ability, issue = parse_swim_ability(text)
        issues += [issue] if issue else []
    if issues:
        return issues
    assert learner_id and school_id and campaign_id and assessed_on and ability
    return SwimInput(learner_id, school_id, campaign_id, assessed_on, ability, class_id)


# --- applying -----------------------------------------------------------------------------------


def _errors(issues: Sequence[Issue]) -> list[RowError]:
    return [RowError(i.field, i.rule, i.message) for i in issues]


def _outcome(result: Result) -> RowOutcome:
    if result.issues:
        return RowOutcome.rejected(_errors(result.issues))
    events = []
    if result.event is not None:
        contract, data = result.event
        events.append(Event(contract, data, data["learner_id"]))
    outcome = Outcome.ACCEPTED if result.outcome == "accepted" else Outcome.UNCHANGED
    return RowOutcome(outcome, str(result.record_id), [], events)


class _Chunk:
    """Rows of a file as one health-handler Batch (framework.ChunkWork)."""

    def __init__(
        self,
        rows: Sequence[ImportRow],
        parse: Callable[[Mapping[str, str]], Any],
        kind: RecordKind,
    ) -> None:
        context = rows[0].context
        # One CheckContext per import: schools and campaigns are looked up once.
        checks = context.state.get("checks")
        if checks is None:
            checks = context.state["checks"] = CheckContext(context.principal, context.today)
        self.parsed = [parse(row.values) for row in rows]
        inputs = [p for p in self.parsed if not isinstance(p, list)]
        self.batch = Batch(kind, checks, inputs, import_id=context.import_id)

    async def load(self, conn: Connection) -> None:
        if self.batch.inputs:
            await self.batch.load(conn)

    def decide(self) -> list[RowOutcome]:
        results = iter(self.batch.decide() if self.batch.inputs else [])
        return [
            RowOutcome.rejected(_errors(p)) if isinstance(p, list) else _outcome(next(results))
            for p in self.parsed
        ]

    async def write(self, conn: Connection) -> None:
        await self.batch.write(conn)


def health_chunk(rows: Sequence[ImportRow]) -> ChunkWork:
    return _Chunk(rows, parse_health, MEASUREMENT_KIND)


def swim_chunk(rows: Sequence[ImportRow]) -> ChunkWork:
    return _Chunk(rows, parse_swim, SWIM_KIND)


HEALTH = register_kind(
    RowKind(
        name="health",
        required_columns=HEALTH_COLUMNS,
        optional_columns=HEALTH_OPTIONAL,
        apply=row_by_row(health_chunk),
        bulk=health_chunk,
        key_columns=("learner_id", "campaign_id"),
        description="Height, weight and eyesight of learners in a health-check campaign; sex "
        "and birth_date only where the learner's record lacks them",
    )
)
SWIM = register_kind(
    RowKind(
        name="swim",
        required_columns=SWIM_COLUMNS,
        optional_columns=SWIM_OPTIONAL,
        apply=row_by_row(swim_chunk),
        bulk=swim_chunk,
        key_columns=("learner_id", "campaign_id"),
        description="Swimming ability of learners (cannot_swim, swims_with_aid, "
        "swims_25m_unaided) in a campaign",
    )
)
