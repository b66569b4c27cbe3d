"""Quiet consumer groups: their idle fetches are held longer (see shared.service)."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker

from services.analytics.consumers import enrolment_consumer
from services.analytics.forecast_consumers import staff_consumer
from services.analytics.health_consumers import health_consumer
from services.analytics.results_consumers import results_consumer, teacher_stats_consumer
from services.documents.analytics_reports import analytics_report_consumer
from services.records.merges import merge_consumer
from shared.consumer.runner import EventConsumer
from shared.orgs.consumer import org_mirror_consumer
from shared.service import subscribe_consumer


def _waits(consumer: EventConsumer) -> tuple[int, int]:
    """(fetch max wait, poll timeout) of the subscription FastStream builds for CONSUMER."""
    broker = KafkaBroker("localhost:9092")  # never connected
    subscribe_consumer(broker, consumer, max_records=100)
    (subscriber,) = broker.subscribers
    options: Any = subscriber
    return options._connection_args["fetch_max_wait_ms"], options.batch_timeout_ms


def test_quiet_groups_poll_ten_times_less_often_than_live_ones() -> None:
    quiet = [
        staff_consumer(),
        teacher_stats_consumer(),
        org_mirror_consumer("analytics", quiet=True),
        analytics_report_consumer(),
        merge_consumer(),
    ]
    live = [
        enrolment_consumer(),
        health_consumer(lambda events: None),
        results_consumer(),
        # records checks writes against its tree: a school just created must be known at once
        org_mirror_consumer("records"),
    ]
    assert {c.group_id: _waits(c) for c in quiet} == {c.group_id: (500, 200) for c in quiet}
    assert {c.group_id: _waits(c) for c in live} == {c.group_id: (50, 50) for c in live}
