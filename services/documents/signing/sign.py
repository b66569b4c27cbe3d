"""PAdES signatures on an official document: the competent person's, then the organisation's.

Each signature is an incremental update (the bytes signed before stay as they were), so the
first signature keeps covering its own revision after the second is added, and a validator can
show both. The profile is PAdES B-B (subfilter ETSI.CAdES.detached, SHA-256, the signing
certificate in a signed attribute); with a timestamp authority configured, the signature gets a
signature timestamp and is B-T. B-LT/B-LTA (embedded revocation data, document timestamps) are
not produced: the test PKI publishes no revocation data to embed.

pyHanko signs asynchronously (a PKCS#11 token or a timestamp request is IO); hashing a large PDF
is CPU work, so a caller in an event loop with big files may prefer a worker thread running
asyncio.run(sign_as_person(...)).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.timestamps import TimeStamper

from services.documents.signing.appearance import (
    Appearance,
    Placement,
    RenderedAppearanceStyle,
    default_placements,
    person_appearance,
    seal_appearance,
    seal_over,
)
from services.documents.signing.seal import seal_png

PERSON_FIELD = "ChuKyNguoiKy"  # the competent person's signature field
ORGANISATION_FIELD = "ChuKyCoQuan"  # the organisation's (seal) signature field


class SigningFailed(RuntimeError):
    """The PDF could not be signed (unreadable, already signed in that field, token error)."""


@dataclass(frozen=True)
class SignerIdentity:
    """Who a signer's certificate names: common name, organisation, title (all may be absent)."""

    common_name: str | None
    organisation: str | None
    title: str | None


def identity_of(certificate: asn1_x509.Certificate | None) -> SignerIdentity:
    subject = certificate.subject.native if certificate is not None else {}
    return SignerIdentity(
        common_name=subject.get("common_name"),
        organisation=subject.get("organization_name"),
        title=subject.get("title"),
    )


def _page_size(writer: IncrementalPdfFileWriter, page: int) -> tuple[float, float]:
    node = writer.find_page_for_modification(page)[0].get_object()
    # /MediaBox is inheritable: fpdf2 and many others put it on the page tree node.
    while "/MediaBox" not in node and "/Parent" in node:
        node = node["/Parent"]
    x1, y1, x2, y2 = (float(v) for v in node["/MediaBox"])
    return x2 - x1, y2 - y1


def _person_widget(pdf: bytes) -> Placement | None:
    """Where the person's visible signature already is, so the seal can go over it."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        page_count = int(reader.root["/Pages"]["/Count"])
        for page_number in range(page_count):
            page = reader.find_page_for_modification(page_number)[0].get_object()
            for ref in page.get("/Annots", ()):
                annotation = ref.get_object()
                if annotation.get("/T") == PERSON_FIELD and "/Rect" in annotation:
                    x1, y1, x2, y2 = (float(v) for v in annotation["/Rect"])
                    return Placement(page_number, (x1, y1, x2, y2))
    except (PdfError, KeyError, ValueError, TypeError):
        return None
    return None


async def sign_pdf(
    pdf: bytes,
    signer: Signer,
    field: str,
    appearance: Appearance | None,
    placement: Placement | None = None,
    *,
    timestamper: TimeStamper | None = None,
    reason: str | None = None,
    location: str | None = None,
) -> bytes:
    """`pdf` with one more PAdES signature in a new field `field`, as an incremental update.

    With an appearance, the field is visible at `placement` (by default the signer's box of
    default_placements); without one it is invisible.
    """
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        spec = SigFieldSpec(sig_field_name=field)
        if appearance is not None:
            if placement is None:
                placement = default_placements(*_page_size(writer, -1))[0]
            box = tuple(round(v) for v in placement.box)
            spec = SigFieldSpec(sig_field_name=field, on_page=placement.page, box=box)  # type: ignore[arg-type]
        meta = PdfSignatureMetadata(
            field_name=field,
            md_algorithm="sha256",
            subfilter=SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
        )
        pdf_signer = PdfSigner(
            meta,
            signer,
            timestamper=timestamper,
            stamp_style=RenderedAppearanceStyle(appearance=appearance or Appearance()),
            new_field_spec=spec,
        )
        output = await pdf_signer.async_sign_pdf(writer)
    except (PdfError, SigningError, ValueError, KeyError, OSError) as error:
        raise SigningFailed(f"cannot sign the PDF in field {field}: {error}") from error
    return bytes(output.getvalue())


async def sign_as_person(
    pdf: bytes,
    signer: Signer,
    *,
    name: str | None = None,
    position: str | None = None,
    placement: Placement | None = None,
    handwriting_png: bytes | None = None,
    timestamper: TimeStamper | None = None,
) -> bytes:
    """The competent person's signature (first); name and position default to the certificate."""
    identity = identity_of(signer.signing_cert)
    appearance = person_appearance(
        name or identity.common_name or "",
        position or identity.title,
        handwriting_png=handwriting_png,
    )
    return await sign_pdf(
        pdf,
        signer,
        PERSON_FIELD,
        appearance,
        placement,
        timestamper=timestamper,
        reason="Ký ban hành văn bản",
    )


async def seal_as_organisation(
    pdf: bytes,
    signer: Signer,
    *,
    seal_image_png: bytes | None = None,
    superior_name: str | None = None,
    notation: str | None = None,
    placement: Placement | None = None,
    person_placement: Placement | None = None,
    timestamper: TimeStamper | None = None,
) -> bytes:
    """The organisation's signature (second), showing its seal over the person's signature.

    Without `placement`, the seal goes over the left third of `person_placement`, else of the
    person's visible signature already in the PDF, else of the default person box. Without a
    configured seal image, one is drawn from the organisation name in the certificate.
    """
    identity = identity_of(signer.signing_cert)
    image = seal_image_png or seal_png(
        identity.organisation or identity.common_name or "", superior_name
    )
    appearance = seal_appearance(image, notation=notation)
    if placement is None:
        person_placement = person_placement or _person_widget(pdf)
        if person_placement is None:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
            person_placement = default_placements(*_page_size(writer, -1))[0]
        placement = seal_over(person_placement, with_lines=len(appearance.lines))
    return await sign_pdf(
        pdf,
        signer,
        ORGANISATION_FIELD,
        appearance,
        placement,
        timestamper=timestamper,
        reason="Ký số của cơ quan, tổ chức",
    )
