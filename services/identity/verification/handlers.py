"""Use cases of verification against the national population register.

A campaign goes: create a batch from a selection of persons (the request lines keep a snapshot
of what was sent) → the request file leaves through the register port (today: a file the
Department's operators carry) → the register's response is imported: every answer is recorded
and applied (MATCHED → verified, MISMATCH → mismatch and a worklist item with both values side
by side, NOT_FOUND → not_found), each applied person gets revision + 1 and one
``identity.person.verified`` event in the same transaction → staff resolve the worklist, taking
the register's values (``identity.person.updated``) or keeping ours.

Importing is idempotent: an answer already recorded is not applied again, so the same file
imported twice changes nothing the second time, and a corrected file can be imported after a
first one with malformed lines. An answer is recorded but not applied when the person was
merged, or their record changed, after the request left: what the register compared is no
longer what we hold.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg

from services.identity import person_store, store
from services.identity.domain.names import clean_name, normalise_name
from services.identity.domain.sector_id import InvalidSectorIdError, parse_sector_id
from services.identity.domain.sex import Sex
from services.identity.domain.verification_files import (
    COMPARED_FIELDS,
    ParsedResponse,
    RegisterValues,
    RequestRow,
    ResponseRow,
    VerificationFileError,
    VerificationRecord,
    VerificationResult,
    compare_with_register,
    parse_response,
    write_request_batch,
)
from services.identity.verification import store as verification_store
from services.identity.verification.register import PopulationRegister, RequestBatch
from shared.audit import record_access
from shared.auth import Principal, ensure_in_scope, in_scope, require_role
from shared.db.pool import Connection
from shared.events.contracts.identity import PersonUpdated, PersonVerified
from shared.events.envelope import EventData
from shared.http.problems import Problem, field_error, invalid
from shared.outbox.writer import add_event, add_events
from shared.vietnam_time import today_in_vietnam

SOURCE = "/eduhub/identity"
BATCH_MAKERS = ["department", "commune", "school", "service"]
RESOLVERS = ["department", "commune", "school", "service"]
WORKLIST_READERS = ["department", "commune", "school", "auditor", "service"]
RATE_READERS = ["department", "commune", "school", "auditor", "service"]
# Batch ids read `HP-2026-11-0001`: province, year and month of creation, number in the month.
BATCH_PREFIX = "HP"
# One file stays well inside what Excel opens (1,048,576 lines) and what an operator can carry;
# a larger selection is sent over several batches (the next batch takes the persons left out).
MAX_BATCH_ROWS = 50_000
PURPOSE = "verification against the national population register"

STATUS_OF_RESULT = {
    VerificationResult.MATCHED: "verified",
    VerificationResult.MISMATCH: "mismatch",
    VerificationResult.NOT_FOUND: "not_found",
}


# ---------------------------------------------------------------------------------------------
# Snapshots: what a request line carried
# ---------------------------------------------------------------------------------------------


def snapshot(person: Any) -> dict[str, Any]:
    """The values of a person that a request line carries (stored with the line as `ours`)."""
    return {
        "full_name": person["full_name"],
        "birth_date": person["birth_date"].isoformat(),
        "sex": person["sex"],
        "personal_number": person["personal_number"],
        "birthplace": person["birthplace"],
        "guardian_name": person["guardian_name"],
        "revision": person["revision"],
    }


def record_from_snapshot(sector_id: str, ours: dict[str, Any]) -> VerificationRecord:
    return VerificationRecord(
        sector_id=sector_id,
        full_name=ours["full_name"],
        birth_date=date.fromisoformat(ours["birth_date"]),
        sex=Sex(ours["sex"]),
        personal_number=ours["personal_number"],
        birthplace=ours["birthplace"],
        guardian_name=ours["guardian_name"],
    )


def register_json(values: RegisterValues) -> dict[str, Any] | None:
    if values == RegisterValues():
        return None
    return {
        "full_name": values.full_name,
        "birth_date": values.birth_date.isoformat() if values.birth_date else None,
        "sex": values.sex.value if values.sex else None,
        "personal_number": values.personal_number,
    }


def _changed_since(person: Any, ours: dict[str, Any]) -> list[str]:
    """Fields of the person that differ from what the request line carried."""
    current = snapshot(person)
    return [field for field in COMPARED_FIELDS if current[field] != ours[field]]


# ---------------------------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------------------------


async def _org_in_scope(conn: Connection, principal: Principal, org_id: str, field: str) -> None:
    if await store.get_org(conn, org_id) is None:
        raise invalid(field, f"unknown organisation {org_id}")
    ensure_in_scope(principal, org_id, await store.ancestors(conn, org_id))


async def _batch_in_scope(
    conn: Connection, principal: Principal, batch_id: str, *, for_update: bool = False
) -> asyncpg.Record:
    """A batch the caller may act on; one outside the scope looks like one that does not exist."""
    batch = await verification_store.get_batch(conn, batch_id, for_update=for_update)
    if batch is None or not in_scope(
        principal, batch["org_id"], await store.ancestors(conn, batch["org_id"])
    ):
        raise Problem(404, "Not Found", f"no verification batch {batch_id} in your scope")
    return batch


async def _new_batch_id(conn: Connection, *, prefix: str, today: date) -> str:
    stem = f"{prefix}-{today.year:04d}-{today.month:02d}-"
    sequence = await verification_store.next_batch_sequence(conn, prefix=stem)
    return f"{stem}{sequence:04d}"


async def _persons_from_list(
    conn: Connection,
    principal: Principal,
    *,
    scope_org: str,
    sector_ids: Sequence[str],
    include_pending: bool,
) -> list[Any]:
    """The listed persons, each checked; every unusable entry is named in one 422."""
    errors: list[dict[str, str]] = []
    wanted: dict[str, int] = {}
    for index, text in enumerate(sector_ids):
        try:
            canonical = str(parse_sector_id(text))
        except InvalidSectorIdError as error:
            errors.append(field_error(f"body.sector_ids.{index}", str(error)))
            continue
        wanted.setdefault(canonical, index)
    found = await person_store.get_many(conn, list(wanted))
    pending = (
        {} if include_pending else await verification_store.pending_batches_of(conn, list(found))
    )
    ancestors_of: dict[str, list[str]] = {}
    persons = []
    for sector_id, index in wanted.items():
        field = f"body.sector_ids.{index}"
        person = found.get(sector_id)
        if person is not None and person["org_id"] not in ancestors_of:
            ancestors_of[person["org_id"]] = await store.ancestors(conn, person["org_id"])
        chain = ancestors_of.get(person["org_id"], []) if person is not None else []
        if person is None or not in_scope(principal, person["org_id"], chain):
            errors.append(field_error(field, f"no person {sector_id} in your scope"))
        elif person["org_id"] != scope_org and scope_org not in chain:
            errors.append(field_error(field, f"{sector_id} is not held at or below {scope_org}"))
        elif person["merged_into"] is not None:
            errors.append(
                field_error(field, f"{sector_id} was merged into {person['merged_into']}")
            )
        elif sector_id in pending:
            errors.append(
                field_error(
                    field,
                    f"{sector_id} is waiting for an answer in batch {pending[sector_id]} "
                    "(set include_pending to send it again)",
                )
            )
        else:
            persons.append(person)
    if errors:
        raise Problem(
            422,
            "Invalid selection",
            f"{len(errors)} of the listed persons cannot be sent",
            errors=errors,
        )
    return sorted(persons, key=lambda p: (p["org_id"], p["sector_id"]))


async def create_batch(
    conn: Connection,
    principal: Principal,
    *,
    org_id: str | None = None,
    sector_ids: Sequence[str] | None = None,
    include_pending: bool = False,
    limit: int = MAX_BATCH_ROWS,
    today: date,
    prefix: str = BATCH_PREFIX,
) -> dict[str, Any]:
    """A request batch of the listed persons, or (no list) of the unverified persons held at
    or below `org_id` (default: the caller's unit); those already waiting in an unanswered
    batch are left out unless `include_pending`. At most `limit` persons: `more_remaining`
    says a next batch has work."""
    require_role(principal, BATCH_MAKERS)
    if not 1 <= limit <= MAX_BATCH_ROWS:
        raise invalid("body.limit", f"a batch holds 1 to {MAX_BATCH_ROWS} persons")
    scope_org = org_id or (None if principal.role == "service" else principal.org_id)
    if scope_org is None:
        raise invalid("body.org_id", "name the organisation the batch is for")
    await _org_in_scope(conn, principal, scope_org, "body.org_id")
    more_remaining = False
    if sector_ids:
        if len(sector_ids) > limit:
            raise invalid("body.sector_ids", f"at most {limit} persons in one batch")
        persons = await _persons_from_list(
            conn,
            principal,
            scope_org=scope_org,
            sector_ids=sector_ids,
            include_pending=include_pending,
        )
        selection: dict[str, Any] = {"sector_ids": [p["sector_id"] for p in persons]}
    else:
        persons = list(
            await verification_store.unverified_under(
                conn, org_id=scope_org, include_pending=include_pending, limit=limit + 1
            )
        )
        more_remaining = len(persons) > limit
        persons = persons[:limit]
        selection = {"unverified_under": scope_org, "include_pending": include_pending}
    if not persons:
        raise Problem(
            422,
            "Nothing to verify",
            f"no unverified person held at or below {scope_org} is waiting to be sent",
            errors=[field_error("body.org_id", "no unverified persons to send")],
        )
    batch_id = await _new_batch_id(conn, prefix=prefix, today=today)
    batch = await verification_store.insert_batch(
        conn,
        batch_id=batch_id,
        org_id=scope_org,
        selection=selection,
        row_count=len(persons),
        created_by=principal.key,
    )
    await verification_store.insert_rows(
        conn,
        batch_id=batch_id,
        rows=[(n, p["sector_id"], snapshot(p)) for n, p in enumerate(persons, start=1)],
    )
    return {**_batch_public(batch), "more_remaining": more_remaining}


def _batch_public(batch: Any) -> dict[str, Any]:
    return {
        "batch_id": batch["batch_id"],
        "org_id": batch["org_id"],
        "row_count": batch["row_count"],
        "status": batch["status"],
        "selection": batch["selection"],
        "created_by": batch["created_by"],
        "created_at": batch["created_at"].isoformat(),
        "answered_at": batch["answered_at"].isoformat() if batch["answered_at"] else None,
        "request_file": f"/verification/batches/{batch['batch_id']}/request.csv",
    }


async def read_batch(conn: Connection, principal: Principal, batch_id: str) -> dict[str, Any]:
    """A batch and how far its answers came (counts only: no personal data, not audited)."""
    require_role(principal, [*BATCH_MAKERS, "auditor"])
    batch = await _batch_in_scope(conn, principal, batch_id)
    return {**_batch_public(batch), "counts": await verification_store.batch_counts(conn, batch_id)}


async def list_batches(
    conn: Connection, principal: Principal, *, after: str | None, limit: int
) -> list[dict[str, Any]]:
    require_role(principal, [*BATCH_MAKERS, "auditor"])
    within = None if principal.role == "service" else principal.org_id
    rows = await verification_store.list_batches(conn, within_org=within, after=after, limit=limit)
    return [_batch_public(r) for r in rows]


async def load_request(conn: Connection, principal: Principal, batch_id: str) -> RequestBatch:
    """The request lines of a batch, rebuilt from the stored snapshots; audited as an export
    of every person on it (their data leaves the platform)."""
    require_role(principal, BATCH_MAKERS)
    await _batch_in_scope(conn, principal, batch_id)
    rows = await verification_store.batch_rows(conn, batch_id)
    batch = RequestBatch(
        batch_id=batch_id,
        rows=tuple(
            RequestRow(batch_id, r["row_no"], record_from_snapshot(r["sector_id"], r["ours"]))
            for r in rows
        ),
    )
    await record_access(
        conn,
        principal,
        action="export",
        entity_kind="person",
        entity_ids=[r["sector_id"] for r in rows],
        detail={"batch_id": batch_id, "purpose": PURPOSE},
    )
    return batch


async def request_file(conn: Connection, principal: Principal, batch_id: str) -> bytes:
    """The request file of a batch (verification file format v1), to hand to the register."""
    batch = await load_request(conn, principal, batch_id)
    buffer = io.BytesIO()
    write_request_batch(buffer, batch_id, (row.record for row in batch.rows))
    return buffer.getvalue()


async def submit_batch(
    conn: Connection, principal: Principal, batch_id: str, register: PopulationRegister
) -> dict[str, Any]:
    """Hand a batch to the register through its port (repeatable: the same file again)."""
    batch = await load_request(conn, principal, batch_id)
    await register.submit(batch)
    return {"batch_id": batch_id, "rows": len(batch.rows)}


# ---------------------------------------------------------------------------------------------
# Importing the register's response
# ---------------------------------------------------------------------------------------------


def _refused(error: VerificationFileError) -> Problem:
    return Problem(
        422,
        "Response file refused",
        str(error),
        errors=[field_error("body", str(error), "verification_file")],
    )


async def import_response(
    conn: Connection, principal: Principal, batch_id: str, data: bytes
) -> dict[str, Any]:
    """Read a response file for `batch_id` and apply it. A file that cannot be a response to
    this batch (wrong header, another batch, not UTF-8) is a 422 naming the problem; unusable
    lines are reported back (line, row_no, field, message) while the others are applied."""
    require_role(principal, BATCH_MAKERS)
    batch = await _batch_in_scope(conn, principal, batch_id, for_update=True)
    try:
        parsed = parse_response(io.BytesIO(data), expected_batch_id=batch_id)
    except VerificationFileError as error:
        raise _refused(error) from None
    return await _apply_response(conn, principal, batch, parsed)


async def collect_response(
    conn: Connection, principal: Principal, batch_id: str, register: PopulationRegister
) -> dict[str, Any] | None:
    """Ask the register port for the answer to a batch and apply it; None while there is none."""
    require_role(principal, BATCH_MAKERS)
    batch = await _batch_in_scope(conn, principal, batch_id, for_update=True)
    try:
        parsed = await register.collect(batch_id)
    except VerificationFileError as error:
        raise _refused(error) from None
    if parsed is None:
        return None
    return await _apply_response(conn, principal, batch, parsed)


def _same_answer(row: Any, response: ResponseRow) -> bool:
    return (
        row["result"] == response.result.value
        and row["register_values"] == register_json(response.register)
        and list(row["mismatched_fields"]) == list(response.mismatched_fields)
    )


def _difference_json(record: VerificationRecord, response: ResponseRow) -> list[dict[str, str]]:
    return [
        {
            "field": d.field,
            "ours": d.ours,
            "register": d.register,
            "kind": d.kind.value,
            "label": d.kind.label,
        }
        for d in compare_with_register(record, response.register, response.mismatched_fields)
    ]


async def _numbers_to_store(
    conn: Connection, claims: dict[str, list[str]]
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Which register personal numbers may be stored on persons that had none: only a number
    that no other active person holds, and that one person alone of this import claims."""
    holders = await verification_store.active_holders(conn, list(claims))
    store_on: dict[str, str] = {}
    notes = []
    for number, claimants in claims.items():
        if len(claimants) > 1:
            for sector_id in claimants:
                others = ", ".join(s for s in claimants if s != sector_id)
                notes.append(
                    {
                        "sector_id": sector_id,
                        "message": f"personal number {number} not stored: the register gave "
                        f"it to {others} too (probably the same person twice)",
                    }
                )
        elif number in holders and holders[number] != claimants[0]:
            notes.append(
                {
                    "sector_id": claimants[0],
                    "message": f"personal number {number} not stored: it belongs to "
                    f"{holders[number]}",
                }
            )
        else:
            store_on[claimants[0]] = number
    return store_on, notes


async def _apply_response(
    conn: Connection, principal: Principal, batch: Any, parsed: ParsedResponse
) -> dict[str, Any]:
    batch_id = batch["batch_id"]
    rows = {r["row_no"]: r for r in await verification_store.batch_rows(conn, batch_id)}
    not_applied: list[dict[str, Any]] = []
    already_recorded = 0
    fresh: list[tuple[Any, ResponseRow]] = []
    for response in parsed.rows:
        row = rows.get(response.row_no)
        if row is None:
            not_applied.append(_skip(response, f"row {response.row_no} is not in batch {batch_id}"))
        elif row["sector_id"] != response.sector_id:
            not_applied.append(
                _skip(
                    response,
                    f"row {response.row_no} was sent for {row['sector_id']}, "
                    f"the answer names {response.sector_id}",
                )
            )
        elif row["result"] is not None:
            if _same_answer(row, response):
                already_recorded += 1
            else:
                not_applied.append(
                    _skip(
                        response,
                        f"row {response.row_no} was already answered {row['result']} on "
                        f"{row['answered_at']:%d/%m/%Y}; this different answer is not applied",
                    )
                )
        else:
            fresh.append((row, response))

    persons = await person_store.lock_persons(conn, [row["sector_id"] for row, _ in fresh])
    answers: list[dict[str, Any]] = []
    applying: list[tuple[Any, ResponseRow]] = []
    for row, response in fresh:
        person = persons[row["sector_id"]]
        outcome = None
        if person["merged_into"] is not None:
            outcome = (
                f"not applied: the person was merged into {person['merged_into']} after the "
                "request was sent"
            )
        elif changed := _changed_since(person, row["ours"]):
            outcome = (
                f"not applied: {', '.join(changed)} changed after the request was sent; "
                "send the person again in a new batch"
            )
        else:
            applying.append((row, response))
        if outcome is not None:
            not_applied.append(_skip(response, outcome))
        answers.append(
            {
                "row_no": response.row_no,
                "result": response.result.value,
                "register_values": register_json(response.register),
                "mismatched_fields": list(response.mismatched_fields),
                "applied": outcome is None,
                "outcome": outcome,
            }
        )

    claims: dict[str, list[str]] = defaultdict(list)
    for row, response in applying:
        number = response.register.personal_number
        if (
            response.result is VerificationResult.MATCHED
            and number
            and persons[row["sector_id"]]["personal_number"] is None
        ):
            claims[number].append(row["sector_id"])
    numbers, notes = await _numbers_to_store(conn, claims)

    revisions = await verification_store.set_verification_statuses(
        conn,
        [
            (row["sector_id"], STATUS_OF_RESULT[response.result], numbers.get(row["sector_id"]))
            for row, response in applying
        ],
    )
    by = principal.key
    matched = [row["sector_id"] for row, r in applying if r.result is VerificationResult.MATCHED]
    others = [row["sector_id"] for row, r in applying if r.result is not VerificationResult.MATCHED]
    await verification_store.close_open_items(
        conn, sector_ids=matched, resolution="matched_later", by=by, note=f"batch {batch_id}"
    )
    await verification_store.close_open_items(
        conn, sector_ids=others, resolution="superseded", by=by, note=f"batch {batch_id}"
    )
    await verification_store.insert_items(
        conn,
        batch_id=batch_id,
        items=[
            (
                row["sector_id"],
                row["row_no"],
                _difference_json(record_from_snapshot(row["sector_id"], row["ours"]), response),
            )
            for row, response in applying
            if response.result is VerificationResult.MISMATCH
        ],
    )
    await verification_store.record_answers(conn, batch_id=batch_id, answers=answers)
    if answers:
        await verification_store.mark_answered(conn, batch_id=batch_id)
    events: list[EventData] = [
        PersonVerified(
            sector_id=row["sector_id"],
            revision=revisions[row["sector_id"]],
            verification_status=STATUS_OF_RESULT[response.result],  # type: ignore[arg-type]
            batch_id=batch_id,
            mismatched_fields=list(response.mismatched_fields),
        )
        for row, response in applying
    ]
    if events:
        await add_events(conn, events, source=SOURCE)
    await record_access(
        conn,
        principal,
        action="verify",
        entity_kind="person",
        entity_ids=[row["sector_id"] for row, _ in applying],
        detail={"batch_id": batch_id, "purpose": PURPOSE},
    )
    answered_now = {a["row_no"] for a in answers}
    counts = {status: 0 for status in STATUS_OF_RESULT.values()}
    for _, response in applying:
        counts[STATUS_OF_RESULT[response.result]] += 1
    return {
        "batch_id": batch_id,
        "lines_read": len(parsed.rows) + len({error.line for error in parsed.errors}),
        "applied": counts,
        "personal_numbers_stored": len(numbers),
        "already_recorded": already_recorded,
        "not_applied": not_applied,
        "notes": notes,
        "errors": [
            {"line": e.line, "row_no": e.row_no, "field": e.field, "message": e.message}
            for e in parsed.errors
        ],
        "unanswered_rows": sorted(
            n for n, r in rows.items() if r["result"] is None and n not in answered_now
        ),
    }


def _skip(response: ResponseRow, reason: str) -> dict[str, Any]:
    return {"row_no": response.row_no, "sector_id": response.sector_id, "reason": reason}


# ---------------------------------------------------------------------------------------------
# Worklist
# ---------------------------------------------------------------------------------------------


async def worklist(
    conn: Connection,
    principal: Principal,
    *,
    org_id: str | None,
    after: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Open mismatches of persons in scope (or held at or below `org_id`), our value and the
    register's side by side; audited as reads of every person shown."""
    require_role(principal, WORKLIST_READERS)
    within = org_id or (None if principal.role == "service" else principal.org_id)
    if within is not None:
        await _org_in_scope(conn, principal, within, "query.org_id")
    rows = await verification_store.open_items(conn, within_org=within, after=after, limit=limit)
    await record_access(
        conn,
        principal,
        action="read",
        entity_kind="person",
        entity_ids=[r["sector_id"] for r in rows],
        detail={"purpose": "verification worklist"},
    )
    return [
        {
            "sector_id": r["sector_id"],
            "full_name": r["full_name"],
            "org_id": r["org_id"],
            "verification_status": r["verification_status"],
            "batch_id": r["batch_id"],
            "row_no": r["row_no"],
            "opened_at": r["created_at"].isoformat(),
            "differences": r["differences"],
        }
        for r in rows
    ]


async def resolve_item(
    conn: Connection,
    principal: Principal,
    sector_id: str,
    *,
    accept: str,
    note: str | None,
) -> dict[str, Any]:
    """Close a person's open worklist item: take the register's values (name, birth date, sex;
    the personal number too when we had none and nobody else holds it), which marks the person
    verified and publishes identity.person.updated; or keep ours, with a note saying why."""
    require_role(principal, RESOLVERS)
    if accept not in ("register", "ours"):
        raise invalid("body.accept", "accept is 'register' or 'ours'")
    note = note.strip() if note else None
    if accept == "ours" and (note is None or len(note) < 3):
        raise invalid("body.note", "say why our values are kept (at least 3 characters)")
    try:
        sector_id = str(parse_sector_id(sector_id))
    except InvalidSectorIdError:
        raise Problem(404, "Not Found", f"no open worklist item for {sector_id}") from None
    persons = await person_store.lock_persons(conn, [sector_id])
    person = persons.get(sector_id)
    item = await verification_store.open_item(conn, sector_id)
    if (
        person is None
        or item is None
        or not in_scope(principal, person["org_id"], await store.ancestors(conn, person["org_id"]))
    ):
        raise Problem(404, "Not Found", f"no open worklist item for {sector_id} in your scope")
    if person["merged_into"] is not None:
        raise Problem(409, "Person merged", f"{sector_id} was merged into {person['merged_into']}")
    if accept == "ours":
        await verification_store.resolve_item(
            conn, item_id=item["item_id"], resolution="ours", by=principal.key, note=note
        )
        await record_access(
            conn,
            principal,
            action="resolve",
            entity_kind="person",
            entity_ids=[sector_id],
            detail={"batch_id": item["batch_id"], "accepted": "ours", "note": note},
        )
        return {
            "sector_id": sector_id,
            "accepted": "ours",
            "changed_fields": [],
            "verification_status": person["verification_status"],
            "revision": person["revision"],
            "notes": [],
        }
    return await _accept_register(conn, principal, person, item, note)


async def _accept_register(
    conn: Connection, principal: Principal, person: Any, item: Any, note: str | None
) -> dict[str, Any]:
    sector_id = person["sector_id"]
    answer = await verification_store.get_row(
        conn, batch_id=item["batch_id"], row_no=item["row_no"]
    )
    theirs = (answer["register_values"] if answer is not None else None) or {}
    values = {
        "full_name": person["full_name"],
        "birth_date": person["birth_date"],
        "sex": person["sex"],
        "personal_number": person["personal_number"],
    }
    if theirs.get("full_name") and clean_name(theirs["full_name"]) != person["full_name"]:
        values["full_name"] = clean_name(theirs["full_name"])
    if theirs.get("birth_date"):
        values["birth_date"] = date.fromisoformat(theirs["birth_date"])
    if theirs.get("sex"):
        values["sex"] = theirs["sex"]
    notes = []
    number = theirs.get("personal_number")
    if number and person["personal_number"] is None:
        holder = (await verification_store.active_holders(conn, [number])).get(number)
        if holder is None:
            values["personal_number"] = number
        else:
            notes.append(f"personal number {number} not stored: it belongs to {holder}")
    changed = [field for field, value in values.items() if value != person[field]]
    if person["verification_status"] != "verified":
        changed.append("verification_status")
    try:
        row = await verification_store.update_person(
            conn,
            sector_id=sector_id,
            full_name=values["full_name"],
            name_normalised=normalise_name(values["full_name"]),
            birth_date=values["birth_date"],
            sex=values["sex"],
            personal_number=values["personal_number"],
            verification_status="verified",
        )
    except asyncpg.UniqueViolationError:
        raise Problem(
            409, "Personal number in use", f"{number} was registered meanwhile; try again"
        ) from None
    await verification_store.resolve_item(
        conn, item_id=item["item_id"], resolution="register", by=principal.key, note=note
    )
    await record_access(
        conn,
        principal,
        action="update",
        entity_kind="person",
        entity_ids=[sector_id],
        detail={"batch_id": item["batch_id"], "accepted": "register", "changed_fields": changed},
    )
    if changed:
        await add_event(
            conn,
            PersonUpdated(
                sector_id=sector_id,
                revision=row["revision"],
                changed_fields=changed,
                org_id=row["org_id"],
                birth_date=row["birth_date"],
                sex=row["sex"],
                verification_status=row["verification_status"],
            ),
            source=SOURCE,
        )
    return {
        "sector_id": sector_id,
        "accepted": "register",
        "changed_fields": changed,
        "verification_status": row["verification_status"],
        "revision": row["revision"],
        "notes": notes,
    }


# ---------------------------------------------------------------------------------------------
# Rates
# ---------------------------------------------------------------------------------------------


def _counts(row: Any) -> dict[str, Any]:
    persons = int(row["persons"])
    return {
        "persons": persons,
        "verified": int(row["verified"]),
        "mismatch": int(row["mismatch"]),
        "not_found": int(row["not_found"]),
        "unverified": int(row["unverified"]),
        "verified_share": round(row["verified"] / persons, 4) if persons else None,
    }


async def rates(
    conn: Connection, principal: Principal, *, org_id: str | None, today: date | None = None
) -> dict[str, Any]:
    """Verification status counts of the active persons at or below `org_id` (default: the
    caller's unit): per holding unit (schools), per commune-level unit and in total. Units
    closed or merged away by `today` are listed only while they still hold persons."""
    require_role(principal, RATE_READERS)
    root = org_id or (None if principal.role == "service" else principal.org_id)
    if root is None:
        raise invalid("query.org_id", "name the organisation")
    await _org_in_scope(conn, principal, root, "query.org_id")
    commune = await verification_store.commune_at_or_above(conn, root)
    rows = await verification_store.verification_rates(
        conn, org_id=root, commune_id=commune, today=today or today_in_vietnam()
    )
    # Below commune level a commune line would count only part of the commune: leave it out.
    # Persons held by the province itself are in the total only.
    below_commune = commune is not None and commune != root
    total: dict[str, Any] = {}
    communes, schools = [], []
    for row in rows:
        if row["level"] == "total":
            total = _counts(row)
        elif row["level"] == "commune":
            if (
                row["commune_id"] is not None
                and not below_commune
                and (row["commune_active"] or row["persons"])
            ):
                communes.append(
                    {"org_id": row["commune_id"], "name": row["commune_name"], **_counts(row)}
                )
        elif (row["kind"] in ("school", "daycare_group") and row["active"]) or row["persons"]:
            schools.append(
                {
                    "org_id": row["org_id"],
                    "name": row["name"],
                    "kind": row["kind"],
                    "commune_id": row["commune_id"],
                    **_counts(row),
                }
            )
    return {"org_id": root, "total": total, "communes": communes, "schools": schools}
