"""The organisation registry over real HTTP: spreadsheet import (re-runnable, bad rows named),
reorganisations with history, dated lookups, and the change events other services follow."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from tests.e2e.support import wait_for

pytestmark = pytest.mark.e2e

COLUMNS = ["org_id", "kind", "name", "parent_id", "commune_type", "school_type", "valid_from"]


def sheet(rows: list[dict[str, str]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=delimiter)
    writer.writeheader()
    writer.writerows({c: r.get(c, "") for c in COLUMNS} for r in rows)
    return ("\ufeff" + out.getvalue()).encode()


def test_import_reorganise_and_resolve_by_date(platform):
    tag = uuid.uuid4().hex[:5].upper()
    old_a, old_b, new = f"OA-{tag}", f"OB-{tag}", f"NEW-{tag}"
    rows = [
        # Children before parents, on purpose: the import orders them.
        {
            "org_id": f"S1-{tag}",
            "kind": "school",
            "name": "Trường TH Hồng Bàng",
            "parent_id": old_a,
            "school_type": "primary",
            "valid_from": "2020-09-01",
        },
        {
            "org_id": f"S2-{tag}",
            "kind": "school",
            "name": "Trường THCS Minh Khai",
            "parent_id": old_b,
            "school_type": "lower_secondary",
            "valid_from": "2020-09-01",
        },
        {
            "org_id": old_a,
            "kind": "commune",
            "name": "Phường Quang Trung",
            "parent_id": "HP",
            "commune_type": "phuong",
            "valid_from": "2020-01-01",
        },
        {
            "org_id": old_b,
            "kind": "commune",
            "name": "Phường Minh Khai",
            "parent_id": "HP",
            "commune_type": "phuong",
            "valid_from": "2020-01-01",
        },
        {
            "org_id": new,
            "kind": "commune",
            "name": "Phường Hồng Bàng",
            "parent_id": "HP",
            "commune_type": "phuong",
            "valid_from": "2025-07-01",
        },
        {
            "org_id": f"BAD1-{tag}",
            "kind": "school",
            "name": "Trường X",
            "parent_id": "NOWHERE",
            "school_type": "primary",
            "valid_from": "2020-09-01",
        },
        {
            "org_id": f"BAD2-{tag}",
            "kind": "castle",
            "name": "Lâu đài",
            "parent_id": "HP",
            "valid_from": "2020-09-01",
        },
        {
            "org_id": f"BAD3-{tag}",
            "kind": "school",
            "name": "Trường Y",
            "parent_id": old_a,
            "school_type": "primary",
            "valid_from": "31/02/2020",
        },
    ]
    url = platform.url("identity")
    with platform.client() as api:
        response = api.post(
            f"{url}/orgs/import", content=sheet(rows, ";"), headers={"Content-Type": "text/csv"}
        )
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["created"], report["existing"], report["rejected"]) == (5, 0, 3)
        errors = {(e["line"], e["field"]) for e in report["errors"]}
        assert errors == {(7, "parent_id"), (8, "kind"), (9, "valid_from")}
        # Running it again creates nothing.
        again = api.post(
            f"{url}/orgs/import", content=sheet(rows, ";"), headers={"Content-Type": "text/csv"}
        ).json()
        assert (again["created"], again["existing"]) == (0, 5)

        # 1 July 2025: the two wards merge into the new one; their schools follow.
        for old in (old_a, old_b):
            merged = api.post(
                f"{url}/orgs/{old}/changes",
                json={"change": "merged", "merged_into": new, "effective_from": "2025-07-01"},
            )
            assert merged.status_code == 200, merged.text
        assert merged.json()["children_moved"] == [f"S2-{tag}"]
        renamed = api.post(
            f"{url}/orgs/S1-{tag}/changes",
            json={
                "change": "renamed",
                "name": "Trường Tiểu học Hồng Bàng",
                "effective_from": "2025-09-01",
            },
        )
        assert renamed.status_code == 200, renamed.text

        school_now = api.get(f"{url}/orgs/S1-{tag}").json()
        assert (school_now["parent_id"], school_now["name"], school_now["revision"]) == (
            new,
            "Trường Tiểu học Hồng Bàng",
            3,
        )
        before = api.get(f"{url}/orgs/S1-{tag}", params={"as_of": "2025-06-30"}).json()
        assert (before["parent_id"], before["name"]) == (old_a, "Trường TH Hồng Bàng")
        between = api.get(f"{url}/orgs/S1-{tag}", params={"as_of": "2025-08-01"}).json()
        assert (between["parent_id"], between["name"]) == (new, "Trường TH Hồng Bàng")
        assert api.get(f"{url}/orgs/S1-{tag}", params={"as_of": "2019-01-01"}).status_code == 404
        history = api.get(f"{url}/orgs/{old_a}/history").json()
        assert [h["change"] for h in history] == ["created", "merged"]
        assert history[1]["state"]["valid_to"] == "2025-06-30"

        bad = api.post(
            f"{url}/orgs/{old_a}/changes",
            json={"change": "renamed", "name": "X", "effective_from": "2025-08-01"},
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "body.org_id"

        # Analytics follows the tree from the events: the moved school counts under the new
        # ward, and the merged wards no longer have schools.
        wait_for(
            lambda: (
                api.get(
                    f"{platform.url('records')}/enrolments", params={"school_id": f"S2-{tag}"}
                ).status_code
                == 200
            )
        )
        enrol = api.post(
            f"{platform.url('records')}/enrolments",
            json={
                "learner_id": f"L-{tag}",
                "school_id": f"S2-{tag}",
                "school_year": "2025-2026",
                "grade": 7,
                "enrolled_on": "2025-09-05",
            },
        )
        assert enrol.status_code == 201, enrol.text

        def counted() -> bool:
            stats = api.get(f"{platform.url('analytics')}/stats/enrolment/{new}")
            return stats.status_code == 200 and stats.json()["total_enrolled"] == 1

        wait_for(counted)
        assert (
            api.get(f"{platform.url('analytics')}/stats/enrolment/{old_b}").json()["total_enrolled"]
            == 0
        )

    with platform.client(role="school", org=f"S1-{tag}") as school_api:
        assert (
            school_api.post(
                f"{url}/orgs/S1-{tag}/changes",
                json={"change": "closed", "effective_from": "2026-01-01"},
            ).status_code
            == 403
        )
