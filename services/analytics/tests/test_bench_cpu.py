"""The bench's CPU accounting: roles of processes, and CPU per event between two snapshots."""

from __future__ import annotations

import os

import pytest

from services.analytics.bench.cpu import CpuUse, Snapshot, role_of, snapshot


@pytest.mark.parametrize(
    ("name", "own", "role"),
    [
        ("postgres", False, "PostgreSQL"),
        ("postgres", True, "PostgreSQL"),
        ("tansu-v0.5.1-x86_64-unknown-linux-gnu", True, "broker"),
        ("java", False, "broker"),
        ("python3.11", True, "analytics"),
        ("python3.11", False, "other"),
    ],
)
def test_a_process_is_counted_for_what_it_is(name, own, role):
    assert role_of(name, own=own) == role


def test_cpu_per_event_is_the_time_spent_between_the_snapshots_over_the_events():
    start = Snapshot(10.0, {(1, 5.0): ("analytics", 2.0), (2, 5.0): ("PostgreSQL", 1.0)})
    end = Snapshot(
        20.0,
        {
            (1, 5.0): ("analytics", 8.0),  # 6 s spent
            (2, 5.0): ("PostgreSQL", 4.0),  # 3 s
            (3, 12.0): ("PostgreSQL", 1.0),  # a backend started in the phase: all of it
            (2, 19.0): ("other", 0.5),  # a new process that reuses pid 2
        },
    )
    use = CpuUse.between(start, end, cpus=2)
    assert use.seconds == {"analytics": 6.0, "PostgreSQL": 4.0, "broker": 0.0, "other": 0.5}
    assert use.busy_share == pytest.approx(10.5 / 20)
    assert use.microseconds_per_event(100_000) == {
        "analytics": 60.0,
        "PostgreSQL": 40.0,
        "broker": 0.0,
        "other": 5.0,
    }
    assert use.ceiling(100_000) == pytest.approx(2 / 105e-6)
    assert "analytics 60, PostgreSQL 40, broker 0, other 5; total 105" in use.line(100_000)


def test_a_snapshot_sees_this_process_as_analytics():
    taken = snapshot()
    mine = [role for (pid, _), (role, _) in taken.processes.items() if pid == os.getpid()]
    assert mine == ["analytics"]
