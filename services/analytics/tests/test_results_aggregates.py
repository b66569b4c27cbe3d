"""Results and teacher aggregates on a real PostgreSQL: the consumers' handlers fold finalised
terms (republished after corrections, duplicated, out of order), person merges and staff
profiles into cells; the API's query functions read exact figures for a school, its commune
and the province; the cells equal a recount from scratch of what is remembered."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from services.analytics import results_store, teacher_store
from services.analytics.domain import teacher_stats as teacher_domain
from services.analytics.domain.results_fold import recount
from services.analytics.results_api import results_stats, teacher_stats
from services.analytics.results_consumers import results_consumer, teacher_stats_consumer
from shared.auth import AuthorisationError, Principal
from shared.consumer.runner import ConsumedRecord, IncomingEvent
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.events.contracts.identity import PersonMerged, PersonUnmerged
from shared.events.contracts.records import LearnerTermResult, StaffUpdated, TermFinalized
from shared.events.envelope import CloudEvent, EventData
from shared.http.problems import Problem

pytestmark = pytest.mark.integration

YEAR = "2025-2026"
T0 = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
DEPARTMENT = Principal("so-gddt", "department", "HP")
COMMUNE_A = Principal("ubnd-a", "commune", "C-A")
SCHOOL_A = Principal("hieu-truong-a", "school", "S-A")
TEACHER_A = Principal("gv-a", "teacher", "S-A")
SCHOOL_B = Principal("hieu-truong-b", "school", "S-B")


def sid(n: int) -> str:
    return f"HS-31-2014-{n:07d}-0"


L1, L2, L3, L4, L5, L6, L7 = (sid(n) for n in range(1, 8))
L1_DUP = sid(99)  # a second record of L1's, at school S-B


@pytest.fixture
async def conn(fresh_db: str) -> AsyncIterator[Connection]:
    pool = await create_pool(fresh_db, min_size=1, max_size=1)
    async with pool.acquire() as connection:
        await migrate(connection, "analytics", Path("services/analytics/migrations"))
        await connection.executemany(
            "INSERT INTO org_units (org_id, revision, kind, name, parent_id, school_type, "
            "valid_from) VALUES ($1, 1, $2, $3, $4, $5, '2025-07-01')",
            [
                ("HP", "province", "Thành phố Hải Phòng", None, None),
                ("C-A", "commune", "Phường Hồng Bàng", "HP", None),
                ("C-B", "commune", "Xã An Hưng", "HP", None),
                ("S-A", "school", "Trường THCS Hồng Bàng", "C-A", "lower_secondary"),
                ("S-A2", "school", "Trường THCS Quang Trung", "C-A", "lower_secondary"),
                ("S-B", "school", "Trường THCS An Hưng", "C-B", "lower_secondary"),
            ],
        )
        yield connection
    await pool.close()


def item(
    learner: str, toan: float | None, van: float | None, gdtc: str | None, level: str | None
) -> LearnerTermResult:
    return LearnerTermResult(
        learner_id=learner,
        subject_averages={"toan": toan, "ngu_van": van},
        comment_grades={"giao_duc_the_chat": gdtc},  # type: ignore[dict-item]
        learning_level=level,  # type: ignore[arg-type]
    )


def term(
    school: str, class_id: str, items: list[LearnerTermResult], *, semester: int = 1
) -> TermFinalized:
    return TermFinalized(
        school_id=school,
        class_id=class_id,
        school_year=YEAR,
        semester=semester,  # type: ignore[arg-type]
        grade=6,
        results=items,
    )


def incoming(data: EventData, minute: int) -> IncomingEvent:
    """As the runner hands it over: an envelope (a new event id) around the data."""
    envelope = CloudEvent.wrap(data, source="records", time=T0 + timedelta(minutes=minute))
    record = ConsumedRecord(data.topic(), 0, minute, data.subject().encode(), envelope.to_bytes())
    return IncomingEvent(envelope, data, record)


async def deliver(conn: Connection, events: list[IncomingEvent]) -> None:
    async with conn.transaction():
        await results_consumer().handler(conn, events)


async def deliver_staff(conn: Connection, events: list[IncomingEvent]) -> None:
    async with conn.transaction():
        await teacher_stats_consumer().handler(conn, events)


async def assert_cells_are_a_recount(conn: Connection) -> None:
    assert await results_store.all_cells(conn) == recount(await results_store.all_memory(conn))


def school_terms() -> tuple[IncomingEvent, IncomingEvent, list[IncomingEvent]]:
    """6A of S-A finalised, then republished after a correction (L2's Toán 4.0 -> 5.0, level
    Chưa đạt -> Đạt, L3 dropped: they had left the class), and the other classes of the city."""
    first_6a = incoming(
        term(
            "S-A",
            "6A",
            [
                item(L1, 8.5, 7.0, "dat", "tot"),
                item(L2, 4.0, 6.0, "dat", "chua_dat"),
                item(L3, 6.0, 6.0, "dat", "dat"),
            ],
        ),
        0,
    )
    corrected_6a = incoming(
        term(
            "S-A",
            "6A",
            [item(L1, 8.5, 7.0, "dat", "tot"), item(L2, 5.0, 6.0, "dat", "dat")],
        ),
        30,
    )
    others = [
        incoming(term("S-A", "6B", [item(L4, 6.7, 3.2, "chua_dat", "chua_dat")]), 1),
        incoming(term("S-A2", "6A", [item(L5, 9.0, 8.0, "dat", "tot")]), 2),
        incoming(
            term(
                "S-B",
                "6C",
                [item(L6, 7.0, 7.0, "dat", "kha"), item(L1_DUP, 9.9, 9.9, "dat", "tot")],
            ),
            3,
        ),
        # Forced finalisation: L7 without a Toán average or a level.
        incoming(term("S-B", "6D", [item(L7, None, 5.5, None, None)]), 4),
    ]
    return first_6a, corrected_6a, others


async def test_results_for_a_school_its_commune_and_the_province(conn):
    first_6a, corrected_6a, others = school_terms()
    # The correction arrives before the original; the original arrives twice.
    await deliver(conn, [corrected_6a, others[0]])
    await deliver(conn, [first_6a, *others[1:]])
    await deliver(conn, [first_6a])

    school = await results_stats(conn, SCHOOL_A, org_id="S-A", school_year=YEAR, term=1)
    assert school.levels.model_dump() == {
        "learners": 3,
        "tot": 1,
        "kha": 0,
        "dat": 1,
        "chua_dat": 1,
        "no_level": 0,
        "rates": {"tot": 0.3333, "kha": 0.0, "dat": 0.3333, "chua_dat": 0.3333},
    }
    subjects = {s.subject_code: s for s in school.subjects}
    assert list(subjects) == ["giao_duc_the_chat", "ngu_van", "toan"]
    toan = subjects["toan"]
    # 8.5 + 5.0 (the corrected figure) + 6.7
    assert (toan.averaged, toan.sum_of_averages, toan.mean) == (3, 20.2, 6.73)
    assert toan.bands == {
        "avg_below_3_5": 0,
        "avg_3_5_to_5": 0,
        "avg_5_to_6_5": 1,
        "avg_6_5_to_8": 1,
        "avg_8_plus": 1,
    }
    assert toan.share_below_5 == 0.0
    van = subjects["ngu_van"]
    assert (van.averaged, van.sum_of_averages, van.mean, van.share_below_5) == (
        3,
        16.2,
        5.4,
        0.3333,
    )
    gdtc = subjects["giao_duc_the_chat"]
    assert (gdtc.dat, gdtc.chua_dat, gdtc.averaged, gdtc.mean) == (2, 1, 0, None)
    assert [(p.unit_id, p.kind, p.levels.learners) for p in school.breakdown] == [
        ("6A", "class", 2),
        ("6B", "class", 1),
    ]

    commune = await results_stats(conn, COMMUNE_A, org_id="C-A", school_year=YEAR, term=1)
    assert (commune.levels.learners, commune.levels.tot) == (4, 2)
    assert [(p.unit_id, p.kind, p.name, p.levels.learners) for p in commune.breakdown] == [
        ("S-A", "school", "Trường THCS Hồng Bàng", 3),
        ("S-A2", "school", "Trường THCS Quang Trung", 1),
    ]

    city = await results_stats(conn, DEPARTMENT, org_id="HP", school_year=YEAR, term=1)
    c = city.levels
    assert (c.learners, c.tot, c.kha, c.dat, c.chua_dat, c.no_level) == (7, 3, 1, 1, 1, 1)
    city_toan = {s.subject_code: s for s in city.subjects}["toan"]
    # 8.5 + 5.0 + 6.7 + 9.0 + 7.0 + 9.9; L7 has no average
    assert (city_toan.averaged, city_toan.sum_of_averages, city_toan.no_result) == (6, 46.1, 1)
    assert city_toan.mean == 7.68
    assert [(p.unit_id, p.levels.learners) for p in city.breakdown] == [("C-A", 4), ("C-B", 3)]

    # Another term or year has nothing yet.
    year = await results_stats(conn, DEPARTMENT, org_id="HP", school_year=YEAR, term=0)
    assert (year.levels.learners, year.subjects, year.breakdown) == (0, [], [])
    await assert_cells_are_a_recount(conn)

    audited = await conn.fetch(
        "SELECT actor, entity_id FROM audit_log WHERE action = 'read_results_statistics' "
        "ORDER BY id"
    )
    assert [(r["actor"], r["entity_id"]) for r in audited] == [
        ("hieu-truong-a", "S-A"),
        ("ubnd-a", "C-A"),
        ("so-gddt", "HP"),
        ("so-gddt", "HP"),
    ]


async def test_one_event_at_a_time_in_reverse_gives_the_same_cells(conn):
    first_6a, corrected_6a, others = school_terms()
    everything = [first_6a, corrected_6a, *others]
    await deliver(conn, everything)
    in_one_batch = await results_store.all_cells(conn)
    await conn.execute(
        "TRUNCATE results_figures, results_finalizations, results_person_merges, "
        "result_subject_cells, result_level_cells"
    )
    for event in reversed(everything):
        await deliver(conn, [event])
    assert await results_store.all_cells(conn) == in_one_batch
    assert sum(c["learners"] for c in in_one_batch.levels.values()) == 7


async def test_a_merged_learner_counts_once_under_the_survivor_until_unmerged(conn):
    first_6a, corrected_6a, others = school_terms()
    await deliver(conn, [first_6a, corrected_6a, *others])
    merge_id = uuid.uuid4()
    merge = PersonMerged(merge_id=merge_id, survivor_id=L1, merged_id=L1_DUP, reason="same CCCD")
    await deliver(conn, [incoming(merge, 40)])

    city = await results_stats(conn, DEPARTMENT, org_id="HP", school_year=YEAR, term=1)
    assert (city.levels.learners, city.levels.tot) == (6, 2)
    city_toan = {s.subject_code: s for s in city.subjects}["toan"]
    assert (city_toan.averaged, city_toan.sum_of_averages) == (5, 36.2)  # L1_DUP's 9.9 gone
    # L1's figures stay with 6A of S-A (the survivor's own); S-B keeps only L6 and L7.
    school_b = await results_stats(conn, SCHOOL_B, org_id="S-B", school_year=YEAR, term=1)
    assert [(p.unit_id, p.levels.learners) for p in school_b.breakdown] == [("6C", 1), ("6D", 1)]
    await assert_cells_are_a_recount(conn)

    # A new finalisation naming the retired ID still counts under the survivor.
    await deliver(conn, [incoming(term("S-B", "6C", [item(L1_DUP, 9.9, 9.9, "dat", "tot")]), 45)])
    city = await results_stats(conn, DEPARTMENT, org_id="HP", school_year=YEAR, term=1)
    assert city.levels.learners == 5  # 6C republished without L6; L1_DUP still merged into L1
    await assert_cells_are_a_recount(conn)

    unmerge = PersonUnmerged(merge_id=merge_id, survivor_id=L1, merged_id=L1_DUP, reason="twins")
    await deliver(conn, [incoming(unmerge, 50), incoming(merge, 51)])  # a late duplicate merge
    city = await results_stats(conn, DEPARTMENT, org_id="HP", school_year=YEAR, term=1)
    assert (city.levels.learners, city.levels.tot) == (6, 3)
    city_toan = {s.subject_code: s for s in city.subjects}["toan"]
    assert (city_toan.averaged, city_toan.sum_of_averages) == (5, 39.1)  # without L6 (6C)
    await assert_cells_are_a_recount(conn)


async def test_results_scope_and_unknown_units(conn):
    first_6a, _, others = school_terms()
    await deliver(conn, [first_6a, *others])
    with pytest.raises(AuthorisationError):
        await results_stats(conn, SCHOOL_B, org_id="S-A", school_year=YEAR, term=1)
    with pytest.raises(AuthorisationError):
        await results_stats(conn, COMMUNE_A, org_id="HP", school_year=YEAR, term=1)
    with pytest.raises(Problem) as caught:
        await results_stats(conn, DEPARTMENT, org_id="NO-SUCH", school_year=YEAR, term=1)
    assert caught.value.status == 404
    own = await results_stats(conn, TEACHER_A, org_id="S-A", school_year=YEAR, term=1)
    assert own.levels.learners == 4


# --------------------------------------------------------------------------- teachers


def staff(
    staff_id: str,
    revision: int,
    school: str,
    subjects: list[str],
    born: date,
    sex: str,
    *,
    until: date | None = None,
    position: str = "teacher",
) -> StaffUpdated:
    return StaffUpdated(
        staff_id=staff_id,
        school_id=school,
        position=position,  # type: ignore[arg-type]
        subjects=subjects,
        birth_date=born,
        sex=sex,  # type: ignore[arg-type]
        employed_from=date(2010, 9, 1),
        employed_until=until,
        revision=revision,
    )


async def test_teachers_by_subject_age_band_and_sex_following_transfers_and_leavers(conn):
    moved_v1 = staff("GV-3", 1, "S-A", ["ngu_van"], date(1970, 3, 3), "female")
    moved_v2 = staff("GV-3", 2, "S-B", ["ngu_van"], date(1970, 3, 3), "female")
    await deliver_staff(
        conn,
        [
            incoming(staff("GV-1", 1, "S-A", ["toan", "tin_hoc"], date(1998, 5, 1), "female"), 0),
            incoming(staff("GV-2", 1, "S-A", ["toan"], date(1985, 1, 1), "male"), 1),
            incoming(moved_v2, 2),  # the transfer arrives before the profile it replaces
            incoming(staff("GV-4", 1, "S-A2", ["toan"], date(1967, 7, 7), "male"), 3),
            incoming(
                staff("HT-1", 1, "S-A", ["toan"], date(1975, 2, 2), "male", position="principal"), 4
            ),
        ],
    )
    await deliver_staff(
        conn,
        [
            incoming(moved_v1, 5),  # late: changes nothing
            # GV-2 left at the end of school year 2024-2025
            incoming(
                staff(
                    "GV-2", 2, "S-A", ["toan"], date(1985, 1, 1), "male", until=date(2025, 5, 31)
                ),
                6,
            ),
        ],
    )

    school = await teacher_stats(conn, SCHOOL_A, org_id="S-A", school_year=YEAR)
    assert (school.teachers, school.reference_day, school.breakdown) == (1, date(2025, 12, 31), [])
    assert school.by_age_band["under_30"].model_dump() == {"male": 0, "female": 1, "total": 1}
    assert [(s.subject_code, s.teachers) for s in school.subjects] == [("toan", 1)]

    last_year = await teacher_stats(conn, SCHOOL_A, org_id="S-A", school_year="2024-2025")
    assert last_year.teachers == 2  # GV-2 still employed on 31 Dec 2024; GV-3 moved to S-B
    assert last_year.by_age_band["30_39"].model_dump() == {"male": 1, "female": 0, "total": 1}

    city = await teacher_stats(conn, DEPARTMENT, org_id="HP", school_year=YEAR)
    assert city.teachers == 3
    assert city.age_bands == ["under_30", "30_39", "40_49", "50_54", "55_59", "60_plus"]
    assert {band: c.total for band, c in city.by_age_band.items() if c.total} == {
        "under_30": 1,  # GV-1, 27 in 2025
        "55_59": 2,  # GV-3, 55 in 2025; GV-4, 58 in 2025
    }
    assert city.by_age_band["55_59"].model_dump() == {"male": 1, "female": 1, "total": 2}
    assert [(s.subject_code, s.teachers) for s in city.subjects] == [("ngu_van", 1), ("toan", 2)]
    assert [(p.unit_id, p.kind, p.teachers) for p in city.breakdown] == [
        ("C-A", "commune", 2),
        ("C-B", "commune", 1),
    ]
    commune = await teacher_stats(conn, COMMUNE_A, org_id="C-A", school_year=YEAR)
    assert [(p.unit_id, p.name, p.teachers) for p in commune.breakdown] == [
        ("S-A", "Trường THCS Hồng Bàng", 1),
        ("S-A2", "Trường THCS Quang Trung", 1),
    ]
    # In 2027-2028 GV-4 (born 1967) is 60.
    later = await teacher_stats(conn, DEPARTMENT, org_id="HP", school_year="2027-2028")
    assert later.by_age_band["60_plus"].model_dump() == {"male": 1, "female": 0, "total": 1}

    assert await teacher_store.all_cells(conn) == teacher_domain.recount(
        await teacher_store.all_records(conn)
    )
    held = {r.staff_id: r.revision for r in await teacher_store.all_records(conn)}
    assert held == {"GV-1": 1, "GV-2": 2, "GV-3": 2, "GV-4": 1, "HT-1": 1}

    with pytest.raises(AuthorisationError):  # staff ages are personal data: not for teachers
        await teacher_stats(conn, TEACHER_A, org_id="S-A", school_year=YEAR)
    with pytest.raises(AuthorisationError):
        await teacher_stats(conn, SCHOOL_B, org_id="S-A", school_year=YEAR)
