"""The web inbox page and its files are served with a strict policy that lets only the page's
own scripts run and a blob: PDF be shown. (The page at work: tests/e2e/test_documents_inbox.py.)"""

from __future__ import annotations

import re
from importlib import resources

import httpx
from fastapi import FastAPI

from services.documents.inbox_page import (
    CONTENT_SECURITY_POLICY,
    PAGE_PATH,
    STATIC_FILES,
    router,
)
from shared.http.problems import install_problem_handlers


def _client() -> httpx.AsyncClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://documents")


def _policy(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


async def test_the_page_is_served_without_a_token_under_a_policy_that_allows_only_its_own_scripts():
    async with _client() as client:
        response = await client.get(PAGE_PATH)
    assert PAGE_PATH == "/inbox-app"
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = _policy(response.headers["content-security-policy"])
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self' blob:"
    # The PDF is shown from a blob: URL the page made itself; nothing else may be embedded.
    assert policy["object-src"] == "blob:"
    assert policy["frame-src"] == "blob:"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    page = response.text
    assert '<html lang="vi">' in page
    assert '<script type="module" src="inbox-app/static/inbox.js"></script>' in page
    assert "<script>" not in page  # no inline script: the policy would refuse it anyway
    assert " style=" not in page  # nor inline styles
    for tab in ("Văn bản đến", "Văn bản đi"):
        assert tab in page


async def test_only_the_listed_files_are_served_with_their_types():
    assert set(STATIC_FILES) == {"inbox.css", "inbox.js", "session.js"}
    async with _client() as client:
        script = await client.get(f"{PAGE_PATH}/static/inbox.js")
        assert script.status_code == 200
        assert script.headers["content-type"] == "text/javascript; charset=utf-8"
        assert "URL.createObjectURL" in script.text
        assert 'from "./session.js"' in script.text
        # The sign-in every page shares (shared/web/), served beside the page's own files.
        session = await client.get(f"{PAGE_PATH}/static/session.js")
        assert session.status_code == 200
        assert session.headers["content-type"] == "text/javascript; charset=utf-8"
        assert session.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "export class Session" in session.text
        css = await client.get(f"{PAGE_PATH}/static/inbox.css")
        assert css.headers["content-type"] == "text/css; charset=utf-8"
        for name in ("__init__.py", "inbox.html", "..%2Finbox_page.py", "nothing.js"):
            missing = await client.get(f"{PAGE_PATH}/static/{name}")
            assert missing.status_code == 404, name
            assert missing.headers["content-type"] == "application/problem+json"


def _script() -> str:
    """The code the page runs: its own script and the shared sign-in it imports."""
    own = resources.files("services.documents.web").joinpath("inbox.js").read_text("utf-8")
    return own + resources.files("shared.web").joinpath("session.js").read_text("utf-8")


def test_the_script_never_writes_html_nor_sets_style_attributes():
    text = _script()
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setAttribute("style"',
        "localStorage",
        "document.cookie",
    ):
        assert sink not in text, sink
    assert "sessionStorage" in text


def test_the_script_calls_only_relative_addresses():
    text = _script()
    # Every fetch goes through api()/fetchBlob() with a path relative to the page.
    paths = re.findall(r"(?:api|fetchBlob)\(\s*`([^`]+)`", text)
    assert paths, "no API call found"
    assert {p.split("/")[0].split("?")[0].split("$")[0] for p in paths} <= {"inbox", "documents"}
    assert not any(p.startswith(("/", "http")) for p in paths)
    assert "http://" not in text and "https://" not in text
    assert '"Idempotency-Key"' in text  # every POST carries one
