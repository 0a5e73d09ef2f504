"""One status, message, metadata or template update at a time: decoded, then refused with
:class:`MalformedItem` (the field and the rule, never the value) unless all of it can be used and
stored.

- the shape, lengths and integer ranges declared in :mod:`wanotify.common.meta.webhooks`;
- every string, keys included: no NUL, other C0 control, DEL or lone surrogate (PostgreSQL's text
  and jsonb cannot hold NUL); identifiers on one line, free text may hold line breaks;
- free-form JSON (``pricing``, ``conversation``): at most :data:`MAX_DEPTH` levels, 64-bit integers;
- ``from`` and ``recipient_id``: a phone number's digits (:func:`from_wa_id`), ASCII only.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TypeVar

import msgspec

from wanotify.common.domain.phone import from_wa_id
from wanotify.common.edge.text import bad_character
from wanotify.common.meta.webhooks import (
    INT64_MAX,
    INT64_MIN,
    ChangeValue,
    InboundMessage,
    Metadata,
    StatusItem,
    TemplateStatusUpdate,
)

T = TypeVar("T")

MAX_DEPTH = 8
# Fields that are someone's words rather than identifiers, wherever they appear.
FREE_TEXT = frozenset({"body", "text", "payload", "title", "message", "reason"})
_PLAIN_KEY = re.compile(r"[a-z_]{1,40}")


class MalformedItem(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _check(value: object, path: str, *, multiline: bool, depth: int) -> None:
    if isinstance(value, str):
        reason = bad_character(value, multiline=multiline)
        if reason is not None:
            raise MalformedItem(f"`{path}` {reason}")
    elif isinstance(value, bool | float) or value is None:
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise MalformedItem(f"`{path}` is outside 64-bit integers")
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            child = getattr(value, name)
            _check(child, f"{path}.{name}", multiline=name in FREE_TEXT, depth=depth)
    elif isinstance(value, list):
        if depth >= MAX_DEPTH:
            raise MalformedItem(f"`{path}` nests deeper than {MAX_DEPTH} levels")
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]", multiline=multiline, depth=depth + 1)
    elif isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise MalformedItem(f"`{path}` nests deeper than {MAX_DEPTH} levels")
        for key, item in value.items():
            _check(key, f"{path} (a key)", multiline=False, depth=depth)
            # The path names a key only when it is a plain word: a reason never carries content.
            child = f"{path}.{key}" if _PLAIN_KEY.fullmatch(key) else f"{path}.*"
            _check(item, child, multiline=True, depth=depth + 1)


def _parse(raw: msgspec.Raw, type_: type[T]) -> T:
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        raise MalformedItem(str(exc)) from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise MalformedItem("not JSON") from None
    except RecursionError:
        raise MalformedItem("nested too deeply") from None


def _decode(raw: msgspec.Raw, type_: type[T]) -> T:
    value = _parse(raw, type_)
    _check(value, "$", multiline=False, depth=0)
    return value


def decode_change_value(raw: msgspec.Raw) -> ChangeValue:
    """A ``messages`` change's value: its statuses and messages stay raw, to be decoded one by one."""
    return _parse(raw, ChangeValue)


def decode_status(raw: msgspec.Raw) -> StatusItem:
    item = _decode(raw, StatusItem)
    if (
        item.recipient_id is not None
        and item.recipient_type != "group"
        and from_wa_id(item.recipient_id) is None
    ):
        raise MalformedItem("`$.recipient_id` is not a WhatsApp id (a phone number's digits)")
    return item


def decode_message(raw: msgspec.Raw) -> InboundMessage:
    message = _decode(raw, InboundMessage)
    if from_wa_id(message.from_) is None:
        raise MalformedItem("`$.from` is not a WhatsApp id (a phone number's digits)")
    return message


def decode_metadata(raw: msgspec.Raw) -> Metadata:
    if not raw or bytes(raw).strip() == b"null":
        return Metadata()
    return _decode(raw, Metadata)


def decode_template_status(raw: msgspec.Raw) -> TemplateStatusUpdate:
    return _decode(raw, TemplateStatusUpdate)


def check_identifier(value: str, field: str, *, max_length: int) -> str:
    """An identifier outside the decoded items (the entry's WABA id)."""
    reason = bad_character(value, multiline=False)
    if reason is None and len(value) > max_length:
        reason = f"is longer than {max_length} characters"
    if reason is not None:
        raise MalformedItem(f"`{field}` {reason}")
    return value


def unix_time(timestamp: str) -> datetime:
    """A decoded item's timestamp (1 to 10 ASCII digits, checked above) as an aware time."""
    return datetime.fromtimestamp(int(timestamp), UTC)
