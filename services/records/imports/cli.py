"""`eduhub records import-file` and `eduhub records bench-health` (the lead attaches
``COMMANDS`` to the ``eduhub records`` group).

import-file sends a file through the records API. A file longer than --chunk-rows goes as
several imports of that many rows (CSV, with a `source_row` column so every result keeps the
row's line in the original file); each part has an Idempotency-Key derived from the file's
SHA-256, so running the command again after a failure replays the parts already done instead
of importing them twice.

bench-health times a province's health campaign: synthetic learners (enrolled, with sex and
birth date), one campaign's measurements as one CSV file, the import through the same code
the API runs (`framework.run_import`, one transaction per part as import-file sends them),
then the outbox relay (`shared.outbox.relay.publish_pending`) to a broker if one is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gc
import hashlib
import io
import os
import random
import resource
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import click
import httpx
from tqdm import tqdm

from shared.tabular import TableError, TableRow, read_table

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


# --- import-file --------------------------------------------------------------------------------


def split_file(
    content: bytes, name: str, chunk_rows: int, key_columns: Sequence[str] = ()
) -> Iterator[tuple[bytes, str, str, int]]:
    """(body, file name, content type, rows) per part: the file itself when it is short, else
    CSV parts of about `chunk_rows` rows with the original line numbers in `source_row`.

    Rows that give the same record (same `key_columns`) go in the part of the last of them, so
    the server sees them together and keeps only the last, as it would for the whole file."""
    try:
        header, rows = read_table(content, name)
    except TableError as exc:
        raise click.ClickException(f"{name}: {exc}") from None
    if len(rows) <= chunk_rows:
        is_xlsx = name.lower().endswith(".xlsx") or content[:2] == b"PK"
        yield content, name, XLSX if is_xlsx else "text/csv", len(rows)
        return
    columns = [c for c in header if c and c != "source_row"]
    parts: list[list[TableRow]] = [[] for _ in range((len(rows) + chunk_rows - 1) // chunk_rows)]
    last: dict[tuple[str, ...], int] = {}
    if key_columns:
        for index, row in enumerate(rows):
            key = tuple(row.values.get(c, "") for c in key_columns)
            if all(key):
                last[key] = index
    for index, row in enumerate(rows):
        key = tuple(row.values.get(c, "") for c in key_columns)
        parts[last.get(key, index) // chunk_rows].append(row)
    parts = [part for part in parts if part]
    for number, part in enumerate(parts, start=1):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([*columns, "source_row"])
        for row in sorted(part, key=lambda r: r.line):
            writer.writerow([*(row.values.get(c, "") for c in columns), row.line])
        yield out.getvalue().encode(), f"{name}#{number}of{len(parts)}", "text/csv", len(part)


def _key_columns(client: httpx.Client, records_url: str, kind: str) -> list[str]:
    """The kind's key columns, from the service (empty if it cannot say)."""
    try:
        response = client.get(f"{records_url.rstrip('/')}/imports")
        response.raise_for_status()
    except httpx.HTTPError:
        return []
    for info in response.json():
        if info.get("kind") == kind:
            return list(info.get("key_columns", []))
    return []


def _post_part(
    client: httpx.Client, url: str, body: bytes, content_type: str, key: str, name: str
) -> dict[str, Any]:
    for attempt in range(4):
        try:
            response = client.post(
                url,
                content=body,
                params={"filename": name},
                headers={"Content-Type": content_type, "Idempotency-Key": key},
            )
        except httpx.TransportError as exc:
            if attempt == 3:
                raise click.ClickException(f"{url}: {exc}") from None
        else:
            if response.status_code < 500 or attempt == 3:
                if response.status_code >= 400:
                    raise click.ClickException(f"{name}: {response.status_code} {response.text}")
                replayed = response.headers.get("Idempotency-Replayed") == "true"
                return {**response.json(), "replayed": replayed}
        time.sleep(2**attempt)  # the same key makes the retry safe
    raise AssertionError("unreachable")


@click.command("import-file")
@click.argument("kind")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--records-url",
    envvar="EDUHUB_RECORDS_URL",
    default="http://127.0.0.1:8002",
    show_default=True,
    help="The records service [env EDUHUB_RECORDS_URL].",
)
@click.option("--token", envvar="EDUHUB_TOKEN", required=True, help="Bearer token [EDUHUB_TOKEN].")
@click.option(
    "--chunk-rows",
    default=50_000,
    show_default=True,
    help="Rows per request: a longer file goes as several imports.",
)
@click.option(
    "--result",
    "result_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the outcome of every row here (row, outcome, record_id, errors).",
)
def import_file(
    kind: str, file: Path, records_url: str, token: str, chunk_rows: int, result_path: Path | None
) -> None:
    """Import FILE (CSV or .xlsx) of KIND (health, swim, ...) through the records API."""
    content = file.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    url = f"{records_url.rstrip('/')}/imports/{kind}"
    totals = {"rows": 0, "accepted": 0, "unchanged": 0, "rejected": 0}
    summaries: list[dict[str, Any]] = []
    with (
        httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=900) as client,
        tqdm(desc=f"import {file.name}", unit=" rows") as bar,
    ):
        keys = _key_columns(client, records_url, kind)
        for number, (body, name, content_type, rows) in enumerate(
            split_file(content, file.name, chunk_rows, keys), start=1
        ):
            key = f"import-file:{kind}:{digest}:{chunk_rows}:{number}"
            summary = _post_part(client, url, body, content_type, key, name)
            summaries.append(summary)
            for counter in totals:
                totals[counter] += int(summary[counter])
            bar.update(rows)
        if result_path is not None:
            _write_results(client, records_url, summaries, result_path)
    click.echo(
        f"{file.name}: {totals['rows']:,} rows: {totals['accepted']:,} accepted, "
        f"{totals['unchanged']:,} unchanged, {totals['rejected']:,} rejected"
    )
    for summary in summaries:
        again = ", answer of an earlier run of this file" if summary["replayed"] else ""
        click.echo(
            f"  import {summary['import_id']} ({summary['file_name']}, {summary['path']}{again})"
        )
        for rejection in summary["rejections"][:5]:
            errors = "; ".join(
                f"{e['field']} [{e['rule']}]: {e['message']}" for e in rejection["errors"]
            )
            click.echo(f"    row {rejection['row']}: {errors}")
    if result_path is not None:
        click.echo(f"results of every row in {result_path}")


def _write_results(
    client: httpx.Client, records_url: str, summaries: list[dict[str, Any]], path: Path
) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        for index, summary in enumerate(summaries):
            response = client.get(f"{records_url.rstrip('/')}{summary['result']}")
            response.raise_for_status()
            text = response.content.decode("utf-8-sig")
            if index:
                text = text.split("\n", 1)[1] if "\n" in text else ""
            out.write(text)


# --- bench-health -------------------------------------------------------------------------------

CAMPAIGN = "BENCH-HK1"
TODAY = date(2025, 10, 31)
EYESIGHT = ["10/10"] * 12 + ["9/10", "8/10", "7/10", "6/10", "5/10", "4/10", "3/10", "20/40"]
CONDITIONS = [""] * 14 + ["myopia"] * 4 + ["myopia;astigmatism", "hyperopia", "strabismus"]


@dataclass
class Timed:
    """Wall time spent waiting on the database (a proxy around the connection)."""

    conn: Any
    seconds: float = 0.0

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.conn, name)
        if name not in ("fetch", "fetchrow", "fetchval", "execute", "executemany",
                        "copy_records_to_table"):  # fmt: skip
            return target

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await target(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


@dataclass
class Phase:
    name: str
    seconds: float
    count: int
    unit: str = "rows"


@dataclass
class BenchReport:
    phases: list[Phase] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, seconds: float, count: int, unit: str = "rows") -> None:
        self.phases.append(Phase(name, seconds, count, unit))

    def print(self) -> None:
        click.echo(f"{'phase':<44}{'seconds':>10}{'per second':>16}")
        for p in self.phases:
            rate = p.count / p.seconds if p.seconds else 0
            click.echo(f"{p.name:<44}{p.seconds:>10.1f}{rate:>12,.0f} {p.unit}")
        for note in self.notes:
            click.echo(note)


def _synthetic(learners: int, schools: int, seed: int) -> dict[str, Any]:
    """Learners spread over schools of 114 communes, grades 1-12, sex and birth date known."""
    rng = random.Random(seed)
    communes = [f"BX{n:03d}" for n in range(114)]
    school_ids = [f"BS{n:04d}" for n in range(schools)]
    learner_rows, enrolment_rows, measured = [], [], []
    for n in range(learners):
        school = school_ids[n * schools // learners]
        grade = rng.randint(1, 12)
        sex = "male" if rng.random() < 0.51 else "female"
        born = date(2025 - 6 - grade, 1, 1) + timedelta(days=rng.randint(0, 364))
        learner = f"BL{n:09d}"
        learner_rows.append((learner, 1, sex, born))
        enrolment_rows.append(
            (uuid.uuid4(), learner, school, "2025-2026", grade, f"{school}-{grade}{'ABCD'[n % 4]}",
             date(2025, 9, 5))
        )  # fmt: skip
        measured.append((learner, school, sex, born))
    return {
        "communes": communes,
        "schools": school_ids,
        "learners": learner_rows,
        "enrolments": enrolment_rows,
        "measured": measured,
    }


def _measurement_csv(
    measured: list[tuple[str, str, str, date]], invalid: float, seed: int
) -> bytes:
    """One campaign's CSV: plausible growth with noise; a share of typing errors (a height in
    millimetres) that the plausibility check rejects."""
    rng = random.Random(seed + 1)
    out = io.StringIO()
    out.write(
        "learner_id,school_id,campaign_id,measured_on,height_cm,weight_kg,eyesight_left,"
        "eyesight_right,eye_conditions\n"
    )
    for learner, school, sex, born in measured:
        on = date(2025, 9, 15) + timedelta(days=rng.randint(0, 40))
        age = (on - born).days / 365.25
        top = 175.0 if sex == "male" else 160.0
        height = min(top, 80 + 6 * age) + rng.gauss(0, 5)
        bmi = 14.5 + 0.45 * max(age - 5, 0) + rng.gauss(0, 1.5)
        weight = bmi * (height / 100) ** 2
        if rng.random() < invalid:
            height *= 10  # millimetres typed as centimetres
        out.write(
            f"{learner},{school},{CAMPAIGN},{on.isoformat()},{height:.1f},{weight:.1f},"
            f"{rng.choice(EYESIGHT)},{rng.choice(EYESIGHT)},{rng.choice(CONDITIONS)}\n"
        )
    return out.getvalue().encode()


async def _setup(conn: Any, data: dict[str, Any]) -> None:
    from services.records.health import handlers
    from shared.auth import Principal

    org_rows: list[tuple[str, int, str, str, str | None, str | None, date]] = [
        ("HP", 1, "province", "Thành phố Hải Phòng", None, None, date(2025, 7, 1))
    ]
    org_rows += [
        (c, 1, "commune", f"Xã {c}", "HP", None, date(2025, 7, 1)) for c in data["communes"]
    ]
    communes = data["communes"]
    org_rows += [
        (
            s,
            1,
            "school",
            f"Trường {s}",
            communes[i % len(communes)],
            "multi_level",
            date(2025, 7, 1),
        )
        for i, s in enumerate(data["schools"])
    ]
    await conn.copy_records_to_table(
        "org_units",
        records=org_rows,
        columns=("org_id", "revision", "kind", "name", "parent_id", "school_type", "valid_from"),
    )
    await conn.copy_records_to_table(
        "learners",
        records=data["learners"],
        columns=("learner_id", "revision", "sex", "birth_date"),
    )
    await conn.copy_records_to_table(
        "enrolments",
        records=data["enrolments"],
        columns=("enrolment_id", "learner_id", "school_id", "school_year", "grade", "class_id",
                 "enrolled_on"),
    )  # fmt: skip
    await conn.execute("ANALYZE")
    async with conn.transaction():
        await handlers.create_campaign(
            conn,
            Principal("bench", "department", "HP"),
            campaign_id=CAMPAIGN,
            org_id="HP",
            name="Khám sức khỏe đầu năm (bench)",
            school_year="2025-2026",
            term=1,
            starts_on=date(2025, 9, 15),
            ends_on=date(2025, 10, 31),
        )


def _process_cpu(pid: int) -> float | None:
    """CPU seconds of a local process (the database backend), None if it is not readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _raw_copy(conn: Any, rows: int) -> tuple[float, float]:
    """Rows/s and MB/s of one plain COPY of measurement-shaped rows into an unindexed table."""
    await conn.execute("CREATE TABLE bench_raw_copy (LIKE health_measurements INCLUDING DEFAULTS)")
    at = datetime.now(UTC)
    records = [
        (uuid.uuid4(), f"BL{n:09d}", CAMPAIGN, "BS0001", "BS0001-7A", date(2025, 10, 1), "male",
         date(2013, 4, 2), 150.5, 41.2, 1.0, 0.8, ["myopia"], 7, at, "bench", None, None, None,
         None)
        for n in range(rows)
    ]  # fmt: skip
    started = time.perf_counter()
    await conn.copy_records_to_table("bench_raw_copy", records=records)
    seconds = time.perf_counter() - started
    size = await conn.fetchval("SELECT pg_total_relation_size('bench_raw_copy')")
    await conn.execute("DROP TABLE bench_raw_copy")
    return rows / seconds, size / seconds / 1e6


async def _bench(
    *,
    learners: int,
    database_url: str,
    bootstrap_servers: str | None,
    part_rows: int,
    chunk_rows: int,
    schools: int,
    invalid: float,
    seed: int,
    keep: bool,
    relay: str = "after",
) -> None:
    import asyncpg

    from services.records.imports import framework
    from shared.auth import Principal
    from shared.db.migrations import migrate
    from shared.db.pool import create_pool, ensure_database, with_database
    from shared.outbox.relay import count_unpublished, publish_pending

    name = f"bench_health_{uuid.uuid4().hex[:8]}"
    await ensure_database(database_url, name)
    url = with_database(database_url, name)
    report = BenchReport()
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn, "records", MIGRATIONS)
            started = time.perf_counter()
            data = _synthetic(learners, schools, seed)
            await _setup(conn, data)
            click.echo(
                f"setup: {learners:,} learners enrolled in {schools:,} schools of 114 communes "
                f"({time.perf_counter() - started:.1f} s, not timed below)"
            )
            copy_rows, copy_mb = await _raw_copy(conn, learners)
            content = _measurement_csv(data["measured"], invalid, seed)
            del data
            gc.collect()

            started = time.perf_counter()
            header, rows = framework.parse_file(content, "bench.csv")
            parse_seconds = time.perf_counter() - started
            # A million parsed rows would make every garbage collection walk them all.
            gc.freeze()
            principal = Principal("bench", "department", "HP")
            timed = Timed(conn)
            counts = {"accepted": 0, "rejected": 0, "unchanged": 0}
            paths = set()
            running_relay = None
            if bootstrap_servers and relay == "during":
                running_relay = await _start_relay(url, bootstrap_servers)
            backend = await conn.fetchval("SELECT pg_backend_pid()")
            pg_cpu_before = _process_cpu(backend)
            python_cpu_before = time.process_time()
            import_started = time.perf_counter()
            with tqdm(total=len(rows), desc="import", unit=" rows") as bar:
                for start in range(0, len(rows), part_rows):
                    async with conn.transaction():
                        summary = await framework.run_import(
                            cast(Any, timed),
                            principal,
                            "health",
                            header=header,
                            rows=rows[start : start + part_rows],
                            file_name=f"bench.csv#{start // part_rows + 1}",
                            sha256=hashlib.sha256(content).hexdigest(),
                            today=TODAY,
                            chunk_rows=chunk_rows,
                            on_progress=bar.update,
                        )
                    paths.add(summary.path)
                    for counter in counts:
                        counts[counter] += getattr(summary, counter)
            import_seconds = time.perf_counter() - import_started
            python_cpu = time.process_time() - python_cpu_before
            pg_cpu_after = _process_cpu(backend)
            events = await conn.fetchval("SELECT count(*) FROM outbox")
            total_rows = len(rows)
            report.add("parse CSV (shared.tabular, wall)", parse_seconds, total_rows)
            python_label = "parse + validate (Python CPU, both threads)"
            if running_relay is not None:
                python_label = "parse + validate + relay (Python CPU, 1 process)"
            report.add(python_label, parse_seconds + python_cpu, total_rows)
            if pg_cpu_before is not None and pg_cpu_after is not None:
                report.add("DB write (PostgreSQL backend CPU)", pg_cpu_after - pg_cpu_before,
                           total_rows)  # fmt: skip
            report.add("DB write (waited on PostgreSQL, event loop)", timed.seconds, total_rows)
            report.add("import wall (parse, then the pipeline)", parse_seconds + import_seconds,
                       total_rows)  # fmt: skip
            until_drained = parse_seconds + import_seconds
            if running_relay is not None:
                waited = await _drain(conn, running_relay)
                until_drained += waited
                report.add(
                    f"relay publish, running during the import ({events:,} events)",
                    import_seconds + waited,
                    events,
                    "events",
                )
                report.add("total until the outbox is drained", until_drained, total_rows)
            elif bootstrap_servers:
                publish_seconds = await _publish(conn, bootstrap_servers, publish_pending)
                left = await count_unpublished(conn)
                report.add(f"relay publish ({events:,} events)", publish_seconds, events, "events")
                until_drained += publish_seconds
                report.add("total until the outbox is drained", until_drained, total_rows)
                if left:
                    report.notes.append(f"WARNING: {left:,} events still unpublished")
            else:
                report.notes.append(
                    f"no --bootstrap-servers: {events:,} events left in the outbox, unpublished"
                )
            report.notes.append(
                f"raw COPY of the same database, this run: {copy_rows:,.0f} rows/s "
                f"({copy_mb:,.1f} MB/s) into an unindexed table shaped like health_measurements"
            )
            report.notes.append(
                f"rows {total_rows:,}: accepted {counts['accepted']:,}, rejected "
                f"{counts['rejected']:,}, unchanged {counts['unchanged']:,}; {events:,} events "
                f"({counts['accepted']:,} measured + {total_rows:,} acknowledged); "
                f"path {', '.join(sorted(paths))}; parts of {part_rows:,} rows, chunks of "
                f"{chunk_rows:,}"
            )
            sizes = await conn.fetch(
                "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) AS size FROM pg_class "
                "WHERE relname IN ('health_measurements', 'outbox', 'import_rows', 'change_index')"
            )
            report.notes.append("sizes: " + ", ".join(f"{r['relname']} {r['size']}" for r in sizes))
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            report.notes.append(
                f"peak memory of this process {peak:,.0f} MiB; CPUs {os.cpu_count()}"
            )
            gc.unfreeze()
    finally:
        await pool.close()
        if not keep:
            admin = await asyncpg.connect(database_url)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()
        else:
            report.notes.append(f"kept database {name}")
    report.print()


async def _publish(conn: Any, bootstrap_servers: str, publish_pending: Any) -> float:
    from shared.kafka import EventProducer, ensure_topics

    topics = [r["topic"] for r in await conn.fetch("SELECT DISTINCT topic FROM outbox")]
    await ensure_topics(bootstrap_servers, topics)
    producer = EventProducer(bootstrap_servers, client_id="bench-health")
    await producer.start()
    try:
        started = time.perf_counter()
        await publish_pending(conn, producer, service="records", batch_size=10_000)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def _start_relay(url: str, bootstrap_servers: str) -> Any:
    """The service's own relay (LISTEN/NOTIFY, its own connection), as it runs in production."""
    from shared.events.contracts.records import HealthMeasured, RecordAcknowledged
    from shared.kafka import EventProducer, ensure_topics
    from shared.outbox.relay import OutboxRelay

    await ensure_topics(bootstrap_servers, [HealthMeasured.topic(), RecordAcknowledged.topic()])
    producer = EventProducer(bootstrap_servers, client_id="bench-health")
    await producer.start()
    relay = OutboxRelay(
        database_url=url, producer=producer, service="records", batch_size=10_000, poll_interval=0.5
    )
    relay.start()
    return relay, producer


async def _drain(conn: Any, running: Any) -> float:
    """Seconds from the end of the import until the relay has published everything."""
    from shared.outbox.relay import count_unpublished

    relay, producer = running
    started = time.perf_counter()
    try:
        # Polling is right here: the count lives in PostgreSQL.
        while await count_unpublished(conn):  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        return time.perf_counter() - started
    finally:
        await relay.stop()
        await producer.stop()


@contextlib.asynccontextmanager
async def _embedded_stack(with_broker: bool) -> AsyncIterator[tuple[str, str | None]]:
    from shared.localstack.broker import EmbeddedBroker
    from shared.localstack.postgres import EmbeddedPostgres, free_port

    with tempfile.TemporaryDirectory(prefix="eduhub-bench-health-") as folder:
        server = EmbeddedPostgres(Path(folder) / "pgdata", free_port())
        broker = EmbeddedBroker(free_port(), Path(folder) / "broker.log") if with_broker else None
        await asyncio.to_thread(server.start)
        try:
            if broker:
                broker.start()
            yield server.admin_url, broker.bootstrap_servers if broker else None
        finally:
            if broker:
                broker.stop()
            await asyncio.to_thread(server.stop)


@click.command("bench-health")
@click.option("--learners", default=1_000_000, show_default=True)
@click.option(
    "--database-url",
    envvar="DATABASE_URL",
    help="A PostgreSQL server; the bench makes its own database there and drops it after.",
)
@click.option(
    "--bootstrap-servers",
    default=None,
    help="A Kafka broker for the relay; without one only the database part is measured.",
)
@click.option(
    "--embedded",
    is_flag=True,
    help="Start an embedded PostgreSQL (and, with --with-broker, the embedded broker) in a "
    "temporary folder instead of --database-url.",
)
@click.option("--with-broker", is_flag=True, help="With --embedded: also measure publishing.")
@click.option(
    "--relay",
    type=click.Choice(["after", "during"]),
    default="after",
    show_default=True,
    help="Publish after the import (each phase timed alone) or run the service's relay "
    "during it, as in production.",
)
@click.option("--part-rows", default=50_000, show_default=True, help="Rows per import.")
@click.option("--chunk-rows", default=5_000, show_default=True, help="Rows per bulk chunk.")
@click.option("--schools", default=0, help="Schools [default: one per 800 learners].")
@click.option("--invalid-share", default=0.01, show_default=True)
@click.option("--seed", default=2025, show_default=True)
@click.option("--keep", is_flag=True, help="Keep the bench database.")
def bench_health(
    learners: int,
    database_url: str | None,
    bootstrap_servers: str | None,
    embedded: bool,
    with_broker: bool,
    relay: str,
    part_rows: int,
    chunk_rows: int,
    schools: int,
    invalid_share: float,
    seed: int,
    keep: bool,
) -> None:
    """Time a province's health campaign (LEARNERS measurements) through the import path and
    the outbox relay, next to the raw COPY rate of the same database."""
    if not embedded and not database_url:
        raise click.UsageError("give --database-url (or set DATABASE_URL), or --embedded")

    async def bench(url: str, servers: str | None) -> None:
        await _bench(
            learners=learners,
            database_url=url,
            bootstrap_servers=servers,
            part_rows=part_rows,
            chunk_rows=chunk_rows,
            schools=schools or max(1, learners // 800),
            invalid=invalid_share,
            seed=seed,
            keep=keep,
            relay=relay,
        )

    async def run() -> None:
        if embedded:
            async with _embedded_stack(with_broker) as (url, servers):
                await bench(url, servers)
        else:
            assert database_url
            await bench(database_url, bootstrap_servers)

    asyncio.run(run())


COMMANDS = [import_file, bench_health]
