"""The real platform for end-to-end tests: the four services as separate processes, on the
session's PostgreSQL and broker (see the root conftest for which broker)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shared.localstack.stack import (
    SERVICES,
    RunningStack,
    StackConfig,
    port_in_use,
    start_stack,
    tail,
)


def _free_port_base() -> int:
    for _ in range(50):
        base = random.randint(20_000, 40_000)
        if not any(port_in_use(base + i) for i in range(len(SERVICES))):
            return base
    raise RuntimeError("no four consecutive free ports")


@dataclass
class Platform:
    stack: RunningStack

    def url(self, service: str) -> str:
        return self.stack.config.url_of(service)

    def client(
        self, role: str = "department", org: str = "HP", *, auto_key: bool = True
    ) -> httpx.Client:
        """An API client with a token; it adds a fresh Idempotency-Key to every POST that has
        none, as well-behaved school software does (tests of the key itself pass their own)."""
        token = self.stack.token(role=role, org_id=org, subject=f"e2e-{role}")

        def add_key(request: httpx.Request) -> None:
            if auto_key and request.method == "POST" and "idempotency-key" not in request.headers:
                request.headers["Idempotency-Key"] = str(uuid.uuid4())

        return httpx.Client(
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            event_hooks={"request": [add_key]},
        )

    def database_url(self, service: str) -> str:
        return self.stack.database_url_of(service)


@pytest.fixture(scope="session")
def platform(work_dir: Path, pg_server_url: str, kafka) -> Iterator[Platform]:
    config = StackConfig(
        home=work_dir / "platform",
        http_port_base=_free_port_base(),
        database_url=pg_server_url,
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        seed=False,
        database_prefix=f"e2e_{uuid.uuid4().hex[:6]}_",
    )
    stack = start_stack(config, say=lambda line: None)
    platform = Platform(stack)
    with platform.client() as api:
        response = api.post(
            f"{platform.url('identity')}/orgs",
            json={
                "org_id": "HP",
                "kind": "province",
                "name": "Thành phố Hải Phòng",
                "valid_from": "2025-07-01",
            },
        )
        assert response.status_code in (201, 409), response.text
    yield platform
    for service, process in stack.processes.items():
        if process.poll() is not None:  # a service that died mid-run explains many failures
            print(
                f"\n{service} had exited with {process.returncode}:\n"
                + tail(config.home / "logs" / f"{service}.log", 60)
            )
    stack.stop()
