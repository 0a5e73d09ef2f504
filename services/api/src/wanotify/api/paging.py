"""Paged listings: their query parameters, and opaque keyset cursors, ``(time, id)`` of the last
row of a page as URL-safe base64 JSON.

A page never uses OFFSET; the next page is the rows strictly after this pair in the listing's
order (newest first). A cursor the API did not hand out is a 400 naming ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated

import msgspec
from litestar.params import QueryParameter

from wanotify.common.domain.errors import ValidationFailed
from wanotify.common.edge.storable import check_time

CURSOR_PATTERN = r"^[A-Za-z0-9_\-]+$"
MAX_CURSOR_LENGTH = 200
MAX_PAGE = 100
DEFAULT_PAGE = 50

PageLimit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="Page size")]
PageCursor = Annotated[
    str | None,
    QueryParameter(
        max_length=MAX_CURSOR_LENGTH,
        pattern=CURSOR_PATTERN,
        description="`next_cursor` of the page before",
    ),
]


def encode_cursor(at: datetime, row_id: str) -> str:
    raw = msgspec.json.encode([at.isoformat(), row_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = msgspec.json.decode(raw, type=tuple[str, str])
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError(at)
        check_time(parsed, "cursor")
    except (binascii.Error, msgspec.DecodeError, msgspec.ValidationError, ValueError, UnicodeDecodeError):
        raise ValidationFailed("cursor is not a cursor this API returned", field="cursor") from None
    return parsed, row_id
