"""Two agencies, each running its own documents service, exchange a directive over edXML
through the file drop, with every status flowing back: real processes, HTTP only.

Agency A is the platform's Department (the `platform` fixture: file drop under the stack home,
agency code 000.00.31.H26, unit HP). Agency B is another Department started here as its own
small platform: its own embedded broker, its own identity and documents services, its own
databases on the same PostgreSQL server, its own unit (created through B's identity and
mirrored by B's documents service like any tree), and its own local test PKI. The two share
only what two agencies share: the drop folder, and here the token key, so the test can act at
both. B gets its own broker rather than A's because every documents process consumes as the
consumer groups `documents.org-mirror` and `documents.analytics-report-ready`: on A's broker,
B would take over partitions of A's groups and commit offsets for events A then never sees.

The flow: A registers B as a known agency, issues a công văn and sends it to B; B's poller
(EDXML_POLL_SECONDS=0.5) registers it, with A's signatures flagged `untrusted` (B's roots are
its own test CA, not A's: a different agency's PDF is shown flagged, never silently accepted);
B assigns and completes; A's poller (the platform's default 15 s) brings back 01, 03, 04 and
06; A recalls, B agrees, A sees 15.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from shared.db.pool import ensure_database
from shared.localstack.broker import EmbeddedBroker
from shared.localstack.postgres import free_port
from shared.localstack.stack import (
    LOCAL_AGENCY_CODE,
    LOCAL_DOCUMENT_TYPE_CODES,
    SERVICES,
    RunningStack,
    StackConfig,
    port_in_use,
    tail,
)
from tests.e2e.conftest import Platform
from tests.e2e.support import wait_for
from tests.e2e.test_documents_flow import PDF

pytestmark = pytest.mark.e2e

# A test code in QCVN 102 form for the other Department; not an assigned code.
B_CODE, B_NAME, B_UNIT = "000.00.31.H22", "Sở Giáo dục và Đào tạo Thử nghiệm B", "SGD-B"
B_POLL_SECONDS = 0.5
# A polls every 15 s (the local stack's default); a round trip can take two of A's polls.
EXCHANGE_TIMEOUT = 120.0
B_SERVICES = ("identity", "documents")


@dataclass
class AgencyStack(RunningStack):
    """The services of another agency; its documents service gets `documents_env` (its own
    exchange identity) over whatever the test process's environment says."""

    documents_env: dict[str, str] = field(default_factory=dict)

    def service_env(self, service: str) -> dict[str, str]:
        env = super().service_env(service)
        if service == "documents":
            env.update(self.documents_env)
        return env


def _free_port_base() -> int:
    for _ in range(50):
        base = random.randint(20_000, 40_000)
        if not any(port_in_use(base + i) for i in range(len(SERVICES))):
            return base
    raise RuntimeError("no four consecutive free ports")


async def _drop_databases(server_url: str, names: list[str]) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def agency_b(platform: Platform, work_dir: Path) -> Iterator[AgencyStack]:
    a = platform.stack
    tag = uuid.uuid4().hex[:6]
    home = work_dir / f"agency-b-{tag}"
    broker = EmbeddedBroker(free_port(), home / "logs" / "broker.log")
    broker.start()
    config = StackConfig(
        home=home,
        http_port_base=_free_port_base(),
        database_url=a.server_url,
        kafka_bootstrap_servers=broker.bootstrap_servers,
        seed=False,
        database_prefix=f"e2e_b_{tag}_",
    )
    stack = AgencyStack(
        config, a.server_url, broker.bootstrap_servers, a.public_key, a.private_key,
        broker=broker,
        documents_env={
            "EDXML_ADAPTER": "file-drop",
            # The same drop root as A: <root>/<agency code>/ is each agency's inbox.
            "EDXML_DROP_DIR": a.service_env("documents")["EDXML_DROP_DIR"],
            "EDXML_AGENCY_CODE": B_CODE,
            "EDXML_AGENCY_ORG_ID": B_UNIT,
            "EDXML_POLL_SECONDS": str(B_POLL_SECONDS),
            # Both ends of a link must read DocumentType codes alike.
            "EDXML_DOCUMENT_TYPE_CODES": json.dumps(LOCAL_DOCUMENT_TYPE_CODES),
        },
    )  # fmt: skip
    databases = [config.database_of(s) for s in B_SERVICES]
    try:
        for name in databases:
            asyncio.run(ensure_database(a.server_url, name))
        for service in B_SERVICES:
            stack.start_service(service)
        for service in B_SERVICES:
            stack.wait_ready(service)
        yield stack
    finally:
        # Always: B's processes and broker must not outlive the test.
        for service in reversed(B_SERVICES):
            process = stack.processes.get(service)
            if process is not None and process.poll() is not None:
                print(f"\nagency B {service} had exited with {process.returncode}:\n"
                      + tail(home / "logs" / f"{service}.log", 60))  # fmt: skip
            stack.stop_service(service)
        broker.stop()
        asyncio.run(_drop_databases(a.server_url, databases))


def _client(stack: RunningStack, org: str, role: str = "department") -> httpx.Client:
    token = stack.token(role=role, org_id=org, subject=f"e2e-{role}-{org}")

    def add_key(request: httpx.Request) -> None:
        if request.method == "POST" and "idempotency-key" not in request.headers:
            request.headers["Idempotency-Key"] = str(uuid.uuid4())

    return httpx.Client(
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        event_hooks={"request": [add_key]},
    )


def _ok(response: httpx.Response, *codes: int) -> Any:
    assert response.status_code in (codes or (200,)), response.text
    return response.json()


def _poll(read: Callable[[], Any], until: Callable[[Any], bool], what: str) -> Any:
    """The first value of `read()` for which `until` holds, within the exchange timeout."""
    seen: list[Any] = [None]

    def check() -> bool:
        seen[0] = read()
        return until(seen[0])

    try:
        wait_for(check, timeout=EXCHANGE_TIMEOUT, interval=0.5)
    except AssertionError:
        raise AssertionError(
            f"{what} within {EXCHANGE_TIMEOUT:.0f} s; last seen: {seen[0]}"
        ) from None
    return seen[0]


def _statuses(recipient: dict[str, Any]) -> list[tuple[str, str]]:
    return [(h["status"], h["outcome"]) for h in recipient["history"]]


def test_a_directive_and_its_statuses_travel_between_two_real_agencies(
    platform: Platform, agency_b: AgencyStack
) -> None:
    a_docs, a_identity = platform.url("documents"), platform.url("identity")
    b_docs = agency_b.config.url_of("documents")
    b_identity = agency_b.config.url_of("identity")
    tag = uuid.uuid4().hex[:6].upper()
    school = f"S-2AG-{tag}"

    # B's own tree: its Department, created at B's identity, mirrored by B's documents.
    with _client(agency_b, B_UNIT) as b:
        _ok(b.post(f"{b_identity}/orgs", json={
            "org_id": B_UNIT, "kind": "province", "name": B_NAME, "valid_from": "2025-07-01",
        }), 201)  # fmt: skip
        wait_for(
            lambda: b.get(f"{b_docs}/inbox", params={"org_id": B_UNIT}).status_code == 200,
            timeout=60,
        )
        assert _ok(b.get(f"{b_docs}/inbox", params={"org_id": B_UNIT}))["items"] == []

    with platform.client() as a:
        # A needs one unit of its own among the recipients (a draft names at least one).
        _ok(a.post(f"{a_identity}/orgs", json={
            "org_id": school, "kind": "school", "name": f"Trường {school}", "parent_id": "HP",
            "school_type": "primary", "ownership": "public", "valid_from": "2025-07-01",
        }), 201)  # fmt: skip
        wait_for(
            lambda: a.get(f"{a_docs}/inbox", params={"org_id": school}).status_code == 200,
            timeout=60,
        )
        _ok(a.put(f"{a_docs}/issuers/HP", json={"abbreviation": "SGDĐT"}))
        known = _ok(a.post(f"{a_docs}/edxml/agencies",
                           json={"agency_code": B_CODE, "name": B_NAME}))  # fmt: skip
        assert known["agency_code"] == B_CODE
        codes = [x["agency_code"] for x in _ok(a.get(f"{a_docs}/edxml/agencies"))["items"]]
        assert B_CODE in codes

        summary = f"Về việc phối hợp tổ chức kỳ thi giữa hai Sở ({tag})"
        created = _ok(a.post(f"{a_docs}/documents", json={
            "document": {
                "doc_type": "cong_van", "summary": summary, "drafting_unit": "VP",
                "due_date": "2030-06-30", "recipients": [{"kind": "unit", "org_id": school}],
            },
            "pdf": {"filename": "cong-van.pdf", "content_base64": base64.b64encode(PDF).decode()},
        }), 201)  # fmt: skip
        document_id = created["id"]
        for step, body in (("approve", {}), ("sign", {"name": "Nguyễn Văn A"}), ("issue", {})):
            issued = _ok(a.post(f"{a_docs}/documents/{document_id}/{step}", json=body))
        notation = issued["notation"]
        assert notation.endswith("/SGDĐT-VP"), notation  # a công văn has no type abbreviation
        assert issued["signature"]["verdict"] == "ok"  # at home, A trusts its own test CA

        sent = _ok(a.post(f"{a_docs}/documents/{document_id}/edxml/send",
                          json={"to": [B_CODE]}), 202)  # fmt: skip
        assert [q["agency_code"] for q in sent["queued"]] == [B_CODE]
        assert sent["edxml_document_id"].startswith(f"{LOCAL_AGENCY_CODE},")
        assert sent["edxml_document_id"].endswith(f",{notation}")

    # B's poller takes the package from the drop and registers it in B's incoming register.
    with _client(agency_b, B_UNIT) as b:
        items = _poll(
            lambda: _ok(b.get(f"{b_docs}/inbox", params={"org_id": B_UNIT}))["items"],
            lambda items: any(i.get("notation") == notation for i in items),
            f"{notation} in B's inbox",
        )
        [item] = [i for i in items if i["notation"] == notation]
        b_document = item["document_id"]
        assert item["status"] == "03"  # registered on arrival (01 then 03)
        # A's PDF is signed under A's test CA, which B does not trust: flagged, not dropped.
        assert item["signature_verdict"] == "flagged"
        received = _ok(b.get(f"{b_docs}/documents/{b_document}"))
        assert (received["notation"], received["summary"]) == (notation, summary)
        signature = received["signature"]
        assert (signature["verdict"], signature["reason_code"]) == ("flagged", "untrusted")
        assert [s["field"] for s in signature["signatures"]] == ["ChuKyNguoiKy", "ChuKyCoQuan"]
        assert all(s["intact"] and not s["trusted"] for s in signature["signatures"])
        register = _ok(b.get(f"{b_docs}/registers/incoming", params={"format": "json"}))
        assert [r["notation"] for r in register["rows"]] == [notation]

        # A hears 01 and 03 before B goes on (so the four steps are four reports).
        with platform.client() as a:
            _poll(
                lambda: _ok(a.get(f"{a_docs}/documents/{document_id}/edxml/recipients")),
                lambda seen: seen["items"][0]["status"] == "03",
                "B's 03 at A",
            )

        _ok(b.post(f"{b_docs}/inbox/{b_document}/assign",
                   json={"department": "Phòng Khảo thí", "deadline": "2030-06-20",
                         "note": "internal: only for B"}))  # fmt: skip
        done = _ok(b.post(f"{b_docs}/inbox/{b_document}/complete", json={"note": "Đã xong"}))
        assert done["status"] == "06"

    with platform.client() as a:
        seen = _poll(
            lambda: _ok(a.get(f"{a_docs}/documents/{document_id}/edxml/recipients")),
            lambda seen: seen["items"][0]["status"] == "06",
            "B's 06 at A",
        )
        [recipient] = seen["items"]
        assert (recipient["agency_code"], recipient["agency_name"]) == (B_CODE, B_NAME)
        assert _statuses(recipient) == [
            ("01", "applied"), ("03", "applied"), ("04", "applied"), ("06", "applied"),
        ]  # fmt: skip
        # B's internal note stays at B; A reads the status label.
        assert recipient["history"][2]["description"] == "Phân công xử lý"

        recalled = _ok(a.post(f"{a_docs}/documents/{document_id}/recall", json={}))
        assert recalled["recall_requested"] == 1  # A's own school; B is asked over edXML

    # A's poller tells B (13); B agrees to give it back (15).
    with _client(agency_b, B_UNIT) as b:
        _poll(
            lambda: _ok(b.get(f"{b_docs}/inbox", params={"org_id": B_UNIT}))["items"],
            lambda items: [i["status"] for i in items if i["document_id"] == b_document] == ["13"],
            "A's recall request (13) at B",
        )
        answered = _ok(b.post(f"{b_docs}/inbox/{b_document}/recall-answer",
                              json={"agree": True}))  # fmt: skip
        assert answered["status"] == "15"
        history = _ok(b.get(f"{b_docs}/documents/{b_document}/history"))["history"]
        assert [h["status"] for h in history] == ["01", "03", "04", "06", "13", "15"]

    with platform.client() as a:
        seen = _poll(
            lambda: _ok(a.get(f"{a_docs}/documents/{document_id}/edxml/recipients")),
            lambda seen: seen["items"][0]["status"] == "15",
            "B's 15 at A",
        )
        assert _statuses(seen["items"][0])[-2:] == [("13", "requested"), ("15", "applied")]
    drop = Path(platform.stack.service_env("documents")["EDXML_DROP_DIR"])
    assert not list((drop / B_CODE).glob("*.edxml"))  # everything B was sent, B took
    assert not list((drop / B_CODE / "rejected").glob("*.edxml"))
