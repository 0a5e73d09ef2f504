"""Bodies of the API keys API."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from wanotify.api.notifications.schemas import Time
from wanotify.common.domain.api_key import KeyState
from wanotify.common.domain.scopes import SCOPES
from wanotify.common.edge.text import SINGLE_LINE_PATTERN

KeyName = Annotated[str, Meta(min_length=1, max_length=100, pattern=SINGLE_LINE_PATTERN)]
ScopeName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z_]+:[a-z_]+$",
        description=f"One of {', '.join(f'`{s}`' for s in SCOPES)}",
    ),
]


class ApiKeyIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new key: it may hold only scopes the calling key holds."""

    name: KeyName
    scopes: Annotated[list[ScopeName], Meta(min_length=1, max_length=len(SCOPES))]
    # Never expires when absent.
    expires_at: Time | None = None


class ApiKeyOut(msgspec.Struct):
    id: str
    name: str
    prefix: str  # the key's first 12 characters: enough to recognise it, never to use it
    scopes: list[str]
    state: KeyState
    created_at: str
    last_used_at: str | None  # updated at most once a minute
    expires_at: str | None
    revoked_at: str | None
    replaced_by: str | None  # a rotated key's successor


class ApiKeyCreated(msgspec.Struct):
    """The key itself is in this answer only: store it now."""

    key: str
    api_key: ApiKeyOut


class Rotated(msgspec.Struct):
    """The successor (its key in this answer only) and the old key, working until its `expires_at`."""

    key: str
    api_key: ApiKeyOut
    previous: ApiKeyOut


class ApiKeyPage(msgspec.Struct):
    api_keys: list[ApiKeyOut]
    next_cursor: str | None
