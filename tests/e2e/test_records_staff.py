"""Staff, assignments and facilities over real HTTP: a profile (retried, then resent unchanged),
an assignment and the teacher it blocks, the audited listing, the summary, a facilities report,
scope, and the events on Kafka."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.tests.support import read_topic
from tests.e2e.support import new_school

pytestmark = pytest.mark.e2e


def staff(staff_id: str, school: str, **overrides):
    body = {
        "staff_id": staff_id,
        "school_id": school,
        "position": "teacher",
        "subjects": ["toan", "tin_hoc"],
        "birth_date": "1988-05-17",
        "sex": "female",
        "employed_from": "2010-09-01",
        "qualification": "Cử nhân Sư phạm Toán",
        "it_skill_level": "advanced",
    }
    body.update(overrides)
    return body


async def test_staff_assignments_summary_and_facilities_round_trip(platform, kafka):
    tag = uuid.uuid4().hex[:7].upper()
    first, second = f"GV-E2E-{tag}-1", f"GV-E2E-{tag}-2"
    records = platform.url("records")
    with platform.client() as api:
        commune, school = new_school(platform, api)
        _, other_school = new_school(platform, api)

        created = api.post(
            f"{records}/staff", json=staff(first, school), headers={"Idempotency-Key": tag}
        )
        assert created.status_code == 201, created.text
        assert (created.json()["revision"], created.json()["changed"]) == (1, True)
        retried = api.post(
            f"{records}/staff", json=staff(first, school), headers={"Idempotency-Key": tag}
        )
        assert retried.headers["Idempotency-Replayed"] == "true"
        assert retried.json() == created.json()
        unchanged = api.post(f"{records}/staff", json=staff(first, school))  # a fresh key
        assert unchanged.status_code == 200
        assert (unchanged.json()["revision"], unchanged.json()["changed"]) == (1, False)
        response = api.post(
            f"{records}/staff", json=staff(second, school, birth_date="1966-03-01", sex="male")
        )
        assert response.status_code == 201, response.text

        assignment = {
            "staff_id": first,
            "school_id": school,
            "school_year": "2025-2026",
            "class_id": f"{school}-6A",
            "subject_code": "toan",
            "periods_per_week": 4,
        }
        assigned = api.post(f"{records}/staff/assignments", json=assignment)
        assert assigned.status_code == 201, assigned.text
        taken = api.post(f"{records}/staff/assignments", json={**assignment, "staff_id": second})
        assert taken.status_code == 409
        assert first in taken.json()["detail"]
        cannot = api.post(
            f"{records}/staff/assignments",
            json={**assignment, "staff_id": second, "subject_code": "ngu_van"},
        )
        assert cannot.status_code == 422
        assert cannot.json()["errors"][0]["field"] == "body.subject_code"

        listed = api.get(f"{records}/staff", params={"school_id": school})
        assert listed.status_code == 200
        assert [s["staff_id"] for s in listed.json()["items"]] == [first, second]
        summary = api.get(
            f"{records}/staff/summary", params={"org_id": commune, "as_of": "2026-01-01"}
        ).json()
        assert (summary["schools"], summary["teachers"]) == (1, 2)
        assert {s["subject_code"]: (s["main"], s["qualified"]) for s in summary["subjects"]} == {
            "tin_hoc": (0, 2),
            "toan": (2, 2),
        }
        assert summary["by_age_band"]["55_59"] == {"male": 1, "female": 0}

        report = {
            "classrooms": 24,
            "labs": 3,
            "libraries": 1,
            "computers_for_learning": 40,
            "internet_bandwidth_mbps": 150,
            "connected": True,
            "updated_on": "2025-09-05",
        }
        reported = api.post(f"{records}/facilities/{school}", json=report)
        assert reported.status_code == 201, reported.text
        again = api.post(f"{records}/facilities/{school}", json=report)
        assert (again.status_code, again.json()["changed"]) == (200, False)
        current = api.get(f"{records}/facilities/{school}").json()
        assert (current["revision"], current["computers_for_learning"]) == (1, 40)

    with platform.client(role="school", org=other_school) as outsider:
        assert outsider.get(f"{records}/staff", params={"school_id": school}).status_code == 403
        assert outsider.get(f"{records}/staff/{first}").status_code == 404
        assert outsider.post(f"{records}/staff", json=staff(first, school)).status_code == 403
        assert outsider.post(f"{records}/facilities/{school}", json=report).status_code == 403

    updated = await read_topic(
        kafka.bootstrap_servers, "records.staff.updated", expect=10_000, within=5
    )
    ours = [json.loads(r.value)["data"] for r in updated if r.key == first.encode()]
    assert [(e["revision"], e["school_id"], e["subjects"]) for e in ours] == [
        (1, school, ["toan", "tin_hoc"])
    ]
    assigned_events = await read_topic(
        kafka.bootstrap_servers, "records.staff.assigned", expect=10_000, within=5
    )
    ours = [json.loads(r.value)["data"] for r in assigned_events if r.key == first.encode()]
    assert [(e["class_id"], e["subject_code"], e["active"]) for e in ours] == [
        (f"{school}-6A", "toan", True)
    ]
    facility_events = await read_topic(
        kafka.bootstrap_servers, "records.facility.updated", expect=10_000, within=5
    )
    ours = [json.loads(r.value)["data"] for r in facility_events if r.key == school.encode()]
    assert [(e["revision"], e["computers_for_learning"]) for e in ours] == [(1, 40)]
