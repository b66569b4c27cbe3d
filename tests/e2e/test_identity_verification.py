"""Verification against the population register over real HTTP: a batch for a school, its
request file downloaded, a simulated register's answer uploaded as text/csv, statuses and the
worklist updated, a mismatch resolved, rates per school and commune, events published."""

from __future__ import annotations

import io
import json
import uuid
from datetime import date

import pytest

from services.identity.domain.sex import Sex
from services.identity.domain.verification_files import (
    RegisterEntry,
    read_request_batch,
    simulate_register_response,
    write_response,
)
from shared.tests.support import read_topic
from tests.e2e.support import new_school

pytestmark = pytest.mark.e2e

CSV = {"Content-Type": "text/csv"}


def unique_number(prefix: str) -> str:
    """031 Hải Phòng, century/sex digit and birth year in `prefix`, six random digits."""
    return prefix + f"{uuid.uuid4().int % 1_000_000:06d}"


async def test_verification_round_trip_over_http(platform, kafka):
    base = platform.url("identity")
    with platform.client() as api:
        commune, school = new_school(platform, api)
        _, other_school = new_school(platform, api)
        people = {
            "anh": ("Nguyễn Thị Ánh", "2013-04-02", "female", unique_number("031313")),
            "minh": ("Trần Duc Minh", "2012-07-04", "male", unique_number("031212")),
            "nam": ("Lê Văn Nam", "2012-01-01", "male", unique_number("031212")),
        }
        ids, numbers = {}, {}
        for key, (name, born, sex, number) in people.items():
            response = api.post(
                f"{base}/persons",
                json={
                    "kind": "learner",
                    "full_name": name,
                    "birth_date": born,
                    "sex": sex,
                    "personal_number": number,
                    "org_id": school,
                },
            )
            assert response.status_code == 201, response.text
            ids[key], numbers[key] = response.json()["sector_id"], number

        created = api.post(f"{base}/verification/batches", json={"org_id": school})
        assert created.status_code == 201, created.text
        batch_id = created.json()["batch_id"]
        assert created.json()["row_count"] == 3
        assert created.json()["request_file"] == f"/verification/batches/{batch_id}/request.csv"

        download = api.get(f"{base}/verification/batches/{batch_id}/request.csv")
        assert download.status_code == 200, download.text
        assert download.headers["content-type"].startswith("text/csv")
        request = read_request_batch(io.BytesIO(download.content))
        assert sorted(r.record.sector_id for r in request) == sorted(ids.values())

        register = {
            numbers["anh"]: RegisterEntry(
                numbers["anh"], "Nguyễn Thị Ánh", date(2013, 4, 2), Sex.FEMALE
            ),
            numbers["minh"]: RegisterEntry(
                numbers["minh"], "Trần Đức Minh", date(2012, 7, 4), Sex.MALE
            ),
        }
        buffer = io.BytesIO()
        write_response(buffer, simulate_register_response(request, register))
        answer = buffer.getvalue()
        url = f"{base}/verification/batches/{batch_id}/response"

        with platform.client(auto_key=False) as keyless:
            assert keyless.post(url, content=answer, headers=CSV).status_code == 400
        imported = api.post(url, content=answer, headers=CSV)
        assert imported.status_code == 200, imported.text
        report = imported.json()
        assert report["applied"] == {"verified": 1, "mismatch": 1, "not_found": 1}
        assert report["errors"] == [] and report["unanswered_rows"] == []

        again = api.post(url, content=answer, headers=CSV)
        assert again.status_code == 200, again.text
        assert again.json()["applied"] == {"verified": 0, "mismatch": 0, "not_found": 0}
        assert again.json()["already_recorded"] == 3

        wrong_header = answer.replace(b"register_sex", b"register_gender", 1)
        refused = api.post(url, content=wrong_header, headers=CSV)
        assert refused.status_code == 422
        assert "header" in refused.json()["detail"]

        statuses = {
            key: api.get(f"{base}/persons/{sector_id}").json()["verification_status"]
            for key, sector_id in ids.items()
        }
        assert statuses == {"anh": "verified", "minh": "mismatch", "nam": "not_found"}

        worklist = api.get(f"{base}/verification/worklist", params={"org_id": school})
        assert worklist.status_code == 200, worklist.text
        (item,) = worklist.json()["items"]
        assert item["sector_id"] == ids["minh"]
        assert item["differences"] == [
            {
                "field": "full_name",
                "ours": "Trần Duc Minh",
                "register": "Trần Đức Minh",
                "kind": "diacritics_only",
                "label": "differs only in diacritics",
            }
        ]

    with platform.client(role="school", org=other_school) as outsider:
        assert outsider.get(f"{base}/verification/batches/{batch_id}").status_code == 404
        assert (
            outsider.get(f"{base}/verification/worklist", params={"org_id": school}).status_code
            == 403
        )
        assert (
            outsider.post(f"{base}/verification/batches", json={"org_id": school}).status_code
            == 403
        )

    with platform.client(role="school", org=school) as own_school:
        resolved = own_school.post(
            f"{base}/verification/worklist/{ids['minh']}/resolve", json={"accept": "register"}
        )
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["changed_fields"] == ["full_name", "verification_status"]
        minh = own_school.get(f"{base}/persons/{ids['minh']}").json()
        assert (minh["full_name"], minh["verification_status"]) == ("Trần Đức Minh", "verified")
        assert own_school.get(f"{base}/verification/worklist").json()["items"] == []

    with platform.client() as api:
        rates = api.get(f"{base}/verification/rates", params={"org_id": commune})
        assert rates.status_code == 200, rates.text
        expected = {
            "persons": 3,
            "verified": 2,
            "mismatch": 0,
            "not_found": 1,
            "unverified": 0,
            "verified_share": 0.6667,
        }
        body = rates.json()
        assert {k: body["total"][k] for k in expected} == expected
        (school_rates,) = body["schools"]
        assert school_rates["org_id"] == school
        assert {k: school_rates[k] for k in expected} == expected
        (commune_rates,) = body["communes"]
        assert commune_rates["org_id"] == commune
        assert {k: commune_rates[k] for k in expected} == expected

    ours = set(ids.values())
    verified = await read_topic(
        kafka.bootstrap_servers, "identity.person.verified", expect=10_000, within=5
    )
    published = [json.loads(r.value)["data"] for r in verified if r.key.decode() in ours]
    assert sorted((e["sector_id"], e["verification_status"]) for e in published) == sorted(
        [(ids["anh"], "verified"), (ids["minh"], "mismatch"), (ids["nam"], "not_found")]
    )
    assert all(e["batch_id"] == batch_id and e["revision"] == 2 for e in published)
    updated = await read_topic(
        kafka.bootstrap_servers, "identity.person.updated", expect=10_000, within=5
    )
    (minh_updated,) = [
        json.loads(r.value)["data"] for r in updated if r.key.decode() == ids["minh"]
    ]
    assert minh_updated["changed_fields"] == ["full_name", "verification_status"]
    assert minh_updated["revision"] == 3
