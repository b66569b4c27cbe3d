"""Reading a draft and its files from a request: multipart/form-data (a `document` part with
the JSON fields, a `pdf` file part, any number of `attachments` file parts) or JSON with the
files base64-encoded. Multipart is parsed with the standard library's MIME parser, so no
extra dependency is needed."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser
from typing import Any

from fastapi import Request

from services.documents.files import UploadedFile, decode_base64, guess_content_type
from shared.http.problems import Problem, invalid


async def read_upload(
    request: Request,
) -> tuple[dict[str, Any], UploadedFile | None, list[UploadedFile]]:
    """(the JSON fields of `document`, the main PDF, the attachments)."""
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    if content_type.startswith("multipart/form-data"):
        return _multipart(content_type, body)
    try:
        data = json.loads(body or b"null")
    except ValueError:
        raise Problem(
            400, "Bad request", "the body is neither JSON nor multipart/form-data"
        ) from None
    if not isinstance(data, dict):
        raise invalid("body", "expected an object with document, pdf and attachments")
    return _from_json(data)


def _from_json(
    data: dict[str, Any],
) -> tuple[dict[str, Any], UploadedFile | None, list[UploadedFile]]:
    document = data.get("document")
    if not isinstance(document, dict):
        raise invalid("document", "the document's fields are required (an object)")
    main = None
    pdf = data.get("pdf")
    if pdf is not None:
        if not isinstance(pdf, dict) or not isinstance(pdf.get("content_base64"), str):
            raise invalid("pdf.content_base64", "the main PDF as base64 is required")
        main = UploadedFile(
            "pdf",
            str(pdf.get("filename") or "document.pdf"),
            "application/pdf",
            decode_base64(pdf["content_base64"], "pdf.content_base64"),
        )
    attachments = []
    raw = data.get("attachments") or []
    if not isinstance(raw, list):
        raise invalid("attachments", "expected a list")
    for index, item in enumerate(raw):
        field = f"attachments[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("content_base64"), str):
            raise invalid(f"{field}.content_base64", "the attachment as base64 is required")
        filename = str(item.get("filename") or "")
        attachments.append(
            UploadedFile(
                field,
                filename,
                guess_content_type(filename, item.get("content_type")),
                decode_base64(item["content_base64"], f"{field}.content_base64"),
            )
        )
    return document, main, attachments


def _multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, Any], UploadedFile | None, list[UploadedFile]]:
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise Problem(400, "Bad request", "the multipart body could not be read")
    document: dict[str, Any] | None = None
    main = None
    attachments: list[UploadedFile] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        assert isinstance(payload, bytes)
        filename = part.get_filename() or ""
        if name == "document":
            try:
                document = json.loads(payload)
            except ValueError:
                raise invalid("document", "the document part is not JSON") from None
        elif name == "pdf":
            main = UploadedFile("pdf", filename or "document.pdf", "application/pdf", payload)
        elif name == "attachments":
            field = f"attachments[{len(attachments)}]"
            attachments.append(
                UploadedFile(
                    field,
                    filename,
                    guess_content_type(filename, part.get_content_type()),
                    payload,
                )
            )
    if not isinstance(document, dict):
        raise invalid("document", "a `document` part with the JSON fields is required")
    return document, main, attachments
