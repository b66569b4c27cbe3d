"""The web inbox of a school or the Department: a static page over the documents API.

`GET /inbox-app` is a static page (HTML, CSS and plain JS in `web/`, no third-party code). It
holds no data, so it is served without a token; everything it shows comes from the
authenticated APIs (`/inbox`, `/documents`, `/documents/{id}/...`, `/inbox/{id}/...`) called by
the browser with `Authorization: Bearer <token>`. It follows the analytics dashboard
(services/analytics/dashboard.py): the token is pasted or handed over in the URL fragment
(`#token=...`, never sent to a server), kept in `sessionStorage`, and never a cookie, so there
is no CSRF surface; the page's Content-Security-Policy allows only its own scripts, and the
JS writes data with `textContent`, never as HTML.

The PDF: an `<object data>` cannot send an Authorization header, so the page fetches the PDF
with its token and shows it from a `blob:` URL. That is the one thing the policy allows beyond
the dashboard's (`object-src blob:`, `frame-src blob:` for the browser's PDF viewer, and
`connect-src blob:` to read the shown PDF back).
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from shared import web as shared_web
from shared.http.problems import Problem

router = APIRouter(tags=["inbox page"])

PAGE_PATH = "/inbox-app"
WEB_PACKAGE = "services.documents.web"
# The only files served: a fixed list, so no path from the URL ever reaches the file system.
STATIC_FILES: dict[str, str] = {
    "inbox.css": "text/css; charset=utf-8",
    "inbox.js": "text/javascript; charset=utf-8",
    **shared_web.FILES,  # the sign-in all pages share (session.js), served as the page's own
}
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        # blob: only ever names bytes this page fetched itself (the PDF it shows), so reading
        # one back adds no way out; it lets a check (or a later "save") read the shown PDF.
        "connect-src 'self' blob:",
        "object-src blob:",
        "frame-src blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _web_file(name: str) -> bytes:
    if name in shared_web.FILES:
        return shared_web.read(name)
    return resources.files(WEB_PACKAGE).joinpath(name).read_bytes()


@router.get(
    PAGE_PATH,
    response_class=HTMLResponse,
    summary="The web inbox (web page; it asks for a token and calls the documents API)",
)
async def inbox_page() -> HTMLResponse:
    return HTMLResponse(_web_file("inbox.html"), headers=PAGE_HEADERS)


@router.get(f"{PAGE_PATH}/static/{{name}}", include_in_schema=False)
async def inbox_static(name: str) -> Response:
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise Problem(404, "Not Found", f"no inbox page file {name}")
    return Response(_web_file(name), media_type=media_type, headers=PAGE_HEADERS)
