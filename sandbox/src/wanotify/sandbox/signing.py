"""Webhook bodies as Meta sends them (non-ASCII escaped as \\uXXXX) and their signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"


def encode_webhook(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def signature(app_secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value: `sha256=` + lowercase hex HMAC-SHA256 of the exact body bytes."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"
