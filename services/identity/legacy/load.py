"""Applying an import plan to the identity database.

The planned persons go in batches, each in its own transaction, so a crash loses at most the
batch in flight. A batch writes, with COPY: the persons, their aliases (``HP:12345`` →
sector ID, source ``legacy:HP``) and one ``identity.person.registered`` outbox row per new
person; then one audit entry and one NOTIFY for the outbox relay. Sector IDs are allocated as
one block per kind with a single upsert of ``sector_id_sequences``, inside the batch's
transaction: a rolled-back batch gives its numbers back, so a crash leaves no gaps.

Re-running is safe because a planned person and all its aliases always commit together: a
person with an alias already in the registry was loaded by an earlier run, and its rows are
reported ``already_imported``. (If a new row joins an already loaded person, for example a row
fixed after being rejected, it is added to that person as an alias and reported ``merged``.)
Review pairs are queued after all persons exist (both ends must exist), with
``ON CONFLICT DO NOTHING`` so a pair is never queued twice.

An advisory lock keeps two imports from running at once against the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from services.identity.domain.matching import PersonRecord
from services.identity.domain.names import normalise_name
from services.identity.domain.sector_id import format_sector_id
from services.identity.domain.sex import Sex
from services.identity.legacy.plan import ImportPlan, PlannedPerson, ReviewPair, score_records
from services.identity.legacy.rows import LegacyRow
from services.identity.person_handlers import KIND_PREFIX
from services.identity.person_handlers import SOURCE as EVENT_SOURCE
from shared.db.pool import Connection
from shared.events.contracts.identity import PersonRegistered
from shared.events.envelope import CloudEvent
from shared.outbox.writer import NOTIFY_CHANNEL

IMPORT_LOCK_ID = 7_420_301  # pg_advisory_lock key: one legacy import at a time
PERSON_COLUMNS = (
    "sector_id",
    "kind",
    "full_name",
    "name_normalised",
    "birth_date",
    "sex",
    "personal_number",
    "birthplace",
    "guardian_name",
    "org_id",
)
OUTBOX_COLUMNS = ("event_id", "topic", "message_key", "event_type", "payload")
REGISTRY_SIDE = "registry"  # review side that is an existing person, not a legacy row


class MapStatus(StrEnum):
    CREATED = "created"  # the row is the survivor of a new person
    MERGED = "merged"  # the row became an alias of another row's person
    ALREADY_IMPORTED = "already_imported"  # its alias existed before this run


@dataclass(frozen=True, slots=True)
class LoadSettings:
    province_code: int
    issue_year: int
    actor: str
    run_id: str
    actor_role: str = "service"
    actor_org: str = ""
    batch_size: int = 5_000
    review_batch_size: int = 10_000


@dataclass(frozen=True, slots=True)
class MapEntry:
    alias: str
    sector_id: str
    status: MapStatus

    @property
    def source(self) -> str:
        return self.alias.split(":", 1)[0]

    @property
    def legacy_id(self) -> str:
        return self.alias.split(":", 1)[1]


@dataclass(frozen=True, slots=True)
class ReviewSide:
    sector_id: str
    source: str
    legacy_id: str
    full_name: str
    birth_date: date
    sex: str
    personal_number: str | None
    birthplace: str | None
    guardian_name: str | None
    org_id: str


@dataclass(frozen=True, slots=True)
class QueuedReview:
    a: ReviewSide  # a.sector_id < b.sector_id, as in duplicate_candidates
    b: ReviewSide
    score: float
    reasons: tuple[str, ...]
    newly_queued: bool


@dataclass(slots=True)
class LoadOutcome:
    id_map: list[MapEntry] = field(default_factory=list)
    reviews: list[QueuedReview] = field(default_factory=list)
    persons_created: int = 0
    events_written: int = 0
    batches: int = 0
    numbers_held_in_registry: int = 0  # created without their number: an active person has it
    sector_of: dict[str, str] = field(default_factory=dict)  # plan key -> sector ID

    def status_counts(self) -> Counter[tuple[str, MapStatus]]:
        return Counter((entry.source, entry.status) for entry in self.id_map)


@dataclass(slots=True)
class _BatchResult:
    entries: list[MapEntry] = field(default_factory=list)
    reviews: list[QueuedReview] = field(default_factory=list)
    sector_of: dict[str, str] = field(default_factory=dict)  # plan key -> sector ID
    persons_created: int = 0
    numbers_held_in_registry: int = 0


class ImportAlreadyRunning(RuntimeError):
    pass


async def load_plan(
    conn: Connection,
    plan: ImportPlan,
    settings: LoadSettings,
    *,
    on_persons: Callable[[int], None] | None = None,
    on_reviews: Callable[[int], None] | None = None,
) -> LoadOutcome:
    """Persons, then review pairs, under the import lock."""
    async with import_lock(conn):
        outcome = await load_persons(conn, plan, settings, on_persons=on_persons)
        await queue_reviews(conn, plan, settings, outcome, on_reviews=on_reviews)
    return outcome


@contextlib.asynccontextmanager
async def import_lock(conn: Connection) -> AsyncIterator[None]:
    """Session-level advisory lock: a second import fails fast instead of racing."""
    if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", IMPORT_LOCK_ID):
        raise ImportAlreadyRunning("another legacy import is running against this database")
    try:
        yield
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", IMPORT_LOCK_ID)


async def load_persons(
    conn: Connection,
    plan: ImportPlan,
    settings: LoadSettings,
    *,
    on_persons: Callable[[int], None] | None = None,
) -> LoadOutcome:
    outcome = LoadOutcome()
    for start in range(0, len(plan.persons), settings.batch_size):
        batch = plan.persons[start : start + settings.batch_size]
        outcome.batches += 1
        async with conn.transaction():
            result = await _load_batch(conn, batch, plan, settings, outcome.batches)
        # Counted only once committed: a failed batch leaves no trace in the outcome.
        outcome.id_map.extend(result.entries)
        outcome.reviews.extend(result.reviews)
        outcome.persons_created += result.persons_created
        outcome.events_written += result.persons_created
        outcome.numbers_held_in_registry += result.numbers_held_in_registry
        outcome.sector_of.update(result.sector_of)
        if on_persons:
            on_persons(len(batch))
    return outcome


async def queue_reviews(
    conn: Connection,
    plan: ImportPlan,
    settings: LoadSettings,
    outcome: LoadOutcome,
    *,
    on_reviews: Callable[[int], None] | None = None,
) -> None:
    """Queue the plan's review pairs once all persons exist; adds them to ``outcome``."""
    for start in range(0, len(plan.review_pairs), settings.review_batch_size):
        chunk = plan.review_pairs[start : start + settings.review_batch_size]
        async with conn.transaction():
            outcome.reviews.extend(await _queue_reviews(conn, chunk, plan, outcome.sector_of))
        if on_reviews:
            on_reviews(len(chunk))


async def _load_batch(
    conn: Connection,
    batch: Sequence[PlannedPerson],
    plan: ImportPlan,
    settings: LoadSettings,
    batch_number: int,
) -> _BatchResult:
    result = _BatchResult()
    existing = await _existing_aliases(conn, [alias for p in batch for alias in p.aliases])
    new_persons: list[PlannedPerson] = []
    alias_rows: list[tuple[str, str, str]] = []
    for person in batch:
        if any(alias in existing for alias in person.aliases):
            alias_rows += _rejoin_loaded_person(person, existing, result)
        else:
            new_persons.append(person)

    holders = await _registry_holders(
        conn, [p.personal_number for p in new_persons if p.personal_number]
    )
    sector_ids = await _allocate_sector_ids(conn, new_persons, settings)
    person_rows: list[tuple[Any, ...]] = []
    stored_numbers: list[str | None] = []
    for person, sector_id in zip(new_persons, sector_ids, strict=True):
        number = person.personal_number
        if number is not None and number in holders:
            # Someone registered this number before the import: create the row without it
            # and let a person decide whether they are one.
            result.reviews.append(_registry_conflict(person, sector_id, holders[number], plan))
            result.numbers_held_in_registry += 1
            number = None
        stored_numbers.append(number)
        person_rows.append(_person_row(person, sector_id, number))
        result.sector_of[person.key] = sector_id
        for alias in person.aliases:
            alias_rows.append((alias, sector_id, alias_source(alias)))
            status = MapStatus.CREATED if alias == person.key else MapStatus.MERGED
            result.entries.append(MapEntry(alias, sector_id, status))
    result.persons_created = len(new_persons)

    # Building the envelopes is the costliest Python step of a batch; a worker thread does it
    # while PostgreSQL ingests the persons and aliases (the event loop mostly waits meanwhile).
    events = asyncio.create_task(
        asyncio.to_thread(_registered_event_rows, new_persons, sector_ids, stored_numbers)
    )
    try:
        if person_rows:
            await conn.copy_records_to_table("persons", records=person_rows, columns=PERSON_COLUMNS)
        if alias_rows:
            await conn.copy_records_to_table(
                "person_aliases", records=alias_rows, columns=("alias", "sector_id", "source")
            )
    finally:
        outbox_rows = await events  # never leave the thread running past a failed batch
    if outbox_rows:
        await conn.copy_records_to_table("outbox", records=outbox_rows, columns=OUTBOX_COLUMNS)
    if result.reviews:
        inserted = await _insert_candidates(conn, result.reviews)
        result.reviews = [_with_queued(review, inserted) for review in result.reviews]
    await _audit_batch(conn, settings, batch_number, result, sector_ids, len(alias_rows))
    if outbox_rows:
        await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    return result


def alias_source(alias: str) -> str:
    return f"legacy:{alias.split(':', 1)[0]}"


async def _existing_aliases(conn: Connection, aliases: list[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT alias, sector_id FROM person_aliases WHERE alias = ANY($1::text[])", aliases
    )
    return {row["alias"]: row["sector_id"] for row in rows}


def _rejoin_loaded_person(
    person: PlannedPerson, existing: dict[str, str], result: _BatchResult
) -> list[tuple[str, str, str]]:
    """Rows of a person loaded by an earlier run: report them, and attach rows it lacks."""
    target = existing.get(person.key) or next(existing[a] for a in person.aliases if a in existing)
    result.sector_of[person.key] = target
    added = []
    for alias in person.aliases:
        if alias in existing:
            result.entries.append(MapEntry(alias, existing[alias], MapStatus.ALREADY_IMPORTED))
        else:
            added.append((alias, target, alias_source(alias)))
            result.entries.append(MapEntry(alias, target, MapStatus.MERGED))
    return added


async def _registry_holders(conn: Connection, numbers: list[str]) -> dict[str, dict[str, Any]]:
    if not numbers:
        return {}
    rows = await conn.fetch(
        "SELECT sector_id, full_name, birth_date, sex, personal_number, birthplace, "
        "guardian_name, org_id FROM persons "
        "WHERE personal_number = ANY($1::text[]) AND merged_into IS NULL",
        numbers,
    )
    return {row["personal_number"]: dict(row) for row in rows}


async def _allocate_sector_ids(
    conn: Connection, persons: Sequence[PlannedPerson], settings: LoadSettings
) -> list[str]:
    """One block of sequence numbers per kind, in one statement; IDs in the persons' order."""
    if not persons:
        return []
    prefixes = [KIND_PREFIX[person.kind] for person in persons]
    needed = Counter(prefix.value for prefix in prefixes)
    kinds = sorted(needed)  # a fixed lock order, as concurrent registrations also lock rows
    rows = await conn.fetch(
        """INSERT INTO sector_id_sequences (kind, province_code, year, last_sequence)
           SELECT kind, $2, $3, n FROM unnest($1::text[], $4::int[]) AS t(kind, n) ORDER BY kind
           ON CONFLICT (kind, province_code, year) DO UPDATE
           SET last_sequence = sector_id_sequences.last_sequence + EXCLUDED.last_sequence
           RETURNING kind, last_sequence""",
        kinds,
        settings.province_code,
        settings.issue_year,
        [needed[kind] for kind in kinds],
    )
    next_sequence = {row["kind"]: row["last_sequence"] - needed[row["kind"]] + 1 for row in rows}
    sector_ids = []
    for prefix in prefixes:
        sequence = next_sequence[prefix.value]
        next_sequence[prefix.value] = sequence + 1
        sector_ids.append(
            format_sector_id(prefix, settings.province_code, settings.issue_year, sequence)
        )
    return sector_ids


def _person_row(person: PlannedPerson, sector_id: str, number: str | None) -> tuple[Any, ...]:
    return (
        sector_id,
        person.kind,
        person.full_name,
        normalise_name(person.full_name),
        person.birth_date,
        person.sex.value,
        number,
        person.birthplace,
        person.guardian_name,
        person.org_id,
    )


def _registered_event_rows(
    persons: Sequence[PlannedPerson], sector_ids: Sequence[str], numbers: Sequence[str | None]
) -> list[tuple[Any, ...]]:
    """The outbox rows that shared.outbox.writer.add_events would write for these persons."""
    rows = []
    for person, sector_id, number in zip(persons, sector_ids, numbers, strict=True):
        envelope = CloudEvent.wrap(
            PersonRegistered(
                sector_id=sector_id,
                revision=1,
                kind=person.kind,
                org_id=person.org_id,
                birth_date=person.birth_date,
                sex=person.sex.value,
                has_personal_number=number is not None,
                verification_status="unverified",
            ),
            source=EVENT_SOURCE,
        )
        rows.append(
            (envelope.id, envelope.topic, envelope.subject, envelope.type, envelope.to_bytes())
        )
    return rows


def _side_from_row(row: LegacyRow, sector_id: str) -> ReviewSide:
    return ReviewSide(
        sector_id=sector_id,
        source=row.source,
        legacy_id=row.legacy_id,
        full_name=row.full_name,
        birth_date=row.birth_date,
        sex=row.sex.value,
        personal_number=row.personal_number,
        birthplace=row.birthplace,
        guardian_name=row.guardian_name,
        org_id=row.org_id,
    )


def _registry_conflict(
    person: PlannedPerson, sector_id: str, holder: dict[str, Any], plan: ImportPlan
) -> QueuedReview:
    holder_side = ReviewSide(source=REGISTRY_SIDE, legacy_id="", **holder)
    row = plan.rows_by_alias[person.key]
    score, reasons = score_records(
        _record_of_side(holder_side), _record_of_side(_side_from_row(row, sector_id))
    )
    note = f"personal number {holder['personal_number']} already held by {holder['sector_id']}"
    return _ordered_review(
        holder_side, _side_from_row(row, sector_id), score, (*reasons, note), newly_queued=False
    )


def _record_of_side(side: ReviewSide) -> PersonRecord:
    return PersonRecord(
        record_id=side.sector_id,
        full_name=side.full_name,
        birth_date=side.birth_date,
        sex=Sex(side.sex),
        personal_number=side.personal_number,
        birthplace=side.birthplace,
        guardian_name=side.guardian_name,
    )


def _ordered_review(
    a: ReviewSide, b: ReviewSide, score: float, reasons: tuple[str, ...], *, newly_queued: bool
) -> QueuedReview:
    if b.sector_id < a.sector_id:
        a, b = b, a
    return QueuedReview(a, b, score, reasons, newly_queued)


async def _queue_reviews(
    conn: Connection, pairs: Sequence[ReviewPair], plan: ImportPlan, sector_of: dict[str, str]
) -> list[QueuedReview]:
    reviews: dict[tuple[str, str], QueuedReview] = {}
    for pair in pairs:
        sector_a, sector_b = sector_of[pair.person_a], sector_of[pair.person_b]
        if sector_a == sector_b:
            continue  # an earlier run already put both rows into one person
        review = _ordered_review(
            _side_from_row(plan.rows_by_alias[pair.record_a], sector_a),
            _side_from_row(plan.rows_by_alias[pair.record_b], sector_b),
            pair.score,
            pair.reasons,
            newly_queued=False,
        )
        reviews.setdefault((review.a.sector_id, review.b.sector_id), review)
    inserted = await _insert_candidates(conn, list(reviews.values()))
    return [_with_queued(review, inserted) for review in reviews.values()]


async def _insert_candidates(
    conn: Connection, reviews: Sequence[QueuedReview]
) -> set[tuple[str, str]]:
    """Insert review candidates not already known; the pairs inserted now."""
    if not reviews:
        return set()
    await conn.execute(
        "CREATE TEMP TABLE legacy_review_stage (person_a text, person_b text, score real, "
        "reasons text) ON COMMIT DROP"
    )
    await conn.copy_records_to_table(
        "legacy_review_stage",
        records=[
            (r.a.sector_id, r.b.sector_id, r.score, json.dumps(list(r.reasons))) for r in reviews
        ],
    )
    rows = await conn.fetch(
        """INSERT INTO duplicate_candidates (person_a, person_b, score, decision, reasons)
           SELECT person_a, person_b, score, 'review', reasons::jsonb FROM legacy_review_stage
           ON CONFLICT (person_a, person_b) DO NOTHING
           RETURNING person_a, person_b"""
    )
    return {(row["person_a"], row["person_b"]) for row in rows}


def _with_queued(review: QueuedReview, inserted: set[tuple[str, str]]) -> QueuedReview:
    queued = (review.a.sector_id, review.b.sector_id) in inserted
    return QueuedReview(review.a, review.b, review.score, review.reasons, queued)


async def _audit_batch(
    conn: Connection,
    settings: LoadSettings,
    batch_number: int,
    result: _BatchResult,
    sector_ids: list[str],
    aliases_added: int,
) -> None:
    """One summary entry per batch: a million per-person entries would bury the log."""
    statuses = Counter(entry.status.value for entry in result.entries)
    detail = {
        "batch": batch_number,
        "persons_created": result.persons_created,
        "aliases_added": aliases_added,
        "rows": dict(statuses),
        "first_sector_id": sector_ids[0] if sector_ids else None,
        "last_sector_id": sector_ids[-1] if sector_ids else None,
        "review_candidates_queued": sum(r.newly_queued for r in result.reviews),
    }
    await conn.execute(
        "INSERT INTO audit_log (actor, actor_role, actor_org, action, entity_kind, entity_id, "
        "detail) VALUES ($1, $2, $3, 'import', 'legacy_import', $4, $5::text::jsonb)",
        settings.actor,
        settings.actor_role,
        settings.actor_org,
        settings.run_id,
        json.dumps(detail),
    )
