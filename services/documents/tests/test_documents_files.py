"""The file checks of a draft: a main file that is not a PDF by its bytes, and attachments
over the configured size, are refused naming the field (pure, no database)."""

from __future__ import annotations

import base64

import pytest

from services.documents.config import DocumentsSettings
from services.documents.files import UploadedFile, check_files, decode_base64, is_pdf
from shared.http.problems import Problem

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SETTINGS = DocumentsSettings(max_attachment_bytes=10, max_pdf_bytes=1000, max_attachments=2)


def test_pdf_is_recognised_by_its_bytes_not_its_name() -> None:
    assert is_pdf(PDF)
    assert not is_pdf(b"PK\x03\x04 a docx renamed to .pdf")
    assert not is_pdf(PDF[:-7])  # truncated: no %%EOF
    assert is_pdf(b"\xef\xbb\xbf" + PDF)  # junk before the header is tolerated by readers


def test_not_a_pdf_and_oversized_attachments_are_named_together() -> None:
    main = UploadedFile("pdf", "cong-van.pdf", "application/pdf", b"GIF89a not a pdf")
    big = UploadedFile("attachments[0]", "bang.xlsx", "application/x", b"x" * 11)
    fine = UploadedFile("attachments[1]", "ok.txt", "text/plain", b"x" * 10)
    with pytest.raises(Problem) as caught:
        check_files(main, [big, fine], SETTINGS)
    fields = {(e["field"], e["type"]) for e in caught.value.errors or []}
    assert fields == {("pdf", "not_pdf"), ("attachments[0]", "too_large")}
    assert caught.value.status == 422
    assert "'bang.xlsx' is 11 bytes; the limit is 10 bytes" in (caught.value.detail or "")


def test_missing_pdf_and_too_many_attachments() -> None:
    files = [UploadedFile(f"attachments[{i}]", f"{i}.txt", "text/plain", b"a") for i in range(3)]
    with pytest.raises(Problem) as caught:
        check_files(None, files, SETTINGS)
    assert [e["field"] for e in caught.value.errors or []] == ["pdf", "attachments"]


def test_valid_files_pass_and_base64_is_strict() -> None:
    check_files(UploadedFile("pdf", "a.pdf", "application/pdf", PDF), [], SETTINGS)
    assert decode_base64(base64.b64encode(PDF).decode(), "pdf") == PDF
    with pytest.raises(Problem) as caught:
        decode_base64("not base64!!", "pdf.content_base64")
    assert caught.value.errors == [
        {"field": "pdf.content_base64", "message": "not valid base64", "type": "value_error"}
    ]


def test_multipart_upload_is_read_with_the_standard_library() -> None:
    from services.documents.uploads import _multipart

    boundary = "XyZ"
    parts = [
        ('name="document"', "application/json", b'{"doc_type": "chi_thi"}'),
        ('name="pdf"; filename="ct.pdf"', "application/pdf", PDF),
        ('name="attachments"; filename="bang.csv"', "text/csv", b"a,b\r\n1,2\r\n"),
    ]
    body = (
        b"".join(
            f"--{boundary}\r\nContent-Disposition: form-data; {disp}\r\n"
            f"Content-Type: {ctype}\r\n\r\n".encode()
            + content
            + b"\r\n"
            for disp, ctype, content in parts
        )
        + f"--{boundary}--\r\n".encode()
    )
    fields, main, attachments = _multipart(f"multipart/form-data; boundary={boundary}", body)
    assert fields == {"doc_type": "chi_thi"}
    assert main is not None and main.content == PDF and main.filename == "ct.pdf"
    assert [(a.field, a.filename, a.content_type, a.content) for a in attachments] == [
        ("attachments[0]", "bang.csv", "text/csv", b"a,b\r\n1,2\r\n")
    ]
