"""Seeding step of the records service: learners enrolled in the demo primary and
lower-secondary schools, through the enrolment API (as a school's software would)."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import httpx

SCHOOL_YEAR = "2025-2026"
GRADES = {"primary": (1, 5), "lower_secondary": (6, 9), "upper_secondary": (10, 12)}


def _schools(client: httpx.Client, identity_url: str) -> list[dict[str, Any]]:
    schools, cursor = [], None
    while True:
        page = client.get(
            f"{identity_url}/orgs",
            params={"kind": "school", "limit": 1000, **({"cursor": cursor} if cursor else {})},
        )
        page.raise_for_status()
        body = page.json()
        schools += [s for s in body["items"] if s["school_type"] in GRADES]
        cursor = body["next_cursor"]
        if not cursor:
            return schools


def enrolments_for(school: dict[str, Any], per_school: int, rng: random.Random) -> list[dict]:
    low, high = GRADES[school["school_type"]]
    out = []
    for n in range(per_school):
        grade = rng.randint(low, high)
        out.append(
            {
                "learner_id": f"DEMO-{school['org_id']}-{n:03d}",
                "school_id": school["org_id"],
                "school_year": SCHOOL_YEAR,
                "grade": grade,
                "sex": rng.choice(["male", "female"]),
                "birth_date": date(
                    2025 - 5 - grade, rng.randint(1, 12), rng.randint(1, 28)
                ).isoformat(),
                "enrolled_on": "2025-09-05",
            }
        )
    return out


def seed(context: Any, per_school: int = 8) -> None:
    rng = random.Random(2025)
    with httpx.Client(headers=context.headers, timeout=30) as client:
        schools = _schools(client, context.urls["identity"])
        # Records learns schools from identity's events: wait until it knows the last one.
        deadline = time.monotonic() + 60
        last = schools[-1]["org_id"]
        while (
            client.get(
                f"{context.urls['records']}/enrolments", params={"school_id": last}
            ).status_code
            != 200
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("records did not learn the demo schools within 60 s")
            time.sleep(0.25)
        bodies = [b for s in schools for b in enrolments_for(s, per_school, rng)]

        def enrol(body: dict[str, Any]) -> bool:
            response = client.post(
                f"{context.urls['records']}/enrolments",
                json=body,
                headers={"Idempotency-Key": f"demo-{body['learner_id']}"},
            )
            if response.status_code not in (201, 409):
                raise RuntimeError(f"enrolment failed: {response.status_code} {response.text}")
            replayed = response.headers.get("Idempotency-Replayed") == "true"
            return response.status_code == 201 and not replayed

        with ThreadPoolExecutor(max_workers=4) as pool:
            created = sum(pool.map(enrol, bodies))
    context.progress(
        f"enrolments: {created} created, {len(bodies) - created} existing, "
        f"in {len(schools)} schools"
    )
