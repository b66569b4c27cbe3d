"""Letters the service writes itself: a report request's công văn, a giấy mời, the cover
letter of an analytics report. The text is rendered to a Decree 30 PDF and then goes through
the core's ordinary draft → approve → sign → issue steps (outgoing.py), so numbering,
routing, the registers and signing (signing_hooks) are exactly those of any document.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.documents import outgoing
from services.documents.files import UploadedFile
from services.documents.rendering.official_document import (
    OfficialDocumentContent,
    render_official_document,
)
from services.documents.views import DocumentView
from shared.auth import Principal
from shared.db.pool import Connection
from shared.orgs.mirror import get_unit

DEPARTMENT_NAME = "Sở Giáo dục và Đào tạo"


@dataclass(frozen=True)
class Letter:
    summary: str
    body: tuple[str, ...]
    addressees: tuple[str, ...]
    signer_name: str
    signer_position: str
    type_name: str | None = None  # None: a công văn


async def _heading(conn: Connection, issuer_id: str) -> tuple[str, str | None]:
    """(issuer line, superior line). The Department acts for the province unit of the tree."""
    unit = await get_unit(conn, issuer_id)
    if unit is None:
        return issuer_id, None
    if unit["kind"] == "province":
        return DEPARTMENT_NAME, f"UBND {unit['name']}"
    return str(unit["name"]), None


async def render_letter(conn: Connection, issuer_id: str, letter: Letter) -> bytes:
    issuer, superior = await _heading(conn, issuer_id)
    content = OfficialDocumentContent(
        issuer=issuer,
        issuer_superior=superior,
        summary=letter.summary,
        body=letter.body,
        signer_position=letter.signer_position,
        signer_name=letter.signer_name,
        type_name=letter.type_name,
        addressees=letter.addressees,
        recipients=("Như trên;", "Lưu: VT."),
    )
    rendered = await asyncio.to_thread(render_official_document, content)
    return rendered.pdf


def letter_file(pdf: bytes, name: str) -> UploadedFile:
    return UploadedFile("pdf", name, "application/pdf", pdf)


async def issue_at_once(
    conn: Connection,
    principal: Principal,
    fields: dict[str, Any],
    pdf: UploadedFile,
    signer: outgoing.SignerInput,
    *,
    now: datetime,
) -> DocumentView:
    """Draft, approve, sign and issue in the caller's transaction (the caller is the unit that
    signs: the named signer's signature goes on through signing_hooks as for any document)."""
    view = await outgoing.create_draft(
        conn, principal, outgoing.draft_from_json(fields), pdf, [], today=now.date()
    )
    await outgoing.approve(conn, principal, view.id)
    await outgoing.sign(conn, principal, view.id, signer)
    return await outgoing.issue(conn, principal, view.id, today=now.date(), now=now)
