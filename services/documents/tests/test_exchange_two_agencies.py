"""Two agencies running the documents service exchange a document and its status messages
through a file drop: two databases, two agency codes, one shared folder.

A (the Hải Phòng Department) issues a directive and sends it to B (the Quảng Ninh
Department); B's poller registers it in B's incoming register once, however often it sees
the package; B's processing (01 arrived, 03 registered, 04 assigned, 06 done) goes back as
status messages, and A sees them for recipient B. Bad packages end in rejected/ with a reason
and leave nothing behind.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.documents import incoming, outgoing
from services.documents.domain.edxml import build_document, parse_document
from services.documents.exchange import store
from services.documents.exchange.api import router
from services.documents.exchange.handlers import Exchange, poll_once, send_document
from services.documents.exchange.mapping import Party
from services.documents.exchange.runtime import CONTEXT_KEY
from services.documents.exchange.settings import ExchangeSettings
from services.documents.files import UploadedFile
from shared.auth import Principal, TokenVerifier, generate_key_pair, issue_token
from shared.db.migrations import migrate
from shared.db.pool import create_pool, ensure_database, with_database
from shared.http.problems import install_problem_handlers
from shared.vietnam_time import today_in_vietnam

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
A_CODE, B_CODE = "000.00.31.H26", "000.00.31.H47"
A_NAME, B_NAME = "Sở GDĐT Hải Phòng", "Sở GDĐT Quảng Ninh"
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n"


@dataclass
class Agency:
    pool: asyncpg.Pool
    exchange: Exchange
    org_id: str
    clerk: Principal


@pytest.fixture
async def second_db(pg_server_url: str) -> AsyncIterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    await ensure_database(pg_server_url, name)
    yield with_database(pg_server_url, name)
    conn = await asyncpg.connect(pg_server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def start_agency(url: str, drop: Path, code: str, name: str, org_id: str) -> Agency:
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, "documents", MIGRATIONS)
        await store.migrate_exchange(conn)
        await conn.executemany(
            "INSERT INTO org_units (org_id, revision, kind, name, parent_id, school_type, "
            "valid_from) VALUES ($1, 1, $2, $3, $4, $5, '2025-07-01')",
            [
                (org_id, "province", name, None, None),
                (f"{org_id}-S1", "school", f"Trường THPT số 1 ({org_id})", org_id,
                 "upper_secondary"),
            ],
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO issuer_profiles (org_id, abbreviation) VALUES ($1, 'SGDĐT')", org_id
        )
    finally:
        await conn.close()
    settings = ExchangeSettings(
        adapter="file-drop",
        agency_code=code,
        agency_name=name,
        agency_org_id=org_id,
        drop_dir=drop,
        place="Hải Phòng",
        document_type_codes={"chi_thi": "3", "cong_van": "18"},
    )
    pool = await create_pool(url, min_size=1, max_size=4)
    return Agency(
        pool,
        Exchange(settings, settings.build_adapter()),
        org_id,
        Principal(subject=f"clerk-{org_id}", role="department", org_id=org_id),
    )


@pytest.fixture
async def agencies(
    fresh_db: str, second_db: str, tmp_path: Path
) -> AsyncIterator[tuple[Agency, Agency, Path]]:
    drop = tmp_path / "drop"
    a = await start_agency(fresh_db, drop, A_CODE, A_NAME, "SGD-HP")
    b = await start_agency(second_db, drop, B_CODE, B_NAME, "SGD-QN")
    yield a, b, drop
    await a.pool.close()
    await b.pool.close()


async def issue_directive(a: Agency) -> uuid.UUID:
    draft = outgoing.DraftInput(
        doc_type="chi_thi",
        summary="Về nhiệm vụ trọng tâm năm học 2025-2026",
        urgency="khan",  # type: ignore[arg-type]
        due_date=date(2025, 10, 15),
        recipients=[{"kind": "unit", "org_id": f"{a.org_id}-S1"}],  # type: ignore[list-item]
    )
    async with a.pool.acquire() as conn, conn.transaction():
        view = await outgoing.create_draft(
            conn,
            a.clerk,
            draft,
            UploadedFile("pdf", "chi-thi.pdf", "application/pdf", PDF),
            [UploadedFile("attachments[0]", "phu-luc.txt", "text/plain", b"Phu luc 1")],
        )
        await outgoing.approve(conn, a.clerk, view.id)
        await outgoing.sign(
            conn, a.clerk, view.id, outgoing.SignerInput(name="Nguyễn Văn An", position="Giám đốc")
        )
        issued = await outgoing.issue(conn, a.clerk, view.id)
        assert issued.notation == "01/CT-SGDĐT"
        await store.upsert_agency(conn, Party(B_CODE, B_NAME))
    return view.id


def pending(drop: Path, code: str) -> list[str]:
    folder = drop / code
    return sorted(p.name for p in folder.glob("*.edxml")) if folder.is_dir() else []


async def b_delivery(b: Agency) -> asyncpg.Record:
    async with b.pool.acquire() as conn:
        rows = await conn.fetch("SELECT * FROM deliveries WHERE recipient_id = $1", b.org_id)
    assert len(rows) == 1, rows
    return rows[0]


async def test_document_and_statuses_travel_between_two_agencies(
    agencies: tuple[Agency, Agency, Path],
) -> None:
    a, b, drop = agencies
    document_id = await issue_directive(a)
    async with a.pool.acquire() as conn, conn.transaction():
        queued = await send_document(conn, a.clerk, a.exchange, document_id, [B_CODE])
    assert queued["edxml_document_id"] == f"{A_CODE},{today_in_vietnam():%Y/%m/%d},01/CT-SGDĐT"

    # A's poll sends the queued package into B's folder.
    first_a = await poll_once(a.pool, a.exchange)
    assert first_a["sent"] == 1
    [package_name] = pending(drop, B_CODE)
    package = (drop / B_CODE / package_name).read_bytes()
    header = parse_document(package, a.exchange.config).header
    assert [org.organ_id for org in header.to] == [B_CODE]
    assert header.from_.organ_name == A_NAME

    # B's poll registers it (01 then 03 with arrival number 1) and reports both back.
    first_b = await poll_once(b.pool, b.exchange)
    [received] = first_b["received"]
    assert received["outcome"] == "registered"
    assert received["arrival_number"] == 1
    assert first_b["reports_queued"] == 2 and first_b["sent"] == 2
    assert pending(drop, B_CODE) == []
    assert (drop / B_CODE / "processed" / package_name).exists()
    delivery = await b_delivery(b)
    assert (delivery["status"], delivery["arrival_number"]) == ("03", 1)
    b_document = delivery["document_id"]
    async with b.pool.acquire() as conn:
        doc = await conn.fetchrow("SELECT * FROM documents WHERE id = $1", b_document)
        files = await conn.fetch(
            "SELECT role, filename, content FROM document_files WHERE document_id = $1 "
            "ORDER BY role DESC, position",
            b_document,
        )
    assert doc is not None
    assert (doc["issuer_id"], doc["notation"], doc["doc_type"]) == (
        A_CODE,
        "01/CT-SGDĐT",
        "chi_thi",
    )
    assert (doc["urgency"], doc["due_date"]) == ("khan", date(2025, 10, 15))
    assert doc["summary"] == "Về nhiệm vụ trọng tâm năm học 2025-2026"
    assert [(f["role"], f["filename"], bytes(f["content"])) for f in files] == [
        ("main", "chi-thi.pdf", PDF),
        ("attachment", "phu-luc.txt", b"Phu luc 1"),
    ]

    # The same package again (a resend by A, and the file put back by hand): still one entry.
    async with a.pool.acquire() as conn, conn.transaction():
        await send_document(conn, a.clerk, a.exchange, document_id, [B_CODE])
    shutil.copy(drop / B_CODE / "processed" / package_name, drop / B_CODE / "zz-again.edxml")
    await poll_once(a.pool, a.exchange)  # also applies B's 01 and 03
    again = await poll_once(b.pool, b.exchange)
    assert [r["outcome"] for r in again["received"]] == ["duplicate", "duplicate"]
    assert again["reports_queued"] == 0
    assert (await b_delivery(b))["arrival_number"] == 1
    async with b.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM documents") == 1

    # B assigns and completes; each step goes back to A.
    async with b.pool.acquire() as conn, conn.transaction():
        await incoming.assign(
            conn, b.clerk, b_document,
            incoming.AssignInput(department="Phòng GDTrH", deadline=date(2025, 10, 10),
                                 note="internal: ask Mr Hùng"),
        )  # fmt: skip
    await poll_once(b.pool, b.exchange)
    async with b.pool.acquire() as conn, conn.transaction():
        await incoming.progress(conn, b.clerk, b_document, incoming.StepInput(), done=True)
    last_b = await poll_once(b.pool, b.exchange)
    assert last_b["reports_queued"] == 1

    last_a = await poll_once(a.pool, a.exchange)
    assert [(r["kind"], r["status"], r["outcome"]) for r in last_a["received"]] == [
        ("status", "04", "applied"),
        ("status", "06", "applied"),
    ]
    async with a.pool.acquire() as conn:
        [seen] = await store.sent_recipients(conn, document_id)
    assert (seen["agency_code"], seen["agency_name"], seen["status"]) == (B_CODE, B_NAME, "06")
    assert [(h["status"], h["outcome"]) for h in seen["history"]] == [
        ("01", "applied"),
        ("03", "applied"),
        ("04", "applied"),
        ("06", "applied"),
    ]
    # Internal notes of B stay at B; the sender reads the status label.
    assert seen["history"][2]["description"] == "Phân công xử lý"
    assert pending(drop, A_CODE) == [] and pending(drop, B_CODE) == []
    assert len(list((drop / A_CODE / "processed").glob("*.edxml"))) == 4


async def test_bad_packages_are_rejected_with_a_reason_and_leave_nothing(
    agencies: tuple[Agency, Agency, Path],
) -> None:
    a, b, drop = agencies
    document_id = await issue_directive(a)
    async with a.pool.acquire() as conn, conn.transaction():
        await send_document(conn, a.clerk, a.exchange, document_id, [B_CODE])
    await poll_once(a.pool, a.exchange)
    [name] = pending(drop, B_CODE)
    good = (drop / B_CODE / name).read_bytes()
    (drop / B_CODE / name).unlink()
    document = parse_document(good, a.exchange.config)

    gif = replace(document.attachments[0], data=b"GIF89a....")
    not_pdf = build_document(replace(document, attachments=(gif,)), a.exchange.config)
    elsewhere = good.replace(B_CODE.encode(), b"000.00.31.H99")
    folder = drop / B_CODE
    (folder / "1-malformed.edxml").write_bytes(good[: len(good) // 2])
    (folder / "2-not-pdf.edxml").write_bytes(not_pdf)
    (folder / "3-elsewhere.edxml").write_bytes(elsewhere)
    result = await poll_once(b.pool, b.exchange)
    assert [(r["handle"], r["code"]) for r in result["received"]] == [
        ("1-malformed.edxml", "malformed"),
        ("2-not-pdf.edxml", "not_pdf"),
        ("3-elsewhere.edxml", "unknown_recipient"),
    ]
    # B accepts attachments of at most 40 bytes: A's 65-byte PDF is too large there.
    b.exchange.config = b.exchange.settings.model_copy(
        update={"max_attachment_bytes": 40}
    ).edxml_config()
    (folder / "4-too-large.edxml").write_bytes(good)
    result = await poll_once(b.pool, b.exchange)
    assert [(r["handle"], r["code"]) for r in result["received"]] == [
        ("4-too-large.edxml", "attachment_too_large"),
    ]
    rejected = folder / "rejected"
    assert sorted(p.name for p in rejected.glob("*.edxml")) == [
        "1-malformed.edxml", "2-not-pdf.edxml", "3-elsewhere.edxml", "4-too-large.edxml",
    ]  # fmt: skip
    reason = (rejected / "2-not-pdf.edxml.reason.txt").read_text(encoding="utf-8")
    assert reason.startswith("not_pdf: the main document must be a PDF")
    assert "element: AttachmentEncoded/Attachment[1]" in reason
    assert "not well-formed XML" in (rejected / "1-malformed.edxml.reason.txt").read_text()
    assert "40-byte limit" in (rejected / "4-too-large.edxml.reason.txt").read_text()
    async with b.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM documents") == 0
        assert await conn.fetchval("SELECT count(*) FROM deliveries") == 0
        assert await conn.fetchval("SELECT count(*) FROM edxml_received") == 0
        assert await conn.fetchval("SELECT count(*) FROM edxml_rejections") == 4
    assert pending(drop, A_CODE) == []  # nothing was acknowledged to A


def api_client(agency: Agency, keys: Path) -> httpx.AsyncClient:
    """The exchange router on a bare app with the agency's pool and a real token check."""
    private, public = generate_key_pair(keys)
    app = FastAPI()
    app.state.context = SimpleNamespace(
        pool=agency.pool,
        verifier=TokenVerifier.from_file(public, issuer="eduhub-local", audience="eduhub"),
        extras={CONTEXT_KEY: agency.exchange},
    )
    install_problem_handlers(app)
    app.include_router(router)
    token = issue_token(
        private.read_bytes(), subject=agency.clerk.subject, role="department",
        org_id=agency.org_id,
    )  # fmt: skip
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://documents",
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_export_and_import_through_the_api(
    agencies: tuple[Agency, Agency, Path], tmp_path: Path
) -> None:
    a, b, _ = agencies
    document_id = await issue_directive(a)
    async with api_client(a, tmp_path / "keys") as client_a:
        unknown = await client_a.get(f"/documents/{document_id}/edxml", params={"to": "X.1"})
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["field"] == "to[0]"
        exported = await client_a.get(f"/documents/{document_id}/edxml", params={"to": B_CODE})
        assert exported.status_code == 200
        assert exported.headers["content-type"] == "application/xml"
        assert 'filename="01-CT-SGDDT.edxml"' in exported.headers["content-disposition"]
    package = exported.content
    assert parse_document(package, a.exchange.config).header.code.notation == "CT-SGDĐT"

    async with api_client(b, tmp_path / "keys") as client_b:
        headers = {"Content-Type": "application/xml", "Idempotency-Key": "import-1"}
        no_key = await client_b.post("/edxml/import", content=package,
                                     headers={"Content-Type": "application/xml"})  # fmt: skip
        assert no_key.status_code == 400
        first = await client_b.post("/edxml/import", content=package, headers=headers)
        assert first.status_code == 200, first.text
        assert (first.json()["outcome"], first.json()["arrival_number"]) == ("registered", 1)
        replay = await client_b.post("/edxml/import", content=package, headers=headers)
        assert replay.headers["Idempotency-Replayed"] == "true"
        other_key = {**headers, "Idempotency-Key": "import-2"}
        second = await client_b.post("/edxml/import", content=package, headers=other_key)
        assert second.json()["outcome"] == "duplicate"
        assert second.json()["document_id"] == first.json()["document_id"]

        truncated = await client_b.post(
            "/edxml/import", content=package[:200], headers={**headers, "Idempotency-Key": "x"}
        )
        assert truncated.status_code == 422
        problem = truncated.json()
        assert truncated.headers["content-type"] == "application/problem+json"
        assert problem["title"] == "edXML package rejected"
        assert problem["errors"][0]["type"] == "malformed"

        document = parse_document(package, b.exchange.config)
        gif = replace(document.attachments[0], data=b"GIF89a....")
        not_pdf = build_document(replace(document, attachments=(gif,)), b.exchange.config)
        refused = await client_b.post(
            "/edxml/import", content=not_pdf, headers={**headers, "Idempotency-Key": "y"}
        )
        assert refused.status_code == 422
        assert refused.json()["errors"] == [
            {
                "field": "AttachmentEncoded/Attachment[1] (chi-thi.pdf)",
                "message": "the main document must be a PDF; 'chi-thi.pdf' (application/pdf) "
                "is not",
                "type": "not_pdf",
            }
        ]
    async with b.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM deliveries") == 1
