"""Identity merges flow downstream: records moves the retired learner's records to the survivor
and analytics stops counting the child twice; an unmerge puts things back."""

from __future__ import annotations

import pytest

from tests.e2e.support import enrolled, enrolment, new_school, wait_for

pytestmark = pytest.mark.e2e


def register(api, url, school, name):
    response = api.post(
        f"{url}/persons",
        json={
            "kind": "learner",
            "full_name": name,
            "birth_date": "2013-06-07",
            "sex": "female",
            "org_id": school,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["sector_id"]


def test_a_child_enrolled_twice_counts_once_after_the_merge(platform):
    with platform.client() as api:
        _, school = new_school(platform, api)
        identity, records = platform.url("identity"), platform.url("records")
        first = register(api, identity, school, "Vũ Thị Mai")
        second = register(api, identity, school, "Vu Thi Mai")
        third = register(api, identity, school, "Đỗ Văn Nam")
        for learner in (first, second, third):
            assert (
                api.post(
                    f"{records}/enrolments", json=enrolment(school, learner_id=learner)
                ).status_code
                == 201
            )
        wait_for(lambda: enrolled(platform, api, school) == 3)

        merge = api.post(
            f"{identity}/merges",
            json={"survivor_id": first, "merged_id": second, "reason": "entered twice"},
        )
        assert merge.status_code == 201, merge.text
        wait_for(lambda: enrolled(platform, api, school) == 2)

        listing = api.get(f"{records}/enrolments", params={"school_id": school}).json()["items"]
        by_learner = {}
        for item in listing:
            by_learner.setdefault(item["learner_id"], []).append(item["status"])
        assert second not in by_learner  # everything moved to the survivor
        assert sorted(by_learner[first]) == ["active", "ended"]
        assert by_learner[third] == ["active"]

        undone = api.post(
            f"{identity}/merges/{merge.json()['merge_id']}/unmerge",
            json={"reason": "two girls with the same name"},
        )
        assert undone.status_code == 200, undone.text
        wait_for(lambda: enrolled(platform, api, school) == 3)
        listing = api.get(f"{records}/enrolments", params={"school_id": school}).json()["items"]
        assert {i["learner_id"]: i["status"] for i in listing} == {
            first: "active",
            second: "active",
            third: "active",
        }


def test_the_survivor_takes_over_a_placement_it_did_not_have(platform):
    with platform.client() as api:
        _, school = new_school(platform, api)
        identity, records = platform.url("identity"), platform.url("records")
        survivor = register(api, identity, school, "Hoàng Minh Tú")
        retired = register(api, identity, school, "Hoang Minh Tu")
        assert (
            api.post(
                f"{records}/enrolments", json=enrolment(school, learner_id=retired)
            ).status_code
            == 201
        )
        wait_for(lambda: enrolled(platform, api, school) == 1)
        assert (
            api.post(
                f"{identity}/merges",
                json={"survivor_id": survivor, "merged_id": retired, "reason": "same child"},
            ).status_code
            == 201
        )

        def moved() -> bool:
            items = api.get(f"{records}/enrolments", params={"school_id": school}).json()["items"]
            return [(i["learner_id"], i["status"]) for i in items] == [(survivor, "active")]

        wait_for(moved)
        assert enrolled(platform, api, school) == 1


def test_health_records_follow_a_merge_and_come_back_on_unmerge(platform):
    from datetime import UTC, datetime, timedelta

    from tests.e2e.test_records_health import _school_year

    today = (datetime.now(UTC) + timedelta(hours=7)).date()
    year, year_start, year_end = _school_year(today)
    with platform.client() as api:
        _, school = new_school(platform, api)
        identity, records = platform.url("identity"), platform.url("records")
        survivor = register(api, identity, school, "Lý Thu Trang")
        retired = register(api, identity, school, "Ly Thu Trang")
        for learner in (survivor, retired):
            assert (
                api.post(
                    f"{records}/enrolments", json=enrolment(school, learner_id=learner)
                ).status_code
                == 201
            )
        campaign = f"KSK-M-{school}"
        assert (
            api.post(
                f"{records}/health/campaigns",
                json={
                    "campaign_id": campaign,
                    "org_id": school,
                    "name": "Khám sức khỏe",
                    "school_year": year,
                    "term": 1,
                    "starts_on": max(year_start, today - timedelta(days=20)).isoformat(),
                    "ends_on": min(year_end, today + timedelta(days=20)).isoformat(),
                },
            ).status_code
            == 201
        )
    with platform.client(role="school", org=school) as nurse:
        for learner, height in ((survivor, 140.0), (retired, 141.0)):
            response = nurse.post(
                f"{records}/health/measurements",
                json={
                    "learner_id": learner,
                    "school_id": school,
                    "campaign_id": campaign,
                    "measured_on": today.isoformat(),
                    "height_cm": height,
                    "weight_kg": 35.0,
                },
            )
            assert response.status_code == 201, response.text
    with platform.client() as api:
        merge = api.post(
            f"{identity}/merges",
            json={"survivor_id": survivor, "merged_id": retired, "reason": "same girl"},
        )
        assert merge.status_code == 201, merge.text

        def heights(learner: str) -> list[tuple[float, bool]]:
            body = api.get(
                f"{records}/health/learners/{learner}", params={"include_superseded": "true"}
            )
            if body.status_code != 200:
                return []
            return sorted(
                (m["height_cm"], m["replaced_by"] is None) for m in body.json()["measurements"]
            )

        # Both measurements now belong to the survivor; the survivor's own stays current.
        wait_for(lambda: heights(survivor) == [(140.0, True), (141.0, False)])
        api.post(
            f"{identity}/merges/{merge.json()['merge_id']}/unmerge", json={"reason": "two girls"}
        )
        wait_for(lambda: heights(retired) == [(141.0, True)])
        assert heights(survivor) == [(140.0, True)]
