"""Secrets at rest: AES-256-GCM with a versioned envelope (``0x01 | nonce | ciphertext+tag``)."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"


class SecretBoxError(ValueError):
    pass


def generate_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class SecretBox:
    def __init__(self, key_b64: str) -> None:
        try:
            key = base64.b64decode(key_b64, validate=True)
        except (binascii.Error, ValueError):
            raise SecretBoxError("WA_ENCRYPTION_KEY must be base64") from None
        if len(key) != 32:
            raise SecretBoxError("WA_ENCRYPTION_KEY must decode to 32 bytes")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str, *, context: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context)

    def decrypt(self, blob: bytes, *, context: bytes = b"") -> str:
        if blob[:1] != _VERSION or len(blob) < 29:
            raise SecretBoxError("unknown secret envelope")
        try:
            return self._aead.decrypt(blob[1:13], blob[13:], context).decode()
        except Exception:
            raise SecretBoxError("secret cannot be decrypted with this key") from None
