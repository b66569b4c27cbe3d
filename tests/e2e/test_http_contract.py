"""Bad input over real HTTP: problem+json naming every field, 401, 403, idempotent retries,
and none of it writes anything."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.support import enrolled, enrolment, new_school, wait_for

pytestmark = pytest.mark.e2e


def test_malformed_body_names_every_invalid_field(platform):
    with platform.client() as api:
        _, school = new_school(platform, api)
        response = api.post(
            f"{platform.url('records')}/enrolments",
            json={
                "learner_id": "",
                "school_id": school,
                "school_year": "2025",
                "grade": 20,
                "sex": "x",
                "favourite_colour": "red",
            },
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 422
        fields = sorted(e["field"] for e in problem["errors"])
        assert fields == [
            "body.enrolled_on",
            "body.favourite_colour",
            "body.grade",
            "body.learner_id",
            "body.school_year",
            "body.sex",
        ]
        # Rules the schema cannot check are named just as precisely.
        response = api.post(f"{platform.url('records')}/enrolments", json=enrolment("S-NOWHERE"))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.school_id"
        assert "unknown school S-NOWHERE" in response.json()["errors"][0]["message"]
        response = api.post(
            f"{platform.url('records')}/enrolments",
            json=enrolment(school, enrolled_on="2024-09-05"),
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.enrolled_on"
        assert enrolled(platform, api, school) == 0


def test_missing_or_invalid_token_is_401(platform):
    url = f"{platform.url('records')}/enrolments"
    response = httpx.post(url, json=enrolment("S-X"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    response = httpx.post(
        url, json=enrolment("S-X"), headers={"Authorization": "Bearer abc.def.ghi"}
    )
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]


def test_out_of_scope_is_403_and_private_existence_is_404(platform):
    with platform.client() as api:
        commune_a, school_a = new_school(platform, api)
        _, school_b = new_school(platform, api)
        created = api.post(f"{platform.url('records')}/enrolments", json=enrolment(school_b))
        assert created.status_code == 201
    with platform.client(role="school", org=school_a) as school_api:
        response = school_api.post(
            f"{platform.url('records')}/enrolments", json=enrolment(school_b)
        )
        assert response.status_code == 403
        assert school_b in response.json()["detail"]
        response = school_api.get(
            f"{platform.url('records')}/enrolments", params={"school_id": school_b}
        )
        assert response.status_code == 403
        enrolment_id = created.json()["enrolment_id"]
        response = school_api.get(f"{platform.url('records')}/enrolments/{enrolment_id}")
        assert response.status_code == 404
        assert (
            school_api.post(
                f"{platform.url('records')}/enrolments", json=enrolment(school_a)
            ).status_code
            == 201
        )
    with platform.client(role="commune", org=commune_a) as commune_api:
        assert (
            commune_api.get(f"{platform.url('analytics')}/stats/enrolment/{school_a}").status_code
            == 200
        )
        assert (
            commune_api.get(f"{platform.url('analytics')}/stats/enrolment/{school_b}").status_code
            == 403
        )
        assert commune_api.get(f"{platform.url('analytics')}/stats/enrolment/HP").status_code == 403


def test_idempotency_key_makes_retries_safe(platform):
    with platform.client() as api:
        _, school = new_school(platform, api)
        body = enrolment(school)
        url = f"{platform.url('records')}/enrolments"
        first = api.post(url, json=body, headers={"Idempotency-Key": "retry-1"})
        again = api.post(url, json=body, headers={"Idempotency-Key": "retry-1"})
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        assert first.headers["Idempotency-Replayed"] == "false"
        assert again.headers["Idempotency-Replayed"] == "true"
        other = api.post(url, json=enrolment(school), headers={"Idempotency-Key": "retry-1"})
        assert other.status_code == 422
        assert "different request" in other.json()["detail"]
        fresh_key = api.post(url, json=body)  # the client adds a new key: a new request
        assert fresh_key.status_code == 409  # a second enrolment of the same learner
        wait_for(lambda: enrolled(platform, api, school) == 1)
    with platform.client(auto_key=False) as bare:
        missing = bare.post(url, json=enrolment(school))
        assert missing.status_code == 400
        assert missing.json()["errors"][0]["field"] == "header.Idempotency-Key"
    with platform.client() as api:
        assert enrolled(platform, api, school) == 1
