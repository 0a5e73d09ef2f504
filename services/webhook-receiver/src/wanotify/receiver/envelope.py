"""A verified body → Meta's envelope, or :class:`MalformedPayload` saying why not.

A delivery is refused as a whole (400) only when it is not Meta's envelope at all: not UTF-8 (so
not JSON), not JSON, nested deeper than the decoder follows, or not
``{"object": str, "entry": [{"id": str, "changes": [{"field": str, "value": any}]}]}``. What a
change's ``value`` holds is judged item by item (:mod:`wanotify.receiver.items`).
"""

from __future__ import annotations

import msgspec

from wanotify.common.meta.webhooks import WebhookEnvelope


class MalformedPayload(Exception):
    """The reason names the rule broken, never the content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode_envelope(body: bytes) -> WebhookEnvelope:
    # msgspec only checks UTF-8 inside the strings it decodes; the parts it skips (unknown
    # fields, raw values) would otherwise pass unchecked.
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("not UTF-8") from None
    try:
        return msgspec.json.decode(body, type=WebhookEnvelope)
    except msgspec.ValidationError as exc:
        raise MalformedPayload(f"not a webhook envelope: {exc}") from None
    except msgspec.DecodeError:
        raise MalformedPayload("not JSON") from None
    except RecursionError:
        raise MalformedPayload("nested too deeply") from None
