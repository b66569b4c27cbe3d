"""The dashboard page and its files are served with a strict policy; the breadcrumb never
shows units above the caller's own. (Figures on the page: tests/e2e/test_analytics_dashboard.py.)"""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.analytics.dashboard import (
    CONTENT_SECURITY_POLICY,
    STATIC_FILES,
    router,
    scoped_path,
)
from shared.http.problems import install_problem_handlers


def _client() -> httpx.AsyncClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://analytics")


async def test_the_page_is_served_without_a_token_under_a_policy_that_allows_only_its_own_scripts():
    async with _client() as client:
        response = await client.get("/dashboard")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    page = response.text
    assert '<html lang="vi">' in page
    assert '<script type="module" src="dashboard/static/dashboard.js"></script>' in page
    assert "<script>" not in page  # no inline script: the policy would refuse it anyway


async def test_only_the_listed_files_are_served_with_their_types():
    assert set(STATIC_FILES) == {"dashboard.css", "dashboard.js", "charts.js", "session.js"}
    async with _client() as client:
        script = await client.get("/dashboard/static/dashboard.js")
        assert script.status_code == 200
        assert script.headers["content-type"] == "text/javascript; charset=utf-8"
        assert 'from "./charts.js"' in script.text
        assert 'from "./session.js"' in script.text
        # The sign-in every page shares (shared/web/), served beside the page's own files.
        session = await client.get("/dashboard/static/session.js")
        assert session.status_code == 200
        assert session.headers["content-type"] == "text/javascript; charset=utf-8"
        assert session.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "export class Session" in session.text
        assert "sessionStorage.getItem(this.#storageKey)" in session.text
        css = await client.get("/dashboard/static/dashboard.css")
        assert css.headers["content-type"] == "text/css; charset=utf-8"
        for name in ("__init__.py", "dashboard.html", "..%2Fdashboard.py", "nothing.js"):
            missing = await client.get(f"/dashboard/static/{name}")
            assert missing.status_code == 404, name
            assert missing.headers["content-type"] == "application/problem+json"


async def test_the_script_never_writes_html():
    for name in ("dashboard.js", "charts.js", "session.js"):
        async with _client() as client:
            text = (await client.get(f"/dashboard/static/{name}")).text
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, (name, sink)


def test_breadcrumb_starts_at_the_callers_own_unit():
    chain = ["S-1", "C-1", "HP"]  # the school, its commune, the province
    assert scoped_path(chain, "HP") == ["HP", "C-1", "S-1"]
    assert scoped_path(chain, "C-1") == ["C-1", "S-1"]
    assert scoped_path(chain, "S-1") == ["S-1"]
    # A service token names no unit of the chain: it sees all of it.
    assert scoped_path(chain, "eduhub-service") == ["HP", "C-1", "S-1"]
