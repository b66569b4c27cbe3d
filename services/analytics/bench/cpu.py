"""CPU time of the machine's processes over one phase, by role: where each event's cost goes.

A rate on a shared two-core machine moves by a fifth from one run to the next; the CPU time
each event costs moves much less, and it says what a rate target needs: at N events/s on C
cores the whole machine may spend at most C / N seconds of CPU per event (25,000 events/s on
two cores: 80 µs for analytics, the database and the broker together).

Processes are read from /proc through psutil at the start and the end of the phase; one that
starts and ends inside the phase is not seen (the bench starts none)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

import psutil

ROLES = ("analytics", "PostgreSQL", "broker", "other")


def role_of(name: str, *, own: bool) -> str:
    """The role of a process from its name; OWN: this process or one it started (the
    analytics replicas; the embedded broker is also a child, but is named for what it is)."""
    lowered = name.lower()
    if lowered.startswith("postgres"):
        return "PostgreSQL"
    if lowered.startswith("tansu") or lowered == "java":
        return "broker"
    return "analytics" if own else "other"


@dataclass(frozen=True)
class Snapshot:
    at: float
    # (pid, creation time) -> (role, CPU seconds, user and system, so far)
    processes: dict[tuple[int, float], tuple[str, float]]


def snapshot() -> Snapshot:
    own = {os.getpid()}
    me = psutil.Process()
    own.update(child.pid for child in me.children(recursive=True))
    processes: dict[tuple[int, float], tuple[str, float]] = {}
    for process in psutil.process_iter(["name", "create_time", "cpu_times"]):
        info = process.info
        times = info.get("cpu_times")
        if times is None:  # gone, or not ours to read
            continue
        processes[(process.pid, info["create_time"])] = (
            role_of(info["name"] or "", own=process.pid in own),
            times.user + times.system,
        )
    return Snapshot(time.monotonic(), processes)


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds spent by each role between two snapshots."""

    seconds: dict[str, float]
    wall_seconds: float
    cpus: int

    @classmethod
    def between(cls, start: Snapshot, end: Snapshot, cpus: int | None = None) -> CpuUse:
        spent = dict.fromkeys(ROLES, 0.0)
        for key, (role, cpu) in end.processes.items():
            before = start.processes.get(key, (role, 0.0))[1]
            spent[role] += max(cpu - before, 0.0)
        return cls(spent, end.at - start.at, cpus or os.cpu_count() or 1)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    @property
    def busy_share(self) -> float:
        """Of all the machine's CPU time in the phase, the share that was used."""
        capacity = self.wall_seconds * self.cpus
        return self.total / capacity if capacity else 0.0

    def microseconds_per_event(self, events: int) -> dict[str, float]:
        return {role: s * 1e6 / events for role, s in self.seconds.items()} if events else {}

    def ceiling(self, events: int, roles: Iterable[str] = ROLES) -> float:
        """Events/s if these roles had every CPU of the machine to themselves at this cost."""
        cost = sum(self.seconds[r] for r in roles) / events if events else 0.0
        return self.cpus / cost if cost else 0.0

    def line(self, events: int) -> str:
        per_event = self.microseconds_per_event(events)
        parts = ", ".join(f"{role} {per_event[role]:,.0f}" for role in ROLES)
        return (
            f"CPU per event in the catch-up (µs): {parts}; total "
            f"{sum(per_event.values()):,.0f}, the machine {self.busy_share:.0%} busy; at that "
            f"cost {self.cpus} CPUs fully used would apply {self.ceiling(events):,.0f} events/s"
        )
