"""Web files shared by the platform's pages (the analytics dashboard, the documents inbox).

Each page's router serves these beside its own files, under its own path, so a page's
Content-Security-Policy can stay `script-src 'self'` and the code is written once.
"""

from __future__ import annotations

from importlib import resources

PACKAGE = "shared.web"
# The files a page may serve from here, with their media types.
FILES: dict[str, str] = {
    "session.js": "text/javascript; charset=utf-8",
}


def read(name: str) -> bytes:
    return resources.files(PACKAGE).joinpath(name).read_bytes()
