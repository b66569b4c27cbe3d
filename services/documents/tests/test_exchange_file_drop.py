"""The file-drop adapter of the edXML exchange: atomic writes, name order, settle into
processed/ or rejected/ with the reason beside the package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.documents.exchange.adapter import (
    FileDropAdapter,
    NationalAxisAdapter,
    check_agency_code,
)
from services.documents.exchange.settings import ExchangeSettings

A = "000.00.31.H26"
B = "000.00.31.H47"


async def test_send_lands_in_the_recipients_folder_under_its_final_name(tmp_path: Path) -> None:
    sender = FileDropAdapter(tmp_path, A)
    name = await sender.send(B, b"<edXML/>", label="07/CT-SGDĐT")
    folder = tmp_path / B
    assert sorted(p.name for p in folder.iterdir()) == [name]
    assert name.endswith(".edxml") and f"-{A}-" in name
    assert "/" not in name and "07_CT-SGD_T" in name  # the label is made safe for a file name
    assert (folder / name).read_bytes() == b"<edXML/>"


async def test_fetch_reads_in_name_order_and_skips_partial_files(tmp_path: Path) -> None:
    receiver = FileDropAdapter(tmp_path, B)
    folder = tmp_path / B
    folder.mkdir()
    (folder / "20250102-b.edxml").write_bytes(b"second")
    (folder / "20250101-a.edxml").write_bytes(b"first")
    (folder / ".20250100-x.edxml.partial").write_bytes(b"being written")
    (folder / "notes.txt").write_text("not a package")
    fetched = await receiver.fetch_pending()
    assert [(p.handle, p.data) for p in fetched] == [
        ("20250101-a.edxml", b"first"),
        ("20250102-b.edxml", b"second"),
    ]
    assert [p.handle for p in await receiver.fetch_pending(limit=1)] == ["20250101-a.edxml"]


async def test_packages_stay_pending_until_acknowledged(tmp_path: Path) -> None:
    sender, receiver = FileDropAdapter(tmp_path, A), FileDropAdapter(tmp_path, B)
    first = await sender.send(B, b"one", label="a")
    second = await sender.send(B, b"two", label="b")
    assert [p.handle for p in await receiver.fetch_pending()] == [first, second]
    assert [p.handle for p in await receiver.fetch_pending()] == [first, second]

    await receiver.acknowledge(first, accepted=True)
    await receiver.acknowledge(second, accepted=False, reason="not_pdf: main document is a GIF")
    assert await receiver.fetch_pending() == []
    assert (tmp_path / B / "processed" / first).read_bytes() == b"one"
    assert (tmp_path / B / "rejected" / second).read_bytes() == b"two"
    reason = tmp_path / B / "rejected" / f"{second}.reason.txt"
    assert reason.read_text(encoding="utf-8") == "not_pdf: main document is a GIF\n"
    assert not (tmp_path / B / "processed" / f"{first}.reason.txt").exists()


async def test_acknowledging_twice_is_harmless(tmp_path: Path) -> None:
    sender, receiver = FileDropAdapter(tmp_path, A), FileDropAdapter(tmp_path, B)
    handle = await sender.send(B, b"one", label="a")
    await receiver.acknowledge(handle, accepted=True)
    await receiver.acknowledge(handle, accepted=True)
    assert os.listdir(tmp_path / B / "processed") == [handle]


async def test_handles_and_codes_cannot_leave_the_drop(tmp_path: Path) -> None:
    receiver = FileDropAdapter(tmp_path, B)
    with pytest.raises(ValueError, match="not a package of this drop"):
        await receiver.acknowledge("../A/x.edxml", accepted=True)
    with pytest.raises(ValueError, match="cannot name a drop folder"):
        await receiver.send("../etc", b"x", label="x")
    with pytest.raises(ValueError, match="cannot name a drop folder"):
        check_agency_code("..")
    assert check_agency_code(A) == A


async def test_national_axis_stub_names_what_is_missing() -> None:
    axis = NationalAxisAdapter(None, A)
    with pytest.raises(NotImplementedError, match=r"endpoint.*credentials"):
        await axis.send(B, b"x", label="x")
    with pytest.raises(NotImplementedError, match="EDXML_ADAPTER=file-drop"):
        await axis.fetch_pending()


def test_settings_select_the_adapter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDXML_ADAPTER", "file-drop")
    monkeypatch.setenv("EDXML_AGENCY_CODE", A)
    monkeypatch.setenv("EDXML_DROP_DIR", str(tmp_path))
    monkeypatch.setenv("EDXML_DOCUMENT_TYPE_CODES", '{"cong_van": "18"}')
    settings = ExchangeSettings()
    adapter = settings.build_adapter()
    assert isinstance(adapter, FileDropAdapter)
    assert adapter.inbox == tmp_path / A
    assert settings.edxml_config().document_type_codes == {"cong_van": "18"}
    assert settings.edxml_config().zip_attachments is True

    monkeypatch.setenv("EDXML_ADAPTER", "national-axis")
    assert isinstance(ExchangeSettings().build_adapter(), NationalAxisAdapter)
    monkeypatch.setenv("EDXML_ADAPTER", "none")
    assert ExchangeSettings().build_adapter() is None


def test_file_drop_without_a_folder_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDXML_ADAPTER", "file-drop")
    monkeypatch.setenv("EDXML_AGENCY_CODE", A)
    monkeypatch.delenv("EDXML_DROP_DIR", raising=False)
    with pytest.raises(ValueError, match="needs EDXML_DROP_DIR"):
        ExchangeSettings()
