"""`GET /{waba-id}/message_templates`: filters and cursor paging (pure functions)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from wanotify.sandbox.errors import MetaError
from wanotify.sandbox.models import Template

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
_FILTERS = ("name", "language", "status", "category")


def encode_cursor(template_id: str) -> str:
    return base64.urlsafe_b64encode(template_id.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise MetaError(100, f"Invalid cursor {cursor!r}.") from None


def _limit(query: dict[str, str]) -> int:
    raw = query.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise MetaError(100, "Param limit must be an integer.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise MetaError(100, f"Param limit must be between 1 and {MAX_LIMIT}.")
    return limit


def _matches(template: Template, query: dict[str, str]) -> bool:
    for key in _FILTERS:
        wanted = query.get(key)
        if not wanted:
            continue
        value: str = getattr(template, key)
        if key in ("status", "category"):
            if value not in {w.strip().upper() for w in wanted.split(",")}:
                return False
        elif value != wanted:
            return False
    return True


def list_templates(templates: Sequence[Template], query: dict[str, str], page_url: str) -> dict[str, Any]:
    """One page of templates; `page_url` (scheme, host and path) is used to build `paging.next`."""
    limit = _limit(query)
    selected = [t for t in templates if _matches(t, query)]
    start = 0
    after = query.get("after")
    if after:
        after_id = decode_cursor(after)
        ids = [t.id for t in selected]
        if after_id not in ids:
            raise MetaError(100, f"Invalid cursor {after!r}.")
        start = ids.index(after_id) + 1
    page = selected[start : start + limit]
    result: dict[str, Any] = {"data": [t.to_meta() for t in page]}
    if page:
        after_cursor = encode_cursor(page[-1].id)
        paging: dict[str, Any] = {"cursors": {"before": encode_cursor(page[0].id), "after": after_cursor}}
        if start + limit < len(selected):
            next_query = {**query, "after": after_cursor}
            next_query.pop("before", None)
            paging["next"] = f"{page_url}?{urlencode(next_query)}"
        result["paging"] = paging
    return result
