"""`eduhub documents bench` at a tiny size: every figure it prints stands on exact counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.documents.bench import BenchOptions, run_bench, servers

pytestmark = pytest.mark.integration

SCHOOLS = 20
COMMUNES = 4
REPEAT = 2


async def test_tiny_bench_reaches_every_inbox_exactly(pg_server_url: str, tmp_path: Path) -> None:
    # The session's PostgreSQL; a broker of this test alone, since the bench's service joins
    # the real `documents.org-mirror` consumer group (an e2e documents service must not share it).
    options = BenchOptions(
        schools=SCHOOLS, communes=COMMUNES, repeat=REPEAT, concurrency=4, show_progress=False
    )
    async with servers(pg_server_url, None) as (server_url, brokers, home):
        result = await run_bench(
            options, server_url=server_url, bootstrap_servers=brokers, work_dir=home
        )

    tree = result.tree
    schools = tree.school_ids()
    assert len(schools) == SCHOOLS and tree.communes == COMMUNES
    assert len(tree.changes()) == 1 + COMMUNES + SCHOOLS
    # The warm-up directive to one school took number 01, the timed one 02.
    assert result.notation == "02/CT-SGDĐT"
    assert result.recipient_count == SCHOOLS
    assert sorted(result.seen_after) == schools
    assert all(0 < seconds < 120 for seconds in result.seen_after.values())
    assert result.inbox_requests >= SCHOOLS
    assert (result.recipients_total, result.recipients_rows) == (SCHOOLS, SCHOOLS)
    assert result.recipients_by_status == {"01": SCHOOLS}
    assert len(result.recipients_seconds) == options.recipient_runs
    assert len(result.repeat_issue_seconds) == REPEAT
    assert result.repeat_recipients == SCHOOLS * REPEAT
    assert result.final_inbox_sizes == {school: 1 + REPEAT for school in schools}
    assert result.documents_issued == 1 + REPEAT + 1
    assert result.deliveries_in_database == SCHOOLS * (1 + REPEAT) + 1
    assert result.routed_per_second == pytest.approx(SCHOOLS / result.issue_seconds)
    assert result.deliveries_per_second == pytest.approx(
        SCHOOLS * REPEAT / sum(result.repeat_issue_seconds)
    )
    report = "\n".join(result.lines())
    assert f"{SCHOOLS} recipients = {SCHOOLS} schools" in report
    assert f"deliveries in the database = {SCHOOLS} x {1 + REPEAT} + 1 (warm-up)" in report


def test_tree_ids_and_levels_are_stable() -> None:
    from services.documents.bench import SCHOOL_TYPES, Tree

    tree = Tree("abc123", communes=3, schools=7)
    changes = tree.changes()
    assert [c.org_id for c in changes[:2]] == ["BPabc123", "BPabc123-C000"]
    schools = [c for c in changes if c.kind == "school"]
    assert [s.parent_id for s in schools] == [tree.commune(n % 3) for n in range(7)]
    assert [s.school_type for s in schools] == [SCHOOL_TYPES[n] for n in range(7)]
    assert SCHOOL_TYPES.count("preschool") == 7 and len(SCHOOL_TYPES) == 20
