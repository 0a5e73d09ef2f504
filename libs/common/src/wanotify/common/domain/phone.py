"""One normal form for phone numbers: E.164, ``+`` and 2 to 15 digits, matched on the whole string.

Every place a number enters (ingest, opt-outs, Meta's ``wa_id`` and ``recipient_id``, lookups)
goes through :func:`parse_e164` or :func:`from_wa_id`, so the same person is one key everywhere:
opt-outs, windows, pacing and the notification row.
"""

from __future__ import annotations

import re

# The document's pattern. In ECMA-262 (OpenAPI) ``$`` is the end of the string; Python's ``$``
# also matches before a final newline, so the server checks with ``fullmatch`` instead.
E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"
E164_MAX_LENGTH = 16
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_WA_ID = re.compile(r"[1-9][0-9]{1,14}")


def parse_e164(raw: str) -> str | None:
    """``raw`` if it is exactly an E.164 number, else None (no trimming, no trailing newline)."""
    return raw if _E164.fullmatch(raw) else None


def from_wa_id(wa_id: str) -> str | None:
    """Meta's ``wa_id``/``recipient_id`` (digits, no ``+``) in our normal form, else None."""
    digits = wa_id[1:] if wa_id.startswith("+") else wa_id
    return f"+{digits}" if _WA_ID.fullmatch(digits) else None
