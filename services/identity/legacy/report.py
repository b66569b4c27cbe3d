"""What an import did, written for the people who check it.

Files in the output folder (CSV in UTF-8 with BOM, so that Excel shows Vietnamese names):

- ``legacy_id_map.csv``     source, legacy_id, sector_id, status (created / merged /
                            already_imported) for every valid row;
- ``rejected_rows.csv``     source, row, field, rule, message for every broken rule;
- ``review_queue.csv``      both records of every pair queued for review, side by side;
- ``automatic_merges.csv``  the evidence behind every automatic merge;
- ``reconciliation.json`` and ``reconciliation.md``: the counts, which must add up
  (rows read = rejected + created + merged + already imported, per source), and the time of
  every phase.

The folder holds personal data of children, so it is created readable by its owner only.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from services.identity.legacy.load import LoadOutcome, MapStatus, QueuedReview, ReviewSide
from services.identity.legacy.plan import ImportPlan
from services.identity.legacy.rows import ExportReadResult

SIDE_FIELDS = (
    "sector_id",
    "source",
    "legacy_id",
    "full_name",
    "birth_date",
    "sex",
    "personal_number",
    "birthplace",
    "guardian_name",
    "org_id",
)


@dataclass(frozen=True, slots=True)
class PhaseTime:
    name: str
    seconds: float
    rows: int | None  # what the phase worked through, for a rate; None when not meaningful

    @property
    def rows_per_second(self) -> float | None:
        if self.rows is None or self.seconds <= 0:
            return None
        return self.rows / self.seconds


@dataclass(slots=True)
class PhaseTimer:
    phases: list[PhaseTime] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str, rows: int | None = None) -> Iterator[list[int]]:
        """Time a block; the block may fill in its row count by appending to the yielded
        list when it is only known at the end."""
        counted: list[int] = []
        started = time.perf_counter()
        try:
            yield counted
        finally:
            seconds = time.perf_counter() - started
            self.phases.append(PhaseTime(name, seconds, counted[-1] if counted else rows))

    @property
    def total_seconds(self) -> float:
        return sum(phase.seconds for phase in self.phases)


@dataclass(slots=True)
class ImportSummary:
    run_id: str
    started_at: datetime
    finished_at: datetime
    database: str  # host and database name, never credentials
    exports: list[ExportReadResult]
    plan: ImportPlan
    outcome: LoadOutcome
    phases: list[PhaseTime]


def reconciliation(summary: ImportSummary) -> dict[str, Any]:
    statuses = summary.outcome.status_counts()
    sources: dict[str, dict[str, Any]] = {}
    for export in summary.exports:
        counts = {status.value: statuses[(export.source, status)] for status in MapStatus}
        mapped = sum(counts.values())
        sources[export.source] = {
            "file": str(export.path),
            "rows_read": export.rows_read,
            "rejected_rows": export.rejected_rows,
            "errors": len(export.errors),
            **counts,
            "balanced": export.rows_read == export.rejected_rows + mapped,
        }
    reviews = summary.outcome.reviews
    plan_counts = summary.plan.counts
    return {
        "run_id": summary.run_id,
        "started_at": summary.started_at.isoformat(),
        "finished_at": summary.finished_at.isoformat(),
        "database": summary.database,
        "sources": sources,
        "totals": {
            "rows_read": sum(s["rows_read"] for s in sources.values()),
            "rejected_rows": sum(s["rejected_rows"] for s in sources.values()),
            "persons_created": summary.outcome.persons_created,
            "rows_created": sum(s["created"] for s in sources.values()),
            "rows_merged_automatically": sum(s["merged"] for s in sources.values()),
            "rows_already_imported": sum(s["already_imported"] for s in sources.values()),
            "pairs_queued_for_review": sum(r.newly_queued for r in reviews),
            "pairs_already_in_review_queue": sum(not r.newly_queued for r in reviews),
            "events_written": summary.outcome.events_written,
            "personal_numbers_withheld": plan_counts.personal_numbers_withheld
            + summary.outcome.numbers_held_in_registry,
        },
        "matching": {
            "valid_rows": plan_counts.valid_rows,
            "compared_pairs": plan_counts.compared_pairs,
            "auto_merge_pairs": plan_counts.auto_merge_pairs,
            "review_candidates": plan_counts.review_candidates,
            "refused_auto_merges": plan_counts.refused_auto_merges,
            "merge_clusters": plan_counts.clusters,
            "planned_persons": plan_counts.persons,
            "planned_review_pairs": plan_counts.review_pairs,
        },
        "phases": [
            {
                "name": phase.name,
                "seconds": round(phase.seconds, 3),
                "rows": phase.rows,
                "rows_per_second": round(phase.rows_per_second)
                if phase.rows_per_second is not None
                else None,
            }
            for phase in summary.phases
        ],
        "balanced": all(s["balanced"] for s in sources.values()),
    }


def write_report(out_dir: Path, summary: ImportSummary) -> dict[str, Any]:
    """Write every file; returns the reconciliation (also in reconciliation.json)."""
    write_detail_files(out_dir, summary)
    return write_reconciliation(out_dir, summary)


def write_detail_files(out_dir: Path, summary: ImportSummary) -> None:
    """The CSV files, one line per row or pair."""
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_id_map(out_dir / "legacy_id_map.csv", summary)
    _write_csv(
        out_dir / "rejected_rows.csv",
        ["source", "row", "field", "rule", "message"],
        (
            [e.source, e.row_number, e.field, e.rule, e.message]
            for export in summary.exports
            for e in export.errors
        ),
    )
    _write_csv(out_dir / "review_queue.csv", *_review_queue_table(summary.outcome.reviews))
    _write_automatic_merges(out_dir / "automatic_merges.csv", summary)


def write_reconciliation(out_dir: Path, summary: ImportSummary) -> dict[str, Any]:
    """reconciliation.json and .md, written last so that they include every phase's time."""
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    counts = reconciliation(summary)
    (out_dir / "reconciliation.json").write_text(
        json.dumps(counts, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out_dir / "reconciliation.md").write_text(render_markdown(counts), encoding="utf-8")
    return counts


def _write_csv(path: Path, header: list[str], rows: Any) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _write_id_map(path: Path, summary: ImportSummary) -> None:
    order = {export.source: position for position, export in enumerate(summary.exports)}
    rows_by_alias = summary.plan.rows_by_alias

    def file_order(alias: str) -> tuple[int, int]:
        row = rows_by_alias[alias]
        return order.get(row.source, len(order)), row.row_number

    entries = sorted(summary.outcome.id_map, key=lambda entry: file_order(entry.alias))
    _write_csv(
        path,
        ["source", "legacy_id", "sector_id", "status"],
        ([e.source, e.legacy_id, e.sector_id, e.status.value] for e in entries),
    )


def _review_queue_table(reviews: list[QueuedReview]) -> tuple[list[str], Iterator[list[str]]]:
    header = ["queue_status", "score", "reasons"]
    header += [f"a_{name}" for name in SIDE_FIELDS] + [f"b_{name}" for name in SIDE_FIELDS]
    ordered = sorted(reviews, key=lambda r: (-r.score, r.a.sector_id, r.b.sector_id))
    lines = (
        [
            "queued" if r.newly_queued else "already_queued",
            f"{r.score:.4f}",
            "; ".join(r.reasons),
            *_side_cells(r.a),
            *_side_cells(r.b),
        ]
        for r in ordered
    )
    return header, lines


def _side_cells(side: ReviewSide) -> list[str]:
    return ["" if (value := getattr(side, name)) is None else str(value) for name in SIDE_FIELDS]


def _write_automatic_merges(path: Path, summary: ImportSummary) -> None:
    sector_of = {entry.alias: entry.sector_id for entry in summary.outcome.id_map}
    _write_csv(
        path,
        ["sector_id", "record_a", "record_b", "score", "reasons"],
        (
            [
                sector_of.get(m.person, ""),
                m.record_a,
                m.record_b,
                f"{m.score:.4f}",
                "; ".join(m.reasons),
            ]
            for m in summary.plan.auto_merges
        ),
    )


def render_markdown(counts: dict[str, Any]) -> str:
    totals = counts["totals"]
    lines = [
        f"# Legacy import {counts['run_id']}",
        "",
        f"Database `{counts['database']}`, from {counts['started_at']} to {counts['finished_at']}.",
        "",
        "## Rows per source",
        "",
        "| source | rows read | rejected | created | merged | already imported | adds up |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, source in counts["sources"].items():
        lines.append(
            f"| {name} | {source['rows_read']:,} | {source['rejected_rows']:,} | "
            f"{source['created']:,} | {source['merged']:,} | {source['already_imported']:,} | "
            f"{'yes' if source['balanced'] else '**NO**'} |"
        )
    lines += [
        "",
        "## Totals",
        "",
        f"- persons created: {totals['persons_created']:,} "
        f"(one identity.person.registered event each: {totals['events_written']:,})",
        f"- rows merged automatically into another row's person: "
        f"{totals['rows_merged_automatically']:,}",
        f"- pairs queued for review: {totals['pairs_queued_for_review']:,} "
        f"(already in the queue: {totals['pairs_already_in_review_queue']:,})",
        f"- rows already imported by an earlier run: {totals['rows_already_imported']:,}",
        f"- rows rejected: {totals['rejected_rows']:,} (see rejected_rows.csv)",
        f"- personal numbers withheld because another person holds them: "
        f"{totals['personal_numbers_withheld']:,}",
        "",
        "## Phases",
        "",
        "| phase | seconds | rows | rows/s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for phase in counts["phases"]:
        rows = "" if phase["rows"] is None else f"{phase['rows']:,}"
        rate = "" if phase["rows_per_second"] is None else f"{phase['rows_per_second']:,}"
        lines.append(f"| {phase['name']} | {phase['seconds']:.1f} | {rows} | {rate} |")
    total_seconds = sum(phase["seconds"] for phase in counts["phases"])
    lines += ["", f"Total {total_seconds:.1f} s.", ""]
    return "\n".join(lines)
