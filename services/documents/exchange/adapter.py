"""The port to the national document axis (trục liên thông văn bản quốc gia) and its adapters.

The use cases only send a package to an agency code, fetch what is waiting for us, and say
whether each fetched package was taken or refused. :class:`FileDropAdapter` does that through
a shared folder (one sub-folder per agency), which is how two agencies running this service
exchange documents in tests and how operators can carry packages by hand.
:class:`NationalAxisAdapter` is where the axis operator's web-service client belongs; it is a
stub until the operator's endpoint, credentials and message signing are available.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

PACKAGE_SUFFIX = ".edxml"
PARTIAL_SUFFIX = ".partial"
REASON_SUFFIX = ".reason.txt"
PROCESSED = "processed"
REJECTED = "rejected"

# Agency codes of QCVN 102 look like "000.00.31.H37"; anything that could leave the folder
# (a slash, "..") or mean something to a shell is refused.
_AGENCY_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._]{0,63}$")


def check_agency_code(code: str) -> str:
    if not _AGENCY_CODE.match(code) or ".." in code:
        raise ValueError(f"agency code {code!r} cannot name a drop folder")
    return code


@dataclass(frozen=True)
class FetchedPackage:
    """A package waiting for us: `handle` is what acknowledge() needs to settle it."""

    handle: str
    data: bytes


class ExchangeAdapter(Protocol):
    async def send(self, to_agency: str, data: bytes, *, label: str) -> str:
        """Hand a package to the axis for `to_agency`; returns the adapter's id of the
        delivery. `label` is a short hint for people reading the drop (file name part)."""
        ...

    async def fetch_pending(self, limit: int = 100) -> list[FetchedPackage]:
        """Packages waiting for our agency, oldest first; they stay pending until
        acknowledged, so a crash between fetch and acknowledge only delays them."""
        ...

    async def acknowledge(self, handle: str, *, accepted: bool, reason: str | None = None) -> None:
        """Settle a fetched package: taken (accepted) or refused with a reason."""
        ...


class FileDropAdapter:
    """A folder shared by the agencies: ``<root>/<agency code>/`` holds what waits for that
    agency.

    - send: written as ``.<name>.partial`` then renamed to ``<name>.edxml`` in the
      recipient's folder, so a reader never sees half a package. Names start with a UTC
      timestamp, so name order is the order of sending.
    - fetch_pending: ``*.edxml`` of our folder in name order.
    - acknowledge: the file moves to ``processed/``, or to ``rejected/`` with
      ``<name>.reason.txt`` beside it saying why.
    """

    def __init__(self, root: str | os.PathLike[str], own_agency: str) -> None:
        self.root = Path(root)
        self.own_agency = check_agency_code(own_agency)

    def folder_of(self, agency: str) -> Path:
        return self.root / check_agency_code(agency)

    @property
    def inbox(self) -> Path:
        return self.folder_of(self.own_agency)

    async def send(self, to_agency: str, data: bytes, *, label: str) -> str:
        return await asyncio.to_thread(self._write, to_agency, data, label)

    async def fetch_pending(self, limit: int = 100) -> list[FetchedPackage]:
        return await asyncio.to_thread(self._read, limit)

    async def acknowledge(self, handle: str, *, accepted: bool, reason: str | None = None) -> None:
        await asyncio.to_thread(self._settle, handle, accepted, reason)

    def _write(self, to_agency: str, data: bytes, label: str) -> str:
        folder = self.folder_of(to_agency)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        safe_label = re.sub(r"[^A-Za-z0-9._-]+", "_", label)[:60] or "package"
        name = f"{stamp}-{self.own_agency}-{safe_label}-{uuid.uuid4().hex[:8]}{PACKAGE_SUFFIX}"
        partial = folder / f".{name}{PARTIAL_SUFFIX}"
        with partial.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(folder / name)
        return name

    def _read(self, limit: int) -> list[FetchedPackage]:
        if not self.inbox.is_dir():
            return []
        names = sorted(
            entry.name
            for entry in os.scandir(self.inbox)
            if entry.is_file()
            and entry.name.endswith(PACKAGE_SUFFIX)
            and not entry.name.startswith(".")
        )
        packages = []
        for name in names[:limit]:
            try:
                packages.append(FetchedPackage(name, (self.inbox / name).read_bytes()))
            except FileNotFoundError:
                continue  # settled by another poller between listing and reading
        return packages

    def _settle(self, handle: str, accepted: bool, reason: str | None) -> None:
        if "/" in handle or "\\" in handle or handle.startswith("."):
            raise ValueError(f"{handle!r} is not a package of this drop")
        source = self.inbox / handle
        target_folder = self.inbox / (PROCESSED if accepted else REJECTED)
        target_folder.mkdir(exist_ok=True)
        if not accepted:
            # The reason first: whoever finds the rejected package finds why beside it.
            note = target_folder / f"{handle}{REASON_SUFFIX}"
            partial = target_folder / f".{note.name}{PARTIAL_SUFFIX}"
            partial.write_text((reason or "rejected").rstrip() + "\n", encoding="utf-8")
            partial.replace(note)
        # Already settled when missing (two pollers, or a retry after a crash).
        with contextlib.suppress(FileNotFoundError):
            source.replace(target_folder / handle)


class NationalAxisAdapter:
    """The national document axis (VDXP). Not implemented: connecting needs the operator's
    service endpoint, this agency's registered agency code and credentials (or client
    certificate), and the operator's rules for signing the envelope. Until then, configure
    the file drop (EDXML_ADAPTER=file-drop) and carry packages by hand."""

    MISSING = (
        "the national document axis adapter is not implemented: it needs the axis operator's "
        "endpoint (EDXML_AXIS_URL), this agency's credentials or client certificate, and the "
        "operator's envelope-signing rules; use EDXML_ADAPTER=file-drop meanwhile"
    )

    def __init__(self, endpoint: str | None, own_agency: str) -> None:
        self.endpoint = endpoint
        self.own_agency = own_agency

    async def send(self, to_agency: str, data: bytes, *, label: str) -> str:
        raise NotImplementedError(self.MISSING)

    async def fetch_pending(self, limit: int = 100) -> list[FetchedPackage]:
        raise NotImplementedError(self.MISSING)

    async def acknowledge(self, handle: str, *, accepted: bool, reason: str | None = None) -> None:
        raise NotImplementedError(self.MISSING)
