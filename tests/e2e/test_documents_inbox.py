"""The web inbox in a real browser (Debian's Chromium, headless) over the real platform.

The Department issues a directive to two schools through the API. In the browser a school
user signs in, finds the directive in Văn bản đến with its notation, summary, sender and
deadline, opens it (the signed PDF is fetched with the token and shown from a blob: URL),
registers it (arrival number), assigns it with a deadline, works on it and completes it. The
Department's Văn bản đi then shows that school done and the other not yet, per recipient.
Every figure on the page is checked against what the API says.

Set EDUHUB_INBOX_SCREENSHOT=/path.png to keep screenshots (the school's document view, and
the Department's recipients view next to it with -sender in the name)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.e2e.support import wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
TOKEN_KEY = "eduhub.inbox.token"
DUE_DATE = "2030-06-30"
VERDICT_BADGES = {
    "ok": "Chữ ký hợp lệ",
    "flagged": "Chữ ký không hợp lệ",
    "unsigned": "Không có chữ ký số",
}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


# --------------------------------------------------------------------------- data through the APIs


def _new_org(platform, api, body: dict[str, Any]) -> None:
    response = api.post(f"{platform.url('identity')}/orgs", json=body)
    assert response.status_code == 201, response.text


def _issue(platform, api, summary: str, recipients: list[str], content: str) -> dict[str, Any]:
    """Draft (the service renders the official PDF), approve, sign and issue."""
    documents = platform.url("documents")
    created = api.post(
        f"{documents}/documents",
        json={
            "document": {
                "doc_type": "chi_thi",
                "summary": summary,
                "content": content,
                "recipients": [{"kind": "unit", "org_id": r} for r in recipients],
                "due_date": DUE_DATE,
            }
        },
    )
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    steps = (("approve", {}), ("sign", {"name": "Nguyễn Văn An", "position": "Giám đốc"}))
    for step, body in (*steps, ("issue", {})):
        response = api.post(f"{documents}/documents/{document_id}/{step}", json=body)
        assert response.status_code == 200, response.text
    issued = response.json()
    assert issued["notation"].endswith("/CT-SGDĐT"), issued["notation"]
    assert issued["recipient_count"] == len(recipients)
    return issued


@pytest.fixture(scope="module")
def sent(platform) -> dict[str, Any]:
    """A commune with schools A and B, and a directive of the Department to both."""
    documents = platform.url("documents")
    tag = uuid.uuid4().hex[:6].upper()
    commune, school_a, school_b = f"C-IN{tag}", f"S-IN{tag}-A", f"S-IN{tag}-B"
    with platform.client() as api:
        _new_org(platform, api, {
            "org_id": commune, "kind": "commune", "name": f"Xã Hộp Thư {tag}",
            "parent_id": "HP", "commune_type": "xa", "valid_from": "2025-07-01",
        })  # fmt: skip
        for school, letter in ((school_a, "A"), (school_b, "B")):
            _new_org(platform, api, {
                "org_id": school, "kind": "school", "name": f"Trường THCS Hộp Thư {letter} {tag}",
                "parent_id": commune, "school_type": "lower_secondary", "ownership": "public",
                "valid_from": "2025-07-01",
            })  # fmt: skip
        for school in (school_a, school_b):  # documents learns the tree from identity's events
            wait_for(
                lambda s=school: (
                    api.get(f"{documents}/inbox", params={"org_id": s}).status_code == 200
                )
            )
        put = api.put(f"{documents}/issuers/HP", json={"abbreviation": "SGDĐT"})
        assert put.status_code == 200, put.text
        summary = f"Về việc kiểm tra an toàn trường học trước năm học mới ({tag})"
        issued = _issue(
            platform, api, summary, [school_a, school_b],
            "Các trường rà soát cơ sở vật chất và báo cáo kết quả về Sở.",
        )  # fmt: skip
        names = {
            org: api.get(f"{platform.url('identity')}/orgs/{org}").json()["name"]
            for org in ("HP", school_a, school_b)
        }
    return {
        "tag": tag, "commune": commune, "school_a": school_a, "school_b": school_b,
        "document": issued, "names": names,
    }  # fmt: skip


# --------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def wait_ready(page, view: str) -> None:
    """Until the page has drawn `view` (incoming, outgoing or detail) and finished loading."""
    page.wait_for_function(
        "view => document.getElementById('app').dataset.state === 'ready'"
        " && document.getElementById('app').dataset.view === view",
        arg=view,
        timeout=30_000,
    )


def wait_status(page, status: str) -> None:
    """Until the open document's handling section shows `status` (after an action)."""
    page.wait_for_function(
        "s => document.getElementById('app').dataset.state === 'ready'"
        " && document.getElementById('handling').dataset.status === s",
        arg=status,
        timeout=30_000,
    )


def cells(page, row_selector: str) -> dict[str, str]:
    """A row's cells by their class: {"notation": "...", "status": "...", ...}."""
    row = page.locator(row_selector)
    assert row.count() == 1, row_selector
    return row.evaluate(
        "tr => Object.fromEntries([...tr.cells].filter(c => c.className)"
        ".map(c => [c.className.split(' ')[0], c.innerText.trim()]))"
    )


def meta(page, dl_id: str) -> dict[str, str]:
    return page.locator(f"#{dl_id}").evaluate(
        "dl => Object.fromEntries([...dl.querySelectorAll('dd')]"
        ".map(dd => [dd.dataset.field, dd.innerText.trim()]))"
    )


def shown_pdf_bytes(page) -> dict[str, Any]:
    """What the page embeds: the <object>'s blob: URL, and the size of what it points at."""
    page.wait_for_function(
        "() => document.getElementById('pdf-view').dataset.bytes !== undefined", timeout=30_000
    )
    return page.evaluate(
        """async () => {
            const object = document.querySelector('#pdf-view object#pdf-object');
            if (!object) return null;
            const blob = await (await fetch(object.data)).blob();
            const head = new TextDecoder().decode(await blob.slice(0, 5).arrayBuffer());
            return { url: object.data, type: object.type, size: blob.size, head,
                     said: Number(document.getElementById('pdf-view').dataset.bytes) };
        }"""
    )


def sign_in(page, documents: str, token: str) -> None:
    page.goto(f"{documents}/inbox-app")
    assert page.locator("#login").is_visible()
    page.fill("#token-input", token)
    page.click("#login-form button[type=submit]")
    wait_ready(page, "incoming")
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") == token


# --------------------------------------------------------------------------- the tests


def test_a_school_handles_the_directive_and_the_department_sees_who_is_done(
    platform, sent, browser
):
    documents = platform.url("documents")
    doc, names = sent["document"], sent["names"]
    school_a, school_b = sent["school_a"], sent["school_b"]
    document_id = doc["id"]
    screenshot = os.environ.get("EDUHUB_INBOX_SCREENSHOT")
    with platform.client(role="school", org=school_a) as api:
        item = next(
            i for i in api.get(f"{documents}/inbox").json()["items"]
            if i["document_id"] == document_id
        )  # fmt: skip
        pdf = api.get(f"{documents}/documents/{document_id}/pdf").content
    assert pdf[:5] == b"%PDF-" and len(pdf) > 1000

    page = browser.new_page(viewport={"width": 1360, "height": 1000}, locale="vi-VN")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    token = platform.stack.token(role="school", org_id=school_a, subject="gv-hieu-truong")
    sign_in(page, documents, token)
    assert f"Nhà trường · {school_a}" in page.locator("#session-info").inner_text()

    # Văn bản đến: the directive as sent, not yet registered.
    row = f"#incoming-table tr[data-document='{document_id}']"
    listed = cells(page, row)
    assert listed["arrival"] == "–"
    assert listed["sender"] == names["HP"] == "Thành phố Hải Phòng"
    assert listed["notation"] == doc["notation"]
    assert listed["summary-cell"] == doc["summary"]
    assert listed["deadline"] == "30/06/2030"
    assert listed["status"] == "Đã đến"
    verdict = item.get("signature_verdict")
    badge = page.locator(f"{row} td.signature .badge")
    assert badge.get_attribute("data-verdict") == (verdict if verdict in VERDICT_BADGES else "none")
    if verdict in VERDICT_BADGES:
        assert badge.inner_text() == VERDICT_BADGES[verdict]
    assert "overdue" not in (page.locator(row).get_attribute("class") or "")

    # The document: metadata, signature status and the PDF, fetched with the token.
    page.click(f"{row} td.summary-cell a")
    wait_ready(page, "detail")
    assert page.locator("#detail-title").inner_text() == f"Chỉ thị {doc['notation']}"
    assert page.locator("#detail-summary").inner_text() == doc["summary"]
    shown = meta(page, "detail-meta")
    assert shown["notation"] == doc["notation"]
    assert shown["issuer"] == "Thành phố Hải Phòng"
    assert shown["signer"] == "Giám đốc Nguyễn Văn An"
    assert shown["due_date"] == "30/06/2030"
    assert shown["recipients"] == "; ".join(doc["recipient_labels"])
    pdf_shown = shown_pdf_bytes(page)
    assert pdf_shown is not None, "no <object> embedding the PDF"
    assert pdf_shown["url"].startswith("blob:")
    assert pdf_shown["type"] == "application/pdf"
    assert pdf_shown["size"] == pdf_shown["said"] == len(pdf) > 0
    assert pdf_shown["head"] == "%PDF-"
    signature = api_document(platform, school_a, document_id).get("signature")
    sig_badge = page.locator("#signature-badge")
    if signature and signature.get("verdict") in VERDICT_BADGES:
        assert sig_badge.inner_text() == VERDICT_BADGES[signature["verdict"]]
        assert page.locator("#signature-reason").inner_text() == (signature.get("reason_vi") or "")
        assert page.locator("#signature-table tbody tr").count() == len(signature["signatures"])
    else:
        assert sig_badge.get_attribute("data-verdict") == "none"
    assert meta(page, "handling-meta")["arrival_number"] == "Chưa vào sổ"
    assert page.locator("#do-register").is_visible()
    assert page.locator("#assign-form").is_hidden()

    # Vào sổ: the arrival number of the school's register.
    page.click("#do-register")
    wait_status(page, "03")
    arrival = registered_number(platform, school_a, document_id)
    assert arrival == 1  # the school's first incoming document this year
    assert meta(page, "handling-meta")["arrival_number"] == "1"
    assert page.locator("#do-register").is_hidden()

    # Phân công: a section and a person, with a deadline.
    page.fill("#assign-department", "Tổ Khoa học tự nhiên")
    page.fill("#assign-person", "gv-lan")
    page.fill("#assign-deadline", "2030-05-15")
    page.click("#assign-form button[type=submit]")
    wait_status(page, "04")
    handling = meta(page, "handling-meta")
    assert handling["status"] == "Đã phân công"
    assert handling["assigned_department"] == "Tổ Khoa học tự nhiên"
    assert handling["assigned_person"] == "gv-lan"
    assert handling["deadline"] == "15/05/2030"
    if screenshot:
        page.screenshot(path=screenshot, full_page=True)

    page.click("#do-progress")
    wait_status(page, "05")
    page.click("#do-complete")
    wait_status(page, "06")
    assert meta(page, "handling-meta")["status"] == "Hoàn thành"
    assert page.locator("#history li b").all_inner_texts() == [
        "Đã đến", "Đã vào sổ", "Đã phân công", "Đang xử lý", "Hoàn thành",
    ]  # fmt: skip
    assert all(page.locator(f"#{b}").is_hidden() for b in ("do-progress", "do-complete"))

    page.click("#back")
    wait_ready(page, "incoming")
    listed = cells(page, row)
    assert (listed["arrival"], listed["status"], listed["deadline"]) == (
        "1", "Hoàn thành", "15/05/2030",
    )  # fmt: skip
    assert errors == []
    page.close()

    # The Department: Văn bản đi shows one of two schools done; the document, who is where.
    with platform.client() as api:
        recipients = api.get(f"{documents}/documents/{document_id}/recipients").json()
    by_org = {r["org_id"]: r for r in recipients["recipients"]}
    assert (by_org[school_a]["status"], by_org[school_b]["status"]) == ("06", "01")

    page = browser.new_page(viewport={"width": 1360, "height": 1000}, locale="vi-VN")
    page.on("pageerror", lambda error: errors.append(str(error)))
    department = platform.stack.token(role="department", org_id="HP", subject="van-thu-so")
    page.goto(f"{documents}/inbox-app#view=outgoing&token={department}")
    wait_ready(page, "outgoing")
    assert "token" not in page.url  # taken out of the address bar at once
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") == department
    row = f"#outgoing-table tr[data-document='{document_id}']"
    listed = cells(page, row)
    assert listed["notation"] == doc["notation"]
    assert listed["summary-cell"] == doc["summary"]
    progress = page.locator(f"{row} .progress")
    assert (progress.get_attribute("data-done"), progress.get_attribute("data-total")) == ("1", "2")
    assert progress.inner_text() == "Đã nhận 1/2 · Hoàn thành 1/2"

    page.click(f"{row} td.summary-cell a")
    wait_ready(page, "detail")
    assert page.locator("#handling").is_hidden()  # the sender does not handle it
    assert page.locator("#recipients-counts").inner_text() == (
        "Đã nhận 1/2 · Đã đọc 1/2 · Hoàn thành 1/2"
    )
    done = cells(page, f"#recipients-table tr[data-org='{school_a}']")
    assert done["recipient"] == names[school_a]
    assert done["status"] == "Hoàn thành"
    assert done["done-at"] != "–"
    waiting = cells(page, f"#recipients-table tr[data-org='{school_b}']")
    assert (waiting["recipient"], waiting["status"], waiting["done-at"]) == (
        names[school_b], "Đã đến", "–",
    )  # fmt: skip
    assert shown_pdf_bytes(page)["size"] == len(pdf)
    if screenshot:
        stem = Path(screenshot)
        page.screenshot(
            path=str(stem.with_name(f"{stem.stem}-sender{stem.suffix}")), full_page=True
        )
    assert errors == []
    page.close()


def api_document(platform, org: str, document_id: str) -> dict[str, Any]:
    with platform.client(role="school", org=org) as api:
        response = api.get(f"{platform.url('documents')}/documents/{document_id}")
    assert response.status_code == 200, response.text
    return response.json()


def registered_number(platform, org: str, document_id: str) -> int | None:
    with platform.client(role="school", org=org) as api:
        items = api.get(f"{platform.url('documents')}/inbox").json()["items"]
    return next(i["arrival_number"] for i in items if i["document_id"] == document_id)


def test_overdue_documents_stand_out_and_a_forged_token_gets_nothing(platform, sent, browser):
    documents = platform.url("documents")
    school_b = sent["school_b"]
    with platform.client() as api:
        late = _issue(
            platform, api, f"Về việc báo cáo số liệu đầu năm ({sent['tag']})", [school_b],
            "Báo cáo trước hạn.",
        )  # fmt: skip
    yesterday = (datetime.now(UTC) + timedelta(hours=7) - timedelta(days=1)).date()
    with platform.client(role="school", org=school_b) as api:
        for step, body in (
            ("register", {}),
            ("assign", {"department": "Văn phòng", "deadline": yesterday.isoformat()}),
        ):
            response = api.post(f"{documents}/inbox/{late['id']}/{step}", json=body)
            assert response.status_code == 200, response.text
        overdue_ids = [i["document_id"] for i in api.get(
            f"{documents}/inbox", params={"overdue": "true"}).json()["items"]]  # fmt: skip
    assert overdue_ids == [late["id"]]

    page = browser.new_page(locale="vi-VN")
    sign_in(page, documents, platform.stack.token(role="school", org_id=school_b, subject="vt"))
    late_row = page.locator(f"#incoming-table tr[data-document='{late['id']}']")
    other_row = page.locator(f"#incoming-table tr[data-document='{sent['document']['id']}']")
    assert "overdue" in late_row.get_attribute("class").split()
    assert late_row.locator("td.deadline .badge.overdue").inner_text() == "Quá hạn"
    assert late_row.locator("td.deadline").inner_text().startswith(yesterday.strftime("%d/%m/%Y"))
    assert "overdue" not in (other_row.get_attribute("class") or "").split()
    page.check("#only-overdue")
    page.wait_for_function(
        "() => document.getElementById('app').dataset.state === 'ready'"
        " && document.querySelectorAll('#incoming-table tbody tr[data-document]').length === 1"
    )
    assert (
        page.locator("#incoming-table tbody tr[data-document]").get_attribute("data-document")
        == late["id"]
    )
    page.close()

    page = browser.new_page()
    forged = jwt.encode(
        {
            "sub": "intruder", "role": "school", "org": school_b, "iss": "eduhub-local",
            "aud": "eduhub", "exp": int((datetime.now(UTC) + timedelta(hours=1)).timestamp()),
        },
        "not-the-platform-key-but-long-enough-for-hs256",
        algorithm="HS256",
    )  # fmt: skip
    page.goto(f"{documents}/inbox-app#token={forged}")
    page.wait_for_function("() => !document.getElementById('login').hidden")
    assert "không hợp lệ" in page.locator("#login-error").inner_text()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None
    assert page.locator("#incoming-table tbody tr").count() == 0
    page.close()
