"""Recall, update and replacement between two agencies over the file drop.

A (Hải Phòng) issues a directive to B (Quảng Ninh); A recalls it: B's copy goes to 13 by the
core's recall rules, B agrees and A sees 15 for B. A replaces a document: B's copy of the
replacement names the one it replaces, which is marked replaced. A recall sent as a document
package of business type 1 works the same; a recall of a document B never received, or from
an agency that did not issue it, is refused with a reason.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from services.documents import incoming, outgoing
from services.documents.domain.edxml import (
    Business,
    Organization,
    build_document,
    build_status,
    parse_document,
    parse_status,
)
from services.documents.domain.status import BusinessType, ProcessingStatus
from services.documents.exchange import store
from services.documents.exchange.handlers import poll_once, send_document
from services.documents.files import UploadedFile
from services.documents.tests.test_exchange_two_agencies import (
    A_CODE,
    B_CODE,
    PDF,
    Agency,
    agencies,
    b_delivery,
    issue_directive,
    pending,
    second_db,
)
from shared.http.problems import Problem

pytestmark = pytest.mark.integration
__all__ = ["agencies", "second_db"]  # fixtures shared with the two-agency test


async def send_and_register(a: Agency, b: Agency, document_id: uuid.UUID) -> None:
    """A sends, B registers and reports 01/03, A applies them."""
    async with a.pool.acquire() as conn, conn.transaction():
        await send_document(conn, a.clerk, a.exchange, document_id, [B_CODE])
    await poll_once(a.pool, a.exchange)
    await poll_once(b.pool, b.exchange)
    await poll_once(a.pool, a.exchange)


async def a_sees(a: Agency, document_id: uuid.UUID) -> dict:
    async with a.pool.acquire() as conn:
        [seen] = await store.sent_recipients(conn, document_id)
    return seen


async def test_recall_travels_to_the_other_agency_and_its_answer_comes_back(
    agencies: tuple[Agency, Agency, Path],
) -> None:
    a, b, drop = agencies
    document_id = await issue_directive(a)
    await send_and_register(a, b, document_id)
    assert (await a_sees(a, document_id))["status"] == "03"

    async with a.pool.acquire() as conn, conn.transaction():
        asked = await incoming.request_recall(conn, a.clerk, document_id, "sai số liệu")
    assert asked["recall_requested"] == 1  # A's own school, through the core
    first_a = await poll_once(a.pool, a.exchange)
    assert (first_a["recalls_queued"], first_a["sent"]) == (1, 1)
    [package] = pending(drop, B_CODE)
    status = parse_status((drop / B_CODE / package).read_bytes(), b.exchange.config)
    assert status.status is ProcessingStatus.RECALL_REQUESTED
    assert str(status.response_for.document_id).endswith(",01/CT-SGDĐT")
    assert (await a_sees(a, document_id))["status"] == "13"
    # A later poll does not ask again for the same request.
    assert (await poll_once(a.pool, a.exchange))["recalls_queued"] == 0

    first_b = await poll_once(b.pool, b.exchange)
    [recall] = first_b["received"]
    assert (recall["kind"], recall["outcome"], recall["status"]) == ("recall", "applied", "13")
    delivery = await b_delivery(b)
    assert (delivery["status"], delivery["status_before_recall"]) == ("13", "03")
    assert first_b["reports_queued"] == 0  # 13 is A's own request, not echoed back
    # The same request delivered twice changes nothing.
    (drop / B_CODE / "zz-again.edxml").write_bytes(
        (drop / B_CODE / "processed" / package).read_bytes()
    )
    again = await poll_once(b.pool, b.exchange)
    assert [r["outcome"] for r in again["received"]] == ["repeated"]

    b_document = delivery["document_id"]
    async with b.pool.acquire() as conn, conn.transaction():
        answered = await incoming.answer_recall(
            conn, b.clerk, b_document, incoming.RecallAnswerInput(agree=True)
        )
    assert answered.status == "15"
    answer_b = await poll_once(b.pool, b.exchange)
    assert (answer_b["reports_queued"], answer_b["sent"]) == (1, 1)
    [answer] = pending(drop, A_CODE)
    assert parse_status((drop / A_CODE / answer).read_bytes(), a.exchange.config).status is (
        ProcessingStatus.RECALL_AGREED
    )

    last_a = await poll_once(a.pool, a.exchange)
    assert [(r["kind"], r["status"], r["outcome"]) for r in last_a["received"]] == [
        ("status", "15", "applied")
    ]
    seen = await a_sees(a, document_id)
    assert seen["status"] == "15"
    assert [(h["status"], h["outcome"]) for h in seen["history"]] == [
        ("01", "applied"),
        ("03", "applied"),
        ("13", "requested"),
        ("15", "applied"),
    ]
    async with a.pool.acquire() as conn:
        followed = await incoming.recipients_of(conn, a.clerk, document_id)
    assert [(r["agency_code"], r["status"]) for r in followed["external"]] == [(B_CODE, "15")]

    # B's copy is frozen: nothing moves it any more.
    with pytest.raises(Problem) as frozen:
        async with b.pool.acquire() as conn, conn.transaction():
            await incoming.progress(conn, b.clerk, b_document, incoming.StepInput(), done=True)
    assert frozen.value.status == 409


async def test_recall_refused_by_the_other_agency_resumes_and_reaches_the_sender(
    agencies: tuple[Agency, Agency, Path],
) -> None:
    a, b, _ = agencies
    document_id = await issue_directive(a)
    await send_and_register(a, b, document_id)
    async with a.pool.acquire() as conn, conn.transaction():
        await incoming.request_recall(conn, a.clerk, document_id, None)
    await poll_once(a.pool, a.exchange)
    await poll_once(b.pool, b.exchange)
    b_document = (await b_delivery(b))["document_id"]
    async with b.pool.acquire() as conn, conn.transaction():
        await incoming.answer_recall(
            conn, b.clerk, b_document, incoming.RecallAnswerInput(agree=False)
        )
        done = await incoming.progress(conn, b.clerk, b_document, incoming.StepInput(), done=True)
    assert done.status == "06"
    await poll_once(b.pool, b.exchange)
    result = await poll_once(a.pool, a.exchange)
    assert [(r["status"], r["outcome"]) for r in result["received"]] == [
        ("16", "applied"),
        ("06", "applied"),
    ]
    assert (await a_sees(a, document_id))["status"] == "06"


async def test_replacement_is_linked_to_the_received_original(
    agencies: tuple[Agency, Agency, Path],
) -> None:
    a, b, drop = agencies
    original_id = await issue_directive(a)
    await send_and_register(a, b, original_id)
    b_original = (await b_delivery(b))["document_id"]

    async with a.pool.acquire() as conn, conn.transaction():
        draft = await outgoing.start_successor(
            conn, a.clerk, original_id,
            {"summary": "Về nhiệm vụ trọng tâm năm học 2025-2026 (thay thế)"},
            BusinessType.REPLACEMENT,
            UploadedFile("pdf", "chi-thi-thay-the.pdf", "application/pdf", PDF), [],
        )  # fmt: skip
        await outgoing.approve(conn, a.clerk, draft.id)
        await outgoing.sign(
            conn, a.clerk, draft.id, outgoing.SignerInput(name="Nguyễn Văn An", position="Giám đốc")
        )
        issued = await outgoing.issue(conn, a.clerk, draft.id)
        await send_document(conn, a.clerk, a.exchange, draft.id, [B_CODE])
    assert issued.notation == "02/CT-SGDĐT"
    await poll_once(a.pool, a.exchange)
    [package] = pending(drop, B_CODE)
    parsed = parse_document((drop / B_CODE / package).read_bytes(), b.exchange.config)
    assert parsed.trace.business is not None
    assert parsed.trace.business.business_type is BusinessType.REPLACEMENT
    assert [(r.organ_id, r.code) for r in parsed.header.response_for] == [(A_CODE, "01/CT-SGDĐT")]

    result = await poll_once(b.pool, b.exchange)
    [received] = result["received"]
    assert (received["outcome"], received["notation"]) == ("registered", "02/CT-SGDĐT")
    assert (received["business_type"], received["replaces"]) == (3, str(b_original))
    async with b.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, notation, state, replaces, replaced_by, business_type FROM documents "
            "ORDER BY notation"
        )
    successor = uuid.UUID(received["document_id"])
    assert [tuple(r) for r in rows] == [
        (b_original, "01/CT-SGDĐT", "replaced", None, successor, 0),
        (successor, "02/CT-SGDĐT", "issued", b_original, None, 3),
    ]


async def test_update_found_by_notation_and_recall_as_a_business_package(
    agencies: tuple[Agency, Agency, Path],
) -> None:
    """A partner that names the original only in the business reason, and recalls with a
    document package of business type 1; and recalls B must refuse."""
    a, b, drop = agencies
    original_id = await issue_directive(a)
    await send_and_register(a, b, original_id)
    b_original = (await b_delivery(b))["document_id"]
    [sent] = list((drop / B_CODE / "processed").glob("*.edxml"))
    document = parse_document(sent.read_bytes(), b.exchange.config)
    config = b.exchange.config

    def variant(notation: str, business: BusinessType, reason: str | None) -> bytes:
        number, code = notation.split("/")
        header = replace(
            document.header,
            code=replace(document.header.code, number=number, notation=code),
            document_id=replace(document.header.document_id, number_notation=notation),
        )
        trace = replace(document.trace, business=Business(business, reason))
        return build_document(replace(document, header=header, trace=trace), config)

    folder = drop / B_CODE
    (folder / "1-update.edxml").write_bytes(
        variant("05/CT-SGDĐT", BusinessType.UPDATE, "Cập nhật văn bản số 01/CT-SGDĐT")
    )
    (folder / "2-recall-unknown.edxml").write_bytes(
        variant("09/CT-SGDĐT", BusinessType.RECALL, None)
    )
    (folder / "3-recall.edxml").write_bytes(variant("01/CT-SGDĐT", BusinessType.RECALL, None))
    # Status 13 about A's document, but from a third agency.
    status = parse_status(
        (drop / A_CODE / "processed").glob("*.edxml").__next__().read_bytes(), config
    )
    forged = replace(
        status,
        response_for=replace(status.response_for, document_id=document.header.document_id),
        from_=Organization("000.00.31.H99", "Sở khác"),
        status=ProcessingStatus.RECALL_REQUESTED,
    )
    (folder / "4-forged.edxml").write_bytes(build_status(forged, config))

    result = await poll_once(b.pool, b.exchange)
    outcomes = [(r["handle"], r.get("outcome"), r.get("code")) for r in result["received"]]
    assert outcomes == [
        ("1-update.edxml", "registered", None),
        ("2-recall-unknown.edxml", "rejected", "unknown_document"),
        ("3-recall.edxml", "applied", None),
        ("4-forged.edxml", "rejected", "not_expected"),
    ]
    assert result["received"][0]["replaces"] == str(b_original)
    async with b.pool.acquire() as conn:
        original = await conn.fetchrow(
            "SELECT state, replaced_by FROM documents WHERE id = $1", b_original
        )
        delivery = await conn.fetchrow(
            "SELECT status FROM deliveries WHERE document_id = $1", b_original
        )
    assert original is not None and delivery is not None
    # An update keeps the original in force (only a replacement supersedes it).
    assert (original["state"], str(original["replaced_by"])) == (
        "issued",
        result["received"][0]["document_id"],
    )
    assert delivery["status"] == "13"
    reason = (folder / "rejected" / "4-forged.edxml.reason.txt").read_text(encoding="utf-8")
    assert "only the issuer recalls a document" in reason
