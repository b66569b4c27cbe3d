"""Prometheus metrics of the platform library. Labels are bounded: service, topic, outcome."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "eduhub_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "eduhub_http_request_seconds", "HTTP request duration", ["service", "route"]
)
OUTBOX_PENDING = Gauge("eduhub_outbox_pending", "Outbox rows not yet published", ["service"])
EVENTS_PUBLISHED = Counter(
    "eduhub_events_published_total", "Events published by the outbox relay", ["service", "topic"]
)
EVENTS_CONSUMED = Counter(
    "eduhub_events_consumed_total",
    "Events consumed, by outcome (applied, duplicate, dead_lettered, retried)",
    ["service", "topic", "outcome"],
)
CONSUMER_LAG = Gauge(
    "eduhub_consumer_lag", "Messages behind the end of the topic", ["service", "group", "topic"]
)
EVENT_TO_EFFECT = Histogram(
    "eduhub_event_to_aggregate_seconds",
    "Delay from an event's time to the commit of its effect",
    ["service"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
