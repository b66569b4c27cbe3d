"""OneRoster export over real HTTP: learners registered in identity, classes learned from
records' enrolment events, a ZIP that passes the format's validator."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from services.identity.domain.oneroster import validate_oneroster_zip
from tests.e2e.support import new_school, wait_for

pytestmark = pytest.mark.e2e


def test_oneroster_export_of_a_commune(platform, tmp_path):
    with platform.client() as api:
        commune, school = new_school(platform, api)
        identity, records = platform.url("identity"), platform.url("records")
        learners = []
        for class_name in ("6A", "6B"):
            made = api.post(
                f"{records}/classes",
                json={
                    "school_id": school,
                    "school_year": "2025-2026",
                    "grade": 6,
                    "name": class_name,
                },
            )
            assert made.status_code == 201, made.text
        for n, name in enumerate(["Nguyễn Thị Ánh", "Trần Văn Bình", "Lê Minh Châu"]):
            person = api.post(
                f"{identity}/persons",
                json={
                    "kind": "learner",
                    "full_name": name,
                    "birth_date": "2014-03-0" + str(n + 1),
                    "sex": "female" if n != 1 else "male",
                    "org_id": school,
                },
            ).json()
            learners.append(person["sector_id"])
            enrolled = api.post(
                f"{records}/enrolments",
                json={
                    "learner_id": person["sector_id"],
                    "school_id": school,
                    "school_year": "2025-2026",
                    "grade": 6,
                    "class_id": f"{school}:2025-2026:{'6A' if n < 2 else '6B'}",
                    "enrolled_on": "2025-09-05",
                },
            )
            assert enrolled.status_code == 201, enrolled.text
        teacher = api.post(
            f"{identity}/persons",
            json={
                "kind": "teacher",
                "full_name": "Phạm Thu Hà",
                "birth_date": "1985-10-10",
                "sex": "female",
                "org_id": school,
            },
        ).json()

        def roster() -> zipfile.ZipFile:
            response = api.get(f"{identity}/orgs/{commune}/oneroster.zip")
            assert response.status_code == 200, response.text
            return zipfile.ZipFile(io.BytesIO(response.content))

        def enrolments_known() -> bool:
            rows = roster().read("enrollments.csv").decode().strip().splitlines()
            return len(rows) == 1 + 3  # header + three learners

        wait_for(enrolments_known)
        archive = roster()
        path = tmp_path / "roster.zip"
        path.write_bytes(api.get(f"{identity}/orgs/{commune}/oneroster.zip").content)
        assert validate_oneroster_zip(path) == []

        users = list(csv.DictReader(io.StringIO(archive.read("users.csv").decode())))
        by_id = {u["sourcedId"]: u for u in users}
        assert set(by_id) == {*learners, teacher["sector_id"]}
        anh = by_id[learners[0]]
        assert (anh["familyName"], anh["middleName"], anh["givenName"]) == ("Nguyễn", "Thị", "Ánh")
        assert anh["role"] == "student" and anh["grades"] == "06"
        assert by_id[teacher["sector_id"]]["role"] == "teacher"
        classes = list(csv.DictReader(io.StringIO(archive.read("classes.csv").decode())))
        assert sorted(c["classCode"] for c in classes) == [
            f"{school}:2025-2026:6A",
            f"{school}:2025-2026:6B",
        ]
        orgs = list(csv.DictReader(io.StringIO(archive.read("orgs.csv").decode())))
        assert {(o["sourcedId"], o["type"]) for o in orgs} == {
            ("HP", "district"),
            (school, "school"),
        }
        # Exports are reads of personal data: audited.
        trail = api.get(f"{identity}/persons/{learners[0]}/audit").json()
        assert "export" in {e["action"] for e in trail}

    with platform.client(role="school", org=school) as school_api:
        assert school_api.get(f"{identity}/orgs/{commune}/oneroster.zip").status_code == 403
        assert school_api.get(f"{identity}/orgs/{school}/oneroster.zip").status_code == 200
