"""`observe_all` leaves a histogram exactly as one `observe` per value would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from shared.observability.histograms import observe_all

BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# On the bounds, just above them, below zero (a clock ahead), beyond the last bound.
VALUES = [0.01, 0.0100001, 0.0, -0.2, 0.3, 0.3, 1.0, 29.999, 30.0, 30.5, 900.0, 0.005]


def _histogram() -> tuple[CollectorRegistry, Histogram]:
    registry = CollectorRegistry()
    histogram = Histogram("delay_seconds", "d", ["service"], buckets=BUCKETS, registry=registry)
    return registry, histogram


def _exposition(registry: CollectorRegistry) -> list[str]:
    """The samples, without the children's creation times."""
    return [
        line for line in generate_latest(registry).decode().splitlines() if "_created" not in line
    ]


def test_a_batch_observed_at_once_equals_each_value_observed():
    one_by_one, h1 = _histogram()
    for value in VALUES:
        h1.labels(service="a").observe(max(value, 0.0))
    at_once, h2 = _histogram()
    observe_all(h2.labels(service="a"), VALUES)
    assert _exposition(at_once) == _exposition(one_by_one)
    text = "\n".join(_exposition(at_once))
    assert 'delay_seconds_bucket{le="0.01",service="a"} 4.0' in text  # 0.01, 0, -0.2, 0.005
    assert 'delay_seconds_bucket{le="30.0",service="a"} 10.0' in text
    assert 'delay_seconds_count{service="a"} 12.0' in text


def test_an_empty_batch_changes_nothing():
    registry, h = _histogram()
    child = h.labels(service="a")
    before = _exposition(registry)
    observe_all(child, [])
    assert _exposition(registry) == before
    assert 'delay_seconds_count{service="a"} 0.0' in before
