"""Report requests and analytics reports across the real platform: analytics builds the
non-swimmer report of a commune and documents turns it into a draft to the commune and its
schools; the Department asks three schools for a report, one submits on time, one late, one
not at all, and the Department sees it, reminds the missing one and downloads the zip."""

from __future__ import annotations

import base64
import io
import time
import uuid
import zipfile
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook

from tests.e2e.support import wait_for

pytestmark = pytest.mark.e2e


def _commune_with_schools(platform, api, count: int) -> tuple[str, list[str]]:
    tag = uuid.uuid4().hex[:6].upper()
    commune, schools = f"C-{tag}", [f"S-{tag}-{i}" for i in range(count)]
    bodies = [
        {"org_id": commune, "kind": "commune", "name": f"Xã Báo Cáo {tag}", "parent_id": "HP",
         "commune_type": "xa", "valid_from": "2025-07-01"},
    ] + [
        {"org_id": s, "kind": "school", "name": f"Trường Tiểu học {s}", "parent_id": commune,
         "school_type": "primary", "ownership": "public", "valid_from": "2025-07-01"}
        for s in schools
    ]  # fmt: skip
    for body in bodies:
        response = api.post(f"{platform.url('identity')}/orgs", json=body)
        assert response.status_code == 201, response.text
    documents = platform.url("documents")
    for school in schools:
        wait_for(
            lambda s=school: api.get(f"{documents}/inbox", params={"org_id": s}).status_code == 200
        )
    return commune, schools


def test_analytics_report_becomes_a_draft_to_the_commune(platform):
    documents, analytics = platform.url("documents"), platform.url("analytics")
    with platform.client() as department:
        commune, _schools = _commune_with_schools(platform, department, 2)
        built: dict = {}

        def build() -> bool:
            response = department.post(
                f"{analytics}/reports/non-swimmers",
                json={"campaign_id": "2026-he", "commune_id": commune},
            )
            built.update(response.json() if response.status_code == 201 else {})
            return response.status_code == 201

        wait_for(build, timeout=60)
        report_id = built["report_id"]
        found: dict = {}

        def drafted() -> bool:
            response = department.get(f"{documents}/analytics-reports/{report_id}")
            found.update(response.json() if response.status_code == 200 else {})
            return response.status_code == 200

        wait_for(drafted, timeout=60)
        assert found["document_state"] == "draft" and found["org_id"] == commune
        document = department.get(f"{documents}/documents/{found['document_id']}").json()
        assert document["state"] == "draft"
        assert document["recipient_labels"] == [
            f"Xã Báo Cáo {commune[2:]}",
            f"Các trường thuộc Xã Báo Cáo {commune[2:]}",
        ]
        # The clerk downloads the workbook from analytics and attaches it to the draft.
        workbook = department.get(f"{analytics}{built['download_path']}")
        assert workbook.status_code == 200
        attached = department.post(
            f"{documents}/analytics-reports/{report_id}/workbook",
            json={"content_base64": base64.b64encode(workbook.content).decode()},
        )
        assert attached.status_code == 200, attached.text
        document = department.get(f"{documents}/documents/{found['document_id']}").json()
        (attachment,) = document["attachments"]
        file = department.get(
            f"{documents}/documents/{found['document_id']}/files/{attachment['id']}"
        )
        assert file.content == workbook.content
        listed = department.get(f"{documents}/analytics-reports").json()["reports"]
        assert [r["report_id"] for r in listed].count(report_id) == 1


def test_report_request_with_a_late_and_a_missing_school(platform):
    documents = platform.url("documents")
    with platform.client() as department:
        commune, schools = _commune_with_schools(platform, department, 3)
        department.put(f"{documents}/issuers/HP", json={"abbreviation": "SGDĐT"})
        deadline = datetime.now().astimezone() + timedelta(seconds=6)
        created = department.post(
            f"{documents}/report-requests",
            json={
                "title": "Báo cáo số học sinh học bơi hè",
                "response_kind": "form",
                "form": [{"name": "pupils", "label": "Số học sinh", "type": "integer"}],
                "deadline": deadline.isoformat(),
                "recipients": [{"kind": "schools_of_commune", "commune_id": commune}],
                "drafting_unit": "GDTH",
                "signer": {"name": "Nguyễn Văn A", "position": "Phó Giám đốc"},
            },
        )
        assert created.status_code == 201, created.text
        request = created.json()
        rid = request["id"]
        assert request["counts"] == {"submitted": 0, "late": 0, "missing": 3}
        on_time, late, missing = schools

        with platform.client("school", on_time) as school:
            inbox = school.get(f"{documents}/inbox").json()["items"]
            assert request["document_id"] in [i["document_id"] for i in inbox]
            mine = school.get(f"{documents}/report-requests", params={"addressed": "true"})
            assert [(r["id"], r["state"]) for r in mine.json()["requests"]] == [(rid, "missing")]
            answer = school.post(
                f"{documents}/report-requests/{rid}/submissions", json={"values": {"pupils": 120}}
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["state"] == "submitted"
        time.sleep(max(0.0, (deadline - datetime.now().astimezone()).total_seconds()) + 0.5)
        with platform.client("school", late) as school:
            answer = school.post(
                f"{documents}/report-requests/{rid}/submissions", json={"values": {"pupils": 80}}
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["state"] == "late"

        # The request's công văn is done in the inbox of each school that answered.
        followed = department.get(f"{documents}/documents/{request['document_id']}/recipients")
        assert {r["org_id"]: r["status"] for r in followed.json()["recipients"]} == {
            on_time: "06", late: "06", missing: "01",
        }  # fmt: skip
        assert followed.json()["done"] == 2
        status = department.get(f"{documents}/report-requests/{rid}/status").json()
        assert status["counts"] == {"submitted": 1, "late": 1, "missing": 1}
        assert {u["org_id"]: u["state"] for u in status["units"]} == {
            on_time: "submitted", late: "late", missing: "missing",
        }  # fmt: skip
        reminded = department.post(f"{documents}/report-requests/{rid}/remind", json={})
        assert reminded.json()["reminded"] == [missing]
        archive = department.get(f"{documents}/report-requests/{rid}/submissions.zip")
        assert archive.status_code == 200
        book = load_workbook(io.BytesIO(zipfile.ZipFile(io.BytesIO(archive.content)).read(
            "tong-hop.xlsx")))["Tổng hợp"]  # fmt: skip
        rows = [(r[1], r[3], r[8]) for r in book.iter_rows(min_row=4, values_only=True)]
        assert rows == [
            (on_time, "Đã nộp", 120),
            (late, "Nộp muộn", 80),
            (missing, "Chưa nộp", None),
        ]


def test_workbook_fetched_from_analytics_with_the_clerks_token(platform):
    """DOCUMENTS_ANALYTICS_URL is set by the local stack: the clerk posts {} and documents
    downloads the workbook from analytics forwarding the clerk's own token."""
    documents, analytics = platform.url("documents"), platform.url("analytics")
    with platform.client() as department:
        commune, _schools = _commune_with_schools(platform, department, 1)
        built: dict = {}

        def build() -> bool:
            response = department.post(
                f"{analytics}/reports/non-swimmers",
                json={"campaign_id": "2026-he", "commune_id": commune},
            )
            built.update(response.json() if response.status_code == 201 else {})
            return response.status_code == 201

        wait_for(build, timeout=60)
        report_id = built["report_id"]
        wait_for(
            lambda: department.get(f"{documents}/analytics-reports/{report_id}").status_code == 200,
            timeout=60,
        )
        # A school may not download the commune's workbook: analytics refuses its token.
        with platform.client("school", _schools[0]) as school:
            refused = school.post(f"{documents}/analytics-reports/{report_id}/workbook", json={})
        assert refused.status_code in (403, 502), refused.text
        attached = department.post(f"{documents}/analytics-reports/{report_id}/workbook", json={})
        assert attached.status_code == 200, attached.text
        document_id = attached.json()["document_id"]
        document = department.get(f"{documents}/documents/{document_id}").json()
        (attachment,) = document["attachments"]
        stored = department.get(f"{documents}/documents/{document_id}/files/{attachment['id']}")
        original = department.get(f"{analytics}{built['download_path']}")
        assert original.status_code == 200
        assert stored.content == original.content and stored.content.startswith(b"PK")
        assert attachment["filename"].endswith(".xlsx")
