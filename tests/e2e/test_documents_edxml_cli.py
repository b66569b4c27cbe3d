"""`eduhub edxml export` and `eduhub edxml import` as real commands against the running
platform, whose local stack configures the exchange (file drop, agency code, type codes).

The Department issues a directive to one of its schools and exports it for another agency;
the file is a QCVN 102 package naming the notation. Importing our own export into ourselves
makes no sense (it is addressed to the other agency), so a package from that agency to us is
built with the domain builder from it and imported: registered once, however often; a
malformed file is refused with a clear message and a non-zero exit.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from services.documents.domain.edxml import (
    EdxmlConfig,
    Organization,
    TraceHeader,
    TraceHeaderList,
    build_document,
    parse_document,
)
from shared.localstack.stack import LOCAL_AGENCY_CODE, LOCAL_DOCUMENT_TYPE_CODES
from tests.e2e.support import wait_for
from tests.e2e.test_documents_flow import PDF

pytestmark = pytest.mark.e2e
OTHER_CODE, OTHER_NAME = "000.00.31.H47", "Sở GDĐT Quảng Ninh"
# The service's settings: attachments zipped (EDXML_ZIP_ATTACHMENTS default), local type codes.
CONFIG = EdxmlConfig(zip_attachments=True, document_type_codes=LOCAL_DOCUMENT_TYPE_CODES)
EDUHUB = Path(sys.executable).with_name("eduhub")


def eduhub(platform, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "EDUHUB_TOKEN": platform.stack.token(role="department", org_id="HP", subject="van-thu"),
        "EDUHUB_DOCUMENTS_URL": platform.url("documents"),
    }
    return subprocess.run(
        [str(EDUHUB), "edxml", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _issue_directive(platform, api, school: str) -> dict:
    documents = platform.url("documents")
    api.put(f"{documents}/issuers/HP", json={"abbreviation": "SGDĐT"})
    created = api.post(
        f"{documents}/documents",
        json={
            "document": {
                "doc_type": "chi_thi",
                "summary": "Về việc trao đổi văn bản điện tử",
                "recipients": [{"kind": "unit", "org_id": school}],
            },
            "pdf": {"filename": "chi-thi.pdf", "content_base64": base64.b64encode(PDF).decode()},
        },
    )
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    for step, body in (("approve", {}), ("sign", {"name": "Nguyễn Văn A"}), ("issue", {})):
        response = api.post(f"{documents}/documents/{document_id}/{step}", json=body)
        assert response.status_code == 200, response.text
    return response.json()


def test_export_and_import_with_the_eduhub_command(platform, tmp_path: Path):
    documents, identity = platform.url("documents"), platform.url("identity")
    with platform.client() as department:
        school = f"S-EDX-{uuid.uuid4().hex[:6].upper()}"
        made = department.post(
            f"{identity}/orgs",
            json={"org_id": school, "kind": "school", "name": f"Trường {school}",
                  "parent_id": "HP", "school_type": "primary", "ownership": "public",
                  "valid_from": "2025-07-01"},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        wait_for(
            lambda: (
                department.get(f"{documents}/inbox", params={"org_id": school}).status_code == 200
            )
        )
        issued = _issue_directive(platform, department, school)
        known = department.post(
            f"{documents}/edxml/agencies", json={"agency_code": OTHER_CODE, "name": OTHER_NAME}
        )
        assert known.status_code in (200, 201), known.text

        # Export: a package for the other agency, naming our notation.
        package_file = tmp_path / "export.edxml"
        exported = eduhub(platform, "export", issued["id"], "-o", str(package_file),
                          "--to", OTHER_CODE)  # fmt: skip
        assert exported.returncode == 0, exported.stderr
        assert f"wrote {package_file}" in exported.stdout
        package = parse_document(package_file.read_bytes(), CONFIG)
        header = package.header
        assert header.code.number_notation == issued["notation"]
        assert str(header.document_id) == (
            f"{LOCAL_AGENCY_CODE},{issued['issued_on'].replace('-', '/')},{issued['notation']}"
        )
        assert (header.from_.organ_id, [o.organ_id for o in header.to]) == (
            LOCAL_AGENCY_CODE,
            [OTHER_CODE],
        )
        assert header.document_type.type_code == "3"  # chỉ thị in the local type codes
        assert package.attachments[0].data.startswith(PDF[:8])

        # The other agency's own document to us, built from the export.
        def from_other(sent_at: datetime) -> bytes:
            number_notation = "07/CT-SGDĐT"
            theirs = replace(
                header,
                from_=Organization(OTHER_CODE, OTHER_NAME),
                to=(Organization(LOCAL_AGENCY_CODE, "Sở GDĐT Hải Phòng"),),
                document_id=replace(header.document_id, organ_id=OTHER_CODE,
                                    number_notation=number_notation),
                code=replace(header.code, number="07"),
                subject="Về việc phối hợp tổ chức hội thi",
            )  # fmt: skip
            trace = TraceHeaderList((TraceHeader(OTHER_CODE, sent_at),), None)
            return build_document(replace(package, header=theirs, trace=trace), CONFIG)

        received = tmp_path / "received.edxml"
        received.write_bytes(from_other(datetime(2026, 3, 2, 8, 0)))
        first = eduhub(platform, "import", str(received))
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith(f"07/CT-SGDĐT from {OTHER_CODE}: registered, document ")
        assert "arrival number" in first.stdout
        again = eduhub(platform, "import", str(received))  # same file: same key, replayed
        assert again.returncode == 0, again.stderr
        resent = tmp_path / "resent.edxml"  # the same document sent again: other bytes
        resent.write_bytes(from_other(datetime(2026, 3, 2, 9, 30)))
        duplicate = eduhub(platform, "import", str(resent))
        assert duplicate.returncode == 0, duplicate.stderr
        assert "duplicate (already registered before)" in duplicate.stdout
        document_id = first.stdout.split("document ")[1].split(",")[0]
        assert document_id in duplicate.stdout

        inbox = department.get(f"{documents}/inbox", params={"org_id": "HP"}).json()["items"]
        ours = [i for i in inbox if i.get("notation") == "07/CT-SGDĐT"]
        assert [i["document_id"] for i in ours] == [document_id]

        broken = tmp_path / "broken.edxml"
        broken.write_bytes(received.read_bytes()[:300])
        refused = eduhub(platform, "import", str(broken))
        assert refused.returncode != 0
        assert "422 edXML package rejected: malformed" in refused.stderr
        inbox_after = department.get(f"{documents}/inbox", params={"org_id": "HP"}).json()
        assert len(inbox_after["items"]) == len(inbox)
