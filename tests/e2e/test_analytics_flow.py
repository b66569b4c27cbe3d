"""From records events to analytics figures, end to end over HTTP only (identity, records,
analytics as real processes on the real broker): exact figures for a child measured under two
identities that identity merges and unmerges (nutrition, swimming, eyes), a finalised
gradebook and its reasoned correction (results), staff profiles (teachers by subject and age
band), and a back-dated transfer seen through as-of figures and a frozen census."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import httpx
import pytest

from tests.e2e.support import enrolment, new_school
from tests.e2e.test_records_health import _school_year

pytestmark = pytest.mark.e2e

T = TypeVar("T")

# Consumers on tansu can take several seconds per hop; Apache Kafka is faster. Generous, since
# a wait that ends early costs nothing.
SETTLE_SECONDS = 90.0
YEAR = "2025-2026"  # the school year of support.enrolment's learners


def settles(read: Callable[[], T], expected: T, *, timeout: float = SETTLE_SECONDS) -> T:
    """Poll `read` until it returns `expected`; on timeout fail showing the last value read, so
    that a wrong figure is told apart from a late one."""
    started = time.monotonic()
    while True:
        value = read()
        if value == expected:
            return value
        if time.monotonic() - started > timeout:
            assert value == expected, f"still not as expected after {timeout} s"
        time.sleep(0.2)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def register(api: httpx.Client, identity: str, school: str, name: str) -> str:
    body = {
        "kind": "learner",
        "full_name": name,
        "birth_date": "2013-04-02",
        "sex": "female",
        "org_id": school,
    }
    return str(ok(api.post(f"{identity}/persons", json=body), 201)["sector_id"])


# --------------------------------------------------------------------------- (a) health, merges


def test_a_child_measured_under_two_identities_counts_once_after_the_merge(platform):
    today = (datetime.now(UTC) + timedelta(hours=7)).date()
    year, year_start, year_end = _school_year(today)
    identity, records, analytics = (platform.url(s) for s in ("identity", "records", "analytics"))
    with platform.client() as api:
        commune, school = new_school(platform, api)
        survivor = register(api, identity, school, "Nguyễn Thị Lan")
        retired = register(api, identity, school, "Nguyen Thi Lan")
        for learner in (survivor, retired):
            ok(api.post(f"{records}/enrolments", json=enrolment(school, learner_id=learner)), 201)
        campaign = f"KSK-F-{school}"
        created = api.post(
            f"{records}/health/campaigns",
            json={
                "campaign_id": campaign,
                "org_id": school,
                "name": "Khám sức khỏe đầu năm",
                "school_year": year,
                "term": 1 if today.month >= 8 or today.month == 1 else 2,
                "starts_on": max(year_start, today - timedelta(days=20)).isoformat(),
                "ends_on": min(year_end, today + timedelta(days=20)).isoformat(),
            },
        )
        ok(created, 201)

    # The survivor's record is the older one: overweight (BMI 26.7 at 13 years), short-sighted
    # with reduced acuity, swims only with an aid. The retired ID's record is newer: normal,
    # eyes fine, swims 25 m. Merged, the child is counted once, by the newest record.
    with platform.client(role="school", org=school) as nurse:
        for learner, days_ago, height, weight, acuity, conditions, ability in (
            (survivor, 3, 150.0, 60.0, "6/10", ["cận thị"], "swims_with_aid"),
            (retired, 1, 151.0, 41.0, "10/10", [], "swims_25m_unaided"),
        ):
            measured = nurse.post(
                f"{records}/health/measurements",
                json={
                    "learner_id": learner,
                    "school_id": school,
                    "campaign_id": campaign,
                    "measured_on": (today - timedelta(days=days_ago)).isoformat(),
                    "height_cm": height,
                    "weight_kg": weight,
                    "eyesight_left": acuity,
                    "eyesight_right": acuity,
                    "eye_conditions": conditions,
                },
            )
            ok(measured, 201)
            swim = nurse.post(
                f"{records}/health/swim-assessments",
                json={
                    "learner_id": learner,
                    "school_id": school,
                    "campaign_id": campaign,
                    "assessed_on": (today - timedelta(days=days_ago)).isoformat(),
                    "ability": ability,
                },
            )
            ok(swim, 201)

    with platform.client() as api:
        query = {"campaign_id": campaign}

        def nutrition(org: str) -> dict[str, int]:
            total = ok(api.get(f"{analytics}/stats/nutrition/{org}", params=query))["total"]
            return {k: total[k] for k in ("measured", "assessed", "normal", "overweight", "obese")}

        def swimming(org: str) -> dict[str, Any]:
            total = ok(api.get(f"{analytics}/stats/swimming/{org}", params=query))["total"]
            return {
                k: total[k]
                for k in (
                    "assessed",
                    "cannot_swim",
                    "swims_with_aid",
                    "swims_25m_unaided",
                    "not_able_to_swim_safely",
                    "share_not_able",
                )
            }

        def eyes(org: str) -> dict[str, int]:
            total = ok(api.get(f"{analytics}/stats/eyes/{org}", params=query))["total"]
            return {
                k: total[k] for k in ("examined", "myopia", "acuity_measured", "reduced_acuity")
            }

        two_children: tuple[dict[str, Any], ...] = (
            {"measured": 2, "assessed": 2, "normal": 1, "overweight": 1, "obese": 0},
            {
                "assessed": 2,
                "cannot_swim": 0,
                "swims_with_aid": 1,
                "swims_25m_unaided": 1,
                "not_able_to_swim_safely": 1,
                "share_not_able": 0.5,
            },
            {"examined": 2, "myopia": 1, "acuity_measured": 2, "reduced_acuity": 1},
        )
        one_child: tuple[dict[str, Any], ...] = (
            {"measured": 1, "assessed": 1, "normal": 1, "overweight": 0, "obese": 0},
            {
                "assessed": 1,
                "cannot_swim": 0,
                "swims_with_aid": 0,
                "swims_25m_unaided": 1,
                "not_able_to_swim_safely": 0,
                "share_not_able": 0.0,
            },
            {"examined": 1, "myopia": 0, "acuity_measured": 1, "reduced_acuity": 0},
        )

        def figures(org: str) -> tuple[dict[str, Any], ...]:
            return nutrition(org), swimming(org), eyes(org)

        for org in (school, commune):
            settles(partial(figures, org), two_children)
        # The school's breakdown is by class: these learners have none.
        by_class = ok(api.get(f"{analytics}/stats/swimming/{school}", params=query))["breakdown"]
        assert [(p["unit_id"], p["kind"], p["total"]["assessed"]) for p in by_class] == [
            (None, "class", 2)
        ]

        merge = api.post(
            f"{identity}/merges",
            json={"survivor_id": survivor, "merged_id": retired, "reason": "entered twice"},
        )
        merge_id = ok(merge, 201)["merge_id"]
        for org in (school, commune):
            settles(partial(figures, org), one_child)

        undone = api.post(f"{identity}/merges/{merge_id}/unmerge", json={"reason": "two girls"})
        ok(undone)
        for org in (school, commune):
            settles(partial(figures, org), two_children)


# --------------------------------------------------------------------------- (b) results


def test_a_finalised_gradebook_and_its_correction_in_the_results(platform):
    records, analytics = platform.url("records"), platform.url("analytics")
    with platform.client() as department:
        commune, school = new_school(platform, department)
    grades_url = f"{records}/gradebook/grades"
    with (
        platform.client(role="school", org=school) as office,
        platform.client(role="teacher", org=school) as teacher,
    ):
        class_id = ok(
            office.post(
                f"{records}/classes",
                json={"school_id": school, "school_year": YEAR, "grade": 6, "name": "6B"},
            ),
            201,
        )["class_id"]
        learners = []
        for _ in range(3):
            body = enrolment(school, class_id=class_id, grade=6)
            learners.append(ok(office.post(f"{records}/enrolments", json=body), 201)["learner_id"])
        best, middling, incomplete = learners
        subjects = ok(teacher.get(f"{records}/gradebook/subjects", params={"grade": 6}))
        scored = [s for s in subjects if s["scale"] == "score"]
        commented = [s for s in subjects if s["scale"] == "comment"]
        assert len(scored) == 8 and len(commented) == 5  # Program 2018, grade 6

        def record(learner: str, subject: dict[str, Any], value: dict[str, Any]) -> None:
            slots = [("regular", n) for n in range(1, subject["required_regular"] + 1)]
            for assessment, sequence in [*slots, ("mid_term", 1), ("end_term", 1)]:
                grade = {
                    "learner_id": learner,
                    "school_id": school,
                    "class_id": class_id,
                    "school_year": YEAR,
                    "semester": 1,
                    "subject_code": subject["subject_code"],
                    "assessment": assessment,
                    "sequence": sequence,
                    **value,
                }
                ok(teacher.post(grades_url, json=grade), 201)

        # Every score equal: the semester average is that score. 9 everywhere is Tốt; 6
        # everywhere is Đạt (Khá needs six subjects at 6.5 or more). The third learner has only
        # Toán (7), so the term is forced and they have no level.
        for learner, score in ((best, 9), (middling, 6)):
            for subject in scored:
                record(learner, subject, {"score": score})
            for subject in commented:
                record(learner, subject, {"comment_grade": "Đạt"})
        (toan,) = [s for s in scored if s["subject_code"] == "toan"]
        assert toan["required_regular"] == 4  # 140 periods a year
        record(incomplete, toan, {"score": 7})

        term = {"school_id": school, "school_year": YEAR, "semester": 1}
        finalize_url = f"{records}/gradebook/classes/{class_id}/finalizations"
        assert office.post(finalize_url, json=term).status_code == 409
        forced = office.post(finalize_url, json=term | {"force": True, "reason": "Khoá sổ HK1"})
        ok(forced, 201)

    with platform.client() as api:

        def results(org: str) -> dict[str, Any]:
            stats = ok(
                api.get(f"{analytics}/stats/results/{org}", params={"school_year": YEAR, "term": 1})
            )
            subjects = {s["subject_code"]: s for s in stats["subjects"]}
            if not {"toan", "ngu_van", "gdtc"} <= subjects.keys():
                return {"levels": stats["levels"], "subjects": sorted(subjects)}  # not yet
            return {
                "levels": stats["levels"],
                "toan": {k: subjects["toan"][k] for k in ("averaged", "sum_of_averages", "mean")}
                | {"bands": subjects["toan"]["bands"], "no_result": subjects["toan"]["no_result"]},
                "ngu_van": (subjects["ngu_van"]["averaged"], subjects["ngu_van"]["mean"]),
                "ngu_van_no_result": subjects["ngu_van"]["no_result"],
                "gdtc": (subjects["gdtc"]["dat"], subjects["gdtc"]["no_result"]),
                "parts": [(p["unit_id"], p["levels"]["learners"]) for p in stats["breakdown"]],
            }

        def expected(
            levels: dict[str, int], toan: tuple[float, float, dict[str, int]], part: str
        ) -> dict[str, Any]:
            with_level = 3 - levels["no_level"]
            rates = {k: round(levels[k] / with_level, 4) for k in ("tot", "kha", "dat", "chua_dat")}
            return {
                "levels": {"learners": 3, **levels, "rates": rates},
                "toan": {"averaged": 3, "sum_of_averages": toan[0], "mean": toan[1]}
                | {"bands": toan[2], "no_result": 0},
                "ngu_van": (2, 7.5),
                "ngu_van_no_result": 1,
                "gdtc": (2, 1),
                "parts": [(part, 3)],
            }

        bands = dict.fromkeys(
            ("avg_below_3_5", "avg_3_5_to_5", "avg_5_to_6_5", "avg_6_5_to_8", "avg_8_plus"), 0
        )
        # Toán: 9.0 + 6.0 + 7.0 = 22.0 over three learners, mean 7.33.
        before = expected(
            {"tot": 1, "kha": 0, "dat": 1, "chua_dat": 0, "no_level": 1},
            (22.0, 7.33, bands | {"avg_8_plus": 1, "avg_5_to_6_5": 1, "avg_6_5_to_8": 1}),
            class_id,
        )
        settles(lambda: results(school), before)
        settles(lambda: results(commune), before | {"parts": [(school, 3)]})

    # A reasoned correction of the best learner's Toán end-of-term test, 9 -> 1: the average
    # becomes (4*9 + 2*9 + 3*1) / 9 = 6.3, below Tốt's 6.5 in every subject, so Khá. Records
    # republishes the term and analytics replaces the class's figures.
    with platform.client(role="teacher", org=school) as teacher:
        correction = {
            "learner_id": best,
            "school_id": school,
            "class_id": class_id,
            "school_year": YEAR,
            "semester": 1,
            "subject_code": "toan",
            "assessment": "end_term",
            "sequence": 1,
            "score": 1,
        }
        assert teacher.post(grades_url, json=correction).status_code == 409  # locked
        ok(teacher.post(grades_url, json=correction | {"reason": "Nhập nhầm điểm"}), 201)
        # Records' own view agrees with the arithmetic above.
        class_results = ok(
            teacher.get(
                f"{records}/gradebook/classes/{class_id}/results",
                params={"school_id": school, "school_year": YEAR, "semester": 1},
            )
        )
        (row,) = [r for r in class_results["learners"] if r["learner_id"] == best]
        assert row["learning_level"] == "kha"

    with platform.client() as api:
        # Toán: 6.3 + 6.0 + 7.0 = 19.3, mean 6.43.
        after = expected(
            {"tot": 0, "kha": 1, "dat": 1, "chua_dat": 0, "no_level": 1},
            (19.3, 6.43, bands | {"avg_5_to_6_5": 2, "avg_6_5_to_8": 1}),
            class_id,
        )
        settles(lambda: results(school), after)
        settles(lambda: results(commune), after | {"parts": [(school, 3)]})


# --------------------------------------------------------------------------- (c) teachers


def test_teachers_by_subject_and_age_band(platform):
    records, analytics = platform.url("records"), platform.url("analytics")
    tag = uuid.uuid4().hex[:7].upper()

    def profile(n: int, **fields: Any) -> dict[str, Any]:
        return {
            "staff_id": f"GV-FLOW-{tag}-{n}",
            "school_id": school,
            "position": "teacher",
            "employed_from": "2010-09-01",
            **fields,
        }

    with platform.client() as api:
        commune, school = new_school(platform, api)
        for body in (
            # Principals are counted apart (sent first, so that it is consumed before the
            # figures below settle).
            profile(
                6, subjects=["toan"], birth_date="1975-01-01", sex="male", position="principal"
            ),
            # 2025 - 1988 = 37: 30-39.
            profile(1, subjects=["toan", "tin_hoc"], birth_date="1988-05-17", sex="female"),
            # 59 in 2025 (55-59), 60 in 2026.
            profile(2, subjects=["ngu_van"], birth_date="1966-03-01", sex="male"),
            # 25: under 30; first sent with Toán first, then Tin học: the newest revision counts.
            profile(
                3,
                subjects=["toan"],
                birth_date="2000-01-10",
                sex="male",
                employed_from="2024-09-01",
            ),
            profile(
                3,
                subjects=["tin_hoc", "toan"],
                birth_date="2000-01-10",
                sex="male",
                employed_from="2024-09-01",
            ),
            # Employed after 31 December 2025: not in 2025-2026, counted from 2026-2027.
            profile(
                4,
                subjects=["toan"],
                birth_date="1995-07-07",
                sex="female",
                employed_from="2026-01-05",
            ),
            # Left before 31 December 2025: in 2024-2025 (aged 44), in nothing later.
            profile(
                5,
                subjects=["toan"],
                birth_date="1980-02-02",
                sex="male",
                employed_until="2025-06-30",
            ),
        ):
            response = api.post(f"{records}/staff", json=body)
            assert response.status_code in (200, 201), response.text

        def teachers(org: str, school_year: str) -> dict[str, Any]:
            stats = ok(
                api.get(f"{analytics}/stats/teachers/{org}", params={"school_year": school_year})
            )
            return {
                "teachers": stats["teachers"],
                "bands": {b: c for b, c in stats["by_age_band"].items() if c["total"]},
                "subjects": {
                    s["subject_code"]: {
                        b: (c["male"], c["female"])
                        for b, c in s["by_age_band"].items()
                        if c["total"]
                    }
                    for s in stats["subjects"]
                },
                "parts": [(p["unit_id"], p["teachers"]) for p in stats["breakdown"]],
            }

        settles(
            lambda: teachers(commune, "2025-2026"),
            {
                "teachers": 3,
                "bands": {
                    "under_30": {"male": 1, "female": 0, "total": 1},
                    "30_39": {"male": 0, "female": 1, "total": 1},
                    "55_59": {"male": 1, "female": 0, "total": 1},
                },
                "subjects": {
                    "ngu_van": {"55_59": (1, 0)},
                    "tin_hoc": {"under_30": (1, 0)},
                    "toan": {"30_39": (0, 1)},
                },
                "parts": [(school, 3)],
            },
        )
        settles(
            lambda: teachers(commune, "2024-2025"),
            {
                "teachers": 4,
                "bands": {
                    "under_30": {"male": 1, "female": 0, "total": 1},
                    "30_39": {"male": 0, "female": 1, "total": 1},
                    "40_49": {"male": 1, "female": 0, "total": 1},
                    "55_59": {"male": 1, "female": 0, "total": 1},
                },
                "subjects": {
                    "ngu_van": {"55_59": (1, 0)},
                    "tin_hoc": {"under_30": (1, 0)},
                    "toan": {"30_39": (0, 1), "40_49": (1, 0)},
                },
                "parts": [(school, 4)],
            },
        )
        expected_2026 = {
            "teachers": 4,
            "bands": {
                "under_30": {"male": 1, "female": 0, "total": 1},
                "30_39": {"male": 0, "female": 2, "total": 2},
                "60_plus": {"male": 1, "female": 0, "total": 1},
            },
            "subjects": {
                "ngu_van": {"60_plus": (1, 0)},
                "tin_hoc": {"under_30": (1, 0)},
                "toan": {"30_39": (0, 2)},
            },
            "parts": [(school, 4)],
        }
        settles(lambda: teachers(commune, "2026-2027"), expected_2026)


# --------------------------------------------------------------------------- (d) dates, census


def test_a_back_dated_transfer_in_as_of_figures_and_a_frozen_census(platform):
    records, analytics = platform.url("records"), platform.url("analytics")
    with platform.client() as api:
        commune_a, school_a = new_school(platform, api)
        _, school_b = new_school(platform, api)
        learners = [f"LF-{school_a}-{n}" for n in range(3)]
        for learner in learners:
            body = enrolment(school_a, learner_id=learner, enrolled_on="2025-09-05")
            ok(api.post(f"{records}/enrolments", json=body), 201)

        def on(org: str, day: str) -> tuple[int, list[dict[str, Any]]]:
            stats = ok(api.get(f"{analytics}/stats/enrolment/{org}", params={"as_of": day}))
            assert (stats["as_of"], stats["org_tree"]) == (day, "current")
            return stats["total_enrolled"], stats["cells"]

        def cells(n: int) -> list[dict[str, Any]]:
            return [{"school_year": YEAR, "grade": 7, "sex": "female", "enrolled": n}] if n else []

        census_day = "2025-10-01"
        settles(lambda: on(school_a, census_day), (3, cells(3)))
        assert on(school_a, "2025-09-04") == (0, [])  # before anyone enrolled
        assert on(school_b, census_day) == (0, [])

        frozen = ok(
            api.post(f"{analytics}/census", json={"census_date": census_day, "label": "Thử 1/10"}),
            201,
        )
        census_id = frozen["census_id"]
        assert (frozen["org_id"], frozen["census_date"]) == ("HP", census_day)

        def census(org: str) -> tuple[int, list[dict[str, Any]]]:
            unit = ok(api.get(f"{analytics}/census/{census_id}", params={"org_id": org}))["unit"]
            return unit["total_enrolled"], unit["cells"]

        assert census(school_a) == (3, cells(3))
        assert census(school_b) == (0, [])
        commune_detail = ok(
            api.get(f"{analytics}/census/{census_id}", params={"org_id": commune_a})
        )
        assert [(c["org_id"], c["total_enrolled"]) for c in commune_detail["unit"]["children"]] == [
            (school_a, 3)
        ]

        # Entered today, effective 20 September 2025: before the census day.
        moved = api.post(
            f"{records}/transfers",
            json={
                "learner_id": learners[0],
                "to_school_id": school_b,
                "transferred_on": "2025-09-20",
            },
        )
        ok(moved, 201)
        settles(lambda: on(school_b, census_day), (1, cells(1)))
        assert on(school_a, census_day) == (2, cells(2))
        assert on(school_a, "2025-09-19") == (3, cells(3))  # the day before the transfer
        assert on(school_b, "2025-09-19") == (0, [])
        # The live count (another consumer) follows too.
        settles(lambda: ok(api.get(f"{analytics}/stats/enrolment/{school_b}"))["total_enrolled"], 1)

        # The census keeps what was frozen; the corrections say what the transfer changed.
        assert census(school_a) == (3, cells(3))
        assert census(school_b) == (0, [])
        assert ok(api.get(f"{analytics}/census/{census_id}"))["census"] == frozen
        for org, frozen_total, recomputed_total, delta in (
            (school_a, 3, 2, -1),
            (school_b, 0, 1, 1),
        ):
            late = ok(
                api.get(f"{analytics}/census/{census_id}/corrections", params={"org_id": org})
            )
            assert (late["frozen_total"], late["recomputed_total"]) == (
                frozen_total,
                recomputed_total,
            )
            assert [(c["org_id"], c["grade"], c["delta"]) for c in late["corrections"]] == [
                (org, 7, delta)
            ]
