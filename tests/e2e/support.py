"""Steps the end-to-end tests share: build a bit of the tree, enrol learners, read figures."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.e2e.conftest import Platform


def wait_for(check: Callable[[], bool], *, timeout: float = 30.0, interval: float = 0.05) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
    return time.monotonic() - started


def new_school(platform: Platform, api: httpx.Client) -> tuple[str, str]:
    """A fresh commune with one school, known to records; returns (commune_id, school_id)."""
    tag = uuid.uuid4().hex[:6].upper()
    commune, school = f"C-{tag}", f"S-{tag}"
    for body in (
        {
            "org_id": commune,
            "kind": "commune",
            "name": f"Phường Thử {tag}",
            "parent_id": "HP",
            "commune_type": "phuong",
            "valid_from": "2025-07-01",
        },
        {
            "org_id": school,
            "kind": "school",
            "name": f"Trường THCS Thử {tag}",
            "parent_id": commune,
            "school_type": "lower_secondary",
            "ownership": "public",
            "valid_from": "2025-07-01",
        },
    ):
        response = api.post(f"{platform.url('identity')}/orgs", json=body)
        assert response.status_code == 201, response.text
    wait_for(
        lambda: (
            api.get(
                f"{platform.url('records')}/enrolments", params={"school_id": school}
            ).status_code
            == 200
        )
    )
    wait_for(
        lambda: api.get(f"{platform.url('analytics')}/stats/enrolment/{school}").status_code == 200
    )
    return commune, school


def enrolment(school_id: str, learner_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    body = {
        "learner_id": learner_id or f"L-{uuid.uuid4().hex[:12]}",
        "school_id": school_id,
        "school_year": "2025-2026",
        "grade": 7,
        "sex": "female",
        "birth_date": "2013-04-02",
        "enrolled_on": "2025-09-05",
    }
    body.update(overrides)
    return body


def enrolled(platform: Platform, api: httpx.Client, org_id: str) -> int:
    response = api.get(f"{platform.url('analytics')}/stats/enrolment/{org_id}")
    assert response.status_code == 200, response.text
    return int(response.json()["total_enrolled"])


def metric_value(platform: Platform, service: str, name: str, **labels: str) -> float | None:
    text = httpx.get(f"{platform.url(service)}/metrics", timeout=10).text
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        label_text = line[len(name) + 1 : line.index("}")]
        found = dict(part.split("=", 1) for part in label_text.split(",") if part)
        found = {k: v.strip('"') for k, v in found.items()}
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None
