"""Enrolment on a census date and frozen censuses, on a real PostgreSQL, through the real
consumer handlers and HTTP routes.

A small city (HP; commune C-A with schools S-A and S-A2, commune C-B with S-B) and the
census date 30 September 2025. Before the census is frozen: ordinary enrolments, a transfer
and an enrolment after the date, a leaver before it, a transfer delivered before its
enrolment, a duplicate. After freezing, late events: a transfer recorded late but dated
20 September, a late enrolment dated 10 September, and a merge of two learner IDs that were
one child. The frozen census keeps its figures; the as-of recompute and the corrections show
exactly what the late events changed.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.analytics import census_store, store
from services.analytics.api import router as stats_router
from services.analytics.census_api import router as census_router
from services.analytics.consumers import enrolment_consumer
from services.analytics.domain.census import headcount_on
from shared.auth import Principal
from shared.consumer.runner import ConsumedRecord, IncomingEvent
from shared.db.migrations import migrate
from shared.db.pool import create_pool
from shared.events.contracts.identity import PersonMerged, PersonUnmerged
from shared.events.contracts.records import StudentEnrolled, StudentLeft, StudentTransferred
from shared.events.envelope import CloudEvent, EventData
from shared.http.problems import install_problem_handlers

pytestmark = pytest.mark.integration

YEAR = "2025-2026"
CENSUS_DAY = date(2025, 9, 30)
SEP5 = date(2025, 9, 5)
T0 = datetime(2025, 10, 15, 8, 0, tzinfo=UTC)
RETIRED = "HS-31-2019-0000006-1"  # one child registered twice
SURVIVOR = "HS-31-2019-0000007-2"


def enrolled(
    learner: str, school: str, grade: int, sex: str | None, on: date = SEP5, revision: int = 1
) -> StudentEnrolled:
    return StudentEnrolled(
        enrolment_id=uuid.uuid4(),
        learner_id=learner,
        school_id=school,
        school_year=YEAR,
        grade=grade,
        sex=sex,  # type: ignore[arg-type]
        enrolled_on=on,
        revision=revision,
    )


def transferred(
    learner: str, source: str, target: str, grade: int, on: date, revision: int
) -> StudentTransferred:
    return StudentTransferred(
        learner_id=learner,
        from_school_id=source,
        to_school_id=target,
        school_year=YEAR,
        grade=grade,
        transferred_on=on,
        revision=revision,
    )


def left(learner: str, school: str, on: date, revision: int, reason: str) -> StudentLeft:
    return StudentLeft(
        learner_id=learner,
        school_id=school,
        school_year=YEAR,
        reason=reason,  # type: ignore[arg-type]
        left_on=on,
        revision=revision,
    )


_offsets = itertools.count()


def incoming(data: EventData) -> IncomingEvent:
    """As the runner hands it over: a fresh envelope (new event id) around the data."""
    offset = next(_offsets)
    envelope = CloudEvent.wrap(data, source="records", time=T0 + timedelta(seconds=offset))
    record = ConsumedRecord(data.topic(), 0, offset, data.subject().encode(), envelope.to_bytes())
    return IncomingEvent(envelope, data, record)


async def deliver(pool: asyncpg.Pool, batch: list[EventData]) -> None:
    """The enrolment consumer's handler in one transaction, as in the service."""
    events = [incoming(data) for data in batch]
    async with pool.acquire() as conn, conn.transaction():
        await enrolment_consumer().handler(conn, events)


class _TokenIsPrincipal:
    """Stands in for the JWT verifier: the bearer token is "role:org:subject"."""

    def verify(self, token: str) -> Principal:
        role, org, subject = token.split(":")
        return Principal(subject, role, org)


@pytest.fixture
async def pool(fresh_db: str) -> AsyncIterator[asyncpg.Pool]:
    global _offsets
    _offsets = itertools.count()  # event times T0 + 0 s, 1 s, ... in each test
    pool = await create_pool(fresh_db, min_size=1, max_size=3)
    async with pool.acquire() as connection:
        await migrate(connection, "analytics", Path("services/analytics/migrations"))
        await connection.executemany(
            "INSERT INTO org_units (org_id, revision, kind, name, parent_id, school_type, "
            "valid_from) VALUES ($1, 1, $2, $3, $4, $5, '2025-07-01')",
            [
                ("HP", "province", "Thành phố Hải Phòng", None, None),
                ("C-A", "commune", "Phường Hồng Bàng", "HP", None),
                ("C-B", "commune", "Xã An Hưng", "HP", None),
                ("S-A", "school", "Trường Tiểu học Hồng Bàng", "C-A", "primary"),
                ("S-A2", "school", "Trường Tiểu học Quang Trung", "C-A", "primary"),
                ("S-B", "school", "Trường Tiểu học An Hưng", "C-B", "primary"),
            ],
        )
    yield pool
    await pool.close()


@pytest.fixture
def app(pool: asyncpg.Pool) -> FastAPI:
    app = FastAPI()
    app.include_router(stats_router)
    app.include_router(census_router)
    install_problem_handlers(app)
    app.state.context = type("Context", (), {"pool": pool, "verifier": _TokenIsPrincipal()})()
    return app


def client(app: FastAPI, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://analytics",
        headers={"Authorization": f"Bearer {token}"},
    )


def before_the_census() -> list[list[EventData]]:
    return [
        # L8's transfer (dated 15 Sept) is delivered before its enrolment.
        [transferred("L8", "S-A", "S-B", 2, date(2025, 9, 15), 2)],
        [
            enrolled("L1", "S-A", 1, "female"),
            enrolled("L2", "S-A", 1, "male"),
            transferred("L2", "S-A", "S-B", 1, date(2025, 10, 10), 2),  # after the census day
            enrolled("L3", "S-A2", 2, "female"),
            left("L3", "S-A2", date(2025, 9, 25), 2, "dropped_out"),  # before it
            enrolled("L4", "S-B", 2, "male", on=date(2025, 10, 2)),  # after it
            enrolled("L5", "S-A", 1, "male"),
            enrolled(RETIRED, "S-A", 3, "female"),
            enrolled(SURVIVOR, "S-A2", 3, "female"),
            enrolled("L8", "S-A", 2, "male"),
            enrolled("L9", "S-B", 1, None),  # no sex named
        ],
        [enrolled("L9", "S-B", 1, None)],  # republished: a duplicate revision
    ]


def late_events() -> list[EventData]:
    return [
        transferred("L5", "S-A", "S-B", 1, date(2025, 9, 20), 2),  # back-dated
        enrolled("L10", "S-A2", 4, "male", on=date(2025, 9, 10)),  # recorded late
        # identity merged the two IDs; records ended the retired one on the merge day
        left(RETIRED, "S-A", date(2025, 10, 20), 2, "merged"),
        PersonMerged(
            merge_id=uuid.uuid4(), survivor_id=SURVIVOR, merged_id=RETIRED, reason="same child"
        ),
        enrolled("L1", "S-A", 1, "female"),  # L1's enrolment again: changes nothing
    ]


def cells_of(body: dict[str, Any]) -> dict[tuple[str, int, str], int]:
    return {(c["school_year"], c["grade"], c["sex"]): c["enrolled"] for c in body["cells"]}


async def as_of(api: httpx.AsyncClient, org: str, day: date = CENSUS_DAY) -> dict[str, Any]:
    response = await api.get(f"/stats/enrolment/{org}", params={"as_of": day.isoformat()})
    assert response.status_code == 200, response.text
    return response.json()


async def test_census_date_figures_frozen_census_and_late_corrections(pool, app):
    for batch in before_the_census():
        await deliver(pool, batch)

    async with (
        client(app, "department:HP:so") as department,
        client(app, "commune:C-A:ubnd-a") as commune_a,
        client(app, "school:S-B:tr-b") as school_b,
    ):
        city = await as_of(department, "HP")
        assert city["as_of"] == "2025-09-30" and city["org_tree"] == "current"
        assert city["total_enrolled"] == 7
        assert cells_of(city) == {
            (YEAR, 1, "female"): 1,  # L1
            (YEAR, 1, "male"): 2,  # L2 (moves on 10 Oct), L5
            (YEAR, 1, "unknown"): 1,  # L9
            (YEAR, 2, "male"): 1,  # L8, in S-B since 15 Sept
            (YEAR, 3, "female"): 2,  # the retired ID and the survivor: not known as one yet
        }
        assert (await as_of(commune_a, "C-A"))["total_enrolled"] == 5
        assert (await as_of(school_b, "S-B"))["total_enrolled"] == 2  # L8, L9

        # Freezing: Department only, Idempotency-Key required, census date not in the future.
        body = {"census_date": "2025-09-30", "label": "Điều tra 30/9/2025"}
        key = {"Idempotency-Key": "census-1"}
        assert (await commune_a.post("/census", json=body, headers=key)).status_code == 403
        assert (await department.post("/census", json=body)).status_code == 400
        future = await department.post(
            "/census",
            json={"census_date": "2999-09-30", "label": "x"},
            headers={"Idempotency-Key": "census-future"},
        )
        assert future.status_code == 422
        assert future.json()["errors"][0]["field"] == "body.census_date"
        frozen = await department.post("/census", json=body, headers=key)
        assert frozen.status_code == 201, frozen.text
        census = frozen.json()
        assert census["total_enrolled"] == 7 and census["org_id"] == "HP"
        # 12 lifecycle events remembered (the duplicate L9 enrolment once), no merge yet
        assert census["watermark"]["events_applied"] == 12
        assert census["watermark"]["merges_applied"] == 0
        assert census["watermark"]["last_event_time"] == "2025-10-15T08:00:11Z"
        again = await department.post("/census", json=body, headers=key)
        assert again.headers["Idempotency-Replayed"] == "true" and again.json() == census
        census_id = census["census_id"]

        detail = await department.get(f"/census/{census_id}")
        assert detail.status_code == 200, detail.text
        frozen_city = detail.json()
        assert frozen_city["unit"]["total_enrolled"] == 7
        assert [(c["org_id"], c["total_enrolled"]) for c in frozen_city["unit"]["children"]] == [
            ("C-A", 5),
            ("C-B", 2),
        ]
        frozen_commune = (await commune_a.get(f"/census/{census_id}")).json()
        assert [(c["org_id"], c["total_enrolled"]) for c in frozen_commune["unit"]["children"]] == [
            ("S-A", 4),
            ("S-A2", 1),
        ]
        assert (
            await commune_a.get(f"/census/{census_id}", params={"org_id": "C-B"})
        ).status_code == 403
        listed = (await school_b.get("/census")).json()
        assert [c["census_id"] for c in listed["items"]] == [census_id]

        # ---- late events
        await deliver(pool, late_events())

        city = await as_of(department, "HP")
        assert city["total_enrolled"] == 7
        assert cells_of(city) == {
            (YEAR, 1, "female"): 1,  # L1
            (YEAR, 1, "male"): 2,  # L2; L5 now in S-B
            (YEAR, 1, "unknown"): 1,  # L9
            (YEAR, 2, "male"): 1,  # L8
            (YEAR, 3, "female"): 1,  # one child, counted under the survivor in S-A2
            (YEAR, 4, "male"): 1,  # L10, enrolled on 10 Sept
        }
        assert city["by_sex"] == [
            {"sex": "female", "enrolled": 2},
            {"sex": "male", "enrolled": 4},
            {"sex": "unknown", "enrolled": 1},
        ]
        assert city["by_grade"] == [
            {"grade": 1, "enrolled": 4},
            {"grade": 2, "enrolled": 1},
            {"grade": 3, "enrolled": 1},
            {"grade": 4, "enrolled": 1},
        ]
        assert (await as_of(commune_a, "C-A"))["total_enrolled"] == 4
        assert (await as_of(school_b, "S-B"))["total_enrolled"] == 3  # L5, L8, L9
        assert (await as_of(commune_a, "S-A"))["total_enrolled"] == 2  # L1, L2
        assert (await as_of(commune_a, "S-A2"))["total_enrolled"] == 2  # survivor, L10
        assert (
            await school_b.get("/stats/enrolment/S-A", params={"as_of": "2025-09-30"})
        ).status_code == 403

        # The frozen census says exactly what it said.
        assert (await department.get(f"/census/{census_id}")).json() == frozen_city
        assert (await commune_a.get(f"/census/{census_id}")).json() == frozen_commune

        # What the late events changed, cell by cell.
        fixes = await department.get(f"/census/{census_id}/corrections")
        assert fixes.status_code == 200, fixes.text
        found = fixes.json()
        assert (found["frozen_total"], found["recomputed_total"]) == (7, 7)
        assert [
            (c["org_id"], c["grade"], c["sex"], c["frozen"], c["recomputed"], c["delta"])
            for c in found["corrections"]
        ] == [
            ("C-A", 1, "male", 2, 1, -1),
            ("C-A", 3, "female", 2, 1, -1),
            ("C-A", 4, "male", 0, 1, 1),
            ("C-B", 1, "male", 0, 1, 1),
            ("HP", 3, "female", 2, 1, -1),
            ("HP", 4, "male", 0, 1, 1),
            ("S-A", 1, "male", 2, 1, -1),
            ("S-A", 3, "female", 1, 0, -1),
            ("S-A2", 4, "male", 0, 1, 1),
            ("S-B", 1, "male", 0, 1, 1),
        ]
        commune_fixes = (await commune_a.get(f"/census/{census_id}/corrections")).json()
        assert (commune_fixes["frozen_total"], commune_fixes["recomputed_total"]) == (5, 4)
        assert {c["org_id"] for c in commune_fixes["corrections"]} == {"C-A", "S-A", "S-A2"}

        # Far past every effective date, the as-of count equals the live maintained count.
        later = await as_of(department, "HP", date(2026, 1, 1))
        live = (await department.get("/stats/enrolment/HP")).json()
        assert later["total_enrolled"] == live["total_enrolled"] == 8
        assert "as_of" not in live and "cells" not in live

    # The SQL selection equals the pure rule over everything remembered, on every day.
    async with pool.acquire() as conn:
        intervals = await census_store.all_intervals(conn)
        merges = await census_store.all_merges(conn)
        for day in [date(2025, 9, 1) + timedelta(days=d) for d in range(0, 60, 3)]:
            assert await census_store.cells_on(conn, day, "HP") == headcount_on(
                intervals, merges, day
            ), day
        per_school = await conn.fetch(
            "SELECT school_id, sum(enrolled) AS n FROM school_enrolment GROUP BY 1"
        )
        far = await census_store.cells_on(conn, date(2026, 1, 1), "HP")
        by_school: dict[str, int] = {}
        for (school, *_), n in far.items():
            by_school[school] = by_school.get(school, 0) + n
        assert by_school == {r["school_id"]: r["n"] for r in per_school if r["n"]}
        assert await store.enrolment_under(conn, "HP")


async def test_out_of_order_unmerge_and_any_batch_order_end_the_same(pool):
    """The same events in reverse order, and an unmerge before its merge, give the same
    intervals and merge state as the natural order."""
    merge_id = uuid.uuid4()
    merge = PersonMerged(
        merge_id=merge_id, survivor_id=SURVIVOR, merged_id=RETIRED, reason="same child"
    )
    unmerge = PersonUnmerged(
        merge_id=merge_id, survivor_id=SURVIVOR, merged_id=RETIRED, reason="two children"
    )
    events: list[EventData] = [
        enrolled("L5", "S-A", 1, "male"),
        transferred("L5", "S-A", "S-B", 1, date(2025, 9, 20), 2),
        left("L5", "S-B", date(2025, 11, 1), 3, "moved_abroad"),
        enrolled(RETIRED, "S-A", 3, "female"),
        enrolled(SURVIVOR, "S-A2", 3, "female"),
        unmerge,
        merge,
    ]
    for data in events:  # one event per batch, unmerge first
        await deliver(pool, [data])
    async with pool.acquire() as conn:
        forward = sorted(await census_store.all_intervals(conn), key=repr)
        merges = await census_store.all_merges(conn)
        assert [m.undone for m in merges] == [True]
        assert await census_store.cells_on(conn, CENSUS_DAY, "HP") == {
            ("S-B", YEAR, 1, "male"): 1,
            ("S-A", YEAR, 3, "female"): 1,
            ("S-A2", YEAR, 3, "female"): 1,
        }
        await conn.execute(
            "TRUNCATE enrolment_history_events, enrolment_intervals, enrolment_person_merges"
        )
    await deliver(pool, list(reversed(events)))
    async with pool.acquire() as conn:
        assert sorted(await census_store.all_intervals(conn), key=repr) == forward
        assert [m.undone for m in await census_store.all_merges(conn)] == [True]
