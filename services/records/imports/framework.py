"""Bulk import of records from CSV or .xlsx, with an outcome for every row.

Every row is applied all-or-nothing on its own, never the file as a whole: a row is
`accepted` (stored, and its events written to the outbox), `unchanged` (what it says is already
stored: nothing written, nothing published) or `rejected` (nothing stored; the errors name the
field, the rule and the value). Each row also gets one `records.record.acknowledged` event
(keyed by the import, so a vendor reads its acknowledgements in row order) and a line in the
result file (`GET /imports/{import_id}/result.csv`).

Two paths, the same outcome:

- savepoint: each row in its own savepoint, through the kind's `apply`; events through
  `shared.outbox.writer.add_events` (each validated against its contract). For small files.
- bulk: chunks of rows through the kind's `bulk` work: one read (and row lock) of what the
  chunk needs, the checks and decisions in Python, then set-wise writes (COPY); outbox and
  result rows are written with COPY too, events encoded without building pydantic models. The
  Python of chunk k runs in a worker thread while PostgreSQL writes chunk k-1 (the GIL lets
  them overlap only in part: about 15% off the wall time here), and the event loop stays free
  for other requests. A chunk's writes run in a savepoint: if the database refuses them, the
  chunk is rolled back and replayed row by row on the savepoint path, so one bad row still
  costs only itself. This relies on a file's rows touching different records (rows that repeat
  a record are rejected up front, see `RowKind.key_columns`), so chunks do not depend on each
  other.

The caller owns the transaction (the HTTP route runs the import in the transaction that also
stores the Idempotency-Key's answer): the import, its rows' effects, events and results
commit together or not at all.

Adding a row kind (classes, enrolments, scores): write a module with the kind's `apply`, or
a `ChunkWork` and `apply=row_by_row(work)` to get both paths from one implementation, call
`register_kind(RowKind(...))` in it, and import the module in
`services/records/imports/__init__.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import functools
import gc
import io
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Literal, NamedTuple, Protocol

import asyncpg
from asyncpg.pgproto.pgproto import UUID as PgUUID
from pydantic import ValidationError
from pydantic_core import to_json

from services.records.handlers import SOURCE, WRITERS
from shared.auth import AuthorisationError, Principal, ensure_in_scope, require_role
from shared.db.pool import Connection
from shared.events.contracts.records import RecordAcknowledged
from shared.events.envelope import EventData
from shared.http.problems import Problem, field_error
from shared.orgs.mirror import ancestors
from shared.outbox.writer import MAX_EVENT_BYTES, NOTIFY_CHANNEL, add_events
from shared.tabular import TableError, TableRow, read_table

log = logging.getLogger(__name__)

RecordKind = Literal["class", "enrolment", "score", "health", "swim"]
ImportPath = Literal["auto", "savepoint", "bulk"]
# A file this long goes the bulk path (when its kind has one).
BULK_MIN_ROWS = 200
DEFAULT_CHUNK_ROWS = 5_000
# An optional column giving each row's number (a client that splits a big file keeps the
# original line numbers in it); otherwise a row's number is its line in the file.
SOURCE_ROW_COLUMN = "source_row"
OUTBOX_COLUMNS = ("event_id", "topic", "message_key", "event_type", "payload")


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class RowError:
    field: str  # the column
    rule: str
    message: str

    def text(self) -> str:
        return f"{self.field} [{self.rule}]: {self.message}"

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


class Event(NamedTuple):
    """An event a row publishes: its contract, its data (valid, in the contract's field
    order) and its subject (the Kafka key)."""

    contract: type[EventData]
    data: dict[str, Any]
    subject: str


@dataclass(slots=True)
class RowOutcome:
    outcome: Outcome
    record_id: str | None = None
    errors: list[RowError] = field(default_factory=list)
    # Events the row publishes besides its acknowledgement; the framework writes them.
    events: list[Event] = field(default_factory=list)

    @classmethod
    def rejected(cls, errors: list[RowError]) -> RowOutcome:
        return cls(Outcome.REJECTED, None, errors)


@dataclass
class ImportContext:
    """One import: who, when, and a place for a kind's per-import caches (schools, campaigns
    looked up once, not once per row)."""

    import_id: uuid.UUID
    kind: str
    principal: Principal
    today: date
    state: dict[str, Any] = field(default_factory=dict)
    subject: str = field(init=False)  # the Kafka key of its acknowledgements

    def __post_init__(self) -> None:
        self.subject = str(self.import_id)


@dataclass(frozen=True, slots=True)
class ImportRow:
    number: int  # the row's line in the file (header = 1), or its source_row
    values: Mapping[str, str]  # trimmed cell text by lower-cased column name
    context: ImportContext


ApplyRow = Callable[[Connection, Principal, ImportRow], Awaitable[RowOutcome]]


class ChunkWork(Protocol):
    """Rows of one chunk on the bulk path, in three steps: `load` reads what the rows need
    (taking any row locks), `decide` checks and decides in Python only (no IO: it runs in a
    worker thread), `write` stores the decided rows set-wise. The events go back in the
    outcomes; the framework writes them."""

    async def load(self, conn: Connection) -> None: ...

    def decide(self) -> list[RowOutcome]: ...

    async def write(self, conn: Connection) -> None: ...


# Builds a chunk's work from its rows (parses them; Python only, runs in a worker thread).
BulkWork = Callable[[Sequence[ImportRow]], ChunkWork]


def row_by_row(work: BulkWork) -> ApplyRow:
    """The savepoint path's `apply` from a kind's bulk work: a chunk of one row."""

    async def apply(conn: Connection, principal: Principal, row: ImportRow) -> RowOutcome:
        chunk = work([row])
        await chunk.load(conn)
        (outcome,) = chunk.decide()
        if outcome.outcome is not Outcome.REJECTED:
            await chunk.write(conn)
        return outcome

    return apply


@dataclass(frozen=True)
class RowKind:
    """A kind of record a file can carry.

    `apply` checks and stores one row (the framework runs it in a savepoint and rolls it back
    unless the outcome is accepted or unchanged); it returns the row's events instead of
    writing them. `bulk`, when given, does the same for a chunk of rows and must give exactly
    the outcomes `apply` would give row after row.
    """

    name: RecordKind
    required_columns: tuple[str, ...]
    apply: ApplyRow
    optional_columns: tuple[str, ...] = ()
    bulk: BulkWork | None = None
    # Columns that identify the record a row writes. A file says one thing per record: when
    # several rows have the same key, the last one counts and the earlier ones are rejected
    # (rule repeated_in_file), so that running the same file again changes nothing.
    key_columns: tuple[str, ...] = ()
    roles: tuple[str, ...] = tuple(WRITERS)
    description: str = ""


ROW_KINDS: dict[str, RowKind] = {}


def register_kind(kind: RowKind) -> RowKind:
    ROW_KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> RowKind:
    kind = ROW_KINDS.get(name)
    if kind is None:
        raise Problem(
            404, "Not Found", f"no import kind {name!r}; known: {', '.join(sorted(ROW_KINDS))}"
        )
    return kind


# --- events without pydantic in the loop ------------------------------------------------------


def encode_event(
    contract: type[EventData],
    data: dict[str, Any],
    *,
    subject: str,
    event_id: uuid.UUID,
    time: datetime,
) -> tuple[uuid.UUID, str, str, str, bytes]:
    """The outbox row `add_events` writes for `contract(**data)`, byte for byte, for data that
    is already valid and in the contract's field order (tests compare the two). A million rows
    make two million events: building pydantic models for them would cost half a minute, so
    only `data` and the subject are serialised per event; the rest of the envelope is the same
    for every event of a chunk."""
    head, (before_subject, before_data), topic = _envelope_parts(contract, time)
    payload = b"".join(
        (head, str(event_id).encode(), before_subject, to_json(subject), before_data,
         to_json(data), b"}")
    )  # fmt: skip
    if len(payload) > MAX_EVENT_BYTES:
        raise ValueError(f"event {contract.EVENT_TYPE} for {subject} is {len(payload)} bytes")
    return event_id, topic, subject, contract.EVENT_TYPE, payload


@functools.lru_cache(maxsize=64)
def _envelope_parts(
    contract: type[EventData], time: datetime
) -> tuple[bytes, tuple[bytes, bytes], str]:
    """CloudEvent.to_bytes() around the id, the subject and the data, in its field order."""
    head = b'{"specversion":"1.0","id":"'
    before_subject = (
        b'","source":'
        + to_json(SOURCE)
        + b',"type":'
        + to_json(contract.EVENT_TYPE)
        + b',"time":'
        + to_json(time)
        + b',"subject":'
    )
    before_data = (
        b',"datacontenttype":"application/json","dataschema":'
        + to_json(contract.dataschema())
        + b',"data":'
    )
    return head, (before_subject, before_data), contract.topic()


def event_ids(count: int) -> list[uuid.UUID]:
    """Time-ordered UUIDs (version 7 layout) for events: the outbox's unique index on event_id
    then grows at its right edge instead of touching (and, after each checkpoint, logging a
    full image of) a random page per event. asyncpg's UUID type: a uuid.UUID ten times cheaper
    to make and to print than the standard library's."""
    prefix = (time.time_ns() // 1_000_000).to_bytes(6, "big")
    noise = bytearray(os.urandom(10 * count))
    noise[0::10] = bytes((b & 0x0F) | 0x70 for b in noise[0::10])  # version 7
    noise[2::10] = bytes((b & 0x3F) | 0x80 for b in noise[2::10])  # RFC 4122 variant
    return [PgUUID(prefix + noise[10 * i : 10 * i + 10]) for i in range(count)]


def ack_data(ctx: ImportContext, number: int, outcome: RowOutcome) -> dict[str, Any]:
    """The data of records.record.acknowledged, in the contract's field order."""
    return {
        "import_id": ctx.import_id,
        "submitted_by": ctx.principal.subject[:100],
        "row_number": number,
        "record_kind": ctx.kind,
        "outcome": outcome.outcome.value,
        "record_id": outcome.record_id,
        "errors": [e.text() for e in outcome.errors],
    }


# --- running an import ------------------------------------------------------------------------


@dataclass
class ImportSummary:
    import_id: uuid.UUID
    kind: str
    file_name: str
    sha256: str
    path: Literal["savepoint", "bulk"]
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    unchanged: int = 0
    # The first rejections, so a small file's caller need not fetch the result file.
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def count(self, number: int, outcome: RowOutcome) -> None:
        self.rows += 1
        if outcome.outcome is Outcome.ACCEPTED:
            self.accepted += 1
        elif outcome.outcome is Outcome.UNCHANGED:
            self.unchanged += 1
        else:
            self.rejected += 1
            if len(self.rejections) < 100:
                self.rejections.append(
                    {"row": number, "errors": [e.as_json() for e in outcome.errors]}
                )

    def as_json(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "import_id": str(self.import_id),
            "result": f"/imports/{self.import_id}/result.csv",
        }


_gc_pauses = 0
_gc_lock = threading.Lock()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a big file is read or imported.

    A million parsed rows are a few million live containers: every full collection walks them
    all, and the generational heuristics run one again and again as the import allocates.
    That doubled the Python time of a bulk import. Reference counting still frees nearly
    everything (imports make no cycles); collection resumes when the last pause ends."""
    global _gc_pauses
    with _gc_lock:
        _gc_pauses += 1
        if _gc_pauses == 1:
            gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0:
                gc.enable()


def parse_file(content: bytes, file_name: str) -> tuple[list[str], list[TableRow]]:
    try:
        with gc_paused():
            return read_table(content, file_name)
    except TableError as exc:
        raise Problem(
            422, "Unreadable file", str(exc), errors=[field_error("body", str(exc), "table")]
        ) from None


def _row_numbers(header: list[str], rows: Sequence[TableRow]) -> list[int]:
    if SOURCE_ROW_COLUMN not in header:
        return [row.line for row in rows]
    numbers = []
    for row in rows:
        text = row.values.get(SOURCE_ROW_COLUMN, "")
        if not text.isdigit() or int(text) < 1:
            message = f"line {row.line}: {SOURCE_ROW_COLUMN} {text!r} is not a positive integer"
            raise Problem(422, "Invalid file", message)
        numbers.append(int(text))
    if len(set(numbers)) != len(numbers):
        raise Problem(422, "Invalid file", f"{SOURCE_ROW_COLUMN} repeats a row number")
    return numbers


async def run_import(
    conn: Connection,
    principal: Principal,
    kind_name: str,
    *,
    header: list[str],
    rows: Sequence[TableRow],
    file_name: str,
    sha256: str,
    today: date,
    path: ImportPath = "auto",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import parsed rows inside the caller's transaction; return the counts."""
    if not conn.is_in_transaction():
        raise RuntimeError("run an import inside a transaction")
    kind = get_kind(kind_name)
    require_role(principal, kind.roles)
    missing = [c for c in kind.required_columns if c not in header]
    if missing:
        message = f"missing column(s): {', '.join(missing)}; found: {', '.join(header)}"
        raise Problem(
            422,
            "Invalid file",
            message,
            errors=[field_error(f"body.{c}", "required column", "missing") for c in missing],
        )
    numbers = _row_numbers(header, rows)
    bulk = kind.bulk is not None and (
        path == "bulk" or (path == "auto" and len(rows) >= BULK_MIN_ROWS)
    )
    ctx = ImportContext(uuid.uuid4(), kind.name, principal, today)
    summary = ImportSummary(
        ctx.import_id, kind.name, file_name, sha256, "bulk" if bulk else "savepoint"
    )
    await conn.execute(
        "INSERT INTO imports (import_id, kind, submitted_by, submitted_role, submitted_org, "
        "file_name, sha256, path) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        ctx.import_id,
        kind.name,
        principal.subject,
        principal.role,
        principal.org_id,
        file_name[:300],
        sha256,
        summary.path,
    )
    import_rows = [
        ImportRow(number, row.values, ctx) for number, row in zip(numbers, rows, strict=True)
    ]
    repeated = _repeated_rows(kind, import_rows)

    def counted(chunk: Sequence[ImportRow], outcomes: Sequence[RowOutcome]) -> None:
        for row, outcome in zip(chunk, outcomes, strict=True):
            summary.count(row.number, outcome)
        if on_progress:
            on_progress(len(chunk))

    if bulk:
        with gc_paused():
            await _bulk(conn, principal, kind, import_rows, repeated, chunk_rows, counted)
    else:
        for start in range(0, len(import_rows), 500):
            chunk = import_rows[start : start + 500]
            counted(chunk, await _row_by_row(conn, principal, kind, chunk, repeated))
    await conn.execute(
        "UPDATE imports SET rows_total = $2, accepted = $3, rejected = $4, unchanged = $5, "
        "finished_at = clock_timestamp() WHERE import_id = $1",
        ctx.import_id,
        summary.rows,
        summary.accepted,
        summary.rejected,
        summary.unchanged,
    )
    return summary


def _repeated_rows(kind: RowKind, rows: Sequence[ImportRow]) -> dict[int, RowOutcome]:
    """Rows whose record a later row of the file gives again: rejected, naming that row."""
    if not kind.key_columns:
        return {}
    columns = kind.key_columns
    keys = [tuple([row.values.get(c, "") for c in columns]) for row in rows]
    last = {key: row.number for key, row in zip(keys, rows, strict=True) if all(key)}
    if len(last) == len(rows):
        return {}
    repeated = {}
    for key, row in zip(keys, rows, strict=True):
        later = last.get(key)
        if later is not None and later != row.number:
            named = ", ".join(f"{c} {v}" for c, v in zip(columns, key, strict=True))
            message = f"row {later} gives the same record ({named}): only the last row counts"
            error = RowError(columns[0], "repeated_in_file", message)
            repeated[row.number] = RowOutcome.rejected([error])
    return repeated


# --- the savepoint path -----------------------------------------------------------------------


class _RollBack(Exception):
    def __init__(self, outcome: RowOutcome) -> None:
        self.outcome = outcome


def _problem_errors(problem: Problem) -> list[RowError]:
    if problem.errors:
        return [
            RowError(
                str(e.get("field", "row")).removeprefix("body."),
                str(e.get("type", "invalid")),
                str(e.get("message", problem.detail)),
            )
            for e in problem.errors
        ]
    return [RowError("row", "invalid", problem.detail or problem.title)]


async def apply_row(
    conn: Connection, principal: Principal, kind: RowKind, row: ImportRow
) -> RowOutcome:
    """One row in its own savepoint: its effects and events stay only if it is not rejected."""
    try:
        async with conn.transaction():
            outcome = await kind.apply(conn, principal, row)
            if outcome.outcome is Outcome.REJECTED:
                raise _RollBack(outcome)
            if outcome.events:
                await add_events(
                    conn, [e.contract.model_validate(e.data) for e in outcome.events], source=SOURCE
                )
    except _RollBack as rollback:
        outcome = rollback.outcome
    except AuthorisationError as exc:
        outcome = RowOutcome.rejected([RowError("row", "scope", str(exc))])
    except Problem as exc:
        outcome = RowOutcome.rejected(_problem_errors(exc))
    except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
        outcome = RowOutcome.rejected([RowError("row", "database", str(exc))])
    except ValidationError as exc:  # an event its contract refuses: a bug, but only this row's
        outcome = RowOutcome.rejected([RowError("row", "event_contract", str(exc))])
    return outcome


async def _row_by_row(
    conn: Connection,
    principal: Principal,
    kind: RowKind,
    rows: Sequence[ImportRow],
    repeated: Mapping[int, RowOutcome],
) -> list[RowOutcome]:
    outcomes = []
    for row in rows:
        outcome = repeated.get(row.number) or await apply_row(conn, principal, kind, row)
        await add_events(
            conn,
            [RecordAcknowledged.model_validate(ack_data(row.context, row.number, outcome))],
            source=SOURCE,
        )
        outcomes.append(outcome)
    await _write_results(conn, rows, outcomes)
    return outcomes


# --- the bulk path ----------------------------------------------------------------------------


@dataclass
class _Decided:
    """A chunk after `decide`: its outcomes and the rows to COPY besides the kind's own."""

    rows: Sequence[ImportRow]
    work: ChunkWork | None
    outcomes: list[RowOutcome]
    outbox: list[tuple[Any, ...]]
    results: list[tuple[Any, ...]]
    rejected: list[tuple[int, str]]


async def _bulk(
    conn: Connection,
    principal: Principal,
    kind: RowKind,
    rows: Sequence[ImportRow],
    repeated: Mapping[int, RowOutcome],
    chunk_rows: int,
    counted: Callable[[Sequence[ImportRow], Sequence[RowOutcome]], None],
) -> None:
    """Chunk k's Python (decide, encode; then parse chunk k+1) in a worker thread while the
    event loop writes chunk k-1."""
    assert kind.bulk is not None
    build = kind.bulk
    chunks = [rows[i : i + chunk_rows] for i in range(0, len(rows), max(chunk_rows, 1))]

    def prepare(chunk: Sequence[ImportRow]) -> ChunkWork | None:
        todo = [r for r in chunk if r.number not in repeated]
        return build(todo) if todo else None

    def decide(
        chunk: Sequence[ImportRow], work: ChunkWork | None, after: Sequence[ImportRow] | None
    ) -> tuple[_Decided, ChunkWork | None]:
        applied = iter(work.decide() if work is not None else [])
        outcomes = [repeated.get(r.number) or next(applied) for r in chunk]
        results, rejected = _result_rows(chunk, outcomes)
        decided = _Decided(chunk, work, outcomes, _outbox_rows(chunk, outcomes), results, rejected)
        return decided, prepare(after) if after is not None else None

    pending: _Decided | None = None
    work = await asyncio.to_thread(prepare, chunks[0]) if chunks else None
    for k, chunk in enumerate(chunks):
        if work is not None:
            await work.load(conn)
        after = chunks[k + 1] if k + 1 < len(chunks) else None
        thinking = asyncio.ensure_future(asyncio.to_thread(decide, chunk, work, after))
        try:
            if pending is not None:
                counted(pending.rows, await _flush(conn, principal, kind, pending, repeated))
        finally:
            decided, work = await thinking  # never leave the thread behind a failed write
        pending = decided
    if pending is not None:
        counted(pending.rows, await _flush(conn, principal, kind, pending, repeated))


async def _flush(
    conn: Connection,
    principal: Principal,
    kind: RowKind,
    decided: _Decided,
    repeated: Mapping[int, RowOutcome],
) -> list[RowOutcome]:
    """Write a decided chunk in a savepoint; if the database refuses it, row by row."""
    try:
        async with conn.transaction():
            if decided.work is not None:
                await decided.work.write(conn)
            await conn.copy_records_to_table(
                "outbox", records=decided.outbox, columns=OUTBOX_COLUMNS
            )
            await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")
            await _copy_results(conn, decided.rows[0].context.import_id, decided)
        return decided.outcomes
    except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
        log.warning(
            "bulk chunk of rows %d-%d refused (%s); replaying it row by row",
            decided.rows[0].number,
            decided.rows[-1].number,
            exc,
        )
    return await _row_by_row(conn, principal, kind, decided.rows, repeated)


def _outbox_rows(
    rows: Sequence[ImportRow], outcomes: Sequence[RowOutcome]
) -> list[tuple[Any, ...]]:
    """Each row's events, then its acknowledgement, in row order: what the savepoint path
    writes, ready for one COPY."""
    count = sum(len(o.events) + 1 for o in outcomes)
    ids = iter(event_ids(count))
    now = datetime.now(UTC)
    records = []
    for row, outcome in zip(rows, outcomes, strict=True):
        for event in outcome.events:
            records.append(
                encode_event(
                    event.contract, event.data, subject=event.subject, event_id=next(ids), time=now
                )
            )
        ctx = row.context
        records.append(
            encode_event(
                RecordAcknowledged,
                ack_data(ctx, row.number, outcome),
                subject=ctx.subject,
                event_id=next(ids),
                time=now,
            )
        )
    return records


def _result_rows(
    rows: Sequence[ImportRow], outcomes: Sequence[RowOutcome]
) -> tuple[list[tuple[Any, ...]], list[tuple[int, str]]]:
    """import_rows for COPY, and the rejected rows' numbers and errors (JSON text)."""
    import_id = rows[0].context.import_id if rows else None
    plain, rejected = [], []
    for row, o in zip(rows, outcomes, strict=True):
        if o.outcome is Outcome.REJECTED:
            errors = json.dumps([e.as_json() for e in o.errors], ensure_ascii=False)
            rejected.append((row.number, errors))
        else:
            plain.append((import_id, row.number, o.outcome.value, o.record_id))
    return plain, rejected


async def _write_results(
    conn: Connection, rows: Sequence[ImportRow], outcomes: Sequence[RowOutcome]
) -> None:
    if rows:
        plain, rejected = _result_rows(rows, outcomes)
        await _copy_results(
            conn, rows[0].context.import_id, _Decided(rows, None, [], [], plain, rejected)
        )


async def _copy_results(conn: Connection, import_id: uuid.UUID, decided: _Decided) -> None:
    if decided.results:
        await conn.copy_records_to_table(
            "import_rows",
            records=decided.results,
            columns=("import_id", "row_number", "outcome", "record_id"),
        )
    if decided.rejected:
        # Errors go as text and become jsonb in SQL, whatever JSON codec the connection has.
        await conn.execute(
            "INSERT INTO import_rows (import_id, row_number, outcome, errors) "
            "SELECT $1, n, 'rejected', e::jsonb FROM unnest($2::int[], $3::text[]) AS r(n, e)",
            import_id,
            [r[0] for r in decided.rejected],
            [r[1] for r in decided.rejected],
        )


# --- reading an import back -------------------------------------------------------------------

IMPORT_COLUMNS = (
    "import_id, kind, submitted_by, submitted_role, submitted_org, file_name, sha256, path, "
    "rows_total, accepted, rejected, unchanged, created_at, finished_at"
)
RESULT_HEADER = ("row", "outcome", "record_id", "errors")


async def get_import(
    conn: Connection, principal: Principal, import_id: uuid.UUID
) -> dict[str, Any]:
    """An import's summary, for its submitter's organisation and the units above it (and the
    Department's auditors); anyone else gets a 404."""
    row = await conn.fetchrow(
        f"SELECT {IMPORT_COLUMNS} FROM imports WHERE import_id = $1", import_id
    )
    if row is None:
        raise Problem(404, "Not Found", f"no import {import_id}")
    org = row["submitted_org"]
    if principal.role != "auditor":
        try:
            ensure_in_scope(principal, org, await ancestors(conn, org) or [])
        except AuthorisationError:
            raise Problem(404, "Not Found", f"no import {import_id}") from None
    return {
        **dict(row),
        "import_id": str(row["import_id"]),
        "created_at": row["created_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
    }


def error_texts(errors_json: str | None) -> str:
    if not errors_json:
        return ""
    return " | ".join(RowError(**e).text() for e in json.loads(errors_json))


async def result_csv(
    conn: Connection, import_id: uuid.UUID, *, batch: int = 10_000
) -> AsyncIterator[str]:
    """The result file in pieces: row, outcome, record_id, errors ("field [rule]: message",
    separated by " | "). Needs a transaction (a server-side cursor)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(RESULT_HEADER)
    cursor = conn.cursor(
        "SELECT row_number, outcome, record_id, errors::text AS errors FROM import_rows "
        "WHERE import_id = $1 ORDER BY row_number",
        import_id,
        prefetch=batch,
    )
    count = 0
    async for r in cursor:
        writer.writerow(
            (r["row_number"], r["outcome"], r["record_id"] or "", error_texts(r["errors"]))
        )
        count += 1
        if count % batch == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
