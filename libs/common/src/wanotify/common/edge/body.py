"""Request bytes → a typed, storable value, or a domain error that names the field.

msgspec raises three things besides its own errors on hostile input, and each must become a 400,
never a 500: ``UnicodeDecodeError`` (invalid UTF-8 inside a string), ``RecursionError`` (JSON
nested thousands of levels deep) and ``OverflowError``/``ValueError`` from a time it cannot build.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from wanotify.common.domain.errors import MalformedJson, ValidationFailed
from wanotify.common.edge.storable import INT64_MAX, INT64_MIN, check_storable

T = TypeVar("T")

# msgspec names a refused dict key "`key` in `$.path`" and a dict's value "`$.path[...]`": both are
# reported as the dict itself (the key is not known).
_AT = re.compile(r" - at (?:`key` in )?`\$(?P<path>[^`]*)`$")
_DICT_VALUE = re.compile(r"(?<=\w)\[\.\.\.\]")
_FIELD_IN_MESSAGE = re.compile(r"field `(?P<name>[^`]+)`")

# A field's own code when its value is refused, by the field's name (wherever it sits).
FIELD_CODES: dict[str, tuple[str, str]] = {
    "phone_number": ("INVALID_PHONE_NUMBER", "Phone number must be in E.164 format (+ and 2 to 15 digits)"),
    "language": (
        "INVALID_TEMPLATE_LANGUAGE",
        "Template language must be a Meta locale such as en, en_US or pt_BR",
    ),
}


def _field_of(error: msgspec.ValidationError) -> tuple[str | None, str]:
    text = str(error)
    match = _AT.search(text)
    path = _DICT_VALUE.sub("", match.group("path")).lstrip(".") if match else ""
    message = text[: match.start()] if match else text
    named = _FIELD_IN_MESSAGE.search(message)
    if named and ("missing required" in message or "unknown field" in message):
        path = f"{path}.{named.group('name')}" if path else named.group("name")
    return (path or None), message


def _last_segment(field: str | None) -> str:
    return (field or "").rsplit(".", 1)[-1].split("[", 1)[0]


def field_error(field: str | None, message: str, code: str = "VALIDATION_ERROR") -> ValidationFailed:
    """The error for a refused ``field``, with the field's own code where it has one."""
    own = FIELD_CODES.get(_last_segment(field))
    if own is not None and "missing required" not in message and "unknown field" not in message:
        code, message = own
    elif "missing required" in message:
        message = f"{field} is required"
    return ValidationFailed(message, field=field, code=code)


def _integral(value: Any) -> Any:
    """``2.0`` as ``2``: JSON Schema counts it as an integer, msgspec's strict decoding does not."""
    if isinstance(value, float) and value.is_integer() and INT64_MIN <= value <= INT64_MAX:
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value


def _decode(body: bytes, type_: type[T]) -> T:
    try:
        return msgspec.json.decode(body, type=type_)
    except msgspec.ValidationError as exc:
        if "got `float`" not in str(exc):
            raise
    # The rare body with an integral float where an integer belongs: decode it again, slowly.
    return msgspec.convert(_integral(msgspec.json.decode(body)), type_)


def decode_json(body: bytes, type_: type[T], *, prefix: str = "") -> T:
    """Decode and check ``body`` as ``type_``; field paths are reported under ``prefix``."""
    try:
        value = _decode(body, type_)
    except msgspec.ValidationError as exc:
        field, message = _field_of(exc)
        full = f"{prefix}{field}" if field else prefix.rstrip(".") or None
        raise field_error(full, message) from None
    except msgspec.DecodeError as exc:
        raise MalformedJson(f"Request body is not valid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise MalformedJson("Request body is not valid UTF-8") from None
    except RecursionError:
        raise MalformedJson("Request body nests too deeply") from None
    try:
        check_storable(value)
    except ValidationFailed as exc:
        full = f"{prefix}{exc.field}" if exc.field else prefix.rstrip(".") or None
        raise field_error(full, exc.message, exc.code) from None
    return value
