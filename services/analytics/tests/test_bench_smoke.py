"""`eduhub analytics bench` at a tiny size: every figure it prints is backed by real counts."""

from __future__ import annotations

import pytest

from services.analytics.bench.national import Nation
from services.analytics.bench.run import BenchOptions, run_bench
from shared.events.contracts.identity import OrgChanged
from shared.events.contracts.records import (
    GradeRecorded,
    HealthMeasured,
    StudentEnrolled,
    TermFinalized,
)

pytestmark = pytest.mark.integration

LEARNERS = 1_500
SCHOOLS = 4
NATION = Nation(learners=100_000, schools=300, communes=30, provinces=4, campaigns=2)


def province_learners(nation: Nation, province: int) -> int:
    """Learners the national fill puts under one province, counted independently of SQL."""
    per_school, extra = divmod(nation.learners, nation.schools)
    return sum(
        per_school + (1 if s < extra else 0)
        for s in range(nation.schools)
        if (s % nation.communes) % nation.provinces == province
    )


async def test_tiny_bench_counts_every_event_and_answers_from_the_cells(
    pg_server_url: str, kafka
) -> None:
    options = BenchOptions(
        learners=LEARNERS,
        schools=SCHOOLS,
        steady_rate=400,
        steady_seconds=3,
        nation=NATION,
        national_runs=3,
        show_progress=False,
    )
    result = await run_bench(
        options, server_url=pg_server_url, bootstrap_servers=kafka.bootstrap_servers, isolate=True
    )

    orgs = 1 + 114 + SCHOOLS
    secondary = result.produced.secondary
    assert 0 < secondary < LEARNERS
    by_topic = result.produced.by_topic
    topic = result.province.topic
    assert by_topic[topic(OrgChanged)] == orgs
    assert by_topic[topic(StudentEnrolled)] == by_topic[topic(HealthMeasured)] == LEARNERS
    assert by_topic[topic(GradeRecorded)] == secondary
    assert 0 < by_topic[topic(TermFinalized)] < secondary  # one per secondary class
    assert result.produced.events == sum(by_topic.values())
    # Analytics reads the org tree, enrolments, measurements (and finalised terms once a
    # results consumer is wired); what it does not read is reported apart, not counted.
    read = sum(n for t, n in by_topic.items() if t not in result.unconsumed_topics)
    assert read >= orgs + 2 * LEARNERS
    assert result.analytics_events == read
    assert result.raw.records == read
    # The decoding read decodes every record it reads (an undecodable one would have raised).
    assert result.decoded.records == read
    assert result.decoded.bytes == result.raw.bytes
    assert result.decoded.cpu.seconds["analytics"] > 0
    assert result.applications >= read
    assert not {topic(OrgChanged), topic(StudentEnrolled), topic(HealthMeasured)} & set(
        result.unconsumed_topics
    )

    steady = result.steady
    assert steady is not None
    assert steady.unmatched == 0
    assert 0.8 * 400 * 3 <= steady.published <= 400 * 3 + 2
    assert len(steady.delays) == steady.published
    assert all(0 < d < 30 for d in steady.delays)

    newcomers = steady.published // 2
    assert result.totals == {
        "enrolled": LEARNERS + newcomers,
        "measured": LEARNERS + newcomers,
        "eyes_examined": LEARNERS + newcomers,
        "org_units": orgs,
        "inbox": result.expected["inbox"],
    }
    assert result.totals == result.expected
    # The inbox holds one row per (event, consumer) of the consumers that use it: organisation
    # changes (org mirror) and finalised terms (results). Enrolment and health deduplicate by
    # content and write none, in the catch-up or the steady phase.
    finalized = sum(
        n for t, n in result.produced.by_topic.items() if t.endswith("records.term.finalized")
    )
    assert finalized > 0
    assert result.expected["inbox"] == orgs + finalized
    assert result.analytics_rate == pytest.approx(
        result.analytics_events / result.analytics_seconds
    )

    national = result.national
    assert national is not None
    expected = province_learners(NATION, 0)
    assert national.province_learners == expected
    assert national.answered == {
        "enrolled": expected,
        "measured": expected,
        "swim_assessed": expected,
        "eyes_examined": expected,
    }
    # Classes of at most 36, two sex cells each, per campaign: a cell stands for ~18 learners.
    per_school, extra = divmod(NATION.learners, NATION.schools)
    classes = sum(-(-(per_school + (s < extra)) // 36) for s in range(NATION.schools))
    assert national.rows["nutrition_cells"] == classes * 2 * NATION.campaigns
    assert national.rows["nutrition_cells"] / NATION.campaigns < NATION.learners / 15
    assert [len(t.milliseconds) for t in national.timings] == [3, 3, 3, 3]
    assert all(ms > 0 for t in national.timings for ms in t.milliseconds)
    nutrition_plan = "\n".join(national.plans["nutrition_under"])
    assert "nutrition_cells" in nutrition_plan
    assert "health_counted" not in nutrition_plan

    printed: list[str] = []
    result.print(printed.append)
    text = "\n".join(printed)
    assert f"{result.analytics_events:,}" in text
    assert "aggregates: " in text and ": equal" in text
    assert "p99" in text and "EXPLAIN" in text
    assert "(a2) the same, each event decoded and validated" in text
    assert f"0.33 of raw consume is {result.raw.rate / 3:,.0f} events/s" in text


async def test_bench_with_a_replica_process_and_two_members_per_group(
    pg_server_url: str, kafka
) -> None:
    """`--processes 2 --members 2`: the replica process's commits are counted with the bench
    process's own, every event is applied once per group, and the aggregates are exact."""
    options = BenchOptions(
        learners=LEARNERS,
        schools=SCHOOLS,
        grades=False,
        members=2,
        processes=2,
        steady_rate=400,
        steady_seconds=2,
        nation=None,
        show_progress=False,
    )
    result = await run_bench(
        options, server_url=pg_server_url, bootstrap_servers=kafka.bootstrap_servers, isolate=True
    )

    assert result.totals == result.expected
    assert result.totals["enrolled"] == LEARNERS + result.steady.published // 2  # type: ignore[union-attr]
    assert sum(n for n, _ in result.groups.values()) == result.applications
    applied = {group.split(".bench-")[0]: n for group, (n, _) in result.groups.items()}
    assert applied["analytics.enrolment"] == applied["analytics.health"] == LEARNERS
    # Both processes applied events (3 partitions per topic, 4 members per group in all).
    assert 0 < result.replica_applications < result.applications
    printed: list[str] = []
    result.print(printed.append)
    assert "2 proc x 2 members" in "\n".join(printed)
