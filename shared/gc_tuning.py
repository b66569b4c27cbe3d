"""Garbage-collector settings for the long-running service processes.

CPython's default (a young collection every 700 net allocations of container objects, a full
one every 100 young ones) suits short scripts. A consumer decodes hundreds of thousands of
events a minute and holds batches of them, so young collections ran thousands of times a
minute and every full collection rescanned everything built at start-up (modules, pydantic
schemas, the WHO tables). Measured with `eduhub analytics bench --learners 100000`:
the catch-up of 202,102 events took 27.7 s at the defaults (11.6 s of the run in the
collector) and 18.9 s after this (0.4 s in the collector). Almost nothing these
services build forms reference cycles (reference counting frees it), so collecting less
often costs little memory.

The young threshold was 50,000 at first. A batch of 2,000 events holds more objects than
that while it is applied (the decoded events, the fold's records and shares, the rows for
PostgreSQL), so young collections kept firing in the middle of batches and scanning them:
perf showed the collector at a tenth of the analytics processes' CPU at 1 M learners, and a
gc.callbacks timer 2.5 s of collection in a replica over a 300,000-learner catch-up. Above
the objects a batch holds (500,000) the count falls back as each batch is freed and a young
collection is rare: 0.26 s in the same replica, and CPU per event 84 -> 73 µs in the same
bench (`eduhub analytics bench --learners 300000 --processes 2 --batch-size 2000`).
"""

from __future__ import annotations

import gc

# Young collection every 500,000 net allocations (more than a batch holds at once); the
# middle generation after 20 of those; the oldest after 100 middle ones (CPython also waits
# until it has grown by a quarter).
THRESHOLDS = (500_000, 20, 100)


def tune_garbage_collector() -> None:
    """Call once start-up is done: what exists now stays for the life of the process, so it is
    moved out of the collector's sight (gc.freeze), and collections become rarer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
