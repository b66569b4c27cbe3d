"""The legacy import against a real PostgreSQL: matching quality, the ID map, aliases, outbox,
rejected rows, crash recovery and re-runs."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.identity import person_store
from services.identity.legacy import load
from services.identity.legacy.cli import run_import
from services.identity.legacy.load import LoadSettings, MapStatus, load_persons
from services.identity.legacy.plan import build_plan, match_rows
from services.identity.legacy.report import ImportSummary
from services.identity.legacy.rows import read_export
from services.identity.legacy.synthetic import (
    SyntheticExports,
    found_pairs,
    recall_and_precision,
    write_exports,
)
from shared.db.migrations import migrate

pytestmark = pytest.mark.integration

SCHOOLS = {
    "HP": ["HP-THCS-LECHAN", "HP-TH-NGOQUYEN", "HP-THPT-TRANPHU"],
    "HD": ["HD-THCS-NAMSACH", "HD-TH-CHILINH"],
}
TABLES = ("persons", "person_aliases", "outbox", "duplicate_candidates", "sector_id_sequences")


async def _prepare(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await migrate(conn, "identity", Path("services/identity/migrations"))
    await conn.execute(
        "INSERT INTO organisations (org_id, kind, name, parent_id, valid_from) VALUES "
        "('HP', 'province', 'Thành phố Hải Phòng', NULL, '2025-07-01'), "
        "('HP-LECHAN', 'commune', 'Phường Lê Chân', 'HP', '2025-07-01')"
    )
    await conn.executemany(
        "INSERT INTO organisations (org_id, kind, name, parent_id, valid_from) "
        "VALUES ($1, 'school', $1, 'HP-LECHAN', '2025-07-01')",
        [(org_id,) for ids in SCHOOLS.values() for org_id in ids],
    )
    return conn


def _exports(
    folder: Path,
    *,
    learners: int = 5_000,
    staff: int = 500,
    exact_duplicates: int = 300,
    near_duplicates: int = 150,
    broken_rows: int = 20,
) -> SyntheticExports:
    folder.mkdir()
    return write_exports(
        folder,
        learners=learners,
        staff=staff,
        exact_duplicates=exact_duplicates,
        near_duplicates=near_duplicates,
        broken_rows=broken_rows,
        org_ids=SCHOOLS,
        excel_sources=("HD",),
        seed=11,
    )


async def _import(
    url: str, exports: SyntheticExports, out: Path, batch_size: int = 700
) -> tuple[ImportSummary, dict[str, Any]]:
    return await run_import(
        exports=exports.paths,
        database_url=url,
        out_dir=out,
        province_code=31,
        actor="test:legacy-import",
        batch_size=batch_size,
        progress=False,
    )


async def _table_counts(conn: asyncpg.Connection) -> dict[str, int]:
    return {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES}


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


async def test_import_merges_duplicates_maps_every_row_and_reruns_as_a_no_op(fresh_db, tmp_path):
    conn = await _prepare(fresh_db)
    exports = _exports(tmp_path / "exports")
    summary, counts = await _import(fresh_db, exports, tmp_path / "first")

    # Matching quality against the planted truth: automatic merges plus the review queue.
    recall, precision = recall_and_precision(exports.same_person, found_pairs(summary.outcome))
    print(f"\nlegacy import: recall {recall:.4f}, precision {precision:.4f}")
    assert recall >= 0.95
    assert precision >= 0.95

    # Every valid row is in the map exactly once; the counts add up per source.
    id_map = _read_csv(tmp_path / "first" / "legacy_id_map.csv")
    mapped = Counter((row["source"], row["legacy_id"]) for row in id_map)
    assert set(mapped.values()) == {1}
    valid = {(row.source, row.legacy_id) for export in summary.exports for row in export.rows}
    assert set(mapped) == valid
    assert counts["balanced"]
    for source, rows_written in exports.rows.items():
        assert counts["sources"][source]["rows_read"] == rows_written
    statuses = Counter(row["status"] for row in id_map)
    assert statuses["created"] == counts["totals"]["persons_created"] > 0
    assert statuses["merged"] == counts["totals"]["rows_merged_automatically"] > 0

    # Aliases resolve to the mapped person; rows that are one person share one sector ID.
    sector_of = {f"{row['source']}:{row['legacy_id']}": row["sector_id"] for row in id_map}
    for alias, sector_id in list(sector_of.items())[::25]:
        resolved = await person_store.resolve(conn, alias)
        assert resolved is not None and resolved["sector_id"] == sector_id
    for pair in exports.same_person:
        a, b = sorted(pair)
        if a in sector_of and b in sector_of and sector_of[a] == sector_of[b]:
            resolved = await person_store.resolve(conn, b)
            assert resolved is not None and resolved["sector_id"] == sector_of[a]

    # One identity.person.registered per created person, nothing else.
    tables = await _table_counts(conn)
    assert tables["persons"] == counts["totals"]["persons_created"]
    assert tables["person_aliases"] == len(id_map)
    events = await conn.fetch("SELECT message_key, event_type, topic, payload FROM outbox")
    assert len(events) == tables["persons"]
    assert {e["event_type"] for e in events} == {"identity.person.registered"}
    keys = Counter(e["message_key"] for e in events)
    persons = {r["sector_id"] for r in await conn.fetch("SELECT sector_id FROM persons")}
    assert set(keys) == persons and set(keys.values()) == {1}
    envelope = json.loads(events[0]["payload"])
    assert envelope["type"] == "identity.person.registered"
    assert envelope["source"] == "/eduhub/identity"
    assert envelope["subject"] == envelope["data"]["sector_id"] == events[0]["message_key"]

    # Sequences were allocated in blocks without gaps.
    sequences = await conn.fetch("SELECT kind, last_sequence FROM sector_id_sequences")
    assert sum(r["last_sequence"] for r in sequences) == tables["persons"]

    # Review pairs are stored with person_a < person_b and listed side by side.
    candidates = await conn.fetch("SELECT person_a, person_b, decision FROM duplicate_candidates")
    assert len(candidates) == counts["totals"]["pairs_queued_for_review"]
    assert all(c["person_a"] < c["person_b"] and c["decision"] == "review" for c in candidates)
    queue = _read_csv(tmp_path / "first" / "review_queue.csv")
    assert len(queue) == len(candidates)
    assert all(row["a_full_name"] and row["b_full_name"] and row["reasons"] for row in queue)

    # Rejected rows: reported with row, field and rule, and the rest of the file went in.
    rejected = _read_csv(tmp_path / "first" / "rejected_rows.csv")
    reported = {(r["source"], int(r["row"]), r["field"], r["rule"]) for r in rejected}
    planted = {(e.source, e.row_number, e.field, e.rule) for e in exports.planted_errors}
    assert reported == planted
    assert counts["totals"]["rejected_rows"] == len(planted)

    # One audit entry per batch, by the command's actor.
    audit = await conn.fetch("SELECT actor, detail FROM audit_log WHERE action = 'import'")
    assert len(audit) == summary.outcome.batches
    assert {a["actor"] for a in audit} == {"test:legacy-import"}

    # The human-readable reconciliation names every phase.
    markdown = (tmp_path / "first" / "reconciliation.md").read_text()
    for phase in ("read HP", "read HD", "match", "plan", "load persons", "queue reviews"):
        assert f"| {phase} |" in markdown

    # Running the same import again creates nothing.
    before = await _table_counts(conn)
    summary2, counts2 = await _import(fresh_db, exports, tmp_path / "second")
    assert await _table_counts(conn) == before
    assert {entry.status for entry in summary2.outcome.id_map} == {MapStatus.ALREADY_IMPORTED}
    assert len(summary2.outcome.id_map) == len(id_map)
    assert counts2["totals"]["persons_created"] == 0
    assert counts2["totals"]["pairs_queued_for_review"] == 0
    assert counts2["balanced"]
    rerun_map = _read_csv(tmp_path / "second" / "legacy_id_map.csv")
    assert {(r["source"], r["legacy_id"], r["sector_id"]) for r in rerun_map} == {
        (r["source"], r["legacy_id"], r["sector_id"]) for r in id_map
    }
    await conn.close()


async def test_a_crash_loses_one_batch_and_the_rerun_completes_the_import(
    fresh_db, tmp_path, monkeypatch
):
    conn = await _prepare(fresh_db)
    exports = _exports(
        tmp_path / "exports", learners=1_500, staff=100, exact_duplicates=80, near_duplicates=40
    )
    known = {org_id for ids in SCHOOLS.values() for org_id in ids}
    rows = [
        row
        for source, path in exports.paths.items()
        for row in read_export(path, source=source, known_org_ids=known, today=date.today()).rows
    ]
    plan = build_plan(rows, match_rows(rows))
    settings = LoadSettings(
        province_code=31, issue_year=date.today().year, actor="test", run_id="crash", batch_size=200
    )

    original_audit = load._audit_batch

    async def crash_in_third_batch(
        conn: asyncpg.Connection, settings: LoadSettings, batch_number: int, *args: Any
    ) -> None:
        if batch_number == 3:
            raise RuntimeError("power cut")
        await original_audit(conn, settings, batch_number, *args)

    monkeypatch.setattr(load, "_audit_batch", crash_in_third_batch)
    with pytest.raises(RuntimeError, match="power cut"):
        await load_persons(conn, plan, settings)
    monkeypatch.undo()

    # The two committed batches are complete; the third left nothing, not even sequence numbers.
    assert await conn.fetchval("SELECT count(*) FROM persons") == 400
    assert await conn.fetchval("SELECT sum(last_sequence) FROM sector_id_sequences") == 400
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 400
    loaded_aliases = await conn.fetchval("SELECT count(*) FROM person_aliases")
    assert loaded_aliases == sum(len(p.aliases) for p in plan.persons[:400])

    summary, counts = await _import(fresh_db, exports, tmp_path / "after-crash")
    statuses = Counter(entry.status for entry in summary.outcome.id_map)
    assert statuses[MapStatus.ALREADY_IMPORTED] == loaded_aliases
    assert await conn.fetchval("SELECT count(*) FROM persons") == len(plan.persons)
    assert await conn.fetchval("SELECT count(*) FROM outbox") == len(plan.persons)
    assert await conn.fetchval("SELECT sum(last_sequence) FROM sector_id_sequences") == len(
        plan.persons
    )
    assert counts["balanced"]
    await conn.close()


async def test_a_personal_number_already_in_the_registry_is_withheld_and_queued(fresh_db, tmp_path):
    conn = await _prepare(fresh_db)
    exports = _exports(
        tmp_path / "exports",
        learners=300,
        staff=20,
        exact_duplicates=10,
        near_duplicates=5,
        broken_rows=0,
    )
    known = {org_id for ids in SCHOOLS.values() for org_id in ids}
    first = read_export(exports.paths["HP"], source="HP", known_org_ids=known, today=date.today())
    row = next(r for r in first.rows if r.personal_number)
    # Registered through the API before the import, under a slightly different name.
    await conn.execute(
        "INSERT INTO persons (sector_id, kind, full_name, name_normalised, birth_date, sex, "
        "personal_number, org_id) VALUES ('HS-31-2024-0000001-0', $1, $2, $3, $4, $5, $6, $7)",
        row.kind,
        row.full_name.upper(),
        row.full_name.lower(),
        row.birth_date,
        row.sex.value,
        row.personal_number,
        row.org_id,
    )
    summary, counts = await _import(fresh_db, exports, tmp_path / "report")

    sector_id = next(e.sector_id for e in summary.outcome.id_map if e.alias == row.alias)
    stored = await conn.fetchrow(
        "SELECT personal_number FROM persons WHERE sector_id = $1", sector_id
    )
    assert stored is not None and stored["personal_number"] is None
    candidate = await conn.fetchrow(
        "SELECT person_a, person_b, reasons FROM duplicate_candidates "
        "WHERE 'HS-31-2024-0000001-0' IN (person_a, person_b)"
    )
    assert candidate is not None
    assert {candidate["person_a"], candidate["person_b"]} == {"HS-31-2024-0000001-0", sector_id}
    assert any("already held by" in reason for reason in json.loads(candidate["reasons"]))
    assert counts["totals"]["personal_numbers_withheld"] >= 1
    # The review queue shows the registry person beside the legacy row.
    queue = _read_csv(tmp_path / "report" / "review_queue.csv")
    sides = [r for r in queue if "HS-31-2024-0000001-0" in (r["a_sector_id"], r["b_sector_id"])]
    assert len(sides) == 1 and "registry" in (sides[0]["a_source"], sides[0]["b_source"])
    await conn.close()
