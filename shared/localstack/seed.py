"""A small demo data set, loaded through the services' public APIs (as a vendor would).

Re-running it changes nothing: every POST carries an Idempotency-Key derived from the record,
and "already exists" answers are accepted. The full merged Hải Phòng organisation tree (114
commune-level units) comes with the identity import; this set is enough to see every service
work end to end.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

PROVINCE = {
    "org_id": "HP",
    "kind": "province",
    "name": "Thành phố Hải Phòng",
    "valid_from": "2025-07-01",
}
COMMUNES = [
    ("HP-HONGBANG", "Phường Hồng Bàng", "phuong"),
    ("HP-LECHAN", "Phường Lê Chân", "phuong"),
    ("HP-HAIDUONG", "Phường Hải Dương", "phuong"),
    ("HP-ANLAO", "Xã An Lão", "xa"),
]
SCHOOL_KINDS = [
    ("TH", "Trường Tiểu học", "primary", (1, 5)),
    ("THCS", "Trường THCS", "lower_secondary", (6, 9)),
]
SCHOOL_YEAR = "2025-2026"


@dataclass
class SeedReport:
    orgs_created: int = 0
    orgs_existing: int = 0
    enrolments_created: int = 0
    enrolments_existing: int = 0


def demo_orgs() -> list[dict[str, Any]]:
    orgs = [PROVINCE]
    for commune_id, name, commune_type in COMMUNES:
        orgs.append(
            {
                "org_id": commune_id,
                "kind": "commune",
                "name": name,
                "parent_id": "HP",
                "commune_type": commune_type,
                "valid_from": "2025-07-01",
            }
        )
        place = name.split(" ", 1)[1]
        for prefix, label, school_type, _ in SCHOOL_KINDS:
            orgs.append(
                {
                    "org_id": f"{commune_id}-{prefix}",
                    "kind": "school",
                    "name": f"{label} {place} (demo)",
                    "parent_id": commune_id,
                    "school_type": school_type,
                    "ownership": "public",
                    "valid_from": "2025-07-01",
                }
            )
    orgs.append(
        {
            "org_id": "HP-THPT-DEMO",
            "kind": "school",
            "name": "Trường THPT Demo",
            "parent_id": "HP",
            "school_type": "upper_secondary",
            "ownership": "public",
            "valid_from": "2025-07-01",
        }
    )
    return orgs


def demo_enrolments(per_school: int, seed: int = 2025) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    schools = [(f"{c[0]}-{p}", grades) for c in COMMUNES for p, _, _, grades in SCHOOL_KINDS]
    schools.append(("HP-THPT-DEMO", (10, 12)))
    for school_id, (low, high) in schools:
        for n in range(per_school):
            grade = rng.randint(low, high)
            birth_year = 2025 - 6 - grade + 1
            out.append(
                {
                    "learner_id": f"DEMO-{school_id}-{n:04d}",
                    "school_id": school_id,
                    "school_year": SCHOOL_YEAR,
                    "grade": grade,
                    "sex": rng.choice(["male", "female"]),
                    "birth_date": date(
                        birth_year, rng.randint(1, 12), rng.randint(1, 28)
                    ).isoformat(),
                    "enrolled_on": "2025-09-05",
                }
            )
    return out


def _post(client: httpx.Client, url: str, body: dict[str, Any], key: str) -> bool:
    """POST once (retries reuse the key); True if created, False if it already existed."""
    response = client.post(url, json=body, headers={"Idempotency-Key": key})
    if response.status_code in (200, 201):
        return True
    if response.status_code == 409:
        return False
    raise RuntimeError(f"POST {url} failed with {response.status_code}: {response.text}")


def load_demo_data(
    *,
    identity_url: str,
    records_url: str,
    token: str,
    per_school: int = 25,
    progress: Callable[[str], None] = print,
) -> SeedReport:
    report = SeedReport()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers, timeout=30) as client:
        for org in demo_orgs():
            if _post(client, f"{identity_url}/orgs", org, f"seed-org-{org['org_id']}"):
                report.orgs_created += 1
            else:
                report.orgs_existing += 1
        progress(f"organisations: {report.orgs_created} created, {report.orgs_existing} existing")
        _wait_for_schools(
            client, records_url, [o["org_id"] for o in demo_orgs() if o["kind"] == "school"]
        )
        for body in demo_enrolments(per_school):
            key = f"seed-enrol-{body['learner_id']}"
            if _post(client, f"{records_url}/enrolments", body, key):
                report.enrolments_created += 1
            else:
                report.enrolments_existing += 1
        progress(
            f"enrolments: {report.enrolments_created} created, "
            f"{report.enrolments_existing} existing"
        )
    return report


def _wait_for_schools(client: httpx.Client, records_url: str, school_ids: list[str]) -> None:
    """Records learns schools from identity's events: wait until it knows the last one."""
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.get(f"{records_url}/enrolments", params={"school_id": school_ids[-1]})
        if response.status_code == 200:
            return
        time.sleep(0.25)
    raise RuntimeError("records did not learn the demo schools from identity within 60 s")
