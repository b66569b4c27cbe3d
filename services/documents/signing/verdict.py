"""The verdict on a signed PDF, from facts about its signatures: pure rules, no IO.

validate.py gathers the facts with pyHanko; this module decides. A document is "ok" only when
every signature is intact, cryptographically valid, chains to a trusted root, covers its whole
revision, and was followed by nothing but allowed incremental updates (more signatures, form
filling). Anything else is "flagged" with the first problem found, in Vietnamese for the inbox
and English for the logs. Flagged documents are shown, never silently accepted or dropped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum


class Verdict(StrEnum):
    OK = "ok"
    FLAGGED = "flagged"


class Coverage(StrEnum):
    ENTIRE_FILE = "entire_file"  # nothing was added after this signature
    ENTIRE_REVISION = "entire_revision"  # later incremental updates exist
    PARTIAL = "partial"  # the byte range leaves out part of its own revision


class TrustProblem(StrEnum):
    UNTRUSTED = "untrusted"  # no path to a trusted root
    REVOKED = "revoked"
    EXPIRED = "expired"  # or not yet valid at signing time
    KEY_USAGE = "key_usage"  # the certificate may not sign documents
    OTHER = "other"


@dataclass(frozen=True)
class Reason:
    code: str
    vi: str
    en: str


@dataclass(frozen=True)
class SignatureFacts:
    """What validation established about one signature (the input of `judge`)."""

    field: str
    signer_common_name: str | None
    signer_organisation: str | None
    signing_time: datetime | None  # claimed by the signer (CMS signing-time attribute)
    timestamp_time: datetime | None  # from a timestamp authority's token, if any
    intact: bool  # the document bytes hash to what was signed
    valid: bool  # the signature value verifies against the signer's certificate
    trusted: bool  # the certificate chains to a trusted root and is usable
    trust_problem: TrustProblem | None
    timestamp_ok: bool  # True when there is no timestamp
    coverage: Coverage
    modification_level: str | None  # pyHanko's ModificationLevel name after this signature
    modifications_allowed: bool | None  # None: could not be determined
    error: str | None = None  # validation itself failed (malformed signature); English


@dataclass(frozen=True)
class SignatureReport:
    field: str
    signer_common_name: str | None
    signer_organisation: str | None
    signing_time: datetime | None
    timestamp_time: datetime | None
    intact: bool
    valid: bool
    trusted: bool
    coverage: Coverage
    modified_after: bool  # incremental updates were added after this signature
    modifications_allowed: bool | None
    verdict: Verdict
    reason: Reason

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        for key in ("signing_time", "timestamp_time"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value is not None else None
        return data


@dataclass(frozen=True)
class PdfValidation:
    """The document-level verdict with a report per signature (in the order they were made)."""

    verdict: Verdict
    reason: Reason
    signatures: tuple[SignatureReport, ...]

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict.value,
            "reason": asdict(self.reason),
            "signatures": [s.to_json() for s in self.signatures],
        }


NOT_A_PDF = Reason("not_pdf", "Tệp không phải là tệp PDF.", "The file is not a PDF.")
UNREADABLE = Reason(
    "unreadable",
    "Không đọc được tệp PDF (cấu trúc tệp bị hỏng).",
    "The PDF cannot be read (its structure is damaged).",
)
UNSIGNED = Reason(
    "unsigned", "Văn bản không có chữ ký số.", "The document carries no digital signature."
)

_TRUST_REASONS = {
    TrustProblem.UNTRUSTED: (
        "untrusted",
        "Chứng thư số của người ký không do tổ chức chứng thực tin cậy cấp.",
        "The signer's certificate does not chain to a trusted root.",
    ),
    TrustProblem.REVOKED: (
        "revoked",
        "Chứng thư số của người ký đã bị thu hồi.",
        "The signer's certificate has been revoked.",
    ),
    TrustProblem.EXPIRED: (
        "expired",
        "Chứng thư số của người ký đã hết hạn hoặc chưa có hiệu lực khi ký.",
        "The signer's certificate was expired or not yet valid at signing time.",
    ),
    TrustProblem.KEY_USAGE: (
        "key_usage",
        "Chứng thư số của người ký không được phép dùng để ký văn bản.",
        "The signer's certificate is not allowed to sign documents.",
    ),
    TrustProblem.OTHER: (
        "untrusted",
        "Không xác minh được chứng thư số của người ký.",
        "The signer's certificate could not be verified.",
    ),
}


def _problem(facts: SignatureFacts) -> tuple[str, str, str] | None:
    """The first problem of one signature as (code, vi, en), or None."""
    if facts.error is not None:
        return (
            "malformed",
            "Chữ ký số bị lỗi, không kiểm tra được.",
            f"The signature could not be checked: {facts.error}",
        )
    if not facts.intact:
        return (
            "tampered",
            "Nội dung văn bản đã bị thay đổi sau khi ký.",
            "The document's content was changed after it was signed.",
        )
    if not facts.valid:
        return (
            "bad_signature",
            "Giá trị chữ ký số không đúng.",
            "The signature value does not verify against the signer's certificate.",
        )
    if facts.coverage is Coverage.PARTIAL:
        return (
            "partial_coverage",
            "Chữ ký số không bao trùm toàn bộ văn bản đã ký.",
            "The signature does not cover the whole revision it signed.",
        )
    if facts.modifications_allowed is False:
        return (
            "disallowed_changes",
            "Văn bản bị sửa đổi sau khi ký (không chỉ thêm chữ ký hoặc điền biểu mẫu).",
            "The document was modified after signing beyond adding signatures or filling in forms.",
        )
    if not facts.trusted:
        return _TRUST_REASONS[facts.trust_problem or TrustProblem.OTHER]
    if not facts.timestamp_ok:
        return (
            "bad_timestamp",
            "Dấu thời gian của chữ ký không hợp lệ.",
            "The signature's timestamp is not valid.",
        )
    return None


def judge(facts: SignatureFacts) -> SignatureReport:
    problem = _problem(facts)
    if problem is None:
        if facts.coverage is Coverage.ENTIRE_FILE:
            reason = Reason(
                "valid",
                "Chữ ký số hợp lệ, văn bản còn nguyên vẹn.",
                "Valid signature; the document is unchanged since.",
            )
        else:
            reason = Reason(
                "valid_with_later_updates",
                "Chữ ký số hợp lệ; sau khi ký chỉ có thêm chữ ký hoặc thay đổi được phép.",
                "Valid signature; only signatures or allowed changes were added after it.",
            )
        verdict = Verdict.OK
    else:
        code, vi, en = problem
        reason, verdict = Reason(code, vi, en), Verdict.FLAGGED
    return SignatureReport(
        field=facts.field,
        signer_common_name=facts.signer_common_name,
        signer_organisation=facts.signer_organisation,
        signing_time=facts.signing_time,
        timestamp_time=facts.timestamp_time,
        intact=facts.intact,
        valid=facts.valid,
        trusted=facts.trusted,
        coverage=facts.coverage,
        modified_after=facts.coverage is not Coverage.ENTIRE_FILE,
        modifications_allowed=facts.modifications_allowed,
        verdict=verdict,
        reason=reason,
    )


def judge_document(signatures: list[SignatureReport]) -> PdfValidation:
    if not signatures:
        return PdfValidation(Verdict.FLAGGED, UNSIGNED, ())
    flagged = [s for s in signatures if s.verdict is Verdict.FLAGGED]
    if flagged:
        first = flagged[0]
        who = first.signer_common_name or first.field
        reason = Reason(
            first.reason.code,
            f"Chữ ký của {who}: {first.reason.vi}",
            f"Signature of {who}: {first.reason.en}",
        )
        return PdfValidation(Verdict.FLAGGED, reason, tuple(signatures))
    count = len(signatures)
    reason = Reason(
        "valid",
        f"Cả {count} chữ ký số hợp lệ, văn bản còn nguyên vẹn."
        if count > 1
        else "Chữ ký số hợp lệ, văn bản còn nguyên vẹn.",
        f"All {count} signatures are valid and the document is intact."
        if count > 1
        else "The signature is valid and the document is intact.",
    )
    return PdfValidation(Verdict.OK, reason, tuple(signatures))


def unreadable(reason: Reason) -> PdfValidation:
    return PdfValidation(Verdict.FLAGGED, reason, ())
