"""Meta's webhook signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``."""

from __future__ import annotations

import hashlib
import hmac

_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    return _PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check over the exact bytes received; never over re-serialized JSON."""
    if not secret or not header or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())
