"""The Department issues a directive to every school of a commune; the schools receive, read
and complete it; the Department sees each school's status, then recalls the directive."""

from __future__ import annotations

import asyncio
import base64
import uuid

import asyncpg
import pytest
from fpdf import FPDF

from tests.e2e.support import wait_for

pytestmark = pytest.mark.e2e


def _pdf() -> bytes:
    """A real one-page PDF: the service signs it (pyHanko must be able to read it)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Chi thi ve phong chong duoi nuoc")
    return bytes(pdf.output())


PDF = _pdf()


async def _table_exists(database_url: str, table: str) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table))
    finally:
        await conn.close()


def _commune_with_schools(platform, api, count: int) -> tuple[str, list[str]]:
    tag = uuid.uuid4().hex[:6].upper()
    commune = f"C-{tag}"
    schools = [f"S-{tag}-{i}" for i in range(count)]
    bodies = [
        {
            "org_id": commune,
            "kind": "commune",
            "name": f"Xã Thử {tag}",
            "parent_id": "HP",
            "commune_type": "xa",
            "valid_from": "2025-07-01",
        }
    ] + [
        {
            "org_id": school,
            "kind": "school",
            "name": f"Trường Tiểu học Thử {school}",
            "parent_id": commune,
            "school_type": "primary",
            "ownership": "public",
            "valid_from": "2025-07-01",
        }
        for school in schools
    ]
    for body in bodies:
        response = api.post(f"{platform.url('identity')}/orgs", json=body)
        assert response.status_code == 201, response.text
    documents = platform.url("documents")
    for school in schools:  # the documents service learns the tree from identity's events
        wait_for(
            lambda s=school: api.get(f"{documents}/inbox", params={"org_id": s}).status_code == 200
        )
    return commune, schools


def test_directive_to_a_commune_round_trip_and_recall(platform):
    documents = platform.url("documents")
    with platform.client() as department:
        commune, schools = _commune_with_schools(platform, department, 3)
        put = department.put(f"{documents}/issuers/HP", json={"abbreviation": "SGDĐT"})
        assert put.status_code == 200, put.text

        def draft(recipients, pdf=PDF):
            return department.post(
                f"{documents}/documents",
                json={
                    "document": {
                        "doc_type": "chi_thi",
                        "summary": "Về việc phòng chống đuối nước trong dịp hè",
                        "recipients": recipients,
                        "due_date": "2030-06-30",
                    },
                    "pdf": {
                        "filename": "chi-thi.pdf",
                        "content_base64": base64.b64encode(pdf).decode(),
                    },
                    "attachments": [
                        {
                            "filename": "danh-sach.csv",
                            "content_type": "text/csv",
                            "content_base64": base64.b64encode(b"a,b\n1,2\n").decode(),
                        }
                    ],
                },
            )

        unknown = draft([{"kind": "unit", "org_id": "S-NOWHERE"}])
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["field"] == "recipients[0].org_id"
        not_pdf = draft([{"kind": "schools_of_commune", "commune_id": commune}], pdf=b"<html>")
        assert not_pdf.status_code == 422
        assert not_pdf.json()["errors"][0]["type"] == "not_pdf"

        created = draft([{"kind": "schools_of_commune", "commune_id": commune}])
        assert created.status_code == 201, created.text
        document_id = created.json()["id"]
        for step, body in (("approve", {}), ("sign", {"name": "Nguyễn Văn A"}), ("issue", {})):
            response = department.post(f"{documents}/documents/{document_id}/{step}", json=body)
            assert response.status_code == 200, response.text
        issued = response.json()
        assert issued["notation"].endswith("/CT-SGDĐT") and issued["recipient_count"] == 3
        # Signed by the person at "sign", sealed by the organisation at "issue" (local test PKI).
        signature = issued["signature"]
        assert signature["verdict"] == "ok", signature
        assert [s["field"] for s in signature["signatures"]] == ["ChuKyNguoiKy", "ChuKyCoQuan"]
        assert all(s["intact"] and s["trusted"] for s in signature["signatures"])

    for school in schools:
        with platform.client(role="school", org=school) as api:
            inbox = api.get(f"{documents}/inbox").json()["items"]
            assert [i["notation"] for i in inbox] == [issued["notation"]]
            assert inbox[0]["signature_verdict"] == "ok"
            # Incremental signatures: the uploaded bytes come first, unchanged.
            signed_pdf = api.get(f"{documents}/documents/{document_id}/pdf").content
            assert signed_pdf.startswith(PDF) and len(signed_pdf) > len(PDF)
            registered = api.post(f"{documents}/inbox/{document_id}/register", json={})
            assert registered.status_code == 200, registered.text
            assert registered.json()["arrival_number"] == 1
            done = api.post(f"{documents}/inbox/{document_id}/complete", json={"note": "Xong"})
            assert done.status_code == 200 and done.json()["status"] == "06", done.text
            register = api.get(f"{documents}/registers/incoming", params={"format": "json"})
            assert register.json()["rows"][0]["notation"] == issued["notation"]
        with platform.client(role="school", org=schools[0]) as other:
            if school != schools[0]:  # a school cannot act in another school's name
                refused = other.post(
                    f"{documents}/inbox/{document_id}/progress", json={"org_id": school}
                )
                assert refused.status_code == 403

    with platform.client() as department:
        status = department.get(f"{documents}/documents/{document_id}/recipients").json()
        assert (status["total"], status["received"], status["read"], status["done"]) == (
            3,
            3,
            3,
            3,
        )
        assert {r["org_id"] for r in status["recipients"]} == set(schools)
        recall = department.post(f"{documents}/documents/{document_id}/recall", json={})
        assert recall.json()["recall_requested"] == 3
        xlsx = department.get(f"{documents}/registers/outgoing", params={"format": "xlsx"})
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"

    answers = {schools[0]: True, schools[1]: False}
    for school, agree in answers.items():
        with platform.client(role="school", org=school) as api:
            answer = api.post(
                f"{documents}/inbox/{document_id}/recall-answer", json={"agree": agree}
            )
            assert answer.status_code == 200, answer.text
    with platform.client() as department:
        status = department.get(f"{documents}/documents/{document_id}/recipients").json()
        by_org = {r["org_id"]: r["status"] for r in status["recipients"]}
        assert by_org == {schools[0]: "15", schools[1]: "16", schools[2]: "13"}
    with platform.client(role="school", org=schools[0]) as api:
        frozen = api.post(f"{documents}/inbox/{document_id}/complete", json={})
        assert frozen.status_code == 409


def test_rendered_draft_is_signed_and_bad_pdfs_are_refused_at_signing(platform):
    documents = platform.url("documents")
    with platform.client() as department:
        _commune, schools = _commune_with_schools(platform, department, 1)
        department.put(f"{documents}/issuers/HP", json={"abbreviation": "SGDĐT"})
        # The OpenAPI of the whole service (core and edXML routers) is served.
        spec = department.get(f"{documents}/openapi.json")
        assert spec.status_code == 200 and "/edxml/import" in spec.json()["paths"]
        # The exchange started (the local stack configures it: file drop, agency code) and
        # its own migrations ran at start.
        agencies = department.get(f"{documents}/edxml/agencies")
        assert agencies.status_code == 200 and isinstance(agencies.json()["items"], list)
        assert asyncio.run(_table_exists(platform.database_url("documents"), "edxml_received"))

        fields = {
            "doc_type": "cong_van",
            "summary": "Lịch kiểm tra cuối năm",
            "content": "Sở đề nghị các trường chuẩn bị hồ sơ.",
            "drafting_unit": "VP",
            "recipients": [{"kind": "unit", "org_id": schools[0]}],
        }
        rendered = department.post(f"{documents}/documents", json={"document": fields})
        assert rendered.status_code == 201, rendered.text
        assert rendered.json()["pdf_source"] == "rendered"
        assert rendered.json()["signature"]["verdict"] == "unsigned"
        document_id = rendered.json()["id"]
        for step, body in (("approve", {}), ("sign", {"name": "Nguyễn Văn An", "position":
                                                       "Giám đốc"}), ("issue", {})):  # fmt: skip
            response = department.post(f"{documents}/documents/{document_id}/{step}", json=body)
            assert response.status_code == 200, response.text
        assert response.json()["signature"]["verdict"] == "ok"

        unsignable = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
        bad = department.post(
            f"{documents}/documents",
            json={
                "document": fields,
                "pdf": {
                    "filename": "x.pdf",
                    "content_base64": base64.b64encode(unsignable).decode(),
                },
            },
        )
        assert bad.status_code == 201, bad.text
        bad_id = bad.json()["id"]
        assert (
            department.post(f"{documents}/documents/{bad_id}/approve", json={}).status_code == 200
        )
        refused = department.post(f"{documents}/documents/{bad_id}/sign", json={"name": "An"})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "pdf"
        assert department.get(f"{documents}/documents/{bad_id}").json()["state"] == "approved"

        signed_pdf = department.get(f"{documents}/documents/{document_id}/pdf").content

    # A school registers documents that reached it by e-mail: the signatures are checked, a
    # tampered copy is registered flagged (the inbox shows it), never silently accepted.
    at = signed_pdf.index(b"stream\n") + len(b"stream\n") + 10
    tampered = signed_pdf[:at] + bytes([signed_pdf[at] ^ 1]) + signed_pdf[at + 1 :]
    with platform.client(role="school", org=schools[0]) as school:
        verdicts = []
        for number, content in ((7, signed_pdf), (8, tampered)):
            received = school.post(
                f"{documents}/inbox/received",
                json={
                    "document": {
                        "sender_name": "Sở Y tế",
                        "notation": f"{number:02d}/SYT-NV",
                        "issued_on": "2025-09-08",
                        "summary": "V/v tiêm chủng",
                    },
                    "pdf": {
                        "filename": "cv.pdf",
                        "content_base64": base64.b64encode(content).decode(),
                    },
                },
            )
            assert received.status_code == 201, received.text
            assert received.json()["recipient"]["arrival_number"] is not None
            verdicts.append(received.json()["document"]["signature"]["verdict"])
        assert verdicts == ["ok", "flagged"]
        inbox = {i["notation"]: i for i in school.get(f"{documents}/inbox").json()["items"]}
        assert inbox["07/SYT-NV"]["signature_verdict"] == "ok"
        assert inbox["08/SYT-NV"]["signature_verdict"] == "flagged"
        assert inbox["08/SYT-NV"]["issuer_name"] == "Sở Y tế"

    # The test PKI lives in the stack's home, so a restart keeps validating old documents.
    assert (platform.stack.config.home / "signing").is_dir()
