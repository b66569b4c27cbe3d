"""Observing a whole batch of values in a Prometheus histogram at once.

`Histogram.observe` takes one value and costs about a microsecond (a lock per call); a
consumer observes every event's delay, thousands per batch. `observe_all` counts the batch
into buckets first and increments each bucket once. It reads the child's buckets, which
prometheus_client keeps private: the version is pinned below the next minor release, and a
test checks that the exposition equals one `observe` per value."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from typing import Any


def observe_all(child: Any, values: Sequence[float]) -> None:
    """As `child.observe(max(v, 0))` for each value (negative delays, from clocks that
    disagree, count as zero)."""
    if not values:
        return
    bounds: list[float] = child._upper_bounds
    buckets: list[Any] = child._buckets
    clamped = [v if v > 0.0 else 0.0 for v in values]
    # bisect_left: the first bound >= the value, as observe's `amount <= bound`.
    for index, n in Counter(bisect_left(bounds, v) for v in clamped).items():
        buckets[index].inc(n)
    child._sum.inc(sum(clamped))
