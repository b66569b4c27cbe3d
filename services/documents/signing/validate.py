"""Validation of the signatures of an incoming PDF with pyHanko; verdict.py decides.

Never raises for bad input: a file that is not a PDF, a damaged PDF, a PDF without signatures
or with a broken, tampered or untrusted signature all come back as a flagged PdfValidation
with the reason. Trust is only what the caller passes as roots (the configured CA roots, and
the test CA on the local stack): an empty list trusts nobody, never the system's store.

CPU-bound (hashing and pyHanko's difference analysis of later revisions): in an event loop,
call `await asyncio.to_thread(validate_pdf, ...)`.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import TypeAlias

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESSubIndic
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature, async_validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from services.documents.signing.config import load_certificates
from services.documents.signing.sign import identity_of
from services.documents.signing.verdict import (
    NOT_A_PDF,
    UNREADABLE,
    Coverage,
    PdfValidation,
    SignatureFacts,
    SignatureReport,
    TrustProblem,
    judge,
    judge_document,
    unreadable,
)

log = logging.getLogger(__name__)

TrustRoot: TypeAlias = asn1_x509.Certificate | pyca_x509.Certificate | bytes
# A signing certificate needs one of these; Vietnamese CAs issue both on signing certificates.
SIGNING_KEY_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
)
# The PDF header may follow up to 1024 bytes of junk (ISO 32000-1 §7.5.2, implementation note).
HEADER_WINDOW = 1024


def _as_asn1(roots: Iterable[TrustRoot]) -> list[asn1_x509.Certificate]:
    result: list[asn1_x509.Certificate] = []
    for root in roots:
        if isinstance(root, asn1_x509.Certificate):
            result.append(root)
        elif isinstance(root, pyca_x509.Certificate):
            result.append(asn1_x509.Certificate.load(root.public_bytes(Encoding.DER)))
        else:
            result += load_certificates(root)
    return result


_TRUST_PROBLEMS: dict[AdESSubIndic, TrustProblem] = {
    AdESFailure.REVOKED: TrustProblem.REVOKED,
    AdESIndeterminate.REVOKED_NO_POE: TrustProblem.REVOKED,
    AdESIndeterminate.REVOKED_CA_NO_POE: TrustProblem.REVOKED,
    AdESFailure.NOT_YET_VALID: TrustProblem.EXPIRED,
    AdESIndeterminate.NOT_YET_VALID: TrustProblem.EXPIRED,
    AdESIndeterminate.EXPIRED: TrustProblem.EXPIRED,
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE: TrustProblem.EXPIRED,
    AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED: TrustProblem.EXPIRED,
    AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND: TrustProblem.UNTRUSTED,
    # pyHanko reports a certificate unfit for its use (key usage) as a chain constraint failure.
    AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE: TrustProblem.KEY_USAGE,
}


def _trust_problem(status: PdfSignatureStatus) -> TrustProblem | None:
    if status.trusted:
        return None
    indication = status.trust_problem_indic
    if indication is None:
        return TrustProblem.OTHER
    return _TRUST_PROBLEMS.get(indication, TrustProblem.OTHER)


def _coverage(level: SignatureCoverageLevel | None) -> Coverage:
    if level is SignatureCoverageLevel.ENTIRE_FILE:
        return Coverage.ENTIRE_FILE
    if level is SignatureCoverageLevel.ENTIRE_REVISION:
        return Coverage.ENTIRE_REVISION
    return Coverage.PARTIAL


def _facts(embedded: EmbeddedPdfSignature, status: PdfSignatureStatus) -> SignatureFacts:
    identity = identity_of(status.signing_cert)
    timestamp = status.timestamp_validity
    level = status.modification_level
    return SignatureFacts(
        field=embedded.field_name,
        signer_common_name=identity.common_name,
        signer_organisation=identity.organisation,
        signing_time=status.signer_reported_dt,
        timestamp_time=timestamp.timestamp if timestamp is not None else None,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        trust_problem=_trust_problem(status),
        timestamp_ok=timestamp is None
        or (timestamp.intact and timestamp.valid and timestamp.trusted),
        coverage=_coverage(status.coverage),
        modification_level=level.name if level is not None else None,
        modifications_allowed=status.docmdp_ok,
    )


def _broken(embedded: EmbeddedPdfSignature, error: Exception) -> SignatureFacts:
    try:
        identity = identity_of(embedded.signer_cert)
    except Exception:  # the signature container itself may be what is broken
        identity = identity_of(None)
    return SignatureFacts(
        field=embedded.field_name,
        signer_common_name=identity.common_name,
        signer_organisation=identity.organisation,
        signing_time=None,
        timestamp_time=None,
        intact=False,
        valid=False,
        trusted=False,
        trust_problem=None,
        timestamp_ok=False,
        coverage=Coverage.PARTIAL,
        modification_level=None,
        modifications_allowed=None,
        error=f"{type(error).__name__}: {error}",
    )


async def _validate_one(
    embedded: EmbeddedPdfSignature,
    roots: list[asn1_x509.Certificate],
    *,
    revocation_fetching: bool,
    moment: datetime | None,
) -> SignatureReport:
    context = ValidationContext(
        trust_roots=roots,
        allow_fetching=revocation_fetching,
        revocation_mode="soft-fail",
        moment=moment,
    )
    try:
        status = await async_validate_pdf_signature(
            embedded, signer_validation_context=context, key_usage_settings=SIGNING_KEY_USAGE
        )
        facts = _facts(embedded, status)
    except Exception as error:  # any failure inside pyHanko is a finding about this file
        log.info("signature %s could not be validated: %r", embedded.field_name, error)
        facts = _broken(embedded, error)
    finally:
        await context.aclose()
    return judge(facts)


async def validate_pdf_async(
    pdf: bytes,
    trust_roots: Iterable[TrustRoot],
    *,
    revocation_fetching: bool = False,
    moment: datetime | None = None,
) -> PdfValidation:
    """The verdict on `pdf`'s signatures; `moment` is the validation time (default now)."""
    if b"%PDF-" not in pdf[:HEADER_WINDOW]:
        return unreadable(NOT_A_PDF)
    try:
        roots = _as_asn1(trust_roots)
    except ValueError as error:  # a configuration mistake, not the document's: say so loudly
        raise ValueError(f"a trust root is not a certificate: {error}") from error
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as error:  # pyHanko raises many kinds for damaged files
        log.info("PDF could not be read for validation: %r", error)
        return unreadable(UNREADABLE)
    reports = [
        await _validate_one(sig, roots, revocation_fetching=revocation_fetching, moment=moment)
        for sig in embedded
    ]
    return judge_document(reports)


def validate_pdf(
    pdf: bytes,
    trust_roots: Iterable[TrustRoot],
    *,
    revocation_fetching: bool = False,
    moment: datetime | None = None,
) -> PdfValidation:
    """validate_pdf_async for synchronous callers (a worker thread; not inside an event loop)."""
    return asyncio.run(
        validate_pdf_async(pdf, trust_roots, revocation_fetching=revocation_fetching, moment=moment)
    )
