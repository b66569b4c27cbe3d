"""The person registry over real HTTP: lifelong IDs, validated personal numbers, lookups and
diacritic-insensitive search within scope, every read audited, the event published."""

from __future__ import annotations

import json
import uuid

import pytest

from services.identity.domain.sector_id import is_valid_sector_id
from shared.tests.support import read_topic
from tests.e2e.support import new_school

pytestmark = pytest.mark.e2e


def person(school: str, **overrides):
    body = {
        "kind": "learner",
        "full_name": "Nguyễn Thị Ánh",
        "birth_date": "2013-04-02",
        "sex": "female",
        "org_id": school,
    }
    body.update(overrides)
    return body


def unique_number(prefix: str = "031313") -> str:
    """031 Hải Phòng, 3 = female born in the 2000s, 13 = born 2013, six random digits."""
    return prefix + f"{uuid.uuid4().int % 1_000_000:06d}"


async def test_register_look_up_search_and_audit(platform, kafka):
    with platform.client() as api:
        _, school = new_school(platform, api)
        _, other_school = new_school(platform, api)
        url = f"{platform.url('identity')}/persons"
        number = unique_number()
        created = api.post(
            url, json=person(school, personal_number=number, full_name="  Nguyễn   Thị Ánh ")
        )
        assert created.status_code == 201, created.text
        learner = created.json()
        sector_id = learner["sector_id"]
        assert sector_id.startswith("HS-31-") and is_valid_sector_id(sector_id)
        assert learner["full_name"] == "Nguyễn Thị Ánh"  # stored as written, spaces tidied
        assert learner["verification_status"] == "unverified"

        # The same personal number again is the same person, not a second ID.
        again = api.post(url, json=person(school, personal_number=number))
        assert again.status_code == 409
        assert sector_id in again.json()["detail"]

        assert api.get(f"{url}/{sector_id}").json()["sector_id"] == sector_id
        assert api.get(f"{url}/{number}").json()["sector_id"] == sector_id
        assert api.get(f"{url}/{sector_id.lower()}").json()["sector_id"] == sector_id

        found = api.get(url, params={"name": "nguyen thi anh", "org_id": school}).json()["items"]
        assert [p["sector_id"] for p in found] == [sector_id]
        assert (
            api.get(url, params={"name": "NGUYỄN THỊ", "org_id": other_school}).json()["items"]
            == []
        )

    with platform.client(role="school", org=other_school) as outsider:
        assert outsider.get(f"{url}/{sector_id}").status_code == 404
        assert outsider.get(url, params={"name": "nguyen", "org_id": school}).status_code == 403
    with platform.client(role="school", org=school) as own_school:
        assert own_school.get(f"{url}/{sector_id}").status_code == 200
        assert own_school.get(f"{url}/{sector_id}/audit").status_code == 403
    with platform.client() as api:
        trail = api.get(f"{url}/{sector_id}/audit").json()
        actions = [(e["action"], e["actor_role"]) for e in trail]
        assert actions.count(("read", "department")) >= 3
        assert ("read", "school") in actions
        assert ("search", "department") in actions
        assert ("create", "department") in actions

    records = await read_topic(
        kafka.bootstrap_servers, "identity.person.registered", expect=10_000, within=5
    )
    ours = [json.loads(r.value) for r in records if r.key == sector_id.encode()]
    assert len(ours) == 1
    data = ours[0]["data"]
    assert data == {
        "sector_id": sector_id,
        "revision": 1,
        "kind": "learner",
        "org_id": school,
        "birth_date": "2013-04-02",
        "sex": "female",
        "has_personal_number": True,
        "verification_status": "unverified",
    }
    assert "full_name" not in data  # names stay in identity


def test_personal_number_rules_are_named(platform):
    with platform.client() as api:
        _, school = new_school(platform, api)
        url = f"{platform.url('identity')}/persons"
        # Digit 4 = 2 encodes a boy born in the 2000s, but the record says female.
        response = api.post(url, json=person(school, personal_number=unique_number("031213")))
        assert response.status_code == 422
        errors = response.json()["errors"]
        assert [(e["field"], e["type"]) for e in errors] == [
            ("body.sex", "personal_number.sex_matches")
        ]
        assert errors[0]["message_vi"]
        # Wrong birth year digits and an unknown province code, reported together.
        response = api.post(url, json=person(school, personal_number="999314" + "000001"))
        assert response.status_code == 422
        types = sorted(e["type"] for e in response.json()["errors"])
        assert "personal_number.province_code" in types
        assert "personal_number.year_matches_birth_date" in types
        response = api.post(url, json=person(school, personal_number="03131300451"))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.personal_number"
        response = api.post(url, json=person("S-NOWHERE"))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.org_id"
        response = api.post(url, json=person(school, birth_date="2031-01-01"))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.birth_date"
        assert (
            api.get(url, params={"name": "nguyen thi anh", "org_id": school}).json()["items"] == []
        )


async def test_corrections_are_checked_audited_and_published(platform, kafka):
    with platform.client() as api:
        _, school = new_school(platform, api)
        _, other_school = new_school(platform, api)
        url = f"{platform.url('identity')}/persons"
        number = unique_number()
        sector_id = api.post(
            url, json=person(school, full_name="Nguyen Thi Anh", personal_number=number)
        ).json()["sector_id"]
        fixed = api.post(
            f"{url}/{sector_id}/corrections",
            json={"full_name": "Nguyễn Thị Ánh", "reason": "diacritics lost by the old system"},
        )
        assert fixed.status_code == 200, fixed.text
        assert (fixed.json()["full_name"], fixed.json()["revision"]) == ("Nguyễn Thị Ánh", 2)
        # 2012 does not agree with the personal number's year digits (13): refused, unchanged.
        refused = api.post(
            f"{url}/{sector_id}/corrections", json={"birth_date": "2012-04-02", "reason": "typo"}
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["type"] == "personal_number.year_matches_birth_date"
        assert api.get(f"{url}/{sector_id}").json()["birth_date"] == "2013-04-02"
        same = api.post(
            f"{url}/{sector_id}/corrections",
            json={"full_name": "Nguyễn Thị Ánh", "reason": "again"},
        )
        assert same.status_code == 422
    with platform.client(role="school", org=school) as school_api:
        moved_away = school_api.post(
            f"{url}/{sector_id}/corrections", json={"org_id": other_school, "reason": "transfer"}
        )
        assert moved_away.status_code == 403
    records = await read_topic(
        kafka.bootstrap_servers, "identity.person.updated", expect=10_000, within=5
    )
    ours = [json.loads(r.value)["data"] for r in records if r.key == sector_id.encode()]
    assert [(e["revision"], e["changed_fields"]) for e in ours] == [(2, ["full_name"])]


async def test_records_learns_sex_and_birth_date_from_identity(platform):
    import asyncpg

    with platform.client() as api:
        _, school = new_school(platform, api)
        url = f"{platform.url('identity')}/persons"
        sector_id = api.post(url, json=person(school)).json()["sector_id"]
        fixed = api.post(
            f"{url}/{sector_id}/corrections", json={"birth_date": "2013-05-02", "reason": "typo"}
        )
        assert fixed.status_code == 200, fixed.text

    async def learner_row():
        conn = await asyncpg.connect(platform.database_url("records"))
        try:
            return await conn.fetchrow(
                "SELECT sex, birth_date::text AS born FROM learners WHERE learner_id = $1",
                sector_id,
            )
        finally:
            await conn.close()

    from shared.tests.support import eventually

    async def corrected() -> bool:
        row = await learner_row()
        return row is not None and (row["sex"], row["born"]) == ("female", "2013-05-02")

    await eventually(corrected)
