"""Bodies of the dead-letters API."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from wanotify.api.notifications.schemas import EventType, NotificationId, NotificationView, Time

MAX_REPLAY = 1000
CODE_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
ErrorCode = Annotated[str, Meta(min_length=1, max_length=32, pattern=CODE_PATTERN)]


class FilterIn(msgspec.Struct, forbid_unknown_fields=True):
    error_code: ErrorCode | None = None
    event_type: EventType | None = None
    since: Time | None = None
    until: Time | None = None


class ReplayIn(msgspec.Struct, forbid_unknown_fields=True):
    """Give exactly one of `ids` or `filter` (else 422 `INVALID_COMBINATION`)."""

    ids: Annotated[list[NotificationId], Meta(min_length=1, max_length=MAX_REPLAY)] | None = None
    filter: FilterIn | None = None


class DeadLetterPage(msgspec.Struct):
    dead_letters: list[NotificationView]
    next_cursor: str | None


class ReplayOut(msgspec.Struct):
    replayed: int
    ids: list[str]
    not_replayed: list[str]  # requested ids that are not (or no longer) failed notifications of yours
