"""Duplicates over real HTTP: scan, review queue, merge (the retired ID still resolves),
unmerge, both audited and published."""

from __future__ import annotations

import json

import pytest

from shared.tests.support import read_topic
from tests.e2e.support import new_school

pytestmark = pytest.mark.e2e


async def test_scan_merge_and_unmerge(platform, kafka):
    with platform.client() as api:
        commune, school = new_school(platform, api)
        url = platform.url("identity")
        twin_a = api.post(
            f"{url}/persons",
            json={
                "kind": "learner",
                "full_name": "Trần Văn Bình",
                "birth_date": "2014-05-06",
                "sex": "male",
                "org_id": school,
                "guardian_name": "Trần Văn Hùng",
            },
        ).json()
        twin_b = api.post(
            f"{url}/persons",
            json={
                "kind": "learner",
                "full_name": "Tran Van Binh",
                "birth_date": "2014-05-06",
                "sex": "male",
                "org_id": school,
                "guardian_name": "Trần Văn Hùng",
            },
        ).json()
        other = api.post(
            f"{url}/persons",
            json={
                "kind": "learner",
                "full_name": "Lê Thị Hoa",
                "birth_date": "2014-01-02",
                "sex": "female",
                "org_id": school,
            },
        ).json()

        scan = api.post(f"{url}/duplicates/scan", json={"org_id": commune})
        assert scan.status_code == 200, scan.text
        assert scan.json()["persons_scanned"] == 3
        assert scan.json()["candidates"] == 1
        queue = api.get(f"{url}/duplicates").json()["items"]
        ours = [
            c
            for c in queue
            if {c["a"]["sector_id"], c["b"]["sector_id"]}
            == {twin_a["sector_id"], twin_b["sector_id"]}
        ]
        assert len(ours) == 1
        assert ours[0]["score"] >= 0.7
        assert any("name" in reason for reason in ours[0]["reasons"])
        assert other["sector_id"] not in json.dumps(queue)

        merged = api.post(
            f"{url}/merges",
            json={
                "survivor_id": twin_a["sector_id"],
                "merged_id": twin_b["sector_id"],
                "reason": "same child entered twice",
            },
        )
        assert merged.status_code == 201, merged.text
        merge_id = merged.json()["merge_id"]
        # The retired ID still resolves, to the survivor.
        resolved = api.get(f"{url}/persons/{twin_b['sector_id']}").json()
        assert resolved["sector_id"] == twin_a["sector_id"]
        assert resolved["resolved_from"] == twin_b["sector_id"]
        open_ids = {c["candidate_id"] for c in api.get(f"{url}/duplicates").json()["items"]}
        assert ours[0]["candidate_id"] not in open_ids  # the merge resolved the candidate
        again = api.post(
            f"{url}/merges",
            json={
                "survivor_id": twin_a["sector_id"],
                "merged_id": twin_b["sector_id"],
                "reason": "twice",
            },
        )
        assert again.status_code == 409

        undone = api.post(f"{url}/merges/{merge_id}/unmerge", json={"reason": "twins after all"})
        assert undone.status_code == 200, undone.text
        assert (
            api.get(f"{url}/persons/{twin_b['sector_id']}").json()["sector_id"]
            == twin_b["sector_id"]
        )
        assert (
            api.post(f"{url}/merges/{merge_id}/unmerge", json={"reason": "again"}).status_code
            == 409
        )
        trail = api.get(f"{url}/persons/{twin_b['sector_id']}/audit").json()
        assert {"merge", "unmerge"} <= {e["action"] for e in trail}

    with platform.client(role="school", org=school) as school_api:
        assert (
            school_api.post(
                f"{url}/merges/{merge_id}/unmerge", json={"reason": "not mine to undo"}
            ).status_code
            == 403
        )

    merges = await read_topic(
        kafka.bootstrap_servers, "identity.person.merged", expect=10_000, within=5
    )
    unmerges = await read_topic(
        kafka.bootstrap_servers, "identity.person.unmerged", expect=10_000, within=5
    )
    key = twin_b["sector_id"].encode()
    assert [json.loads(r.value)["data"]["survivor_id"] for r in merges if r.key == key] == [
        twin_a["sector_id"]
    ]
    assert [json.loads(r.value)["data"]["merge_id"] for r in unmerges if r.key == key] == [merge_id]


def test_two_personal_numbers_are_two_people(platform):
    with platform.client() as api:
        _, school = new_school(platform, api)
        url = platform.url("identity")
        first = api.post(
            f"{url}/persons",
            json={
                "kind": "learner",
                "full_name": "Phạm Minh Đức",
                "birth_date": "2013-02-03",
                "sex": "male",
                "org_id": school,
                "personal_number": "031213000101",
            },
        ).json()
        second = api.post(
            f"{url}/persons",
            json={
                "kind": "learner",
                "full_name": "Phạm Minh Đức",
                "birth_date": "2013-02-03",
                "sex": "male",
                "org_id": school,
                "personal_number": "031213000102",
            },
        ).json()
        response = api.post(
            f"{url}/merges",
            json={
                "survivor_id": first["sector_id"],
                "merged_id": second["sector_id"],
                "reason": "looks the same",
            },
        )
        assert response.status_code == 409
        assert "different personal numbers" in response.json()["detail"]
