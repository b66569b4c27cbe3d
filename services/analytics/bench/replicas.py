"""More analytics processes for the benchmark, as a deployment runs more replicas.

One Python process applies events on one core at most. A deployment scales analytics by
running more replicas (Kubernetes replicas, `docker compose up --scale analytics=N`): their
members join the same consumer groups and split the partitions. `--processes N` measures that:
the bench process runs the consumers as before, and N - 1 replica processes run the same
wiring (`running_analytics`) under the same group ids. Each replica reports every committed
batch (group, commit time, and the event ids once the bench times events, else their number)
and, until the gate opens, its partitions to the bench process over a queue; the bench counts
them as its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import queue
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition

from services.analytics.bench.measure import Progress, RunningAnalytics, running_analytics
from services.analytics.bench.synth import Province
from shared.consumer.runner import IncomingEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplicaConfig:
    database_url: str
    bootstrap_servers: str
    province: Province
    batch_size: int
    members: int
    pool_size: int
    group_suffix: str

    def running(self, progress: Progress) -> AbstractAsyncContextManager[RunningAnalytics]:
        """The analytics consumers with this wiring: the bench process's and each replica's."""
        return running_analytics(
            database_url=self.database_url,
            bootstrap_servers=self.bootstrap_servers,
            province=self.province,
            batch_size=self.batch_size,
            members=self.members,
            pool_size=self.pool_size,
            group_suffix=self.group_suffix,
            progress=progress,
        )


class _ReportingProgress(Progress):
    """A replica's progress: every commit goes to the bench process instead of being counted.
    The event ids go along only while the bench times events (the steady phase): in the
    catch-up they would cost the replica and the bench process CPU that is not analytics'."""

    def __init__(self, reports: Any, timing: Any) -> None:
        super().__init__()
        self._reports = reports
        self._timing = timing

    def committed(self, fresh: list[IncomingEvent], group: str = "") -> None:
        now = time.perf_counter()
        if self._timing.is_set():
            self._reports.put(("commit", group, b"".join(e.id.bytes for e in fresh), now))
        else:
            self._reports.put(("count", group, len(fresh), now))


def _replica_main(
    index: int, config: ReplicaConfig, reports: Any, gate: Any, timing: Any, stop: Any
) -> None:
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(_replica(index, config, reports, gate, timing, stop))
    except Exception as exc:  # the bench process must hear of it, not wait for a stall
        reports.put(("error", index, repr(exc)))
        raise


async def _replica(
    index: int, config: ReplicaConfig, reports: Any, gate: Any, timing: Any, stop: Any
) -> None:
    async with config.running(_ReportingProgress(reports, timing)) as analytics:
        while not stop.is_set():
            if gate.is_set():
                analytics.gate.set()
            else:
                held = {
                    group: sorted((tp.topic, tp.partition) for tp in partitions)
                    for group, partitions in analytics.assignment().items()
                }
                reports.put(("assigned", index, held))
            await asyncio.sleep(0.1)


class Replicas:
    """N - 1 replica processes and what they report."""

    def __init__(self, count: int, config: ReplicaConfig, progress: Progress) -> None:
        self._context = multiprocessing.get_context("spawn")  # no forked event loop or sockets
        self._reports: Any = self._context.Queue()
        self.gate: Any = self._context.Event()
        self.timing: Any = self._context.Event()  # set: report event ids, not only counts
        self._stop: Any = self._context.Event()
        self._progress = progress
        self._assigned: dict[int, dict[str, set[TopicPartition]]] = {}
        self._count = count
        self._processes = [
            self._context.Process(
                target=_replica_main,
                args=(index, config, self._reports, self.gate, self.timing, self._stop),
                name=f"analytics-replica-{index}",
                daemon=True,
            )
            for index in range(count)
        ]
        self._loop: asyncio.AbstractEventLoop | None = None
        self.failure: str | None = None
        self.applied = 0  # (event, consumer) applications the replicas committed

    def assignments(self) -> list[dict[str, set[TopicPartition]]] | None:
        """Each replica's latest partitions, or None while one has not reported yet."""
        if self.failure:
            raise RuntimeError(f"an analytics replica failed: {self.failure}")
        if len(self._assigned) < self._count:
            return None
        return list(self._assigned.values())

    def _apply(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "commit":
            _, group, ids, at = message
            self.applied += len(ids) // 16
            self._progress.record(
                group, [uuid.UUID(bytes=ids[i : i + 16]) for i in range(0, len(ids), 16)], at
            )
        elif kind == "count":
            _, group, count, at = message
            self.applied += count
            self._progress.record_count(group, count, at)
        elif kind == "assigned":
            _, index, held = message
            self._assigned[index] = {
                group: {TopicPartition(t, p) for t, p in partitions}
                for group, partitions in held.items()
            }
        elif kind == "error":
            self.failure = f"replica {message[1]}: {message[2]}"
            log.error("analytics replica failed: %s", self.failure)

    def _read(self) -> None:
        """A thread: hand each report to the event loop, which owns the progress."""
        assert self._loop is not None
        while True:
            message = self._reports.get()
            if message is None:
                return
            self._loop.call_soon_threadsafe(self._apply, message)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Replicas]:
        self._loop = asyncio.get_running_loop()
        reader = threading.Thread(target=self._read, name="replica-reports", daemon=True)
        reader.start()
        for process in self._processes:
            process.start()
        try:
            yield self
        finally:
            self._stop.set()
            for process in self._processes:
                await asyncio.to_thread(process.join, 60)
                if process.is_alive():
                    process.kill()
            self._reports.put(None)
            await asyncio.to_thread(reader.join, 10)
            with contextlib.suppress(queue.Empty):
                while True:
                    self._reports.get_nowait()
