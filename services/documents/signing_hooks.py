"""The one place where the bytes of a document's PDF get signed or checked.

Sign step: the competent person's PAdES signature (`sign_as_signer`). Issue step: the
organisation's seal signature, incremental over the person's (`seal_as_organisation`). Incoming
documents (and our own after each signature): `check_signatures`, the validator's verdict.

The keys and trust roots are the SigningKit loaded once at start (app.py `install`). Without a
kit (the core's unit tests), PDFs pass through unsigned and validation trusts no root, so a
received document is still checked and flagged rather than silently accepted.

Everything here is CPU-bound (hashing, pyHanko's revision analysis) and blocking: callers run
it in a worker thread (asyncio.to_thread), which is why each function may run its own event
loop (asyncio.run) for pyHanko's async API.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.documents.signing import sign as pades
from services.documents.signing.appearance import Placement
from services.documents.signing.config import SigningKit
from services.documents.signing.validate import validate_pdf

SigningFailed = pades.SigningFailed

_kit: SigningKit | None = None


@dataclass(frozen=True)
class SignerInfo:
    name: str
    position: str | None
    competence: str | None  # thẩm quyền ký: "TM.", "KT.", "Q.", or None for the head
    org_id: str
    subject: str  # the authenticated user who signed (token `sub`)


def install(kit: SigningKit | None) -> None:
    """Set at start-up (on_started); None leaves PDFs unsigned (unit tests of the core)."""
    global _kit
    _kit = kit


def installed_kit() -> SigningKit | None:
    return _kit


def signing_enabled() -> bool:
    return _kit is not None


def sign_as_signer(pdf: bytes, signer: SignerInfo, placement: Placement | None = None) -> bytes:
    """The PDF with the person's signature (field ChuKyNguoiKy); SigningFailed if it cannot
    be signed. `placement`: where the renderer left room; by default bottom right."""
    kit = _kit
    if kit is None:
        return pdf
    return asyncio.run(
        pades.sign_as_person(
            pdf,
            kit.person,
            name=signer.name,
            position=signer.position,
            placement=placement,
            handwriting_png=kit.signature_png,
            timestamper=kit.timestamper,
        )
    )


def seal_as_organisation(pdf: bytes, org_id: str, notation: str) -> bytes:
    """The PDF with the organisation's seal signature over the person's (field ChuKyCoQuan),
    the number and notation printed under the seal (the PDF predates the number)."""
    kit = _kit
    if kit is None:
        return pdf
    return asyncio.run(
        pades.seal_as_organisation(
            pdf,
            kit.organisation,
            seal_image_png=kit.seal_png,
            notation=notation,
            timestamper=kit.timestamper,
        )
    )


def check_signatures(pdf: bytes, *, moment: datetime | None = None) -> dict[str, Any]:
    """The validator's report on `pdf` as JSON (what documents.signature_check stores), with
    the time of the check. Never raises for a bad file: it comes back flagged."""
    kit = _kit
    roots = kit.trust_roots if kit is not None else ()
    report = validate_pdf(
        pdf,
        roots,
        revocation_fetching=kit.revocation_fetching if kit is not None else False,
        moment=moment,
    )
    return {**report.to_json(), "checked_at": datetime.now(UTC).isoformat()}
