"""Webhook signing secrets: ``whsec_`` followed by the standard base64 of 24 to 64 random key bytes.

The format is the Standard Webhooks one, so a tenant can paste the secret into any of its libraries.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from wanotify.common.domain.errors import ValidationFailed

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
GENERATED_KEY_BYTES = 32
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64

_RULE = (
    f"a webhook secret is {SECRET_PREFIX!r} followed by the standard base64 (with its padding) "
    f"of {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes"
)


def generate_secret() -> str:
    """A new secret with 32 random key bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(GENERATED_KEY_BYTES)).decode()


def check_secret(value: str, field: str = "secret") -> str:
    """``value`` unchanged when it is a valid secret; else ValidationFailed ``INVALID_WEBHOOK_SECRET``."""
    if not isinstance(value, str) or not value.startswith(SECRET_PREFIX):
        raise ValidationFailed(_RULE, field=field, code="INVALID_WEBHOOK_SECRET")
    encoded = value.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(_RULE, field=field, code="INVALID_WEBHOOK_SECRET") from None
    # b64decode tolerates non-zero trailing bits ("QR==" decodes like "QQ=="): only the canonical
    # spelling is accepted, so one key has exactly one secret string.
    if base64.b64encode(key).decode() != encoded or not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValidationFailed(_RULE, field=field, code="INVALID_WEBHOOK_SECRET")
    return value


def secret_context(tenant_id: str) -> bytes:
    """What an endpoint secret's ciphertext is bound to: a row copied to another tenant won't open."""
    return f"webhook-secret:{tenant_id}".encode()
