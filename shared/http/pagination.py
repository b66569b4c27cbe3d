"""Opaque cursors for keyset pagination: the cursor encodes the last key of the page."""

from __future__ import annotations

import base64
import json
from typing import Any

from shared.http.problems import invalid


def encode_cursor(last_key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, json.JSONDecodeError):
        raise invalid("query.cursor", "the cursor is not one this API returned") from None
