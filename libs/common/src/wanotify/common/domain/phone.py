"""One normal form for phone numbers: E.164, ``+`` and 2 to 15 digits, matched on the whole string.

Every place a number enters (ingest, opt-outs, Meta's ``wa_id`` and ``recipient_id``, lookups)
goes through :func:`parse_e164` or :func:`from_wa_id`, so the same person is one key everywhere:
opt-outs, windows, pacing and the notification row.
"""

from __future__ import annotations

import re

import phonenumbers

from wanotify.common.domain.errors import Unprocessable

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


# Not IS_POSSIBLE_LOCAL_ONLY: a number dialable only inside its area is not reachable by WhatsApp.
_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE


def recipient_country(e164: str, *, field: str = "recipient.phone_number") -> str | None:
    """The ISO 3166 alpha-2 country of an E.164 number, from ``phonenumbers``' metadata.

    A number ``phonenumbers`` says is not possible (wrong length for its country, no such country
    code) is refused with ``IMPOSSIBLE_PHONE_NUMBER``. A possible number outside any allocated range
    keeps its calling code's main country (+1 is US, +44 GB); a non-geographic code (+800, +882)
    has none.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or phonenumbers.is_possible_number_with_reason(number) != _POSSIBLE:
        raise Unprocessable(
            f"{e164} is not a possible phone number (no such country code, or the wrong length for it)",
            field=field,
            code="IMPOSSIBLE_PHONE_NUMBER",
        )
    region = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
        number.country_code or 0
    )
    return region if region and len(region) == 2 and region.isalpha() and region != "ZZ" else None
