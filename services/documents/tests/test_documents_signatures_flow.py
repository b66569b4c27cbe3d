"""Signatures in the documents workflow on a real PostgreSQL, with the local test PKI:
the person signs at "sign", the organisation seals at "issue" (two PAdES signatures, the
verdict stored and shown), a draft without a PDF is rendered and signed in the renderer's
box, an unsignable PDF is a 422 on `pdf` that changes nothing, and documents received from
outside (uploaded or over edXML between two agencies) are checked: intact ones ok, tampered
or unsigned ones flagged in the inbox, never silently accepted."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF
from pyhanko.pdf_utils.reader import PdfFileReader

from services.documents import incoming, outgoing, signing_hooks
from services.documents.exchange import store
from services.documents.exchange.handlers import poll_once, send_document
from services.documents.exchange.mapping import Party
from services.documents.files import UploadedFile
from services.documents.signing.config import SigningKit, SigningSettings, load_signing_kit
from services.documents.signing.sign import ORGANISATION_FIELD, PERSON_FIELD
from services.documents.tests.test_documents_flow import seed_tree
from services.documents.tests.test_exchange_two_agencies import (  # noqa: F401 (fixtures)
    A_CODE,
    A_NAME,
    B_CODE,
    Agency,
    agencies,
    second_db,
)
from services.documents.views import load_document, load_file_content
from shared.auth import Principal
from shared.db.migrations import migrate
from shared.db.pool import Connection, create_pool
from shared.http.problems import Problem

pytestmark = pytest.mark.integration

DEPARTMENT = Principal("van-thu", "department", "HP")
SCHOOL_1 = Principal("hieu-truong-1", "school", "S-1")
NOT_SIGNABLE = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def simple_pdf(text: str = "Chỉ thị về phòng chống đuối nước") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text.encode("ascii", "replace").decode())
    return bytes(pdf.output())


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> SigningKit:
    state = tmp_path_factory.mktemp("state")
    return load_signing_kit(SigningSettings(), environment="test", state_dir=state)


@pytest.fixture
def signing(kit: SigningKit) -> Iterator[SigningKit]:
    signing_hooks.install(kit)
    yield kit
    signing_hooks.install(None)


@pytest.fixture
async def conn(fresh_db: str, signing: SigningKit) -> AsyncIterator[Connection]:
    pool = await create_pool(fresh_db, min_size=1, max_size=1)
    async with pool.acquire() as connection:
        await migrate(connection, "documents", MIGRATIONS)
        await seed_tree(connection)
        yield connection
    await pool.close()


def draft_input(**overrides: Any) -> outgoing.DraftInput:
    body: dict[str, Any] = {
        "doc_type": "chi_thi",
        "summary": "Về việc tăng cường phòng chống đuối nước cho học sinh",
        "content": "Để bảo đảm an toàn cho học sinh trong dịp hè.\nCác trường thực hiện.",
        "issuer_abbreviation": "SGDĐT",
        "recipients": [{"kind": "unit", "org_id": "S-1"}],
    }
    body.update(overrides)
    return outgoing.draft_from_json(body)


async def issue_signed(conn: Connection, main: UploadedFile | None) -> Any:
    async with conn.transaction():
        draft = await outgoing.create_draft(conn, DEPARTMENT, draft_input(), main, [])
        await outgoing.approve(conn, DEPARTMENT, draft.id)
        signed = await outgoing.sign(
            conn,
            DEPARTMENT,
            draft.id,
            outgoing.SignerInput(name="Nguyễn Văn An", position="Giám đốc"),
        )
        issued = await outgoing.issue(conn, DEPARTMENT, draft.id)
    return draft, signed, issued


async def test_sign_then_seal_two_valid_signatures_shown_with_the_document(
    conn: Connection,
) -> None:
    original = simple_pdf()
    draft, signed, issued = await issue_signed(
        conn, UploadedFile("pdf", "chi-thi.pdf", "application/pdf", original)
    )
    assert draft.to_json()["signature"]["verdict"] == "unsigned"
    assert draft.pdf_source == "uploaded"

    after_sign = signed.to_json()["signature"]
    assert after_sign["verdict"] == "ok", after_sign
    assert [s["field"] for s in after_sign["signatures"]] == [PERSON_FIELD]
    assert after_sign["signatures"][0]["signer"] == "Nguyễn Văn An"

    shown = issued.to_json()
    assert shown["notation"] == "01/CT-SGDĐT"
    signature = shown["signature"]
    assert signature["verdict"] == "ok", signature
    assert signature["reason_en"] == "All 2 signatures are valid and the document is intact."
    assert [s["field"] for s in signature["signatures"]] == [PERSON_FIELD, ORGANISATION_FIELD]
    assert all(s["intact"] and s["trusted"] for s in signature["signatures"])
    assert signature["signatures"][1]["organisation"] == "Sở Giáo dục và Đào tạo Hải Phòng"
    assert shown["main_pdf"]["signed"] is True

    # Incremental updates: the uploaded bytes are untouched at the start of the signed file.
    content = await load_file_content(conn, issued.main_pdf.id)
    assert content is not None and content.startswith(original) and len(content) > len(original)
    assert issued.main_pdf.size == len(content)

    [item] = await incoming.inbox(conn, SCHOOL_1, "S-1")
    assert (item["signature_verdict"], item["notation"]) == ("ok", "01/CT-SGDĐT")


async def test_draft_without_pdf_is_rendered_and_signed_in_the_renderers_box(
    conn: Connection,
) -> None:
    draft, _signed, issued = await issue_signed(conn, None)
    assert draft.pdf_source == "rendered"
    preview = await load_file_content(conn, draft.main_pdf.id)
    assert preview is not None and preview.startswith(b"%PDF-")
    assert issued.to_json()["signature"]["verdict"] == "ok"
    content = await load_file_content(conn, issued.main_pdf.id)
    assert content is not None
    reader = PdfFileReader(io.BytesIO(content))
    assert [s.field_name for s in reader.embedded_signatures] == [PERSON_FIELD, ORGANISATION_FIELD]
    # The person's widget sits where the renderer left room between position and name,
    # i.e. in the right half of an A4 page, not in the default bottom-right corner box.
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    rects = {
        a.get_object()["/T"]: [float(v) for v in a.get_object()["/Rect"]] for a in page["/Annots"]
    }
    person = rects[PERSON_FIELD]
    assert person[0] > 595 / 2 - 60 and person[1] > 100, person


async def test_an_unsignable_pdf_is_a_422_on_pdf_and_changes_nothing(conn: Connection) -> None:
    async with conn.transaction():
        draft = await outgoing.create_draft(
            conn,
            DEPARTMENT,
            draft_input(),
            UploadedFile("pdf", "x.pdf", "application/pdf", NOT_SIGNABLE),
            [],
        )
        await outgoing.approve(conn, DEPARTMENT, draft.id)
    with pytest.raises(Problem) as raised:
        async with conn.transaction():
            await outgoing.sign(conn, DEPARTMENT, draft.id, outgoing.SignerInput(name="An"))
    assert raised.value.status == 422
    assert raised.value.errors is not None and raised.value.errors[0]["field"] == "pdf"
    view = await load_document(conn, draft.id)
    assert view is not None and view.state == "approved" and view.signer_name is None
    assert await load_file_content(conn, draft.main_pdf.id) == NOT_SIGNABLE


async def _receive(conn: Connection, pdf: bytes, sender: str) -> tuple[Any, dict[str, Any]]:
    document_id = uuid.uuid4()
    async with conn.transaction():
        check = await incoming.create_external(
            conn,
            incoming.ExternalDocument(
                issuer_id=sender,
                issuer_name=f"Sở Y tế ({sender})",
                issuer_abbreviation="SYT",
                doc_type="cong_van",
                summary="V/v tiêm chủng",
                number=7,
                notation="07/SYT-NV",
                issued_on=date(2025, 9, 8),
                main_pdf=incoming.ExternalFile("cv.pdf", "application/pdf", pdf),
            ),
            document_id=document_id,
            recipient_id="S-1",
            recipient_label="Đơn vị S-1",
            created_by="test",
        )
        await incoming.deliver_external(
            conn, document_id=document_id, recipient_id="S-1", actor="test"
        )
    view = await load_document(conn, document_id)
    return view, check


async def test_received_documents_are_checked_tampered_and_unsigned_are_flagged(
    conn: Connection,
) -> None:
    _draft, _signed, issued = await issue_signed(
        conn, UploadedFile("pdf", "a.pdf", "application/pdf", simple_pdf())
    )
    signed = await load_file_content(conn, issued.main_pdf.id)
    assert signed is not None

    intact, check = await _receive(conn, signed, "EXT-1")
    assert check["verdict"] == "ok"
    assert intact.issuer_name == "Sở Y tế (EXT-1)"  # not in the tree: the sender's own name
    assert intact.to_json()["signature"]["verdict"] == "ok"
    assert intact.pdf_source == "received" and intact.main_pdf.signed

    # One byte inside the first revision's page content stream changed after signing.
    at = signed.index(b"stream\n") + len(b"stream\n") + 10
    tampered_bytes = signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1 :]
    tampered, check = await _receive(conn, tampered_bytes, "EXT-2")
    assert check["verdict"] == "flagged"
    shown = tampered.to_json()["signature"]
    assert (shown["verdict"], shown["reason_code"]) == ("flagged", "tampered")
    assert shown["reason_vi"].endswith("Nội dung văn bản đã bị thay đổi sau khi ký.")

    unsigned, _ = await _receive(conn, simple_pdf("no signature"), "EXT-3")
    assert unsigned.to_json()["signature"]["reason_code"] == "unsigned"

    inbox = {i["issuer_id"]: i for i in await incoming.inbox(conn, SCHOOL_1, "S-1")}
    assert {k: v["signature_verdict"] for k, v in inbox.items()} == {
        "HP": "ok",
        "EXT-1": "ok",
        "EXT-2": "flagged",
        "EXT-3": "flagged",
    }
    assert inbox["EXT-1"]["issuer_name"] == "Sở Y tế (EXT-1)"
    assert "thay đổi sau khi ký" in inbox["EXT-2"]["signature_reason_vi"]


async def test_edxml_document_between_two_agencies_arrives_checked(
    signing: SigningKit,
    agencies: tuple[Agency, Agency, Path],  # noqa: F811 (fixture imported above)
) -> None:
    a, b, _drop = agencies
    async with a.pool.acquire() as conn, conn.transaction():
        draft = await outgoing.create_draft(
            conn,
            a.clerk,
            draft_input(recipients=[{"kind": "unit", "org_id": f"{a.org_id}-S1"}]),
            None,
            [],
        )
        await outgoing.approve(conn, a.clerk, draft.id)
        await outgoing.sign(conn, a.clerk, draft.id, outgoing.SignerInput(name="Nguyễn Văn An"))
        await outgoing.issue(conn, a.clerk, draft.id)
        await store.upsert_agency(conn, Party(B_CODE, "Sở GDĐT Quảng Ninh"))
        await send_document(conn, a.clerk, a.exchange, draft.id, [B_CODE])
    assert (await poll_once(a.pool, a.exchange))["sent"] == 1
    [received] = (await poll_once(b.pool, b.exchange))["received"]
    assert received["outcome"] == "registered"
    assert received["signature_verdict"] == "ok", received
    async with b.pool.acquire() as conn:
        view = await load_document(conn, uuid.UUID(received["document_id"]))
        [item] = await incoming.inbox(conn, b.clerk, b.org_id)
    assert view is not None
    assert (view.issuer_id, view.issuer_name) == (A_CODE, A_NAME)
    assert [s["field"] for s in view.to_json()["signature"]["signatures"]] == [
        PERSON_FIELD,
        ORGANISATION_FIELD,
    ]
    assert (item["issuer_name"], item["signature_verdict"]) == (A_NAME, "ok")
    await poll_once(a.pool, a.exchange)  # B's 01 and 03 come back to A
    async with a.pool.acquire() as conn:
        followed = await incoming.recipients_of(conn, a.clerk, draft.id)
    [external] = followed["external"]
    assert (external["agency_code"], external["status"]) == (B_CODE, "03")


async def test_a_clerk_registers_a_document_received_by_email_with_its_check(
    conn: Connection,
) -> None:
    _draft, _signed, issued = await issue_signed(conn, None)
    signed = await load_file_content(conn, issued.main_pdf.id)
    assert signed is not None
    async with conn.transaction():
        result = await incoming.receive_upload(
            conn,
            SCHOOL_1,
            incoming.ReceivedInput(
                sender_name="Sở Y tế",
                notation="07/SYT-NV",
                issued_on=date(2025, 9, 8),
                summary="V/v tiêm chủng",
            ),
            incoming.ExternalFile("cv.pdf", "application/pdf", signed),
            [],
        )
    assert result["signature_verdict"] == "ok"
    assert (result["recipient"]["status"], result["recipient"]["arrival_number"]) == ("03", 1)
    view = await load_document(conn, uuid.UUID(result["document_id"]))
    assert view is not None
    assert (view.issuer_name, view.number, view.notation) == ("Sở Y tế", 7, "07/SYT-NV")
    assert view.issuer_id.startswith("EXT-")
