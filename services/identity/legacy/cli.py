"""`eduhub identity import-legacy` and `eduhub identity bench-import`.

The lead attaches ``COMMANDS`` to the ``eduhub identity`` group. :func:`run_import` is the whole
pipeline (read, match, plan, load, report) as one coroutine, so tests and the benchmark run
exactly what the command runs.
"""

from __future__ import annotations

import asyncio
import gc
import getpass
import os
import resource
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import click
from tqdm import tqdm

from services.identity.domain.matching import PersonRecord
from services.identity.legacy.load import LoadSettings, import_lock, load_persons, queue_reviews
from services.identity.legacy.plan import build_plan, match_rows
from services.identity.legacy.report import (
    ImportSummary,
    PhaseTimer,
    write_detail_files,
    write_reconciliation,
)
from services.identity.legacy.rows import read_export
from services.identity.legacy.synthetic import (
    SyntheticExports,
    found_pairs,
    recall_and_precision,
    write_exports,
)
from shared.vietnam_time import today_in_vietnam

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


async def run_import(
    *,
    exports: dict[str, Path],
    database_url: str,
    out_dir: Path,
    province_code: int,
    actor: str,
    batch_size: int = 5_000,
    today: date | None = None,
    progress: bool = True,
) -> tuple[ImportSummary, dict[str, Any]]:
    """Import the exports (source name -> file, in order) and write the report into
    ``out_dir``; returns the summary and the reconciliation counts."""
    today = today or today_in_vietnam()
    started_at = datetime.now(UTC)
    run_id = f"legacy-import-{started_at:%Y%m%dT%H%M%SZ}"
    timer = PhaseTimer()
    known_org_ids, actor_org = await _registry_context(database_url)
    results = []
    for source, path in exports.items():
        with timer.phase(f"read {source}") as counted, _bar(f"read {source}", progress) as bar:
            result = read_export(
                path,
                source=source,
                known_org_ids=known_org_ids,
                today=today,
                on_progress=bar.update,
            )
            counted.append(result.rows_read)
        results.append(result)
    rows = [row for result in results for row in result.rows]

    with timer.phase("match", rows=len(rows)):
        match = match_rows(rows, track=_tracker("match (prepare, then score)", len(rows), progress))
    with timer.phase("plan", rows=len(rows)):
        plan = build_plan(rows, match)

    settings = LoadSettings(
        province_code=province_code,
        issue_year=today.year,
        actor=actor,
        actor_org=actor_org,
        run_id=run_id,
        batch_size=batch_size,
    )
    # The rows and the plan live until the end. Freezing them spares the cyclic collector from
    # walking millions of long-lived objects on every full collection while the load creates
    # tuples by the million (about a tenth of the load's time at 200,000 rows).
    gc.freeze()
    conn = await asyncpg.connect(database_url)  # opened only now: matching takes minutes
    try:
        async with import_lock(conn):
            with (
                timer.phase("load persons", rows=len(plan.persons)),
                _bar("load persons", progress, total=len(plan.persons)) as bar,
            ):
                outcome = await load_persons(conn, plan, settings, on_persons=bar.update)
            with (
                timer.phase("queue reviews", rows=len(plan.review_pairs)),
                _bar("queue reviews", progress, total=len(plan.review_pairs)) as bar,
            ):
                await queue_reviews(conn, plan, settings, outcome, on_reviews=bar.update)
    finally:
        gc.unfreeze()
        await conn.close()

    summary = ImportSummary(
        run_id=run_id,
        started_at=started_at,
        finished_at=started_at,
        database=_describe_database(database_url),
        exports=results,
        plan=plan,
        outcome=outcome,
        phases=timer.phases,
    )
    with timer.phase("report", rows=len(outcome.id_map)):
        write_detail_files(out_dir, summary)
    summary.finished_at = datetime.now(UTC)
    return summary, write_reconciliation(out_dir, summary)


async def _registry_context(database_url: str) -> tuple[set[str], str]:
    """The organisation IDs rows may name, and the province the import acts for (audit)."""
    conn = await asyncpg.connect(database_url)
    try:
        org_ids = {row["org_id"] for row in await conn.fetch("SELECT org_id FROM organisations")}
        province = await conn.fetchval(
            "SELECT org_id FROM organisations WHERE kind = 'province' AND parent_id IS NULL "
            "AND valid_to IS NULL ORDER BY org_id LIMIT 1"
        )
    finally:
        await conn.close()
    return org_ids, province or ""


def _bar(description: str, enabled: bool, total: int | None = None) -> tqdm[Any]:
    return tqdm(total=total, desc=description, unit=" rows", disable=not enabled, leave=True)


def _tracker(
    description: str, total: int, enabled: bool
) -> Callable[[Iterable[PersonRecord]], Iterable[PersonRecord]]:
    def track(records: Iterable[PersonRecord]) -> Iterable[PersonRecord]:
        return tqdm(records, total=total, desc=description, unit=" rows", disable=not enabled)

    return track


def _describe_database(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


def _default_out_dir() -> Path:
    return Path(f"legacy-import-{datetime.now():%Y%m%d-%H%M%S}")


def _print_counts(counts: dict[str, Any]) -> None:
    totals = counts["totals"]
    for name, source in counts["sources"].items():
        click.echo(
            f"{name}: read {source['rows_read']:,}, rejected {source['rejected_rows']:,}, "
            f"created {source['created']:,}, merged {source['merged']:,}, "
            f"already imported {source['already_imported']:,}"
        )
    click.echo(
        f"persons created {totals['persons_created']:,}; pairs queued for review "
        f"{totals['pairs_queued_for_review']:,}; balanced: {counts['balanced']}"
    )
    for phase in counts["phases"]:
        rate = phase["rows_per_second"]
        click.echo(
            f"  {phase['name']:<16} {phase['seconds']:>8.1f} s"
            + (f"  {rate:>10,} rows/s" if rate is not None else "")
        )


@click.command("import-legacy")
@click.argument("hp_export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("hd_export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--database-url",
    default=lambda: os.environ.get("DATABASE_URL"),
    help="The identity database [default: $DATABASE_URL].",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the report [default: ./legacy-import-<timestamp>].",
)
@click.option("--province-code", default=31, show_default=True, help="Issuing province of IDs.")
@click.option(
    "--sources",
    default="HP,HD",
    show_default=True,
    help="Names of the two exports' systems, used in aliases (HP:12345).",
)
@click.option(
    "--actor",
    default=lambda: f"cli:{getpass.getuser()}",
    help="Who runs the import, for the audit log [default: cli:<user>].",
)
@click.option("--batch-size", default=5_000, show_default=True, help="Persons per transaction.")
def import_legacy(
    hp_export: Path,
    hd_export: Path,
    database_url: str | None,
    out_dir: Path | None,
    province_code: int,
    sources: str,
    actor: str,
    batch_size: int,
) -> None:
    """Import the Hải Phòng and Hải Dương legacy exports (CSV or .xlsx) into the registry.

    Safe to run again: rows imported before are reported as already_imported."""
    if not database_url:
        raise click.UsageError("give --database-url or set DATABASE_URL")
    names = [name.strip() for name in sources.split(",") if name.strip()]
    if len(names) != 2 or names[0] == names[1] or any(":" in name for name in names):
        raise click.BadParameter(
            "two different names without ':', e.g. HP,HD", param_hint="--sources"
        )
    out = out_dir or _default_out_dir()
    _, counts = asyncio.run(
        run_import(
            exports={names[0]: hp_export, names[1]: hd_export},
            database_url=database_url,
            out_dir=out,
            province_code=province_code,
            actor=actor,
            batch_size=batch_size,
        )
    )
    _print_counts(counts)
    click.echo(f"report in {out}")
    if not counts["balanced"]:
        raise click.ClickException("the counts do not add up; see reconciliation.md")


@click.command("bench-import")
@click.option("--learners", default=1_000_000, show_default=True)
@click.option("--staff", default=62_000, show_default=True)
@click.option(
    "--database-url",
    default=lambda: os.environ.get("DATABASE_URL"),
    help="An empty identity database to fill [default: $DATABASE_URL].",
)
@click.option("--seed", default=2025, show_default=True)
@click.option("--batch-size", default=5_000, show_default=True)
def bench_import(
    learners: int, staff: int, database_url: str | None, seed: int, batch_size: int
) -> None:
    """Time the full import of two synthetic exports (3% exact and 1.5% near duplicates,
    0.1% broken rows) against an empty database, next to the raw COPY rate of that database."""
    if not database_url:
        raise click.UsageError("give --database-url or set DATABASE_URL")
    asyncio.run(_bench(learners, staff, database_url, seed, batch_size))


async def _bench(learners: int, staff: int, database_url: str, seed: int, batch_size: int) -> None:
    from shared.db.migrations import migrate

    total_rows = learners + staff
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn, "identity", MIGRATIONS)
        if await conn.fetchval("SELECT count(*) FROM persons"):
            raise click.ClickException("bench-import needs an empty identity database")
        org_ids = await _seed_bench_organisations(conn)
        copy_rate = await _raw_copy_rate(conn, min(total_rows, 200_000))
    finally:
        gc.unfreeze()
        await conn.close()

    with tempfile.TemporaryDirectory(prefix="eduhub-bench-import-") as folder:
        started = time.perf_counter()
        exports = write_exports(
            Path(folder),
            learners=learners,
            staff=staff,
            exact_duplicates=total_rows * 3 // 100,
            near_duplicates=total_rows * 15 // 1000,
            broken_rows=total_rows // 1000,
            org_ids=org_ids,
            seed=seed,
        )
        generated = time.perf_counter() - started
        click.echo(f"generated {sum(exports.rows.values()):,} rows in {generated:.1f} s")
        summary, counts = await run_import(
            exports=exports.paths,
            database_url=database_url,
            out_dir=Path(folder) / "report",
            province_code=31,
            actor="cli:bench-import",
            batch_size=batch_size,
        )
    _print_bench(summary, counts, exports, copy_rate)


def _print_bench(
    summary: ImportSummary, counts: dict[str, Any], exports: SyntheticExports, copy_rate: float
) -> None:
    _print_counts(counts)
    rows_read = counts["totals"]["rows_read"]
    total = sum(phase["seconds"] for phase in counts["phases"])
    recall, precision = recall_and_precision(exports.same_person, found_pairs(summary.outcome))
    load = next(p for p in counts["phases"] if p["name"] == "load persons")
    persons_rate = load["rows_per_second"] or 0
    click.echo(f"total {total:.1f} s for {rows_read:,} rows = {rows_read / total:,.0f} rows/s")
    click.echo(
        f"load persons {persons_rate:,} persons/s (each: person, aliases, outbox event) vs raw "
        f"COPY into an unindexed table of the same database {copy_rate:,.0f} rows/s"
    )
    click.echo(
        f"matching against the planted truth: recall {recall:.4f}, precision {precision:.4f}"
    )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    click.echo(f"peak memory (max RSS) {peak_mib:,.0f} MiB")


async def _seed_bench_organisations(conn: asyncpg.Connection) -> dict[str, list[str]]:
    """A province, one commune per legacy source and 40 schools under each."""
    schools = {
        source: [f"BENCH-{source}-S{n:03d}" for n in range(1, 41)] for source in ("HP", "HD")
    }
    rows: list[tuple[str, str, str, str | None]] = [
        ("BENCH-PROVINCE", "province", "Bench province", None)
    ]
    for source, ids in schools.items():
        rows.append((f"BENCH-{source}", "commune", f"Bench commune {source}", "BENCH-PROVINCE"))
        rows += [(org_id, "school", f"Bench school {org_id}", f"BENCH-{source}") for org_id in ids]
    await conn.executemany(
        "INSERT INTO organisations (org_id, kind, name, parent_id, valid_from) "
        "VALUES ($1, $2, $3, $4, DATE '2025-07-01') ON CONFLICT (org_id) DO NOTHING",
        rows,
    )
    return schools


async def _raw_copy_rate(conn: asyncpg.Connection, rows: int) -> float:
    """Rows per second of one plain COPY of person-shaped rows into a table without indexes."""
    await conn.execute(
        "CREATE TABLE legacy_bench_copy_probe (sector_id text, kind text, full_name text, "
        "name_normalised text, birth_date date, sex text, personal_number text, "
        "birthplace text, guardian_name text, org_id text)"
    )
    try:
        records = [
            (
                f"HS-31-2026-{n:07d}-0",
                "learner",
                "Nguyễn Thị Ánh",
                "nguyen thi anh",
                date(2014, 3, 8),
                "female",
                f"031314{n % 1_000_000:06d}",
                "Phường Lê Chân, Hải Phòng",
                "Nguyễn Văn Bình",
                "BENCH-HP-S001",
            )
            for n in range(rows)
        ]
        started = time.perf_counter()
        await conn.copy_records_to_table("legacy_bench_copy_probe", records=records)
        return rows / (time.perf_counter() - started)
    finally:
        await conn.execute("DROP TABLE legacy_bench_copy_probe")


COMMANDS = [import_legacy, bench_import]
