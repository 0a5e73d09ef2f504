"""Identifiers shaped like Meta's: wamids, fbtrace ids, template ids."""

from __future__ import annotations

import base64
import secrets


def new_wamid(wa_id: str) -> str:
    # Real wamids are base64 of a small binary record holding the recipient and a random hex id.
    digits = wa_id.encode("ascii")[:255]
    record = (
        b"\x1c\x18"
        + bytes([len(digits)])
        + digits
        + b"\x15\x02\x00\x11\x18\x12"
        + secrets.token_hex(9).upper().encode("ascii")
        + b"\x00"
    )
    return "wamid." + base64.b64encode(record).decode("ascii")


def new_fbtrace_id() -> str:
    return secrets.token_urlsafe(17)[:23]


def new_numeric_id() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))
