"""The official PDF of a draft that came without one: the service lays it out (rendering/)
from the draft's fields, the issuer and its superior from the organisation tree.

Two moments: at drafting, a preview without signer (so the draft always has a main PDF to
show), and at signing, the same layout with the signer's authority, position and name and the
box left for the signature, which the person's signature then fills. The number and date are
not known before issuing; as for an uploaded PDF, the seal prints them under itself.
"""

from __future__ import annotations

from typing import Any

from services.documents.domain.classification import Secrecy, Urgency
from services.documents.domain.document_types import CONG_VAN_KEY, document_type
from services.documents.rendering.official_document import (
    OfficialDocumentContent,
    RenderedDocument,
    render_official_document,
)
from services.documents.signing.appearance import Placement
from shared.db.pool import Connection

ARCHIVE_LINE = "Lưu: VT."


async def official_content(
    conn: Connection,
    document: Any,
    *,
    signer_name: str | None = None,
    signer_position: str | None = None,
    signer_competence: str | None = None,
) -> OfficialDocumentContent:
    """What the page shows, from a `documents` row (or a dict with the same keys)."""
    unit = await conn.fetchrow(
        "SELECT u.name, p.name AS parent_name FROM org_units u "
        "LEFT JOIN org_units p ON p.org_id = u.parent_id WHERE u.org_id = $1 "
        "ORDER BY u.revision DESC LIMIT 1",
        document["issuer_id"],
    )
    kind = document_type(document["doc_type"])
    summary = document["summary"]
    is_letter = kind.key == CONG_VAN_KEY
    if is_letter and not summary.lower().startswith("v/v"):
        summary = f"V/v {summary}"
    labels = tuple(document["recipient_labels"] or ())
    body = tuple(
        paragraph.strip()
        for paragraph in (document["content"] or "").split("\n")
        if paragraph.strip()
    )
    return OfficialDocumentContent(
        issuer=unit["name"] if unit is not None else document["issuer_id"],
        issuer_superior=unit["parent_name"] if unit is not None else None,
        summary=summary,
        body=body,
        signer_position=signer_position or "",
        signer_name=signer_name or "",
        signer_authority=signer_competence,
        type_name=None if is_letter else kind.name_vi,
        addressees=labels if is_letter else (),
        recipients=(*(f"- {label};" for label in labels), f"- {ARCHIVE_LINE}"),
        urgency=Urgency(document["urgency"]).label_vi if document["urgency"] else None,
        secrecy=Secrecy(document["secrecy"]).label_vi if document["secrecy"] else None,
    )


def render(content: OfficialDocumentContent) -> tuple[bytes, Placement]:
    """The PDF and where the person's signature goes (CPU-bound: call in a worker thread)."""
    rendered: RenderedDocument = render_official_document(content)
    return rendered.pdf, Placement(rendered.signature_page, rendered.signature_box)
