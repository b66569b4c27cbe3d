"""The learner lifecycle over real HTTP: classes, a transfer across communes (the record
follows; the old school keeps read-only history), leavers, the year rollover, the change feed,
and analytics following every step."""

from __future__ import annotations

import pytest

from tests.e2e.support import enrolled, enrolment, new_school, wait_for

pytestmark = pytest.mark.e2e
YEAR = "2025-2026"


def test_transfer_leave_and_rollover(platform):
    with platform.client() as api:
        _, school_a = new_school(platform, api)  # lower-secondary schools (grades 6-9)
        commune_b, school_b = new_school(platform, api)
        records = platform.url("records")
        for school in (school_a, school_b):
            made = api.post(
                f"{records}/classes",
                json={"school_id": school, "school_year": YEAR, "grade": 7, "name": "7A"},
            )
            assert made.status_code == 201, made.text
        class_a, class_b = f"{school_a}:{YEAR}:7A", f"{school_b}:{YEAR}:7A"
        wrong = api.post(
            f"{records}/classes",
            json={"school_id": school_a, "school_year": YEAR, "grade": 3, "name": "3A"},
        )
        assert wrong.status_code == 422
        assert "does not teach grade 3" in wrong.json()["errors"][0]["message"]

        learners = [f"LC-{school_a}-{n}" for n in range(3)]
        first_enrolment = None
        for learner in learners:
            response = api.post(
                f"{records}/enrolments",
                json=enrolment(school_a, learner_id=learner, class_id=class_a),
            )
            assert response.status_code == 201, response.text
            first_enrolment = first_enrolment or response.json()["enrolment_id"]
        mismatched = api.post(f"{records}/enrolments", json=enrolment(school_a, class_id=class_b))
        assert mismatched.status_code == 422
        assert mismatched.json()["errors"][0]["field"] == "body.class_id"
        wait_for(lambda: enrolled(platform, api, school_a) == 3)

        # The first learner moves to the other commune's school, into its class 7A.
        moved = api.post(
            f"{records}/transfers",
            json={
                "learner_id": learners[0],
                "to_school_id": school_b,
                "class_id": class_b,
                "transferred_on": "2025-11-03",
            },
        )
        assert moved.status_code == 201, moved.text
        wait_for(lambda: enrolled(platform, api, school_b) == 1)
        assert enrolled(platform, api, school_a) == 2
        assert enrolled(platform, api, commune_b) == 1
        # The old school keeps the ended enrolment as history, readable by it.
        with platform.client(role="school", org=school_a) as old_school:
            history = old_school.get(f"{records}/enrolments/{first_enrolment}")
            assert history.status_code == 200
            assert history.json()["status"] == "ended"
        again = api.post(
            f"{records}/transfers",
            json={
                "learner_id": learners[0],
                "to_school_id": school_b,
                "transferred_on": "2025-11-04",
            },
        )
        assert again.status_code == 422
        assert "already at" in again.json()["errors"][0]["message"]

        # The second leaves schooling.
        left = api.post(
            f"{records}/leavers",
            json={"learner_id": learners[1], "reason": "moved_abroad", "left_on": "2026-01-10"},
        )
        assert left.status_code == 200, left.text
        wait_for(lambda: enrolled(platform, api, school_a) == 1)

        # Rollover at school A: the last one repeats grade 7 in 2026-2027.
        rolled = api.post(
            f"{records}/rollovers",
            json={
                "school_id": school_a,
                "closing_school_year": YEAR,
                "effective_on": "2026-08-01",
                "decisions": {learners[2]: "repeat"},
            },
        )
        assert rolled.status_code == 200, rolled.text
        assert (rolled.json()["repeated"], rolled.json()["promoted"]) == (1, 0)

        def counted_next_year() -> bool:
            stats = api.get(f"{platform.url('analytics')}/stats/enrolment/{school_a}").json()
            return {y["school_year"]: y["enrolled"] for y in stats["by_school_year"]}.get(
                "2026-2027"
            ) == 1

        wait_for(counted_next_year)
        assert enrolled(platform, api, school_a) == 1

        # The change feed of school A: every step, with the transfer as a removal.
        feed = api.get(f"{records}/changes", params={"school_id": school_a}).json()
        kinds = [(item["event"]["type"], item["op"]) for item in feed["items"]]
        assert kinds.count(("records.class.created", "upsert")) == 1
        assert kinds.count(("records.student.enrolled", "upsert")) == 4  # 3 + the repeat
        assert ("records.student.transferred", "remove") in kinds
        assert ("records.student.left", "remove") in kinds
        later = api.get(
            f"{records}/changes", params={"school_id": school_a, "since": feed["next_since"]}
        ).json()
        assert later["items"] == []
        feed_b = api.get(f"{records}/changes", params={"school_id": school_b}).json()
        assert ("records.student.transferred", "upsert") in [
            (i["event"]["type"], i["op"]) for i in feed_b["items"]
        ]

    with platform.client(role="school", org=school_b) as school_api:
        assert (
            school_api.get(f"{records}/changes", params={"school_id": school_a}).status_code == 403
        )
