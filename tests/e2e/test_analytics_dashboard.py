"""The Department's dashboard in a real browser (Debian's Chromium, headless) over the real
platform: sign in with a pasted token, pick a campaign, read the province's figures, click
through to a commune, a school and a class, and check every figure against what we recorded
through the APIs. Charts must be drawn (SVG bars), and a forged token must not get in.

Set EDUHUB_DASHBOARD_SCREENSHOT=/path.png to keep a screenshot of the commune view."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.e2e.support import enrolled, enrolment, new_school, wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
SCHOOL_YEAR = "2025-2026"  # the enrolments' year (support.enrolment)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


# --------------------------------------------------------------------------- how the page writes


def vi_count(n: int) -> str:
    """Intl.NumberFormat("vi-VN"): dots group thousands."""
    return f"{n:,}".replace(",", ".")


def vi_share(rate: float | None) -> str:
    """The page's shares: one decimal, decimal comma, then %."""
    if rate is None:
        return "–"
    return f"{rate * 100:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".") + "%"


# --------------------------------------------------------------------------- data through the APIs


def _campaign_dates(today: date) -> tuple[str, date, date]:
    first = today.year if today.month >= 8 else today.year - 1
    starts = max(date(first, 8, 1), today - timedelta(days=20))
    return f"{first}-{first + 1}", starts, today


def _new_org(api, platform, body: dict[str, Any]) -> None:
    response = api.post(f"{platform.url('identity')}/orgs", json=body)
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def area(platform) -> dict[str, Any]:
    """A commune with two schools: school A (class 7A, 4 learners: 2 not able to swim safely,
    1 with reduced acuity; two teachers, a woman of 38 and a man of 60) and school B
    (2 learners, neither able to swim safely), all in one campaign of their own."""
    records, analytics = platform.url("records"), platform.url("analytics")
    today = (datetime.now(UTC) + timedelta(hours=7)).date()
    with platform.client() as api:
        commune, school_a = new_school(platform, api)
        school_b = f"{school_a}-B"
        _new_org(
            api,
            platform,
            {
                "org_id": school_b,
                "kind": "school",
                "name": f"Trường THCS Thử B {school_a[2:]}",
                "parent_id": commune,
                "school_type": "lower_secondary",
                "ownership": "public",
                "valid_from": "2025-07-01",
            },
        )
        wait_for(
            lambda: (
                api.get(f"{records}/enrolments", params={"school_id": school_b}).status_code == 200
            )
        )
        created = api.post(
            f"{records}/classes",
            json={"school_id": school_a, "school_year": SCHOOL_YEAR, "grade": 7, "name": "7A"},
        )
        assert created.status_code == 201, created.text
        class_a = created.json()["class_id"]

        learners_a = [f"LD-{school_a}-{n}" for n in range(4)]
        learners_b = [f"LD-{school_b}-{n}" for n in range(2)]
        for learner in learners_a:
            body = enrolment(school_a, learner_id=learner, class_id=class_a)
            assert api.post(f"{records}/enrolments", json=body).status_code == 201
        for learner in learners_b:
            body = enrolment(school_b, learner_id=learner, sex="male", birth_date="2013-09-10")
            assert api.post(f"{records}/enrolments", json=body).status_code == 201

        for staff_id, subject, birth, sex in (
            (f"GV-{school_a}-1", "toan", "1988-05-17", "female"),  # 38 at the year's start
            (f"GV-{school_a}-2", "ngu_van", "1966-03-01", "male"),  # 60
        ):
            hired = api.post(
                f"{records}/staff",
                json={
                    "staff_id": staff_id,
                    "school_id": school_a,
                    "position": "teacher",
                    "subjects": [subject],
                    "birth_date": birth,
                    "sex": sex,
                    "employed_from": "2010-09-01",
                },
            )
            assert hired.status_code == 201, hired.text

        campaign = f"DASH-{uuid.uuid4().hex[:8]}"
        school_year, starts, ends = _campaign_dates(today)
        opened = api.post(
            f"{records}/health/campaigns",
            json={
                "campaign_id": campaign,
                "org_id": commune,
                "name": "Khám sức khỏe và đánh giá bơi",
                "school_year": school_year,
                "term": 1 if today.month >= 8 or today.month == 1 else 2,
                "starts_on": starts.isoformat(),
                "ends_on": ends.isoformat(),
            },
        )
        assert opened.status_code == 201, opened.text

        swims = {
            learners_a[0]: "cannot_swim",
            learners_a[1]: "swims_with_aid",
            learners_a[2]: "swims_25m_unaided",
            learners_a[3]: "swims_25m_unaided",
            learners_b[0]: "cannot_swim",
            learners_b[1]: "swims_with_aid",
        }
        # (height cm, weight kg, right eye, conditions) of 13-year-olds
        bodies = {
            learners_a[0]: (151.0, 41.0, "10/10", []),
            learners_a[1]: (148.0, 62.0, "10/10", []),
            learners_a[2]: (155.0, 44.5, "5/10", ["cận thị"]),
            learners_a[3]: (146.0, 37.0, "9/10", []),
            learners_b[0]: (158.0, 46.0, "10/10", []),
            learners_b[1]: (150.0, 39.0, "10/10", ["loạn thị"]),
        }
        for learner, ability in swims.items():
            school = school_a if learner in learners_a else school_b
            height, weight, right_eye, conditions = bodies[learner]
            swum = api.post(
                f"{records}/health/swim-assessments",
                json={
                    "learner_id": learner,
                    "school_id": school,
                    "campaign_id": campaign,
                    "assessed_on": today.isoformat(),
                    "ability": ability,
                },
            )
            assert swum.status_code == 201, swum.text
            measured = api.post(
                f"{records}/health/measurements",
                json={
                    "learner_id": learner,
                    "school_id": school,
                    "campaign_id": campaign,
                    "measured_on": today.isoformat(),
                    "height_cm": height,
                    "weight_kg": weight,
                    "eyesight_left": "10/10",
                    "eyesight_right": right_eye,
                    "eye_conditions": conditions,
                },
            )
            assert measured.status_code == 201, measured.text

        def counted() -> bool:
            query = {"campaign_id": campaign}
            swim = api.get(f"{analytics}/stats/swimming/{commune}", params=query).json()
            eyes = api.get(f"{analytics}/stats/eyes/{commune}", params=query).json()
            return (
                swim.get("total", {}).get("assessed") == 6
                and eyes.get("total", {}).get("examined") == 6
                and enrolled(platform, api, commune) == 6
                and api.get(f"{analytics}/stats/teachers/{commune}").json().get("teachers") == 2
            )

        wait_for(counted, timeout=60)
        names = {
            org: api.get(f"{analytics}/stats/enrolment/{org}").json()["name"]
            for org in ("HP", commune, school_a)
        }
    return {
        "campaign": campaign,
        "commune": commune,
        "school_a": school_a,
        "school_b": school_b,
        "class_a": class_a,
        "names": names,
    }


# --------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def wait_ready(page, title: str) -> None:
    """Until the page has drawn the view titled `title` (it sets data-state when done)."""
    page.wait_for_function(
        "title => document.getElementById('app').dataset.state === 'ready'"
        " && document.getElementById('unit-title').textContent === title",
        arg=title,
        timeout=30_000,
    )


def kpi(page, name: str) -> tuple[str, str]:
    main = page.locator(f"#kpi-{name} .kpi-main").inner_text()
    detail = page.locator(f"#kpi-{name} .kpi-detail")
    return main, detail.inner_text() if detail.count() else ""


def table_rows(page, table_id: str) -> dict[str, list[str]]:
    """Rows of a table by their header cell: {row header: [the other cells]}."""
    rows = page.locator(f"#{table_id} tbody tr").all()
    found = {}
    for row in rows:
        header = row.locator("th").inner_text()
        found[header] = [cell.inner_text() for cell in row.locator("td").all()]
    return found


def bars(page, chart_id: str) -> int:
    return page.locator(f"#{chart_id} svg rect.bar").count()


def stats(platform, api, indicator: str, org: str, campaign: str) -> dict[str, Any]:
    response = api.get(
        f"{platform.url('analytics')}/stats/{indicator}/{org}", params={"campaign_id": campaign}
    )
    assert response.status_code == 200, response.text
    return response.json()


# --------------------------------------------------------------------------- the tests


def test_drill_down_from_the_province_to_a_class(platform, area, browser):
    analytics = platform.url("analytics")
    campaign, commune, school_a = area["campaign"], area["commune"], area["school_a"]
    names = area["names"]
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Sign in: the page itself needs no token, the figures do.
    page.goto(f"{analytics}/dashboard")
    assert page.locator("#login").is_visible()
    token = platform.stack.token(role="department", org_id="HP", subject="e2e-dashboard")
    page.fill("#token-input", token)
    page.click("#login-form button[type=submit]")
    wait_ready(page, names["HP"])
    assert page.evaluate("sessionStorage.getItem('eduhub.dashboard.token')") == token
    assert "Sở GD&ĐT · HP" in page.locator("#session-info").inner_text()
    page.select_option("#campaign", campaign)
    page.wait_for_function(
        "c => document.getElementById('app').dataset.state === 'ready'"
        " && document.getElementById('status').textContent.includes(c)",
        arg=campaign,
    )

    with platform.client() as api:
        province_learners = enrolled(platform, api, "HP")
        province_swim = stats(platform, api, "swimming", "HP", campaign)["total"]
        school_nutrition = stats(platform, api, "nutrition", school_a, campaign)["total"]
        school_eyes = stats(platform, api, "eyes", school_a, campaign)["total"]
        forecast = api.get(
            f"{analytics}/forecast/teachers", params={"org_id": "HP", "years": 5}
        ).json()

    # The province: its learners, and the campaign's swimmers are exactly ours (4 of 6).
    assert province_swim["assessed"] == 6
    assert kpi(page, "learners") == (vi_count(province_learners), "")
    assert kpi(page, "non-swimmers") == ("66,7%", "4 / 6 học sinh")
    province_parts = table_rows(page, "parts-table")
    assert province_parts[names[commune]][:3] == ["6", "6", "66,7%"]
    assert bars(page, "parts-chart") >= 1  # one bar per unit with swimmers: ours at least
    assert bars(page, "swimming-chart") == 3  # the three levels
    assert page.locator("#eyes-chart svg[role=img] title").count() >= 1
    by_year = {year: 0.0 for year in forecast["years"]}
    for level in forecast["area"]["levels"]:
        by_year[level["year"]] += level["shortage"]
    peak_year = max(by_year, key=lambda year: (by_year[year], -year))  # first of the largest
    peak = by_year[peak_year]
    expected = f"Thiếu {peak:.1f}" if peak >= 0 else f"Thừa {-peak:.1f}"
    assert kpi(page, "shortage") == (
        expected.replace(".", ","),
        f"giáo viên, năm học {peak_year}-{peak_year + 1}",
    )
    assert bars(page, "forecast-chart") == 2 * len(forecast["years"])  # demand and supply

    # Down to the commune: its two schools side by side.
    page.click(f"#parts-table a[data-unit='{commune}']")
    wait_ready(page, names[commune])
    assert page.locator("#breadcrumb li").all_inner_texts() == [names["HP"], names[commune]]
    assert kpi(page, "learners") == ("6", "")
    assert kpi(page, "non-swimmers") == ("66,7%", "4 / 6 học sinh")
    commune_parts = table_rows(page, "parts-table")
    assert commune_parts[names[school_a]][:3] == ["4", "4", "50,0%"]
    assert [row[:3] for name, row in commune_parts.items() if name != names[school_a]] == [
        ["2", "2", "100,0%"]
    ]
    assert bars(page, "parts-chart") == 2
    assert bars(page, "enrolment-chart") >= 1
    teachers = table_rows(page, "teachers-table")  # columns: women, men, all
    assert (teachers["30–39"], teachers["Từ 60"], teachers["Tổng"]) == (
        ["1", "0", "1"],
        ["0", "1", "1"],
        ["1", "1", "2"],
    )
    assert bars(page, "teachers-chart") == 12  # six age bands, women and men
    # No term is finalised here: the results section says so for the year of the enrolments.
    assert page.locator("#results .section-message").inner_text() == (
        f"Chưa có học kỳ nào được khoá sổ trong năm học {SCHOOL_YEAR}."
    )
    if screenshot := os.environ.get("EDUHUB_DASHBOARD_SCREENSHOT"):
        page.screenshot(path=screenshot, full_page=True)

    # Down to school A: its class, nutrition and eyes as analytics counted them.
    page.click(f"#parts-table a[data-unit='{school_a}']")
    wait_ready(page, names[school_a])
    assert kpi(page, "learners") == ("4", "")
    assert kpi(page, "non-swimmers") == ("50,0%", "2 / 4 học sinh")
    assert page.locator("#parts-title").inner_text() == "Các lớp"
    assert table_rows(page, "parts-table")["Lớp 7A"][1:3] == ["4", "50,0%"]
    assert kpi(page, "acuity") == ("25,0%", "1 / 4 học sinh")
    assert school_eyes["reduced_acuity"] == 1
    assert kpi(page, "overweight") == (
        vi_share(school_nutrition["rates"]["overweight_or_obese"]),
        f"{school_nutrition['overweight'] + school_nutrition['obese']} / "
        f"{school_nutrition['assessed']} học sinh",
    )
    nutrition_rows = table_rows(page, "nutrition-table")
    assert nutrition_rows["Bình thường"] == [
        str(school_nutrition["normal"]),
        vi_share(school_nutrition["rates"]["normal"]),
    ]
    assert table_rows(page, "eyes-table")["Cận thị"] == ["1", "25,0%"]
    assert bars(page, "eyes-chart") == 7

    # Down to class 7A: the school's row for it; no class-level enrolment or forecast.
    page.click("#parts-table a[data-unit$=':7A']")
    wait_ready(page, f"Lớp 7A — {names[school_a]}")
    assert kpi(page, "non-swimmers") == ("50,0%", "2 / 4 học sinh")
    assert page.locator("#forecast").is_hidden()
    assert page.locator("#breadcrumb li").last.inner_text() == "Lớp 7A"

    # Back goes up again (the view is in the URL fragment).
    page.go_back()
    wait_ready(page, names[school_a])
    assert errors == []
    page.close()


def test_a_forged_token_is_refused_and_a_school_sees_only_itself(platform, area, browser):
    analytics = platform.url("analytics")
    page = browser.new_page()
    forged = jwt.encode(
        {
            "sub": "intruder",
            "role": "department",
            "org": "HP",
            "iss": "eduhub-local",
            "aud": "eduhub",
            "exp": int((datetime.now(UTC) + timedelta(hours=1)).timestamp()),
        },
        "not-the-platform-key-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    page.goto(f"{analytics}/dashboard#token={forged}")
    page.wait_for_function("() => !document.getElementById('login').hidden")
    assert "không hợp lệ" in page.locator("#login-error").inner_text()
    assert page.evaluate("sessionStorage.getItem('eduhub.dashboard.token')") is None
    assert "token" not in page.url  # taken out of the address bar at once
    page.close()

    school_b = area["school_b"]
    with platform.client(role="school", org=school_b) as school:
        own = school.get(f"{analytics}/dashboard/api/units/{school_b}")
        assert own.status_code == 200, own.text
        assert [p["org_id"] for p in own.json()["path"]] == [school_b]  # nothing above itself
        assert school.get(f"{analytics}/dashboard/api/units/{area['commune']}").status_code == 403
        listed = school.get(f"{analytics}/dashboard/api/campaigns/{school_b}").json()
        assert [
            (c["campaign_id"], c["measured"], c["swim_assessed"]) for c in listed["campaigns"]
        ] == [(area["campaign"], 2, 2)]
