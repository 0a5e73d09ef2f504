"""What every string that enters through an HTTP edge must be: storable and unambiguous.

PostgreSQL cannot store NUL (in ``text`` or ``jsonb``) nor encode a lone surrogate, and a control
character in an identifier makes two spellings of one value (``+1555…`` and ``+1555…\\n``). So:

- NUL, the other C0 controls, DEL and lone surrogates are refused in every string, keys included;
- tab, CR and LF are allowed only where the caller says the text is free text (``multiline``).
"""

from __future__ import annotations

import re

from wanotify.common.domain.errors import ValidationFailed

# The same rules as JSON Schema patterns (ECMA-262), so the OpenAPI document says what is refused.
SINGLE_LINE_PATTERN = r"^[^\u0000-\u001f\u007f]*$"
MULTILINE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"

_NEVER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SINGLE_LINE = re.compile(r"[\t\n\r]")


def bad_character(value: str, *, multiline: bool) -> str | None:
    """Why ``value`` cannot be accepted, or None."""
    if _NEVER.search(value):
        return "must not contain NUL, control characters or unpaired surrogates"
    if not multiline and _SINGLE_LINE.search(value):
        return "must be a single line (no tab, CR or LF)"
    return None


def check_text(value: str, field: str, *, multiline: bool = False) -> str:
    reason = bad_character(value, multiline=multiline)
    if reason is not None:
        raise ValidationFailed(f"{field or 'value'} {reason}", field=field or None, code="INVALID_CHARACTERS")
    return value
