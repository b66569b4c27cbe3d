"""The bench's progress counter: when it calls a run stalled, and when it is done."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from services.analytics.bench.measure import Progress


async def test_a_long_join_before_the_target_is_set_is_not_a_stall() -> None:
    progress = Progress()
    progress.last_change = time.monotonic() - 500  # the groups took minutes to join
    progress.expect(2)
    loop = asyncio.get_running_loop()
    ids = [uuid.uuid4(), uuid.uuid4()]
    loop.call_later(0.5, progress.record, "analytics.health", ids, time.perf_counter())
    await progress.wait(stall_seconds=120)  # ticks every 0.2 s before the batch commits
    assert progress.applied == 2


async def test_nothing_applied_for_the_stall_time_fails_the_run() -> None:
    progress = Progress()
    progress.expect(3)
    progress.record("analytics.health", [uuid.uuid4()], time.perf_counter())
    progress.last_change = time.monotonic() - 200
    with pytest.raises(RuntimeError, match="stalled at 1 of 3 events"):
        await progress.wait(stall_seconds=120)


def test_counts_by_group_and_keeps_the_latest_commit_time() -> None:
    progress = Progress()
    progress.record("analytics.health", [uuid.uuid4()], 10.0)
    progress.record("analytics.health", [uuid.uuid4(), uuid.uuid4()], 7.0)  # a replica, late
    progress.record("analytics.enrolment", [uuid.uuid4()], 8.0)
    assert progress.by_group == {"analytics.health": 3, "analytics.enrolment": 1}
    assert progress.last_commit == {"analytics.health": 10.0, "analytics.enrolment": 8.0}
    assert progress.applied == 4


def test_counts_without_ids_add_up_with_ids_and_time_only_published_events() -> None:
    progress = Progress()
    timed, untimed = uuid.uuid4(), uuid.uuid4()
    progress.record_count("analytics.health", 2_000, 5.0)  # a replica's catch-up batch
    progress.published_at[timed] = [4.0, 2]  # read by two groups
    progress.record("analytics.health", [timed, untimed], 6.5)
    assert progress.delays == []  # one of its two groups has it
    progress.record("analytics.enrolment", [timed], 7.25)
    assert progress.delays == [3.25]
    assert progress.published_at == {}
    assert progress.by_group == {"analytics.health": 2_002, "analytics.enrolment": 1}
    assert progress.applied == 2_003
