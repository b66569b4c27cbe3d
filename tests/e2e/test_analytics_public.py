"""Analytics' published statistics need no login; the forecast answers for the province."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.support import enrolled, enrolment, new_school, wait_for

pytestmark = pytest.mark.e2e


def test_public_page_and_figures_without_a_token(platform):
    with platform.client() as api:
        commune, school = new_school(platform, api)
        for _ in range(3):
            assert (
                api.post(
                    f"{platform.url('records')}/enrolments", json=enrolment(school)
                ).status_code
                == 201
            )
        wait_for(lambda: enrolled(platform, api, school) == 3)
    analytics = platform.url("analytics")
    page = httpx.get(f"{analytics}/public", timeout=30)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    figures = httpx.get(
        f"{analytics}/public/enrolment", params={"school_year": "2025-2026"}, timeout=30
    )
    assert figures.status_code == 200, figures.text
    lines = {line["org_id"]: line for line in figures.json()["communes"]}
    # A commune with 3 learners is a small cell: hidden, never published as 3.
    assert lines[commune]["enrolled"] == {"value": None, "suppressed": "primary"}


def test_teacher_forecast_for_the_province(platform):
    with platform.client() as api:
        response = api.get(
            f"{platform.url('analytics')}/forecast/teachers", params={"org_id": "HP", "years": 2}
        )
        assert response.status_code == 200, response.text
        assert response.json()["org_id"] == "HP"
    with platform.client(role="school", org="S-NOWHERE") as outsider:
        assert (
            outsider.get(
                f"{platform.url('analytics')}/forecast/teachers", params={"org_id": "HP"}
            ).status_code
            == 403
        )
