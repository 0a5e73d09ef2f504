"""Signatures on the events we send to a tenant's endpoint.

Two schemes, both HMAC-SHA256 over the exact body bytes sent:

* Standard Webhooks (https://www.standardwebhooks.com): ``webhook-id``, ``webhook-timestamp`` and
  ``webhook-signature: v1,<base64>`` over ``"<id>.<timestamp>." + body``, keyed with the base64-decoded
  part of the ``whsec_...`` secret.
* The legacy "seed" scheme: ``X-Webhook-Signature: t=<timestamp>,v1=<hex>`` over ``"<timestamp>." + body``,
  keyed with the whole secret string as UTF-8.

During a secret rotation both secrets sign, so a receiver holding either one verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

from wanotify.common.domain.errors import ValidationFailed
from wanotify.common.webhooks.secrets import SECRET_PREFIX

STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"
SEED_SIGNATURE_HEADER = "X-Webhook-Signature"

DEFAULT_TOLERANCE_SECONDS = 300


def _key_bytes(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValidationFailed(
            f"a webhook secret starts with {SECRET_PREFIX!r}", field="secret", code="INVALID_WEBHOOK_SECRET"
        )
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise ValidationFailed(
            f"a webhook secret is {SECRET_PREFIX!r} followed by standard base64",
            field="secret",
            code="INVALID_WEBHOOK_SECRET",
        )
    return key


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``"<msg_id>.<timestamp>." + body`` (Standard Webhooks)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def standard_headers(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers; one space-separated signature per secret, in order."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign a webhook")
    return {
        STANDARD_ID_HEADER: msg_id,
        STANDARD_TIMESTAMP_HEADER: str(timestamp),
        STANDARD_SIGNATURE_HEADER: " ".join(standard_signature(s, msg_id, timestamp, body) for s in secrets),
    }


def _seed_hex(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def seed_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<timestamp>,v1=<hex HMAC-SHA256(secret as UTF-8, "<timestamp>." + body)>``."""
    return f"t={timestamp},v1={_seed_hex(secret, timestamp, body)}"


def seed_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """``t=<timestamp>,v1=<hex1>,v1=<hex2>...``: one ``v1`` per secret, in order."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign a webhook")
    return ",".join([f"t={timestamp}", *(f"v1={_seed_hex(s, timestamp, body)}" for s in secrets)])


def _parse_seed(header: str) -> tuple[int, list[str]] | None:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep or not value:
            return None
        if key == "t":
            if timestamp is not None or not value.isdigit():
                return None
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
        # Other keys are ignored so a later scheme version can be added alongside v1.
    if timestamp is None or not signatures:
        return None
    return timestamp, signatures


def verify_seed(
    secret: str, header: str | None, body: bytes, *, now: int, tolerance: int = DEFAULT_TOLERANCE_SECONDS
) -> bool:
    """True when one ``v1`` in ``header`` signs ``body`` with ``secret`` and ``t`` is within ``tolerance``
    seconds of ``now``; False on a malformed header, never an exception."""
    # isascii first: compare_digest refuses non-ASCII str, and str.isdigit accepts non-ASCII digits.
    if not secret or not header or not header.isascii():
        return False
    parsed = _parse_seed(header)
    if parsed is None:
        return False
    timestamp, signatures = parsed
    if abs(now - timestamp) > tolerance:
        return False
    expected = _seed_hex(secret, timestamp, body).encode()
    matched = False
    for candidate in signatures:
        # No short-circuit: every candidate is compared, so timing says nothing about which matched.
        matched |= hmac.compare_digest(expected, candidate.encode())
    return matched
