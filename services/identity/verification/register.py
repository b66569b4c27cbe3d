"""The port to the national population register, and its file-exchange adapter.

The platform cannot call the register: the Department's operators carry request files to the
government channel and bring the response files back. :class:`FileExchangeRegister` is that
file drop. An online adapter (should the register ever be reachable) implements the same
:class:`PopulationRegister` protocol, and the use cases do not change.
"""

from __future__ import annotations

import asyncio
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from services.identity.domain.verification_files import (
    ParsedResponse,
    RequestRow,
    parse_response,
    write_request_batch,
)


@dataclass(frozen=True, slots=True)
class RequestBatch:
    """What one verification request carries: its id and its lines, numbered 1, 2, 3, ..."""

    batch_id: str
    rows: tuple[RequestRow, ...]


class PopulationRegister(Protocol):
    async def submit(self, batch: RequestBatch) -> None:
        """Hand the batch over to the register (may be repeated for the same batch)."""
        ...

    async def collect(self, batch_id: str) -> ParsedResponse | None:
        """The register's answer to a batch, or None while there is none. Raises
        VerificationFileError when an answer arrived but cannot be a response to the batch."""
        ...


class FileExchangeRegister:
    """A folder shared with the operators who carry files to and from the register:

    - ``<folder>/outbox/<batch_id>.request.csv``: written by :meth:`submit`, to be carried out;
    - ``<folder>/inbox/<batch_id>.response.csv``: the register's answer, put there by an
      operator and read by :meth:`collect`.
    """

    REQUEST_SUFFIX = ".request.csv"
    RESPONSE_SUFFIX = ".response.csv"

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.outbox = self.folder / "outbox"
        self.inbox = self.folder / "inbox"

    def request_path(self, batch_id: str) -> Path:
        return self.outbox / f"{_file_stem(batch_id)}{self.REQUEST_SUFFIX}"

    def response_path(self, batch_id: str) -> Path:
        return self.inbox / f"{_file_stem(batch_id)}{self.RESPONSE_SUFFIX}"

    async def submit(self, batch: RequestBatch) -> None:
        await asyncio.to_thread(self._write_request, batch)

    async def collect(self, batch_id: str) -> ParsedResponse | None:
        return await asyncio.to_thread(self._read_response, batch_id)

    def _write_request(self, batch: RequestBatch) -> None:
        # The file numbers its lines 1, 2, 3, ...: the batch must be numbered the same way.
        if [row.row_no for row in batch.rows] != list(range(1, len(batch.rows) + 1)):
            raise ValueError(f"batch {batch.batch_id}: rows are not numbered 1, 2, 3, ...")
        self.outbox.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        write_request_batch(buffer, batch.batch_id, (row.record for row in batch.rows))
        target = self.request_path(batch.batch_id)
        # Written under another name and renamed, so an operator never copies half a file.
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(buffer.getvalue())
        partial.replace(target)

    def _read_response(self, batch_id: str) -> ParsedResponse | None:
        path = self.response_path(batch_id)
        if not path.is_file():
            return None
        return parse_response(path, expected_batch_id=batch_id)


def _file_stem(batch_id: str) -> str:
    """Batch ids are chosen by the platform (``HP-2026-11-0001``); refuse anything that could
    leave the folder."""
    if not batch_id or any(char in batch_id for char in '/\\:*?"<>|') or batch_id in {".", ".."}:
        raise ValueError(f"batch id {batch_id!r} cannot be used as a file name")
    return batch_id
