"""Verification against the population register, end to end inside identity, on a real
PostgreSQL: batch → request file → simulated register → response imported → statuses, events,
worklist, resolution, rates; re-import, malformed lines, refused files, scope."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from services.identity import handlers as org_handlers
from services.identity import person_handlers
from services.identity.domain.sex import Sex
from services.identity.domain.verification_files import (
    RegisterEntry,
    RegisterValues,
    ResponseRow,
    VerificationResult,
    read_request_batch,
    simulate_register_response,
    write_response,
)
from services.identity.person_schemas import PersonCreate
from services.identity.schemas import OrgCreate
from services.identity.verification import handlers
from services.identity.verification.register import FileExchangeRegister
from shared.auth import AuthorisationError, Principal
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.http.problems import Problem

pytestmark = pytest.mark.integration

TODAY = date(2026, 11, 10)
SERVICE = Principal("setup", "service", "HP")
DEPARTMENT = Principal("so-gddt", "department", "HP")
SCHOOL_A1 = Principal("hieu-truong", "school", "S-A1")
T = TypeVar("T")


@pytest.fixture
async def conn(fresh_db: str) -> AsyncIterator[Connection]:
    pool = await create_pool(fresh_db, min_size=1, max_size=1)
    async with pool.acquire() as connection:
        await migrate(connection, "identity", Path("services/identity/migrations"))
        yield connection
    await pool.close()


async def tx(conn: Connection, work: Callable[[Connection], Awaitable[T]]) -> T:
    async with conn.transaction():
        return await work(conn)


async def add_org(conn: Connection, org_id: str, kind: str, parent: str | None) -> None:
    extra: dict[str, Any] = {
        "commune": {"commune_type": "phuong"},
        "school": {"school_type": "lower_secondary", "ownership": "public"},
    }.get(kind, {})
    command = OrgCreate(
        org_id=org_id,
        kind=kind,  # type: ignore[arg-type]
        name=f"Đơn vị {org_id}",
        parent_id=parent,
        valid_from=date(2025, 7, 1),
        **extra,
    )
    await tx(conn, lambda c: org_handlers.register_org(c, SERVICE, command))


async def add_person(
    conn: Connection, school: str, name: str, born: str, sex: str, number: str | None
) -> str:
    command = PersonCreate(
        kind="learner",
        full_name=name,
        birth_date=date.fromisoformat(born),
        sex=sex,  # type: ignore[arg-type]
        personal_number=number,
        org_id=school,
    )
    person = await tx(
        conn,
        lambda c: person_handlers.register_person(
            c, DEPARTMENT, command, issuing_province=31, today=TODAY
        ),
    )
    return str(person["sector_id"])


async def person(conn: Connection, sector_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT full_name, birth_date, sex, personal_number, verification_status, revision "
        "FROM persons WHERE sector_id = $1",
        sector_id,
    )
    assert row is not None
    return row


async def events(conn: Connection, event_type: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY position", event_type
    )
    return [json.loads(bytes(r["payload"]))["data"] for r in rows]


def response_bytes(rows: list[ResponseRow]) -> bytes:
    buffer = io.BytesIO()
    write_response(buffer, rows)
    return buffer.getvalue()


async def build_tree(conn: Connection) -> dict[str, str]:
    """Two communes: C-A with schools S-A1 and S-A2, C-B with S-B1; six learners."""
    await add_org(conn, "HP", "province", None)
    await add_org(conn, "C-A", "commune", "HP")
    await add_org(conn, "C-B", "commune", "HP")
    await add_org(conn, "S-A1", "school", "C-A")
    await add_org(conn, "S-A2", "school", "C-A")
    await add_org(conn, "S-B1", "school", "C-B")
    return {
        "anh": await add_person(
            conn, "S-A1", "Nguyễn Thị Ánh", "2013-04-02", "female", "031313000001"
        ),
        # Typed without the diacritics of the middle name; the register has them.
        "minh": await add_person(
            conn, "S-A1", "Trần Duc Minh", "2012-07-04", "male", "031212000002"
        ),
        # The register has another birth date.
        "huong": await add_person(
            conn, "S-A1", "Phạm Thu Hương", "2013-10-02", "female", "031313000003"
        ),
        "nam": await add_person(conn, "S-A2", "Lê Văn Nam", "2012-01-01", "male", "031212000004"),
        "lan": await add_person(conn, "S-A2", "Vũ Thị Lan", "2013-02-02", "female", None),
        "hoa": await add_person(conn, "S-B1", "Đỗ Thị Hoa", "2013-05-06", "female", "031313000006"),
    }


async def test_batches_stay_within_the_callers_scope(conn: Connection) -> None:
    people = await build_tree(conn)
    # A school acts for itself only.
    with pytest.raises(AuthorisationError):
        await tx(conn, lambda c: handlers.create_batch(c, SCHOOL_A1, org_id="S-B1", today=TODAY))
    # Another school's learner looks like no learner at all.
    with pytest.raises(Problem) as listed:
        await tx(
            conn,
            lambda c: handlers.create_batch(
                c, SCHOOL_A1, sector_ids=[people["anh"], people["hoa"]], today=TODAY
            ),
        )
    assert listed.value.status == 422
    assert listed.value.errors == [
        {
            "field": "body.sector_ids.1",
            "message": f"no person {people['hoa']} in your scope",
            "type": "value_error",
        }
    ]
    # A teacher makes no batches.
    with pytest.raises(AuthorisationError):
        await tx(
            conn,
            lambda c: handlers.create_batch(
                c, Principal("gv", "teacher", "S-A1"), org_id="S-A1", today=TODAY
            ),
        )
    # Its own school is fine (default: the caller's unit); the commune above sees the batch,
    # another school does not.
    own = await tx(conn, lambda c: handlers.create_batch(c, SCHOOL_A1, today=TODAY))
    assert (own["org_id"], own["row_count"]) == ("S-A1", 3)
    commune = Principal("ubnd", "commune", "C-A")
    assert (await tx(conn, lambda c: handlers.read_batch(c, commune, own["batch_id"])))["counts"][
        "unanswered"
    ] == 3
    with pytest.raises(Problem) as hidden:
        await tx(
            conn,
            lambda c: handlers.request_file(c, Principal("ht", "school", "S-B1"), own["batch_id"]),
        )
    assert hidden.value.status == 404
    assert await conn.fetchval("SELECT count(*) FROM verification_batches") == 1


async def test_round_trip_with_the_register(conn: Connection, tmp_path: Path) -> None:
    people = await build_tree(conn)
    anh, minh, huong = people["anh"], people["minh"], people["huong"]
    nam, lan, hoa = people["nam"], people["lan"], people["hoa"]

    # The Department sends every unverified person of the province.
    batch = await tx(conn, lambda c: handlers.create_batch(c, DEPARTMENT, org_id="HP", today=TODAY))
    batch_id = batch["batch_id"]
    assert batch_id == "HP-2026-11-0001"
    assert (batch["row_count"], batch["status"], batch["more_remaining"]) == (6, "requested", False)
    # Persons waiting for an answer are not sent twice.
    with pytest.raises(Problem) as nothing:
        await tx(conn, lambda c: handlers.create_batch(c, DEPARTMENT, org_id="HP", today=TODAY))
    assert nothing.value.status == 422

    data = await tx(conn, lambda c: handlers.request_file(c, DEPARTMENT, batch_id))
    assert data.startswith(b"\xef\xbb\xbfbatch_id;row_no;sector_id;personal_number;")
    request = read_request_batch(io.BytesIO(data))
    assert [r.row_no for r in request] == [1, 2, 3, 4, 5, 6]
    row_of = {r.record.sector_id: r.row_no for r in request}
    assert set(row_of) == {anh, minh, huong, nam, lan, hoa}
    sent_minh = next(r.record for r in request if r.record.sector_id == minh)
    assert (sent_minh.full_name, sent_minh.birth_date, sent_minh.sex) == (
        "Trần Duc Minh",
        date(2012, 7, 4),
        Sex.MALE,
    )
    assert next(r.record for r in request if r.record.sector_id == lan).personal_number is None
    exported = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'export' AND detail->>'batch_id' = $1",
        batch_id,
    )
    assert exported == 6

    # The register answers: Ánh and Hoa match, Minh's name differs in diacritics only, Hương's
    # birth date differs, Nam is unknown. Lan had no personal number: the register found her
    # by her other details and returns hers.
    register = {
        "031313000001": RegisterEntry(
            "031313000001", "Nguyễn Thị Ánh", date(2013, 4, 2), Sex.FEMALE
        ),
        "031212000002": RegisterEntry("031212000002", "Trần Đức Minh", date(2012, 7, 4), Sex.MALE),
        "031313000003": RegisterEntry(
            "031313000003", "Phạm Thu Hương", date(2013, 10, 12), Sex.FEMALE
        ),
        "031313000006": RegisterEntry("031313000006", "Đỗ Thị Hoa", date(2013, 5, 6), Sex.FEMALE),
    }
    answers = simulate_register_response(request, register)
    answers = [
        ResponseRow(
            batch_id,
            a.row_no,
            lan,
            VerificationResult.MATCHED,
            RegisterValues("Vũ Thị Lan", date(2013, 2, 2), Sex.FEMALE, "031313000099"),
        )
        if a.sector_id == lan
        else a
        for a in answers
    ]
    by_person = {a.sector_id: a for a in answers}
    assert by_person[minh].mismatched_fields == ("full_name",)
    assert by_person[huong].mismatched_fields == ("birth_date",)
    assert by_person[nam].result is VerificationResult.NOT_FOUND
    good_file = response_bytes(answers)
    # An operator's slip: Hoa's line carries an impossible date.
    broken_file = good_file.replace(b"06/05/2013", b"31/02/2013")
    assert broken_file != good_file

    report = await tx(
        conn, lambda c: handlers.import_response(c, DEPARTMENT, batch_id, broken_file)
    )
    assert report["applied"] == {"verified": 2, "mismatch": 2, "not_found": 1}
    assert report["personal_numbers_stored"] == 1
    assert report["not_applied"] == [] and report["notes"] == []
    assert [(e["row_no"], e["field"]) for e in report["errors"]] == [
        (row_of[hoa], "register_birth_date")
    ]
    assert report["errors"][0]["line"] == row_of[hoa] + 1
    assert "31/02/2013" in report["errors"][0]["message"]
    assert report["unanswered_rows"] == [row_of[hoa]]

    statuses = {s: (await person(conn, s))["verification_status"] for s in row_of}
    assert statuses == {
        anh: "verified",
        minh: "mismatch",
        huong: "mismatch",
        nam: "not_found",
        lan: "verified",
        hoa: "unverified",
    }
    assert (await person(conn, lan))["personal_number"] == "031313000099"
    assert (await person(conn, anh))["revision"] == 2
    assert (await person(conn, hoa))["revision"] == 1
    verified_events = {e["sector_id"]: e for e in await events(conn, "identity.person.verified")}
    assert set(verified_events) == {anh, minh, huong, nam, lan}
    assert verified_events[minh] == {
        "sector_id": minh,
        "revision": 2,
        "verification_status": "mismatch",
        "batch_id": batch_id,
        "mismatched_fields": ["full_name"],
    }
    assert verified_events[nam]["verification_status"] == "not_found"
    assert verified_events[anh]["mismatched_fields"] == []
    batch_now = await tx(conn, lambda c: handlers.read_batch(c, DEPARTMENT, batch_id))
    assert batch_now["status"] == "answered"
    assert batch_now["counts"]["unanswered"] == 1

    # The corrected file: only Hoa's answer is new.
    report = await tx(conn, lambda c: handlers.import_response(c, DEPARTMENT, batch_id, good_file))
    assert report["applied"] == {"verified": 1, "mismatch": 0, "not_found": 0}
    assert report["already_recorded"] == 5
    assert report["errors"] == [] and report["unanswered_rows"] == []
    assert (await person(conn, hoa))["verification_status"] == "verified"

    # The same file again changes nothing.
    before = await conn.fetch("SELECT sector_id, revision FROM persons ORDER BY sector_id")
    outbox_before = await conn.fetchval("SELECT count(*) FROM outbox")
    report = await tx(conn, lambda c: handlers.import_response(c, DEPARTMENT, batch_id, good_file))
    assert report["applied"] == {"verified": 0, "mismatch": 0, "not_found": 0}
    assert report["already_recorded"] == 6
    assert await conn.fetch("SELECT sector_id, revision FROM persons ORDER BY sector_id") == before
    assert await conn.fetchval("SELECT count(*) FROM outbox") == outbox_before

    # The worklist: both values side by side, only in scope, reads audited.
    items = await tx(
        conn, lambda c: handlers.worklist(c, DEPARTMENT, org_id=None, after=None, limit=50)
    )
    assert {i["sector_id"]: i["differences"] for i in items} == {
        minh: [
            {
                "field": "full_name",
                "ours": "Trần Duc Minh",
                "register": "Trần Đức Minh",
                "kind": "diacritics_only",
                "label": "differs only in diacritics",
            }
        ],
        huong: [
            {
                "field": "birth_date",
                "ours": "02/10/2013",
                "register": "12/10/2013",
                "kind": "different",
                "label": "differs",
            }
        ],
    }
    other_school = Principal("hieu-truong-2", "school", "S-A2")
    assert (
        await tx(
            conn, lambda c: handlers.worklist(c, other_school, org_id=None, after=None, limit=50)
        )
        == []
    )
    reads = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'read' AND entity_id = $1 "
        "AND detail->>'purpose' = 'verification worklist'",
        minh,
    )
    assert reads == 1

    # Taking the register's values corrects the record and publishes the update.
    resolved = await tx(
        conn,
        lambda c: handlers.resolve_item(c, SCHOOL_A1, minh, accept="register", note=None),
    )
    assert resolved["changed_fields"] == ["full_name", "verification_status"]
    minh_now = await person(conn, minh)
    assert (minh_now["full_name"], minh_now["verification_status"], minh_now["revision"]) == (
        "Trần Đức Minh",
        "verified",
        3,
    )
    (updated,) = await events(conn, "identity.person.updated")
    assert updated == {
        "sector_id": minh,
        "revision": 3,
        "changed_fields": ["full_name", "verification_status"],
        "org_id": "S-A1",
        "birth_date": "2012-07-04",
        "sex": "male",
        "verification_status": "verified",
    }
    # Keeping ours needs a reason, and then closes the item without touching the record.
    with pytest.raises(Problem) as no_reason:
        await tx(
            conn, lambda c: handlers.resolve_item(c, DEPARTMENT, huong, accept="ours", note="")
        )
    assert no_reason.value.errors and no_reason.value.errors[0]["field"] == "body.note"
    kept = await tx(
        conn,
        lambda c: handlers.resolve_item(
            c, DEPARTMENT, huong, accept="ours", note="birth certificate checked: 02/10/2013"
        ),
    )
    assert kept["changed_fields"] == []
    assert (await person(conn, huong))["verification_status"] == "mismatch"
    assert (
        await tx(
            conn, lambda c: handlers.worklist(c, DEPARTMENT, org_id=None, after=None, limit=50)
        )
        == []
    )
    with pytest.raises(Problem) as gone:
        await tx(
            conn, lambda c: handlers.resolve_item(c, DEPARTMENT, huong, accept="ours", note="again")
        )
    assert gone.value.status == 404

    # A newcomer, registered after the batch, is still unverified.
    tu = await add_person(conn, "S-B1", "Bùi Văn Tú", "2012-09-09", "male", "031212000007")

    # Rates per school and commune, and the total, from the persons' statuses.
    rates = await tx(conn, lambda c: handlers.rates(c, DEPARTMENT, org_id=None))

    def counts(persons: int, verified: int, mismatch: int, not_found: int, unverified: int):
        share = round(verified / persons, 4) if persons else None
        return {
            "persons": persons,
            "verified": verified,
            "mismatch": mismatch,
            "not_found": not_found,
            "unverified": unverified,
            "verified_share": share,
        }

    assert rates["total"] == counts(7, 4, 1, 1, 1)
    assert {c["org_id"]: {k: c[k] for k in counts(1, 0, 0, 0, 0)} for c in rates["communes"]} == {
        "C-A": counts(5, 3, 1, 1, 0),
        "C-B": counts(2, 1, 0, 0, 1),
    }
    assert {s["org_id"]: {k: s[k] for k in counts(1, 0, 0, 0, 0)} for s in rates["schools"]} == {
        "S-A1": counts(3, 2, 1, 0, 0),
        "S-A2": counts(2, 1, 0, 1, 0),
        "S-B1": counts(2, 1, 0, 0, 1),
    }
    assert rates["schools"][0]["commune_id"] == "C-A"
    assert rates["schools"][0]["verified_share"] == 0.6667
    own = await tx(conn, lambda c: handlers.rates(c, SCHOOL_A1, org_id=None))
    assert own["total"] == counts(3, 2, 1, 0, 0) and own["communes"] == []
    assert [s["org_id"] for s in own["schools"]] == ["S-A1"]
    with pytest.raises(AuthorisationError):
        await tx(conn, lambda c: handlers.rates(c, SCHOOL_A1, org_id="S-B1"))

    # A second batch through the file-exchange port: the request lands in the outbox folder,
    # the answer is collected from the inbox folder.
    second = await tx(
        conn, lambda c: handlers.create_batch(c, DEPARTMENT, sector_ids=[tu, anh], today=TODAY)
    )
    second_id = second["batch_id"]
    assert second_id == "HP-2026-11-0002"
    exchange = FileExchangeRegister(tmp_path)
    await tx(conn, lambda c: handlers.submit_batch(c, DEPARTMENT, second_id, exchange))
    sent = read_request_batch(exchange.request_path(second_id))
    assert [r.record.sector_id for r in sent] == [anh, tu]  # by holding school, then ID
    assert (
        await tx(conn, lambda c: handlers.collect_response(c, DEPARTMENT, second_id, exchange))
        is None
    )

    # A response to another batch, or with a wrong header, is refused as a whole.
    with pytest.raises(Problem) as wrong_batch:
        await tx(conn, lambda c: handlers.import_response(c, DEPARTMENT, second_id, good_file))
    assert wrong_batch.value.status == 422
    assert batch_id in (wrong_batch.value.detail or "")
    bad_header = good_file.replace(b"register_sex", b"register_gender", 1)
    with pytest.raises(Problem) as header:
        await tx(conn, lambda c: handlers.import_response(c, DEPARTMENT, batch_id, bad_header))
    assert header.value.status == 422 and "header" in (header.value.detail or "")

    # Tú's name is corrected after the request left: the answer is recorded, not applied.
    await conn.execute("UPDATE persons SET full_name = 'Bùi Văn Tứ' WHERE sector_id = $1", tu)
    exchange.inbox.mkdir()
    write_response(
        exchange.response_path(second_id),
        simulate_register_response(
            sent,
            {
                "031212000007": RegisterEntry(
                    "031212000007", "Bùi Văn Tú", date(2012, 9, 9), Sex.MALE
                ),
                **register,
            },
        ),
    )
    collected = await tx(
        conn, lambda c: handlers.collect_response(c, DEPARTMENT, second_id, exchange)
    )
    assert collected is not None
    assert collected["applied"] == {"verified": 1, "mismatch": 0, "not_found": 0}
    assert [
        (s["sector_id"], "full_name changed" in s["reason"]) for s in collected["not_applied"]
    ] == [(tu, True)]
    assert (await person(conn, tu))["verification_status"] == "unverified"
    assert (await person(conn, anh))["revision"] == 3


async def _prepare_for_cli(url: str) -> dict[str, str]:
    pool = await create_pool(url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as connection:
            await migrate(connection, "identity", Path("services/identity/migrations"))
            return await build_tree(connection)
    finally:
        await pool.close()


def test_cli_exports_and_imports(fresh_db: str, tmp_path: Path) -> None:
    """The operators' commands, straight on the database (sync: the CLI runs its own loop)."""
    from click.testing import CliRunner

    from services.identity.verification.cli import (
        COMMANDS,
        verification_export,
        verification_import,
    )

    assert [verification_export, verification_import] == COMMANDS
    people = asyncio.run(_prepare_for_cli(fresh_db))
    runner = CliRunner()
    request_path = tmp_path / "request.csv"
    result = runner.invoke(
        verification_export,
        ["--org", "S-A1", "-o", str(request_path), "--database-url", fresh_db],
    )
    assert result.exit_code == 0, result.output
    assert "batch HP-" in result.output and "3 persons" in result.output
    request = read_request_batch(request_path)
    batch_id = request[0].batch_id
    assert sorted(r.record.sector_id for r in request) == sorted(
        people[k] for k in ("anh", "minh", "huong")
    )
    entry = RegisterEntry("031313000001", "Nguyễn Thị Ánh", date(2013, 4, 2), Sex.FEMALE)
    response_path = tmp_path / "response.csv"
    write_response(
        response_path, simulate_register_response(request, {entry.personal_number: entry})
    )
    result = runner.invoke(
        verification_import, [batch_id, str(response_path), "--database-url", fresh_db]
    )
    assert result.exit_code == 0, result.output
    assert "1 verified, 0 mismatch, 2 not found" in result.output

    # Through the exchange folder: the request lands in outbox/, the answer is read from inbox/.
    folder = tmp_path / "exchange"
    result = runner.invoke(
        verification_export,
        ["--org", "S-A2", "--exchange-folder", str(folder), "--database-url", fresh_db],
    )
    assert result.exit_code == 0, result.output
    (request_file,) = (folder / "outbox").iterdir()
    second_id = request_file.name.removesuffix(".request.csv")
    result = runner.invoke(
        verification_import,
        [second_id, "--exchange-folder", str(folder), "--database-url", fresh_db],
    )
    assert result.exit_code == 1 and "no response yet" in result.output
    (folder / "inbox").mkdir()
    answers = simulate_register_response(read_request_batch(request_file), {})
    text = response_bytes(answers).replace(b"NOT_FOUND", b"NOTFOUND", 1)
    (folder / "inbox" / f"{second_id}.response.csv").write_bytes(text)
    result = runner.invoke(
        verification_import,
        [second_id, "--exchange-folder", str(folder), "--database-url", fresh_db],
    )
    # One line reported, the other applied: exit status 1 and the line named.
    assert result.exit_code == 1, result.output
    assert "0 verified, 0 mismatch, 1 not found" in result.output
    assert "line 2 (row 1) result" in result.output
    result = runner.invoke(
        verification_import, ["HP-1999-01-0001", str(response_path), "--database-url", fresh_db]
    )
    assert result.exit_code == 1 and "no verification batch HP-1999-01-0001" in result.output
