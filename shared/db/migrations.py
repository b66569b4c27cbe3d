"""Versioned SQL migrations, applied at service start.

Files are `NNNN_description.sql` in a folder; each is applied once, in order, in its own
transaction, and recorded in `schema_migrations` with a checksum so that an edited migration
is refused rather than silently skipped. An advisory lock lets several replicas start at once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from shared.db.pool import Connection

PLATFORM_MIGRATIONS = Path(__file__).parent / "migrations"
_FILE = re.compile(r"^(\d{4})_[\w-]+\.sql$")
_LOCK_ID = 7_420_001  # arbitrary constant shared by every replica of every service


@dataclass(frozen=True)
class Migration:
    component: str
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(component: str, folder: Path) -> list[Migration]:
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise ValueError(f"migration file name {path.name!r} is not NNNN_description.sql")
        found.append(Migration(component, int(match.group(1)), path.name, path.read_text()))
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise ValueError(f"two migrations in {folder} share a version number")
    return found


class MigrationChecksumError(RuntimeError):
    pass


async def apply_migrations(conn: Connection, migrations: list[Migration]) -> list[str]:
    """Apply what is missing; return the names applied now."""
    applied_now = []
    # The lock comes first: two replicas starting together must not both create the table.
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   component text NOT NULL, version integer NOT NULL, name text NOT NULL,
                   checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),
                   PRIMARY KEY (component, version))"""
        )
        for migration in migrations:
            existing = await conn.fetchval(
                "SELECT checksum FROM schema_migrations WHERE component = $1 AND version = $2",
                migration.component,
                migration.version,
            )
            if existing is not None:
                if existing != migration.checksum:
                    raise MigrationChecksumError(
                        f"migration {migration.component}/{migration.name} was edited after it "
                        "was applied; add a new migration instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (component, version, name, checksum) "
                    "VALUES ($1, $2, $3, $4)",
                    migration.component,
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            applied_now.append(f"{migration.component}/{migration.name}")
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
    return applied_now


async def migrate(conn: Connection, service: str, service_folder: Path) -> list[str]:
    return await apply_migrations(
        conn,
        load_migrations("platform", PLATFORM_MIGRATIONS) + load_migrations(service, service_folder),
    )
