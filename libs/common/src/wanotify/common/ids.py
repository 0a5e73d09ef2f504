"""Prefixed, time-ordered identifiers (``notif_01j…``): new rows land at the right edge of the index."""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def new_id(prefix: str, now_ms: int | None = None) -> str:
    """48 bits of milliseconds then 80 random bits, as 26 base32 characters after ``prefix_``."""
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    value = (ms & ((1 << 48) - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"
