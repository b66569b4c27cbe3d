"""Session fixtures for the integration and end-to-end tests: a real PostgreSQL and a real
Kafka-protocol broker, started once and only when a test asks for them.

Broker choice, in order: EDUHUB_TEST_KAFKA_BOOTSTRAP (an Apache Kafka that .ci/run started),
else Apache Kafka in a container via testcontainers when a Docker engine answers, else the
embedded tansu broker. The header of the run says which one was used.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from shared.db.pool import ensure_database, with_database
from shared.localstack.broker import EmbeddedBroker
from shared.localstack.postgres import EmbeddedPostgres, free_port


@dataclass(frozen=True)
class BrokerInfo:
    bootstrap_servers: str
    kind: str  # "apache-kafka (external)", "apache-kafka (testcontainers)", "tansu (embedded)"


def _docker_available() -> bool:
    if os.environ.get("EDUHUB_TEST_NO_DOCKER"):
        return False
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def broker_choice() -> str:
    if os.environ.get("EDUHUB_TEST_KAFKA_BOOTSTRAP"):
        return "apache-kafka (external)"
    if _docker_available():
        return "apache-kafka (testcontainers)"
    return "tansu (embedded)"


def pytest_report_header(config: pytest.Config) -> str:
    return f"eduhub integration broker: {broker_choice()}"


@pytest.fixture(scope="session")
def work_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="eduhub-test-"))
    yield path
    if os.environ.get("EDUHUB_TEST_KEEP"):  # keep logs and data for a post-mortem
        print(f"\nkept test work directory {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server_url(work_dir: Path) -> Iterator[str]:
    external = os.environ.get("EDUHUB_TEST_DATABASE_URL")
    if external:
        yield external
        return
    server = EmbeddedPostgres(work_dir / "pgdata", free_port())
    server.start()
    yield server.admin_url
    server.stop()


@pytest.fixture(scope="session")
def kafka(work_dir: Path) -> Iterator[BrokerInfo]:
    kind = broker_choice()
    if kind == "apache-kafka (external)":
        yield BrokerInfo(os.environ["EDUHUB_TEST_KAFKA_BOOTSTRAP"], kind)
    elif kind == "apache-kafka (testcontainers)":
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.0").with_kraft() as container:
            yield BrokerInfo(container.get_bootstrap_server(), kind)
    else:
        broker = EmbeddedBroker(free_port(), work_dir / "broker.log")
        broker.start()
        yield BrokerInfo(broker.bootstrap_servers, kind)
        broker.stop()


@pytest.fixture
async def fresh_db(pg_server_url: str) -> AsyncIterator[str]:
    """A new, empty database for one test; its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    await ensure_database(pg_server_url, name)
    yield with_database(pg_server_url, name)
    conn = await asyncpg.connect(pg_server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def unique_topic(prefix: str = "t") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"
