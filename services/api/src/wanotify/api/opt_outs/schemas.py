"""Bodies of the opt-outs API."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from wanotify.api.notifications.schemas import E164
from wanotify.common.edge.text import MULTILINE_PATTERN


class OptOutIn(msgspec.Struct, forbid_unknown_fields=True):
    multiline: ClassVar[frozenset[str]] = frozenset({"reason"})

    phone_number: E164
    reason: Annotated[str, Meta(max_length=500, extra_json_schema={"pattern": MULTILINE_PATTERN})] | None = (
        None
    )


class OptOutOut(msgspec.Struct):
    phone_number: str
    source: str
    reason: str | None
    created_at: str | None


class OptOutList(msgspec.Struct):
    opt_outs: list[OptOutOut]
    next_after: str | None
