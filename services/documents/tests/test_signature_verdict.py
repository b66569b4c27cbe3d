"""The verdict rules on signature facts (pure: no PDF, no keys)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from services.documents.signing.verdict import (
    Coverage,
    SignatureFacts,
    TrustProblem,
    Verdict,
    judge,
    judge_document,
)

GOOD = SignatureFacts(
    field="ChuKyNguoiKy",
    signer_common_name="Nguyễn Văn An",
    signer_organisation="Sở Giáo dục và Đào tạo Hải Phòng",
    signing_time=datetime(2025, 3, 5, 3, 0, tzinfo=UTC),
    timestamp_time=None,
    intact=True,
    valid=True,
    trusted=True,
    trust_problem=None,
    timestamp_ok=True,
    coverage=Coverage.ENTIRE_FILE,
    modification_level="NONE",
    modifications_allowed=True,
)


def test_a_good_signature_is_ok() -> None:
    report = judge(GOOD)
    assert (report.verdict, report.reason.code, report.modified_after) == (
        Verdict.OK,
        "valid",
        False,
    )


def test_problems_are_reported_most_serious_first() -> None:
    # Tampering outranks everything else that may also be wrong.
    everything_wrong = replace(
        GOOD,
        intact=False,
        valid=False,
        trusted=False,
        trust_problem=TrustProblem.UNTRUSTED,
        coverage=Coverage.PARTIAL,
        modifications_allowed=False,
        timestamp_ok=False,
    )
    assert judge(everything_wrong).reason.code == "tampered"
    assert judge(replace(everything_wrong, intact=True)).reason.code == "bad_signature"
    assert judge(replace(everything_wrong, intact=True, valid=True)).reason.code == (
        "partial_coverage"
    )
    later = replace(everything_wrong, intact=True, valid=True, coverage=Coverage.ENTIRE_REVISION)
    assert judge(later).reason.code == "disallowed_changes"
    assert judge(replace(later, modifications_allowed=True)).reason.code == "untrusted"
    trusted = replace(later, modifications_allowed=True, trusted=True, trust_problem=None)
    assert judge(trusted).reason.code == "bad_timestamp"
    assert judge(replace(trusted, timestamp_ok=True)).reason.code == "valid_with_later_updates"


def test_trust_problems_have_their_own_reasons() -> None:
    for problem, code, words in (
        (TrustProblem.REVOKED, "revoked", "thu hồi"),
        (TrustProblem.EXPIRED, "expired", "hết hạn"),
        (TrustProblem.KEY_USAGE, "key_usage", "không được phép"),
    ):
        report = judge(replace(GOOD, trusted=False, trust_problem=problem))
        assert report.verdict is Verdict.FLAGGED and report.reason.code == code
        assert words in report.reason.vi


def test_undetermined_modifications_do_not_flag_on_their_own() -> None:
    report = judge(replace(GOOD, coverage=Coverage.ENTIRE_REVISION, modifications_allowed=None))
    assert report.verdict is Verdict.OK


def test_document_verdict_names_the_first_flagged_signer() -> None:
    seal = replace(
        GOOD,
        field="ChuKyCoQuan",
        signer_common_name="Sở GD&ĐT Hải Phòng",
        trusted=False,
        trust_problem=TrustProblem.UNTRUSTED,
    )
    person = replace(GOOD, coverage=Coverage.ENTIRE_REVISION)
    result = judge_document([judge(person), judge(seal)])
    assert result.verdict is Verdict.FLAGGED and not result.ok
    assert result.reason.code == "untrusted"
    assert result.reason.vi.startswith("Chữ ký của Sở GD&ĐT Hải Phòng: ")
    assert result.reason.en.startswith("Signature of Sở GD&ĐT Hải Phòng: ")
    assert [s.verdict for s in result.signatures] == [Verdict.OK, Verdict.FLAGGED]


def test_no_signature_is_flagged() -> None:
    result = judge_document([])
    assert (result.verdict, result.reason.code, result.signatures) == (
        Verdict.FLAGGED,
        "unsigned",
        (),
    )
    one = judge_document([judge(GOOD)])
    assert one.ok and one.reason.en == "The signature is valid and the document is intact."
